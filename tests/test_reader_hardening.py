"""Issue 9, defects 2, 6, 7 and 8 (reader level): each test failed on the code before the fix.

Reading a sheet whose cells span XFD1048576 used to abort the process inside calamine, so
those tests read in a child process with a cap on its address space."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

import hostile
import workbooks as W
from backends import copy_of
from conftest import TODAY


@pytest.fixture
def db_copy(small_db, tmp_path) -> Path:
    """This module's tests are about the embedded file (its locks, damage, backups): its path."""
    return copy_of(small_db, tmp_path).file
from pipelines.ingest import ingest_paths
from pipelines.reading.staging import stage
from pipelines.reading.files import ReadError, read_file

ROOT = Path(__file__).resolve().parent.parent

READ_IN_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
sys.path.insert(0, sys.argv[1])
from pipelines.reading.staging import stage
from pipelines.reading.files import ReadError, read_file
t = time.perf_counter()
try:
    st = stage(read_file(Path(sys.argv[2])), "x")
    out = {"rows": st.height, "names": st.data["name"]}
except ReadError as e:
    out = {"error": e.messages}
out["seconds"] = time.perf_counter() - t
from pipelines.reading.sheets import peak_rss_mib
out["peak_mib"] = peak_rss_mib()
print(json.dumps(out, ensure_ascii=False))
"""


def read_in_child(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", READ_IN_CHILD, str(ROOT), str(path)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, f"the reader died (exit {out.returncode}): {out.stderr[-1500:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ledger_with(tmp_path: Path, name: str, extra) -> Path:
    path = tmp_path / name
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, W.LEDGER_HEADER)
    for i, r in enumerate(W.LEDGER_ROWS[:5]):
        ws.write_row(i + 1, 0, r)
    extra(wb, ws)
    wb.close()
    return path


# ---------------------------------------------------------------- defect 2


def test_a_stray_cell_at_XFD1048576_costs_nothing(tmp_path):
    path = _ledger_with(tmp_path, "台账.xlsx", lambda wb, ws: ws.write(1048575, 16383, "x"))
    assert path.stat().st_size < 10_000
    out = read_in_child(path)
    assert out.get("rows") == 5, out
    assert out["peak_mib"] < 300, out


def test_a_string_table_announcing_a_trillion_strings_is_not_believed(tmp_path):
    path = hostile.write_parts(tmp_path / "台账.xlsx", hostile.sheet_xml(hostile.ledger_rows()),
                               sst='<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                                   '2006/main" count="1" uniqueCount="999999999999"><si><t>x</t></si></sst>')
    out = read_in_child(path)
    assert out.get("rows") == 5, out


def test_blank_and_space_only_rows_cost_nothing_and_do_not_count(tmp_path):
    def blanks(wb, ws):
        for i in range(100_000):
            ws.write_row(6 + i, 0, [" ", "", "\u3000"])
        ws.write_row(100_010, 0, ["轮台县", "", "", "最后小区", "", 1990, 2, 50, 3000, ""])  # data may follow blanks
    s = stage(read_file(_ledger_with(tmp_path, "台账.xlsx", blanks)), "台账.xlsx")
    assert s.data["name"] == ["团结小区", "团结北小区", "幸福小区", "建设局大院", "建设局住宅楼", "最后小区"]
    assert s.data["row_number"][-1] == 100_011


def test_a_csv_with_a_million_empty_columns_reads(tmp_path):
    path = tmp_path / "台账.csv"
    W.write_csv(path, W.LEDGER_HEADER, W.LEDGER_ROWS)
    with path.open("ab") as f:
        f.write(b"," * 1_000_000 + b"\r\n")
    assert stage(read_file(path), path.name).height == 7


def test_too_many_data_rows_are_refused_without_reading_them_all(tmp_path):
    def rows(wb, ws):
        for i in range(60_000):
            ws.write_row(6 + i, 0, ["轮台县", "", "", f"小区{i}", "", 1990, 2, 50, 3000, ""])
    with pytest.raises(ReadError) as e:
        read_file(_ledger_with(tmp_path, "台账.xlsx", rows))
    assert "超过上限 50,000 行" in e.value.messages[0] and "空行不计" in e.value.messages[0]


def test_a_zip_that_lies_about_its_size_is_refused(tmp_path):
    with pytest.raises(ReadError) as e:
        read_file(hostile._lying_zip(tmp_path / "台账.xlsx"))
    assert "解压后超过其声明的大小" in e.value.messages[0]


def test_the_streamed_and_the_native_reader_agree(tmp_path):
    from pipelines.reading import xlsx

    path = W.write_xlsx(tmp_path / "月报.xlsx", W.MONTHLY_HEADER, W.monthly_rows(7), title=["月报(2021年7月)"])
    data = path.read_bytes()
    assert xlsx.scan_zip(data)  # a small workbook: read natively
    native = list(xlsx.xlsx_sheets(data)[0].rows())
    streamed = list(xlsx.streamed_sheets(data)[0].rows())
    norm = [[None if c == "" else c for c in cells] for _, cells in native]
    assert [rn for rn, _ in native] == [rn for rn, _ in streamed] and norm == [cells for _, cells in streamed]


# ---------------------------------------------------------------- defect 6


def test_control_characters_are_removed_before_the_warehouse_and_kept_in_raw(tmp_path, db_copy):
    rows = [list(r) for r in W.LEDGER_ROWS]
    rows[0][3] = "团结\x00小区"
    rows[1][4] = "团结路\x0714号\x1b"
    rows[2][9] = "否\x00"
    path = W.write_xlsx(tmp_path / "台账2.xlsx", W.LEDGER_HEADER, rows, sheet="台账",
                        title=["轮台县城镇老旧小区摸底台账", "填报单位:轮台县住建局    填报日期:2020年3月5日"])
    report_rows = W.monthly_rows(7)
    report_rows[0][3] = "团结\x00小区\x0b"
    report_rows[1][4] = "一百\x00二十"      # unreadable: its message quotes the cell
    monthly = W.monthly(tmp_path, 7, rows=report_rows)
    r, m = ingest_paths([path, monthly], db_path=db_copy, today=TODAY)
    assert (r.status, r.rows) == ("accepted", 7), r.messages
    assert any("控制字符" in m and "第 4 行 D 列「小区名称」" in m for m in r.messages), r.messages
    assert (m.status, m.rows, m.rejected_rows) == ("accepted", 2, 1), m.messages
    assert any("应为数字,实际为「一百二十」" in text for text in m.messages), m.messages
    # the annual report (python-docx refuses XML-illegal characters) is written
    from pipelines.report import run_report

    assert run_report(db_copy, 2021, tmp_path / "report.docx") == 0
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        text_columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema in ('staging', 'core', 'marts')").fetchall()
        for schema, table, column in text_columns:
            bad = con.execute(f'select count(*) from {schema}."{table}" where regexp_matches("{column}", ?)',
                              ["[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"]).fetchone()[0]
            assert bad == 0, f"{schema}.{table}.{column}"
        assert con.execute("select count(*) from core.ledger_communities where name = '团结小区'").fetchone()[0] >= 1
        cells = con.execute("select cells from raw.source_rows join raw.submissions using (file_id) "
                            "where file_name = ? and row_number = 4", [path.name]).fetchone()[0]
        assert json.loads(cells)["小区名称"] == "团结\x00小区"   # the raw layer keeps the cell as read
    finally:
        con.close()


# ---------------------------------------------------------------- defect 7


def test_every_number_of_every_kind_has_a_range_in_configuration():
    from pipelines.reading.headers import bounds, fields

    for f in fields():
        if f.type in ("int", "number", "money", "percent", "year", "date", "month"):
            lo, hi, _ = bounds(f, TODAY)
            assert lo is not None and hi is not None, f.name


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_huge_numbers_are_refused_with_their_range_from_xlsx_and_csv_alike(tmp_path, fmt):
    rows = [list(r) for r in W.PLAN_ROWS]
    rows[0][9] = 1e308 if fmt == "xlsx" else "1e308"     # 计划总投资 (万元)
    rows[1][7] = 1e308 if fmt == "xlsx" else "1E+308"    # 建筑面积 (平方米)
    rows[2][6] = 2**63 if fmt == "xlsx" else str(2**63)  # 户数
    path = (W.write_xlsx(tmp_path / "计划.xlsx", W.PLAN_HEADER, rows, sheet="计划") if fmt == "xlsx"
            else W.write_csv(tmp_path / "计划.csv", W.PLAN_HEADER, rows))
    [r] = ingest_paths([path], db_path=tmp_path / "w.duckdb", today=TODAY)
    text = "\n".join(r.messages)
    assert r.rejected_rows == 3, text
    assert "第 2 行,J 列「计划总投资(万元)」:「计划总投资」应在 0–50000 万元之间,实际为「1e" in text
    assert "第 3 行,H 列「建筑面积(平方米)」:「建筑面积」应大于 0 且不超过 3000000 平方米" in text
    shown = "9.223372036854776e+18" if fmt == "xlsx" else "9223372036854775808"  # what the cell holds
    assert f"第 4 行,G 列「户数」:「户数」应在 1–20000 之间,实际为「{shown}」" in text
    assert "不能为空" not in text


def test_a_plausible_but_large_count_is_refused_by_the_range_not_as_empty(tmp_path):
    rows = [list(r) for r in W.LEDGER_ROWS]
    rows[0][7] = 25000
    [r] = ingest_paths([W.write_xlsx(tmp_path / "台账.xlsx", W.LEDGER_HEADER, rows, sheet="台账")],
                       db_path=tmp_path / "w.duckdb", today=TODAY)
    assert r.rejected_rows == 1
    assert "第 2 行,H 列「户数」:「户数」应在 1–20000 之间,实际为「25000」" in r.messages[0]


def test_the_suites_state_the_configured_ranges():
    from expectations.ingest import build_suite
    from pipelines.reading.headers import bounds, fields, range_text

    for kind in ("ledger", "plan", "monthly"):
        by_column = {e.column: e for e in build_suite(kind, TODAY).expectations if getattr(e, "min_value", None) is not None}
        for f in fields():
            if kind not in f.kinds or f.type not in ("int", "number", "money", "percent", "year", "date", "month"):
                continue
            lo, hi, _ = bounds(f, TODAY)
            e = by_column[f"{f.name}__day" if f.type in ("date", "month") else f.name]
            if f.type in ("date", "month"):
                lo, hi = lo.toordinal(), hi.toordinal()
            assert (e.min_value, e.max_value, e.description) == (lo, hi, range_text(f, TODAY)), f.name


# ---------------------------------------------------------------- defect 8 (reader level)


def test_mixed_encodings_name_the_lines(tmp_path):
    path = tmp_path / "台账.csv"
    W.write_csv(path, W.LEDGER_HEADER, W.LEDGER_ROWS[:2], encoding="utf-8")
    with path.open("ab") as f:
        f.write("轮台县,,,幸福小区,文化路3号,1990,5,120,8400,无\r\n".encode("gb18030"))
    with pytest.raises(ReadError) as e:
        read_file(path)
    assert "混用了两种编码:第 1 行是 UTF-8,第 4 行却不是 UTF-8" in e.value.messages[0]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_10_MB_cell_is_named(tmp_path, fmt):
    rows = [list(r) for r in W.LEDGER_ROWS[:3]]
    rows[1][4] = "".join(random.Random(8).choices("团结文化幸福建设天山人民路号院楼", k=10_000_000))  # not a zip bomb
    if fmt == "csv":
        path = W.write_csv(tmp_path / "台账.csv", W.LEDGER_HEADER, rows)
    else:
        path = hostile.write_parts(tmp_path / "台账.xlsx", hostile.sheet_xml([(1, W.LEDGER_HEADER)] + [
            (i + 2, r) for i, r in enumerate(rows)]))
    with pytest.raises(ReadError) as e:
        read_file(path)
    assert "第 3 行 E 列" in e.value.messages[0] and "10,000,000 个字符" in e.value.messages[0]


def test_an_excel_day_number_is_shown_as_its_date(tmp_path):
    rows = [list(r) for r in W.monthly_rows(7)]
    rows[0][11] = 2958465      # 完工日期: the last day Excel has, in a plain number cell
    path = W.monthly(tmp_path, 7, rows=rows)
    [r] = ingest_paths([path], db_path=tmp_path / "w.duckdb", today=TODAY)
    text = "\n".join(r.messages)
    assert "第 4 行,L 列「完工日期」:「完工日期」应在 1949-01-01 至 2026-11-29 之间(不能是未来的日期)" in text
    assert "实际为「9999-12-31(Excel 日期序号 2958465)」" in text


def test_a_number_with_thousands_separators_in_a_date_column_refuses_its_row_not_the_file(tmp_path):
    """「1,234.5」 typed into 完工日期 (found by tests/test_fuzz_reader.py): the text reads as an Excel day
    number, whose date is out of range: its row is refused with a located message, the file loads."""
    rows = [list(r) for r in W.monthly_rows(7)]
    rows[0][11] = "1,234.5"
    path = W.monthly(tmp_path, 7, rows=rows)
    [r] = ingest_paths([path], db_path=tmp_path / "w.duckdb", today=TODAY)
    assert r.status == "accepted" and r.rejected_rows == 1, r.messages
    assert any("第 4 行,L 列「完工日期」" in m and "实际为「1,234.5」" in m for m in r.messages), r.messages


def test_infinite_and_nan_cells_do_not_stop_the_file(tmp_path):
    rows = hostile.ledger_rows()
    rows[1][1][7] = hostile.Num("INF")
    rows[2][1][8] = hostile.Num("NaN")
    s = stage(read_file(hostile.write_parts(tmp_path / "台账.xlsx", hostile.sheet_xml(rows))), "台账.xlsx", TODAY)
    assert s.data["households__error"][0] == "「户数」应在 1–20000 之间"
    assert s.data["area_m2"][1] is None


def test_dates_keep_their_meaning_across_forms():
    from pipelines.reading import parsing as P

    assert P.parse_date(2958465) == dt.date(9999, 12, 31)
    assert P.parse_date(44319) == dt.date(2021, 5, 3)
    assert P.parse_date(20210503) == dt.date(2021, 5, 3)
    with pytest.raises(P.ParseError):
        P.parse_date("nan")
    with pytest.raises(P.ParseError):
        P.parse_date(float("inf"))
    assert P.parse_int("9" * 400) == float("inf")  # refused by its range at staging
