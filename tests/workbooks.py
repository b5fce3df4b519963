"""Tiny hand-made workbooks for the tests, written the way county clerks write them.

Each builder returns the path it wrote. Values are literal so that expected numbers can be
worked out by hand in the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import xlsxwriter
import xlwt

LEDGER_HEADER = ["县市", "街道", "社区", "小区名称", "小区地址", "建成年份", "楼栋数", "户数", "建筑面积(平方米)", "物业管理"]
LEDGER_ROWS = [
    ["轮台县", "轮台镇", "团结社区", "团结小区", "团结路12号", 1995, 8, 260, 18200, "否"],
    ["", "", "", "团结北小区", "团结路14号", 1998, 6, 180, 12600, "是"],
    ["", "", "文化社区", "幸福小区", "文化路3号", 1990, 5, 120, 8400, "无"],
    ["", "", "", "建设局大院", "人民路20号", 1988, 4, 96, 6700, "否"],
    ["", "", "", "建设局住宅楼", "人民路21号", 1988, 2, 40, 2800, "否"],
    ["", "", "", "雪莲花园一期", "天山路1号", 1999, 6, 200, 15000, "是"],
    ["", "", "", "雪莲花园二期", "天山路9号", 2000, 5, 150, 11000, "是"],
]

PLAN_HEADER = ["县市", "计划年度", "小区名称", "小区地址", "建成年份", "楼栋数", "户数", "建筑面积(平方米)", "改造类别",
               "计划总投资(万元)", "中央补助资金", "自治区补助资金", "公示开始日期", "公示结束日期"]
PLAN_ROWS = [
    ["轮台县", 2021, "团结小区", "团结路12号", 1995, 8, 260, 18200, "基础类、完善类", 780, 400, 80, "2020-09-01", "2020-09-25"],
    ["轮台县", 2021, "幸福住宅小区", "文化路3号院", 1992, 5, 120, 8400, "基础类", 360, 180, 40, "2020/9/1", "2020/9/25"],
    ["轮台县", 2021, "雪莲花园（二期）", "", 2000, 5, 150, 11000, "基础类+提升类", 520, 260, 50, "2020年9月1日", "2020年9月25日"],
]

MONTHLY_HEADER = ["县市", "计划年度", "项目编号", "小区名称", "户数", "计划总投资(万元)", "中央补助资金", "开工日期",
                  "形象进度(%)", "累计完成投资(万元)", "累计拨付资金(万元)", "完工日期", "验收日期", "居民满意度"]


def monthly_rows(month: int) -> list[list]:
    """The three 2021 projects, cumulative to the end of ``month`` of 2021."""
    started = month >= 4
    return [
        ["轮台县", 2021, "LT-2021-01", "团结小区", 260, 780, 400, "2021-04-10" if started else "",
         min(100, max(0, (month - 3) * 20)), min(780, max(0, (month - 3) * 156)), min(400, max(0, (month - 3) * 70)), "", "", ""],
        ["轮台县", 2021, "LT-2021-02", "幸福住宅小区", 120, 360, 180, "2021/4/15" if started else "",
         min(100, max(0, (month - 3) * 25)), min(360, max(0, (month - 3) * 90)), min(180, max(0, (month - 3) * 40)), "", "", ""],
        ["轮台县", 2021, "LT-2021-03", "雪莲花园(二期)", 150, 520, 260, "", 0, 0, 0, "", "", ""],
    ]


def write_xlsx(path: Path, header: list, rows: list[list], title: list[str] = (), sheet: str = "Sheet1",
               extra_sheets: tuple[str, ...] = (), totals: list | None = None, footer: list[str] = ()) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": dt.datetime(2021, 1, 1)})
    for name in extra_sheets:
        ws = wb.add_worksheet(name)
        ws.write(0, 0, "填表说明:请按模板填写")
    ws = wb.add_worksheet(sheet)
    r = 0
    for line in title:
        ws.merge_range(r, 0, r, max(1, len(header) - 1), line)
        r += 1
    ws.write_row(r, 0, header)
    r += 1
    for row in rows:
        ws.write_row(r, 0, row)
        r += 1
    if totals is not None:
        ws.write_row(r, 0, totals)
        r += 1
    for line in footer:
        ws.write(r, 0, line)
        r += 1
    wb.close()
    return path


def write_xls(path: Path, header: list, rows: list[list], title: list[str] = (), sheet: str = "Sheet1") -> Path:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    r = 0
    for line in title:
        ws.write(r, 0, line)
        r += 1
    for c, h in enumerate(header):
        ws.write(r, c, h)
    r += 1
    for row in rows:
        for c, v in enumerate(row):
            ws.write(r, c, v)
        r += 1
    wb.save(str(path))
    return path


def write_csv(path: Path, header: list, rows: list[list], encoding: str = "utf-8-sig", title: list[str] = ()) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        for line in title:
            w.writerow([line])
        w.writerow(header)
        w.writerows(rows)
    return path


def ledger(dir: Path, name: str = "轮台县老旧小区台账.xlsx") -> Path:
    return write_xlsx(dir / name, LEDGER_HEADER, LEDGER_ROWS,
                      title=["轮台县城镇老旧小区摸底台账", "填报单位:轮台县住建局    填报日期:2020年3月2日"], sheet="台账")


def plan(dir: Path, name: str = "轮台县2021年改造计划.xlsx") -> Path:
    return write_xlsx(dir / name, PLAN_HEADER, PLAN_ROWS, title=["轮台县2021年城镇老旧小区改造计划", "填报日期：2020年10月20日"],
                      sheet="计划", totals=["合计", "", "", "", "", 18, 530, 37600, "", 1660, 840, 170, "", ""])


def monthly(dir: Path, month: int, fill: str | None = None, name: str | None = None, rows: list[list] | None = None) -> Path:
    fill = fill or f"2021年{month + 1}月3日"
    return write_xlsx(
        dir / (name or f"轮台县月报2021-{month:02d}.xlsx"), MONTHLY_HEADER, rows if rows is not None else monthly_rows(month),
        title=[f"巴州城镇老旧小区改造项目进度月报(2021年{month}月)", f"填报单位:轮台县住建局  填报日期:{fill}"],
        sheet="月报", footer=["填表人:张三", "联系电话:0996-1234567"],
    )
