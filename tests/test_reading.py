"""Format variations of input-formats.md: each must load to the same typed values."""

from __future__ import annotations

import datetime as dt

import pytest
import xlsxwriter

import workbooks as W
from pipelines.reading.staging import stage
from pipelines.reading.files import ReadError, read_file


def staged(path):
    return stage(read_file(path), path.name)


def test_ledger_header_title_and_fill_down(tmp_path):
    s = staged(W.ledger(tmp_path))
    lay = s.layout
    assert (lay.kind, lay.sheet_name, lay.header_row) == ("ledger", "台账", 3)
    assert lay.fill_date == dt.date(2020, 3, 2)           # from the title line 填报日期:2020年3月2日
    f = s.frame
    assert f.height == 7
    assert f["county_code"].to_list() == ["652822"] * 7     # 县市 merged down: empty cells take the row above
    assert f["community"].to_list()[:3] == ["团结社区", "团结社区", "文化社区"]
    assert f["has_property_mgmt"].to_list()[:3] == [False, True, False]  # 否 / 是 / 无


@pytest.mark.parametrize("fmt", ["xls", "csv-bom", "csv-utf8", "csv-gb18030"])
def test_other_file_formats_read_the_same(tmp_path, fmt):
    rows = [[c if c != "" else "" for c in r] for r in W.LEDGER_ROWS]
    if fmt == "xls":
        path = W.write_xls(tmp_path / "台账.xls", W.LEDGER_HEADER, rows, title=["轮台县台账"])
    else:
        enc = {"csv-bom": "utf-8-sig", "csv-utf8": "utf-8", "csv-gb18030": "gb18030"}[fmt]
        path = W.write_csv(tmp_path / "台账.csv", W.LEDGER_HEADER, rows, encoding=enc, title=["轮台县台账"])
    f = staged(path).frame
    assert f.height == 7
    assert f["households"].to_list() == [260, 180, 120, 96, 40, 200, 150]
    assert f["name"][0] == "团结小区" and f["county_code"][6] == "652822"


def test_aliases_column_order_units_and_extra_columns(tmp_path):
    header = ["序号", "小区(楼栋)名称", "居民户数", "县(市)", "建筑面积(万平方米)", "栋数", "建设年代", "计划年份",
              "改造类型", "总投资（元）", "中央资金", "备用列"]
    rows = [[1, "团结小区", "260户", "轮台", "1.82", 8, "1995年", "2021", "基础类、完善类", "7,800,000", 400, "x"]]
    f = staged(W.write_xlsx(tmp_path / "计划.xlsx", header, rows)).frame
    r = f.row(0, named=True)
    assert r["county_code"] == "652822" and r["plan_year"] == 2021 and r["households"] == 260
    assert r["area_m2"] == pytest.approx(18200)             # 1.82 万平方米
    assert r["total_invest_wan_yuan"] == pytest.approx(780)  # 7,800,000 元
    assert r["categories"] == "基础类+完善类"
    assert r["region_subsidy_wan_yuan"] == 0                  # absent funding source counts as 0


def test_two_row_header_with_merged_group(tmp_path):
    path = tmp_path / "计划.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("计划")
    top = ["县市", "计划年度", "小区名称", "建成年份", "楼栋数", "户数", "建筑面积", "改造类别", "计划总投资"]
    for c, h in enumerate(top):
        ws.merge_range(0, c, 1, c, h)
    ws.merge_range(0, 9, 0, 10, "资金来源(万元)")
    ws.write_row(1, 9, ["中央补助资金", "自治区补助资金"])
    ws.write_row(2, 0, ["轮台县", 2021, "团结小区", 1995, 8, 260, 18200, "基础类", 780, 400, 80])
    wb.close()
    s = staged(path)
    assert s.layout.header_row == 1
    r = s.frame.row(0, named=True)
    assert (r["central_subsidy_wan_yuan"], r["region_subsidy_wan_yuan"], r["households"]) == (400, 80, 260)


def test_totals_row_under_header_and_mismatch_finding(tmp_path):
    rows = W.PLAN_ROWS
    path = tmp_path / "计划.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("计划")
    ws.write_row(0, 0, W.PLAN_HEADER)
    # 合计 directly under the header; 户数 total 540 against 260+120+150 = 530 (+1.9% > 0.5%)
    ws.write_row(1, 0, ["合 计", "", "", "", "", 18, 540, 37600, "", 1660, 840, 170])
    for i, r in enumerate(rows):
        ws.write_row(2 + i, 0, r)
    wb.close()
    s = staged(path)
    assert s.frame.height == 3
    assert [(f["field"], f["details"]["totals_value"], f["details"]["data_sum"]) for f in s.findings] == [
        ("households", 540, 530)
    ]
    assert "第 2 行" in s.findings[0]["message"] and "G 列" in s.findings[0]["message"]


def test_totals_within_half_a_percent_is_no_finding(tmp_path):
    # 37600 m² against a written total of 37700: +0.27% ≤ 0.5%
    path = W.write_xlsx(tmp_path / "计划.xlsx", W.PLAN_HEADER, W.PLAN_ROWS,
                        totals=["合计", "", "", "", "", 18, 530, 37700, "", 1660, 840, 170])
    assert staged(path).findings == []


def test_footer_rows_and_instruction_sheets_are_not_data(tmp_path):
    path = W.write_xlsx(tmp_path / "x.xlsx", W.MONTHLY_HEADER, W.monthly_rows(5), sheet="月报",
                        extra_sheets=("填表说明",), title=["月报(2021年5月)"],
                        footer=["填表人:张三", "审核人:李四", "注:形象进度按百分数填写", "制表日期:2021年6月9日"])
    s = staged(path)
    assert s.layout.sheet_name == "月报" and s.frame.height == 3
    assert s.report_month == dt.date(2021, 5, 1)
    assert s.fill_date is None  # 制表日期 in a footer is not a fill date


def test_hidden_sheet_is_ignored(tmp_path):
    path = tmp_path / "台账.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws1 = wb.add_worksheet("说明")
    ws1.write(0, 0, "说明")
    hidden = wb.add_worksheet("旧数据")
    hidden.write_row(0, 0, W.LEDGER_HEADER)
    hidden.write_row(1, 0, ["若羌县", "", "", "旧小区", "", 1980, 1, 10, 700, ""])
    hidden.hide()
    data = wb.add_worksheet("数据")
    data.write_row(0, 0, W.LEDGER_HEADER)
    data.write_row(1, 0, W.LEDGER_ROWS[0])
    ws1.activate()
    wb.close()
    s = staged(path)
    assert s.layout.sheet_name == "数据" and s.frame["name"].to_list() == ["团结小区"]


@pytest.mark.parametrize(
    ("where", "expected_source"),
    [("column", "column"), ("title", "title"), ("file name", "file name")],
)
def test_report_month_from_column_title_or_file_name(tmp_path, where, expected_source):
    header = list(W.MONTHLY_HEADER)
    rows = W.monthly_rows(5)
    title = ["巴州城镇老旧小区改造项目进度月报", "填报日期:2021年6月3日"]
    name = "轮台县月报.xlsx"
    if where == "column":
        header = ["报告期", *header]
        rows = [["2021年5月", *r] for r in rows]
    elif where == "title":
        title[0] += "(2021年5月)"
    else:
        name = "轮台县月报_202105.xlsx"
    s = staged(W.write_xlsx(tmp_path / name, header, rows, title=title))
    assert s.report_month == dt.date(2021, 5, 1)
    assert s.layout.report_month_source == expected_source
    assert s.fill_date == dt.date(2021, 6, 3)  # the 填报日期 line is not taken for the month


def test_report_without_any_month_is_rejected(tmp_path):
    path = W.write_xlsx(tmp_path / "轮台县月报.xlsx", W.MONTHLY_HEADER, W.monthly_rows(5), title=["进度月报"])
    with pytest.raises(ReadError) as e:
        read_file(path)
    assert "报告期" in e.value.messages[0]


def test_fill_date_from_column(tmp_path):
    header = ["填报日期", *W.MONTHLY_HEADER]
    rows = [["2021.6.4", *r] for r in W.monthly_rows(5)]
    s = staged(W.write_xlsx(tmp_path / "轮台县月报2021-05.xlsx", header, rows))
    assert s.fill_date == dt.date(2021, 6, 4)


def test_formula_cells_read_their_cached_value(tmp_path):
    path = tmp_path / "台账.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, W.LEDGER_HEADER)
    ws.write_row(1, 0, W.LEDGER_ROWS[0])
    ws.write_formula(1, 7, "=130*2", None, 260)   # 户数 as a formula with its cached value
    wb.close()
    assert staged(path).frame["households"].to_list() == [260]


def test_percent_columns_of_fractions_are_rescaled(tmp_path):
    rows = W.monthly_rows(6)
    for r, frac in zip(rows, (0.6, 0.75, 0.0)):
        r[8] = frac  # 形象进度 written by Excel's percentage format arrives as a fraction
    s = staged(W.write_xlsx(tmp_path / "轮台县月报2021-06.xlsx", W.MONTHLY_HEADER, rows))
    assert s.frame["pct_progress"].to_list() == pytest.approx([60, 75, 0])
    assert any("乘以 100" in n for n in s.layout.notes)


def test_text_percentages_and_dates_in_many_forms(tmp_path):
    rows = W.monthly_rows(6)
    rows[0][8], rows[1][8] = "60%", "75.0％"
    rows[0][7], rows[1][7] = "2021年4月10日", "20210415"
    f = staged(W.write_xlsx(tmp_path / "轮台县月报2021-06.xlsx", W.MONTHLY_HEADER, rows)).frame
    assert f["pct_progress"].to_list()[:2] == [60, 75]
    assert f["start_date"].to_list()[:2] == [dt.date(2021, 4, 10), dt.date(2021, 4, 15)]


def test_missing_columns_are_reported_together(tmp_path):
    header = [h for h in W.LEDGER_HEADER if h not in ("户数", "建筑面积(平方米)")]
    rows = [r[:7] + r[9:] for r in W.LEDGER_ROWS]
    with pytest.raises(ReadError) as e:
        read_file(W.write_xlsx(tmp_path / "台账.xlsx", header, rows, sheet="台账"))
    msg = e.value.messages[0]
    assert "「户数」" in msg and "「建筑面积」" in msg and "工作表「台账」" in msg


def test_kind_from_file_name_when_headers_do_not_say(tmp_path):
    # a plan that forgot its 计划年度 column: named 计划, so it is a plan missing a required column
    header = [h for h in W.PLAN_HEADER if h != "计划年度"]
    rows = [r[:1] + r[2:] for r in W.PLAN_ROWS]
    with pytest.raises(ReadError) as e:
        read_file(W.write_xlsx(tmp_path / "轮台县2021年改造计划.xlsx", header, rows))
    assert e.value.kind == "plan" and "「计划年度」" in e.value.messages[0]


def test_workbook_saved_under_the_other_extension_reads(tmp_path):
    # an .xls named .xlsx and an .xlsx named .xls: read by content, not by name
    xls = W.write_xls(tmp_path / "a.xls", W.LEDGER_HEADER, W.LEDGER_ROWS)
    xlsx = W.write_xlsx(tmp_path / "b.xlsx", W.LEDGER_HEADER, W.LEDGER_ROWS)
    (tmp_path / "a台账.xlsx").write_bytes(xls.read_bytes())
    (tmp_path / "b台账.xls").write_bytes(xlsx.read_bytes())
    for name in ("a台账.xlsx", "b台账.xls"):
        assert staged(tmp_path / name).frame.height == 7


def test_template_rows_repeated_headers_and_county_from_the_title(tmp_path):
    header = ["序号", *W.LEDGER_HEADER]
    rows = [[1, "", *W.LEDGER_ROWS[0][1:]], [2, *W.LEDGER_ROWS[1]], ["序号", *W.LEDGER_HEADER], [3, *W.LEDGER_ROWS[2]]]
    rows += [[i, *[""] * len(W.LEDGER_HEADER)] for i in range(4, 30)]  # a template numbered down to 29
    s = staged(W.write_xlsx(tmp_path / "台账.xlsx", header, rows, title=["台账", "填报单位:轮台县住房和城乡建设局"]))
    f = s.frame
    assert f["row_number"].to_list() == [4, 5, 7]                 # the repeated header and empty rows skipped
    assert f["county_code"].to_list() == ["652822"] * 3            # an empty first county cell: 填报单位 names it
    assert f["county_code__error"].to_list() == [None] * 3


def test_totals_row_under_a_merged_county_cell(tmp_path):
    # 合计 in the name column, the county cell beside it filled: still a totals row, not a community
    rows = [list(r) for r in W.PLAN_ROWS] + [["轮台县", "", "合计", "", "", 18, 530, 37600, "", 1660, 840, 170, "", ""]]
    s = staged(W.write_xlsx(tmp_path / "计划.xlsx", W.PLAN_HEADER, rows))
    assert s.frame["name"].to_list() == ["团结小区", "幸福住宅小区", "雪莲花园（二期）"] and s.findings == []


def test_more_header_aliases(tmp_path):
    header = ["所属县市", "计划年度", "小区名", "建成年份", "楼栋数", "户数", "建筑面积", "改造类别", "项目总投资(万元)"]
    rows = [["轮台县", 2021, "团结小区", 1995, 8, 260, 18200, "基础类", 780]]
    r = staged(W.write_xlsx(tmp_path / "计划.xlsx", header, rows)).frame.row(0, named=True)
    assert (r["county_code"], r["name"], r["total_invest_wan_yuan"]) == ("652822", "团结小区", 780)
