"""Empty workbook templates (pipelines.templates): the spec's headers, instructions in Chinese, and a
filled-in template that ingests cleanly."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines import templates
from pipelines.ingest import ingest_paths
from pipelines.reading.headers import KIND_NAMES, KINDS, fields_for, match_header

TODAY = dt.date(2026, 11, 29)


def workbook(kind: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(templates.template_bytes(kind)))


def header_row(kind: str) -> int:
    return len(templates.TITLE_ROWS[kind]) + 2  # 1-based: the title, the title rows, then the header


@pytest.mark.parametrize("kind", KINDS)
def test_template_header_is_the_canonical_header_of_the_alias_table(kind):
    wb = workbook(kind)
    assert wb.sheetnames == [KIND_NAMES[kind], "填表说明"]
    ws = wb[KIND_NAMES[kind]]
    header = [c.value for c in ws[header_row(kind)] if c.value]
    # every field of the kind from headers.toml, by its canonical header (the unit in brackets), except the
    # two given in the title rows; each cell matches its own field
    expected = [f for f in fields_for(kind) if f.name not in ("report_month", "fill_date")]
    assert [match_header(h).field.name for h in header] == [f.name for f in expected]
    assert [h.split("(")[0] for h in header] == [f.header for f in expected]
    assert "计划总投资(万元)" in header or kind == "ledger"
    # nothing below the header: an empty template
    assert all(c.value is None for row in ws.iter_rows(min_row=header_row(kind) + 1) for c in row)


@pytest.mark.parametrize("kind", KINDS)
def test_template_instructions_are_in_chinese_and_name_every_column(kind):
    ws = workbook(kind)["填表说明"]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    text = "\n".join(cells)
    for needed in ("万元", "平方米", "填报日期", "必填", "2025年3月1日", "库尔勒经济技术开发区"):
        assert needed in text, needed
    if kind == "monthly":
        assert "报告期" in text and "次月 5 日前" in text
    rows = {r[0].value: r for r in ws.iter_rows() if r[0].value in set(templates.template_header(kind))}
    assert set(rows) == set(templates.template_header(kind))
    for f in fields_for(kind):
        if f.name in ("report_month", "fill_date"):
            continue
        head = next(h for h in rows if h.split("(")[0] == f.header)
        assert rows[head][1].value == ("必填" if kind in f.required else "选填")


FILLED = {
    "ledger": {"县市": "轮台县", "小区名称": "团结小区", "小区地址": "团结路12号", "建成年份": 1995, "楼栋数": 8, "户数": 260,
               "建筑面积(平方米)": 18200, "物业管理": "否"},
    "plan": {"县市": "轮台县", "计划年度": 2025, "小区名称": "团结小区", "建成年份": 1995, "楼栋数": 8, "户数": 260,
             "建筑面积(平方米)": 18200, "改造类别": "基础类、完善类", "计划总投资(万元)": 780, "中央补助资金(万元)": 400,
             "计划开工日期": dt.datetime(2025, 4, 1), "计划完工日期": dt.datetime(2025, 10, 31)},
    "monthly": {"县市": "轮台县", "计划年度": 2025, "小区名称": "团结小区", "户数": 260, "计划总投资(万元)": 780,
                "开工日期": dt.datetime(2025, 4, 10), "形象进度(%)": 35, "累计完成投资(万元)": 200,
                "累计拨付资金(万元)": 150},
}
TITLES = {"填报单位:": "填报单位:轮台县住房和城乡建设局", "报告期:": "报告期:2025年5月", "填报日期:": "填报日期:2025年6月3日"}


def fill(kind: str, folder: Path) -> Path:
    """The template as a clerk fills it: the title rows after their colon, one data row."""
    wb = workbook(kind)
    ws = wb[KIND_NAMES[kind]]
    for i, label in enumerate(templates.TITLE_ROWS[kind], start=2):
        assert ws.cell(i, 1).value == label
        ws.cell(i, 1).value = TITLES[label]
    head = [c.value for c in ws[header_row(kind)]]
    for name, value in FILLED[kind].items():
        ws.cell(header_row(kind) + 1, head.index(name) + 1).value = value
    path = folder / f"轮台县{KIND_NAMES[kind]}.xlsx"
    wb.save(path)
    return path


def test_filled_templates_ingest_cleanly(tmp_path):
    for kind in KINDS:
        fill(kind, tmp_path)
    db = tmp_path / "w.duckdb"
    results = ingest_paths([tmp_path], db_path=db, today=TODAY)
    assert sorted((r.kind, r.status, r.rows, r.rejected_rows, tuple(r.messages)) for r in results) == [
        ("ledger", "accepted", 1, 0, ()), ("monthly", "accepted", 1, 0, ()), ("plan", "accepted", 1, 0, ())]
    con = duckdb.connect(str(db), read_only=True)
    try:
        # the report month and the fill date come from the title rows
        assert con.execute("select kind, fill_date, report_month from raw.submissions order by kind").fetchall() == [
            ("ledger", dt.date(2025, 6, 3), None), ("monthly", dt.date(2025, 6, 3), dt.date(2025, 5, 1)),
            ("plan", dt.date(2025, 6, 3), None)]
        assert con.execute("select categories, central_subsidy_wan_yuan, planned_end_date from core.plan_rows").fetchone() == \
            ("基础类+完善类", 400.0, dt.date(2025, 10, 31))
        assert con.execute("select pct_progress, paid_wan_yuan from core.report_rows").fetchone() == (35.0, 150.0)
    finally:
        con.close()


def test_an_unfilled_template_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "月报.xlsx"
    path.write_bytes(templates.template_bytes("monthly"))
    (r,) = ingest_paths([path], db_path=tmp_path / "w.duckdb", today=TODAY)
    assert r.status == "rejected"
    assert any("没有数据行" in m for m in r.messages), r.messages
