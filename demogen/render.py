"""Render the demo world as the workbooks counties hand in, with the mess of real files.

Every county has a house style drawn from the seed (header aliases, column order, units,
number, date, percentage and yes/no spellings, title rows, merges, totals and footer rows,
extra sheets, file formats); single files vary it further. Every variation is one that
``input-formats.md`` allows, so every file is valid and loads without rejected rows.

A sheet is first laid out as a grid of typed cells, then written as .xlsx (xlsxwriter),
.xls (xlwt) or .csv (UTF-8 with BOM or GB18030).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import xlsxwriter
import xlwt

from demogen.world import (
    COUNTIES, LedgerFile, PlanFile, ReportFile, World, ym,
)

FIXED_CREATED = datetime(2020, 1, 1, 9, 0, 0)

# ---------------------------------------------------------------------------------------------
# Header aliases (input-formats.md)

ALIASES = {
    "county": ("县市", "县(市)", "县市区", "所在县市"),
    "street": ("街道", "街道(乡镇)", "乡镇"),
    "community": ("社区", "社区(村)"),
    "name": ("小区名称", "小区", "小区(楼栋)名称", "项目名称"),
    "address": ("小区地址", "地址", "详细地址"),
    "build_year": ("建成年份", "建成年代", "建设年代", "竣工年份"),
    "buildings": ("楼栋数", "栋数", "楼栋数(栋)"),
    "households": ("户数", "居民户数", "涉及户数", "总户数"),
    "area": ("建筑面积", "建筑面积(平方米)", "总建筑面积", "面积(㎡)"),
    "owner": ("产权单位", "原产权单位"),
    "has_pm": ("物业管理", "是否有物业", "有无物业"),
    "pct_elderly": ("老年人占比", "60岁以上老人占比", "老龄人口占比"),
    "pct_willing": ("改造意愿", "居民改造意愿", "同意改造比例"),
    "renovated_year": ("已改造年度", "改造年度", "已改造年份"),
    "plan_year": ("计划年度", "年度", "计划年份"),
    "categories": ("改造类别", "改造类型"),
    "content": ("改造内容", "主要改造内容"),
    "total": ("计划总投资", "总投资", "估算总投资", "概算总投资"),
    "central": ("中央补助资金", "中央资金", "中央补助", "申请中央补助资金"),
    "region": ("自治区补助资金", "自治区资金", "省级资金"),
    "local": ("地方配套资金", "州县配套资金", "县市配套资金", "地方资金"),
    "resident": ("居民出资", "居民自筹"),
    "social": ("社会资本", "社会资金"),
    "utility": ("专营单位出资", "管线单位出资", "专业经营单位出资"),
    "elevators": ("加装电梯", "加装电梯(部)", "电梯数"),
    "planned_start": ("计划开工日期", "计划开工时间"),
    "planned_end": ("计划完工日期", "计划完工时间"),
    "notice_start": ("公示开始日期", "公示起始日期"),
    "notice_end": ("公示结束日期", "公示截止日期"),
    "notice_days": ("公示天数", "公示时间(工作日)"),
    "report_month": ("报告期", "填报月份", "统计月份", "报告月份"),
    "fill_date": ("填报日期", "报送日期"),
    "code": ("项目编号", "编号"),
    "start_date": ("开工日期", "实际开工日期", "开工时间"),
    "progress": ("形象进度", "形象进度(%)", "工程进度", "完成进度"),
    "done": ("累计完成投资", "完成投资", "累计完成投资额"),
    "paid": ("累计拨付资金", "已拨付资金", "资金拨付", "累计支付"),
    "finish_date": ("完工日期", "竣工日期", "实际完工日期"),
    "accept_date": ("验收日期", "竣工验收日期"),
    "satisfaction": ("居民满意度", "满意度", "群众满意度"),
    "remark": ("备注", "说明"),
}
MONEY = {"total", "central", "region", "local", "resident", "social", "utility", "done", "paid"}
INTS = {"buildings", "households", "elevators", "notice_days"}
YEARS_F = {"build_year", "renovated_year", "plan_year"}
DATES = {"planned_start", "planned_end", "notice_start", "notice_end", "start_date", "finish_date", "accept_date", "fill_date"}
PCTS = {"progress", "satisfaction", "pct_elderly", "pct_willing"}
BOOLS = {"has_pm"}
ADDITIVE = {"buildings", "households", "area", "elevators"} | MONEY
DEFAULT_ZERO = {"central", "region", "local", "resident", "social", "utility", "paid"}

LEDGER_FIELDS = ("county", "street", "community", "name", "address", "build_year", "buildings", "households", "area",
                 "owner", "has_pm", "pct_elderly", "pct_willing", "renovated_year")
PLAN_FIELDS = ("county", "plan_year", "street", "community", "name", "address", "build_year", "buildings", "households",
               "area", "categories", "content", "total", "central", "region", "local", "resident", "social", "utility",
               "elevators", "planned_start", "planned_end", "notice_start", "notice_end", "notice_days")
REPORT_FIELDS = ("county", "report_month", "fill_date", "plan_year", "code", "name", "households", "total", "central",
                 "region", "start_date", "progress", "done", "paid", "finish_date", "accept_date", "satisfaction",
                 "has_pm", "elevators", "remark")

DATE_STYLES = ("excel", "iso", "slash", "dot", "cn", "compact")
MONTH_STYLES = ("iso", "cn", "dot", "compact")
PCT_STYLES = ("num", "text", "pct", "fwpct")
BOOL_STYLES = (("是", "否"), ("Y", "N"), ("有", "无"), ("√", "×"), ("1", "0"))
MISSING = ("", "-", "—", "/", "无")
SEPARATORS = ("、", ",", "，", ";", "；", "/", "+")
SHORT = {"库尔勒市": "库尔勒市", "轮台县": "轮台县", "尉犁县": "尉犁县", "若羌县": "若羌县", "且末县": "且末县",
         "焉耆回族自治县": "焉耆县", "和静县": "和静县", "和硕县": "和硕县", "博湖县": "博湖县",
         "库尔勒经济技术开发区": "库尔勒经开区"}
COUNTY_WRITTEN = {"焉耆回族自治县": ("焉耆回族自治县", "焉耆县"), "库尔勒经济技术开发区": ("库尔勒经济技术开发区", "经开区", "库尔勒经开区")}


# ---------------------------------------------------------------------------------------------
# County house styles


@dataclass
class Profile:
    county: str
    index: int
    aliases: dict[str, str]
    order_swaps: list[tuple[int, int]]
    county_written: str
    money_unit_suffix: str  # "", "(万元)", "（万元）"
    plan_yuan: bool  # plan money in 元
    area_wan: bool  # area in 万平方米
    date_style: str
    month_style: str
    pct_style: str
    bools: tuple[str, str]
    missing: str
    text_numbers: float
    fullwidth: bool
    merge_vertical: bool
    group_header: bool
    totals: str | None  # top | bottom | None
    footer: bool
    instructions: bool
    hidden: bool
    formulas: bool
    seq_col: bool
    month_loc: str  # column | title | filename
    fill_loc: str  # column | title
    notice_days_col: bool
    code_col: bool
    optional_cols: bool
    header_breaks: bool
    colon: str
    sheet_named: bool


def profiles(seed: int) -> dict[str, Profile]:
    rng = random.Random(f"{seed}:profiles")
    off = {k: rng.randrange(100) for k in ("date", "month", "pct", "bool", "miss", "totals", "mloc", "floc", "colon")}
    yuan = rng.choice([c for c in COUNTIES if c != "库尔勒市"])
    wan = rng.choice([c for c in COUNTIES if c != yuan])
    out = {}
    for i, c in enumerate(COUNTIES):
        r = random.Random(f"{seed}:profile:{c}")
        swaps = [(r.randrange(25), r.randrange(25)) for _ in range(r.randint(0, 5))]
        out[c] = Profile(
            county=c, index=i, aliases={f: r.choice(a) for f, a in ALIASES.items()}, order_swaps=swaps,
            county_written=r.choice(COUNTY_WRITTEN.get(c, (c,))),
            money_unit_suffix=r.choice(("", "(万元)", "（万元）", "(万元)")), plan_yuan=c == yuan, area_wan=c == wan,
            date_style=DATE_STYLES[(i + off["date"]) % len(DATE_STYLES)],
            month_style=MONTH_STYLES[(i + off["month"]) % len(MONTH_STYLES)],
            pct_style=PCT_STYLES[(i + off["pct"]) % len(PCT_STYLES)],
            bools=BOOL_STYLES[(i + off["bool"]) % len(BOOL_STYLES)],
            missing=MISSING[(i + off["miss"]) % len(MISSING)],
            text_numbers=r.choice((0.0, 0.05, 0.15, 0.3)), fullwidth=r.random() < 0.3,
            merge_vertical=r.random() < 0.6, group_header=r.random() < 0.3,
            totals=(("top", "bottom", None, "bottom")[(i + off["totals"]) % 4]),
            footer=r.random() < 0.7, instructions=r.random() < 0.5, hidden=r.random() < 0.3,
            formulas=r.random() < 0.5, seq_col=r.random() < 0.7,
            month_loc=("column", "title", "filename", "column")[(i + off["mloc"]) % 4],
            fill_loc=("column", "title", "title")[(i + off["floc"]) % 3],
            notice_days_col=r.random() < 0.4, code_col=r.random() < 0.6, optional_cols=r.random() < 0.7,
            header_breaks=r.random() < 0.3, colon=(":", "：")[(i + off["colon"]) % 2], sheet_named=r.random() < 0.6,
        )
    return out


# ---------------------------------------------------------------------------------------------
# Cells and sheets

# a cell: None (blank), ("s", text), ("n", number), ("d", date), ("f", formula, cached number)


@dataclass
class Sheet:
    name: str
    rows: list[list] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden: bool = False
    widths: dict[int, float] = field(default_factory=dict)


def _plain(v: float) -> str:
    """A number as plain text without losing digits (areas in 万平方米 carry six decimals)."""
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


FW = str.maketrans("0123456789", "０１２３４５６７８９")


def _g(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


class Fmt:
    """Writes values the way one file spells them."""

    def __init__(self, prof: Profile, rng: random.Random, kind: str):
        self.p, self.rng, self.kind = prof, rng, kind
        self.date_style = prof.date_style if rng.random() < 0.8 else rng.choice(DATE_STYLES)
        self.month_style = prof.month_style
        self.pct_style = prof.pct_style
        self.money_scale = 1e4 if (kind == "plan" and prof.plan_yuan) else 1.0
        self.area_scale = 1e-4 if prof.area_wan else 1.0
        self.unit_in_header = bool(prof.money_unit_suffix)  # a 万 suffix only where it repeats the header

    def missing(self, f: str):
        tok = self.p.missing
        if f in BOOLS and tok == "无":
            tok = ""
        return ("s", tok) if tok else None

    # Every method draws the same random numbers whatever the value, so that a resubmitted
    # report spells its unchanged rows exactly as the first submission did.
    def _draw(self) -> tuple[float, float, int]:
        return self.rng.random(), self.rng.random(), self.rng.randrange(6)

    def money(self, f: str, v: float | None, required: bool):
        u, u2, k = self._draw()
        if v is None:
            return self.missing(f)
        if v == 0 and not required and f in DEFAULT_ZERO and u2 < 0.5:
            return self.missing(f)
        if self.money_scale != 1:
            v = round(v * self.money_scale)
            if u < self.p.text_numbers:
                return ("s", f"{v:,}")
            return ("n", float(v))
        v = round(v, 2)
        if u < self.p.text_numbers:
            form = k % (3 if self.unit_in_header else 2)
            if form == 0:
                return ("s", f"{v:,.2f}")
            if form == 1:
                return ("s", f" {v:.2f} ")
            return ("s", f"{v:.2f}万")
        return ("n", v)

    def integer(self, f: str, v: int | None):
        u, _, _ = self._draw()
        if v is None:
            return self.missing(f)
        if u < self.p.text_numbers:
            if self.p.fullwidth:
                return ("s", str(v).translate(FW))
            return ("s", f" {v} ")
        return ("n", float(v))

    def area(self, v: float):
        u, _, _ = self._draw()
        if self.area_scale != 1:
            return ("n", round(v * self.area_scale, 6))
        if u < self.p.text_numbers:
            return ("s", f"{v:,.1f}")
        return ("n", v)

    def year(self, v: int | None):
        u, _, _ = self._draw()
        if v is None:
            return None
        return ("s", str(v)) if u < self.p.text_numbers else ("n", float(v))

    def pct(self, f: str, v: float | None):
        if v is None:
            return self.missing(f)
        st = self.pct_style
        if st == "num":
            return ("n", float(v))
        if st == "text":
            return ("s", _g(v))
        if st == "pct":
            return ("s", _g(v) + "%")
        return ("s", f"{v:.1f}％")

    def date(self, f: str, d: date | None, style: str | None = None):
        if d is None:
            return self.missing(f)
        st = style or self.date_style
        if st == "excel":
            return ("d", d)
        if st == "iso":
            return ("s", d.isoformat())
        if st == "slash":
            return ("s", f"{d.year}/{d.month}/{d.day}")
        if st == "dot":
            return ("s", f"{d.year}.{d.month}.{d.day}")
        if st == "cn":
            return ("s", f"{d.year}年{d.month}月{d.day}日")
        return ("s", d.strftime("%Y%m%d"))

    def month(self, idx: int):
        y, m = ym(idx)
        return ("s", {"iso": f"{y}-{m:02d}", "cn": f"{y}年{m}月", "dot": f"{y}.{m:02d}", "compact": f"{y}{m:02d}"}[self.month_style])

    def boolean(self, v: bool | None):
        if v is None:
            return None
        return ("s", self.p.bools[0] if v else self.p.bools[1])


def _header_text(prof: Profile, f: str, kind: str, rng: random.Random) -> str:
    h = prof.aliases[f]
    if f in MONEY:
        if kind == "plan" and prof.plan_yuan:
            h += "(元)"
        else:
            h += prof.money_unit_suffix
    if f == "area" and prof.area_wan:
        h = "建筑面积(万平方米)"
    if prof.header_breaks and len(h) > 4 and rng.random() < 0.4:
        cut = rng.randint(2, len(h) - 2)
        h = h[:cut] + "\n" + h[cut:]
    return h


def _order(fields: list[str], prof: Profile) -> list[str]:
    fields = list(fields)
    n = len(fields)
    for a, b in prof.order_swaps:
        a, b = a % n, b % n
        fields[a], fields[b] = fields[b], fields[a]
    return fields


def _kv(prof: Profile, label: str, value: str) -> str:
    return f"{label}{prof.colon}{value}"


def _fill_text(d: date, rng: random.Random) -> str:
    return rng.choice((f"{d.year}年{d.month}月{d.day}日", d.isoformat(), f"{d.year}.{d.month}.{d.day}"))


def layout(*, sheet_name: str, titles: list[str], group: list[tuple[str, int]] | None, headers: list[str],
           data: list[list], merge_cols: list[int], totals: list | None, totals_pos: str | None,
           footers: list[str], merge_title: bool) -> tuple[Sheet, int]:
    """Place title rows, header, data, totals and footer rows; returns the sheet and the header row."""
    sh = Sheet(sheet_name)
    ncol = len(headers)
    for t in titles:
        r = len(sh.rows)
        sh.rows.append([("s", t)] + [None] * (ncol - 1))
        if merge_title and ncol > 1:
            sh.merges.append((r, 0, r, ncol - 1))
    if group:
        r = len(sh.rows)
        row = [None] * ncol
        c = 0
        for label, span in group:
            if label:
                row[c] = ("s", label)
                if span > 1:
                    sh.merges.append((r, c, r, c + span - 1))
            c += span
        sh.rows.append(row)
    header_row = len(sh.rows)
    sh.rows.append([("s", h) for h in headers])
    if totals is not None and totals_pos == "top":
        sh.rows.append(totals)
    first = len(sh.rows)
    for row in data:
        sh.rows.append(row)
    last = len(sh.rows) - 1
    for c in merge_cols:  # vertically merged cells: the value only in the first cell of a run
        r = first
        while r <= last:
            v = sh.rows[r][c]
            e = r
            while e + 1 <= last and sh.rows[e + 1][c] == v and v is not None:
                e += 1
            if e > r:
                sh.merges.append((r, c, e, c))
                for k in range(r + 1, e + 1):
                    sh.rows[k][c] = None
            r = e + 1
    if totals is not None and totals_pos == "bottom":
        sh.rows.append(totals)
    if footers:
        sh.rows.append([None] * ncol)
        for ft in footers:
            sh.rows.append([("s", ft)] + [None] * (ncol - 1))
    return sh, header_row


def _col_letter(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def totals_row(fields: list[str], data_values: list[dict], fmt: Fmt, kind: str, *, first_data: int, last_data: int,
               error: tuple[str, float] | None, formulas: bool, label: str) -> list:
    """Sums of the additive columns as they are written (in the header's unit)."""
    row: list = [None] * len(fields)
    label_col = 0
    row[label_col] = ("s", label)
    err_field = None
    if error is not None:
        # the planted error needs a column that holds a sum: not the one the label stands in
        def usable(f: str) -> bool:  # holds a sum large enough that the error survives rounding
            total = abs(sum(v.get(f) or 0 for v in data_values))
            return f != fields[label_col] and f in fields and total * abs(error[1]) >= (2 if f in INTS else 0.1)

        order = [error[0], *sorted((f for f in fields if f in ADDITIVE), key=lambda f: f in INTS)]
        err_field = next((f for f in order if usable(f)), None)
    for c, f in enumerate(fields):
        if c == label_col or f not in ADDITIVE:
            continue
        vals = [v.get(f) for v in data_values]
        if not any(x for x in vals if x):
            continue
        s = sum(x or 0 for x in vals)
        if f in MONEY:
            s = round(s * fmt.money_scale, 2 if fmt.money_scale == 1 else 0)
        elif f == "area":
            s = round(s * fmt.area_scale, 6 if fmt.area_scale != 1 else 1)
        if f == err_field:
            bad = s * (1 + error[1])
            bad = round(bad) if f in INTS else round(bad, 2)
            if abs(error[1]) > 0.005:
                assert abs(bad - s) > 0.005 * abs(s), "planted totals error lost in rounding"
            row[c] = ("n", float(bad))
        elif formulas and first_data <= last_data:
            col = _col_letter(c)
            row[c] = ("f", f"=SUM({col}{first_data + 1}:{col}{last_data + 1})", s)
        else:
            row[c] = ("n", float(s))
    return row


# ---------------------------------------------------------------------------------------------
# Writers


def write_xlsx(path: Path, sheets: list[Sheet], active: int, fmt_date: str) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    wb.set_properties({"created": FIXED_CREATED, "author": "巴州住建局", "title": path.stem})
    dfmt = wb.add_format({"num_format": fmt_date})
    tfmt = wb.add_format({"bold": True, "align": "center", "valign": "vcenter"})
    for i, sh in enumerate(sheets):
        ws = wb.add_worksheet(sh.name)
        covered = set()
        for (r1, c1, r2, c2) in sh.merges:
            v = sh.rows[r1][c1]
            val = "" if v is None else v[1]
            if v is not None and v[0] == "d":
                ws.merge_range(r1, c1, r2, c2, "", dfmt)
                ws.write_datetime(r1, c1, datetime(val.year, val.month, val.day), dfmt)
            elif v is not None and v[0] == "n":
                ws.merge_range(r1, c1, r2, c2, "", tfmt)
                ws.write_number(r1, c1, val, tfmt)
            else:
                ws.merge_range(r1, c1, r2, c2, "", tfmt)
                if val != "":
                    ws.write_string(r1, c1, val, tfmt)
            covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
        for r, row in enumerate(sh.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in covered:
                    continue
                k = v[0]
                if k == "s":
                    ws.write_string(r, c, v[1])
                elif k == "n":
                    ws.write_number(r, c, v[1])
                elif k == "d":
                    ws.write_datetime(r, c, datetime(v[1].year, v[1].month, v[1].day), dfmt)
                else:
                    ws.write_formula(r, c, v[1], None, v[2])
        for c, w in sh.widths.items():
            ws.set_column(c, c, w)
        if sh.hidden:
            ws.hide()
        if i == active:
            ws.activate()
    wb.close()


def write_xls(path: Path, sheets: list[Sheet], fmt_date: str) -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    dstyle = xlwt.easyxf(num_format_str=fmt_date)
    plain = xlwt.XFStyle()
    for sh in sheets:
        ws = wb.add_sheet(sh.name, cell_overwrite_ok=True)
        covered = set()
        for (r1, c1, r2, c2) in sh.merges:
            v = sh.rows[r1][c1]
            val = "" if v is None else (v[1] if v[0] != "f" else v[2])
            ws.write_merge(r1, r2, c1, c2, val, dstyle if v is not None and v[0] == "d" else plain)
            covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
        for r, row in enumerate(sh.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in covered:
                    continue
                if v[0] == "d":
                    ws.write(r, c, v[1], dstyle)
                elif v[0] == "f":
                    ws.write(r, c, v[2])
                else:
                    ws.write(r, c, v[1])
        if sh.hidden:
            ws.visibility = 1
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def write_csv(path: Path, sheet: Sheet, encoding: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in sheet.rows:
        out = []
        for v in row:
            if v is None:
                out.append("")
            elif v[0] == "s":
                out.append(v[1])
            elif v[0] == "n":
                out.append(_plain(v[1]))
            elif v[0] == "d":
                out.append(v[1].isoformat())
            else:
                out.append(_plain(v[2]))
        w.writerow(out)
    path.write_bytes(buf.getvalue().encode(encoding))


# ---------------------------------------------------------------------------------------------
# Workbooks of each kind


INSTRUCTIONS = {
    "ledger": ("填表说明", "1.本表用于城镇老旧小区摸底调查,一个小区填一行。", "2.建成年份填写四位年份;户数、楼栋数填写整数。",
               "3.已改造的小区请在已改造年度中填写改造年份。", "4.请于规定时间内报送州住建局。"),
    "plan": ("填表说明", "1.计划须经不少于14个工作日的公示。", "2.改造类别可多选:基础类、完善类、提升类。",
             "3.资金单位以表头为准。", "4.请于10月30日前报送下一年度计划。"),
    "monthly": ("填表说明", "1.本表为累计数,统计至报告期月末。", "2.形象进度按0-100填写。", "3.未开工项目开工日期留空。",
                "4.请于次月5日前报送。"),
}


def _extra_sheets(prof: Profile, kind: str, rng: random.Random) -> tuple[list[Sheet], list[Sheet]]:
    before, after = [], []
    if prof.instructions:
        sh = Sheet("填表说明", rows=[[("s", t)] for t in INSTRUCTIONS[kind]])
        (before if rng.random() < 0.4 else after).append(sh)
    if prof.hidden:
        sh = Sheet("下拉选项", rows=[[("s", t)] for t in ("是", "否", *COUNTIES)], hidden=True)
        after.append(sh)
    return before, after


def _footers(prof: Profile, rng: random.Random, fill: date | None) -> list[str]:
    if not prof.footer:
        return []
    from demogen.names import person, phone

    out = []
    if rng.random() < 0.5:
        out.append(f"{_kv(prof, '填表人', person(rng))}    {_kv(prof, '审核人', person(rng))}    {_kv(prof, '联系电话', phone(rng))}")
    else:
        out += [_kv(prof, "填表人", person(rng)), _kv(prof, "联系电话", phone(rng))]
    if rng.random() < 0.5:
        out.append(_kv(prof, "注", "本表数据以县市住建局审核为准。"))
    if fill is not None and rng.random() < 0.3:
        out.append(_kv(prof, "制表日期", _fill_text(fill, rng)))
    return out


def _fields(kind: str, prof: Profile, rng: random.Random, present: dict[str, bool]) -> list[str]:
    base = {"ledger": LEDGER_FIELDS, "plan": PLAN_FIELDS, "monthly": REPORT_FIELDS}[kind]
    fs = [f for f in base if present.get(f, True)]
    fs = _order(fs, prof)
    if prof.seq_col:
        fs = ["_seq"] + fs
    if rng.random() < 0.4:
        fs.append(rng.choice({"ledger": ("_struct", "_note"), "plan": ("_struct", "_note"), "monthly": ("_unit", "_super")}[kind]))
    return fs


EXTRA_HEADERS = {"_seq": "序号", "_struct": "结构类型", "_note": "备注", "_unit": "责任单位", "_super": "监理单位"}


def _extra_value(f: str, i: int, rng: random.Random, formulas: bool, header_row: int, first_data_offset: int):
    if f == "_seq":
        if formulas:
            return ("f", f"=ROW()-{header_row + 1 + first_data_offset}", float(i + 1))
        return ("n", float(i + 1))
    if f == "_struct":
        return ("s", rng.choice(("砖混", "砖混", "框架", "砖木")))
    if f == "_note":
        return ("s", "") if rng.random() < 0.8 else ("s", "摸底核实")
    if f == "_unit":
        return ("s", rng.choice(("县住建局", "城投公司", "街道办事处")))
    return ("s", rng.choice(("新疆某监理公司", "巴州工程监理有限公司", "")))


def _group_row(fields: list[str]) -> list[tuple[str, int]]:
    """Group labels over the header (a second header row above it; none is a known header)."""
    def grp(f):
        if f in ("_seq", "county", "street", "community", "name", "address", "code", "report_month", "fill_date", "plan_year"):
            return "基本情况"
        if f in ("build_year", "buildings", "households", "area", "owner", "has_pm", "pct_elderly", "pct_willing", "renovated_year"):
            return "小区概况"
        if f in MONEY:
            return "投资及资金情况"
        if f in ("start_date", "progress", "finish_date", "accept_date", "satisfaction"):
            return "建设进度"
        return ""
    out: list[tuple[str, int]] = []
    for f in fields:
        g = grp(f)
        if out and out[-1][0] == g:
            out[-1] = (g, out[-1][1] + 1)
        else:
            out.append((g, 1))
    return out


def _write(path: Path, sheet: Sheet, prof: Profile, kind: str, rng: random.Random, fmt_kind: str) -> Path:
    dfmt = rng.choice(("yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"'))
    if fmt_kind == "xlsx":
        before, after = _extra_sheets(prof, kind, rng)
        if rng.random() < 0.3 and sheet.name in ("台账", "计划", "月报"):
            after.append(Sheet("汇总", rows=[[("s", "县市"), ("s", "项目数"), ("s", "合计户数")],
                                            [("s", prof.county_written), ("n", float(max(0, len(sheet.rows) - 3))), None]]))
        sheets = before + [sheet] + after
        path = path.with_suffix(".xlsx")
        write_xlsx(path, sheets, len(before), dfmt)
    elif fmt_kind == "xls":
        path = path.with_suffix(".xls")
        _, after = _extra_sheets(prof, kind, rng)
        write_xls(path, [sheet] + [s for s in after if not s.hidden], dfmt.replace('"', ""))
    else:
        path = path.with_suffix(".csv")
        write_csv(path, sheet, "gb18030" if fmt_kind == "csv_gb" else "utf-8-sig")
    return path


def _no_excel_dates(fmt: Fmt, fmt_kind: str) -> None:
    if fmt_kind.startswith("csv") and fmt.date_style == "excel":
        fmt.date_style = "iso"


def render_ledger(lf: LedgerFile, prof: Profile, out: Path, seed: int, fmt_kind: str) -> Path:
    rng = random.Random(f"{seed}:ledger:{lf.county}:{lf.version}")
    fmt = Fmt(prof, rng, "ledger")
    _no_excel_dates(fmt, fmt_kind)
    present = {"owner": prof.optional_cols, "pct_elderly": prof.optional_cols or rng.random() < 0.5,
               "pct_willing": prof.optional_cols, "has_pm": True}
    fields = _fields("ledger", prof, rng, present)
    fill_col = prof.fill_loc == "column"
    if fill_col:
        fields.append("fill_date")
    headers = [EXTRA_HEADERS[f] if f in EXTRA_HEADERS else _header_text(prof, f, "ledger", rng) for f in fields]
    values = []
    for r in lf.rows:
        v = {"county": prof.county_written, "street": r.street, "community": r.community, "name": r.name,
             "address": r.address, "build_year": r.build_year, "buildings": r.buildings, "households": r.households,
             "area": r.area, "owner": r.owner, "has_pm": r.has_pm, "pct_elderly": r.pct_elderly,
             "pct_willing": r.pct_willing, "renovated_year": r.renovated_year, "fill_date": lf.fill_date}
        values.append(v)
    titles = [rng.choice((f"巴州{lf.county}城镇老旧小区摸底调查台账", f"{lf.county}城镇老旧小区改造摸底台账"))]
    titles.append(_kv(prof, "填报单位", f"{SHORT[lf.county]}住房和城乡建设局"))
    if not fill_col:
        titles.append(_kv(prof, "填报日期", _fill_text(lf.fill_date, rng)))
    return _assemble(values, fields, headers, titles, prof, fmt, rng, "ledger", lf.county, None, out, fmt_kind,
                     f"{lf.county}城镇老旧小区摸底台账" + ("(更新)" if lf.version > 1 else ""))


def render_plan(pf: PlanFile, prof: Profile, out: Path, seed: int, fmt_kind: str) -> Path:
    rng = random.Random(f"{seed}:plan:{pf.county}:{pf.year}:{pf.version}")
    fmt = Fmt(prof, rng, "plan")
    _no_excel_dates(fmt, fmt_kind)
    rows = pf.rows
    present = {
        "street": prof.optional_cols or rng.random() < 0.5, "community": prof.optional_cols,
        "address": prof.optional_cols or rng.random() < 0.6 or any(p.role == "kind_swap" for p in rows),
        "content": rng.random() < 0.9,
        "resident": any(p.resident for p in rows), "social": any(p.social for p in rows),
        "utility": any(p.utility for p in rows), "elevators": any(p.elevators for p in rows) or rng.random() < 0.3,
        "planned_start": rng.random() < 0.8, "planned_end": rng.random() < 0.8, "notice_days": prof.notice_days_col,
    }
    fields = _fields("plan", prof, rng, present)
    fill_col = prof.fill_loc == "column"
    if fill_col:
        fields.append("fill_date")
    headers = [EXTRA_HEADERS[f] if f in EXTRA_HEADERS else _header_text(prof, f, "plan", rng) for f in fields]
    sep = SEPARATORS[(prof.index + pf.year) % len(SEPARATORS)]
    values = []
    for p in rows:
        v = {"county": prof.county_written, "plan_year": p.year, "street": p.street, "community": p.community,
             "name": p.name, "address": p.address or None, "build_year": p.build_year, "buildings": p.buildings,
             "households": p.households, "area": p.area, "categories": sep.join(p.categories), "content": p.content,
             "total": p.total, "central": p.central, "region": p.region, "local": p.local, "resident": p.resident,
             "social": p.social, "utility": p.utility, "elevators": p.elevators, "planned_start": p.planned_start,
             "planned_end": p.planned_end, "notice_start": p.notice_start, "notice_end": p.notice_end,
             "notice_days": p.notice_days_given, "fill_date": pf.fill_date}
        values.append(v)
    titles = [rng.choice((f"{pf.county}{pf.year}年城镇老旧小区改造计划表", f"巴州{pf.year}年度城镇老旧小区改造项目计划({SHORT[pf.county]})"))]
    if rng.random() < 0.7:
        titles.append(_kv(prof, "填报单位", f"{SHORT[pf.county]}住建局"))
    if not fill_col:
        titles.append(_kv(prof, "填报日期", _fill_text(pf.fill_date, rng)))
    name = f"{pf.county}{pf.year}年老旧小区改造计划" + ("(重报)" if pf.version > 1 else "")
    return _assemble(values, fields, headers, titles, prof, fmt, rng, "plan", pf.county, None, out, fmt_kind, name)


def render_report(rf: ReportFile, prof: Profile, out: Path, seed: int, fmt_kind: str) -> Path:
    rng = random.Random(f"{seed}:monthly:{rf.county}:{rf.month}")  # not the version: see Fmt._draw
    fmt = Fmt(prof, rng, "monthly")
    _no_excel_dates(fmt, fmt_kind)
    y, m = ym(rf.month)
    month_loc = prof.month_loc
    present = {"report_month": month_loc == "column", "code": prof.code_col,
               "fill_date": prof.fill_loc == "column" and rf.fill_date is not None,
               "central": prof.optional_cols or rng.random() < 0.5, "region": prof.optional_cols,
               "satisfaction": True, "has_pm": prof.optional_cols or rng.random() < 0.5,
               "elevators": any(r.elevators for r in rf.rows), "remark": rng.random() < 0.8}
    fields = _fields("monthly", prof, rng, present)
    headers = [EXTRA_HEADERS[f] if f in EXTRA_HEADERS else _header_text(prof, f, "monthly", rng) for f in fields]
    values = []
    for r in rf.rows:
        v = {"county": prof.county_written, "report_month": rf.month, "fill_date": rf.fill_date,
             "plan_year": r.plan_year, "code": r.code, "name": r.name, "households": r.households, "total": r.total,
             "central": r.central, "region": r.region, "start_date": r.start_date, "progress": r.progress,
             "done": r.done, "paid": r.paid, "finish_date": r.finish_date, "accept_date": r.accept_date,
             "satisfaction": r.satisfaction, "has_pm": r.has_pm, "elevators": r.elevators, "remark": r.remark or None}
        values.append(v)
    titles = []
    if month_loc == "title" or (month_loc == "column" and rng.random() < 0.5):
        titles.append(rng.choice((f"巴州城镇老旧小区改造项目进度月报({y}年{m}月)", f"巴州城镇老旧小区改造项目进度月报（{y}年{m}月）",
                                  f"{y}年{m}月份城镇老旧小区改造项目进度月报")))
    else:
        titles.append("巴州城镇老旧小区改造项目进度月报")
    titles.append(_kv(prof, "填报单位", f"{SHORT[rf.county]}住建局"))
    if rf.fill_date is not None and prof.fill_loc != "column":
        titles.append(_kv(prof, "填报日期", _fill_text(rf.fill_date, rng)))
    if rng.random() < 0.3:
        titles.append("金额单位:万元")
    if month_loc == "filename":
        fname = rng.choice((f"{SHORT[rf.county]}_{y}年{m}月_月报", f"{SHORT[rf.county]}{y}{m:02d}月报", f"月报-{SHORT[rf.county]}-{y}-{m:02d}"))
    else:
        fname = rng.choice((f"{SHORT[rf.county]}{y}年{m}月老旧小区改造月报", f"{SHORT[rf.county]}_月报_{y}{m:02d}",
                            f"老旧小区改造进度月报({SHORT[rf.county]})"))
        if "(" in fname:
            fname += f"_{y}-{m:02d}"
    if rf.version > 1:
        fname += "(重报)"
    return _assemble(values, fields, headers, titles, prof, fmt, rng, "monthly", rf.county, rf, out, fmt_kind, fname)


def _cell(f: str, v: dict, fmt: Fmt, kind: str):
    x = v.get(f)
    if f in ("county", "street", "community", "name", "address", "owner", "categories", "content", "code", "remark"):
        return ("s", x) if x else None
    if f in MONEY:
        return fmt.money(f, x, required=f in ("total", "done"))
    if f in INTS:
        u = fmt.rng.random()
        if f == "elevators" and not x:
            return fmt.missing(f) if u < 0.5 else ("n", 0.0)
        return fmt.integer(f, x)
    if f == "area":
        return fmt.area(x)
    if f in YEARS_F:
        return fmt.year(x)
    if f in PCTS:
        if f == "progress":
            return fmt.pct(f, x) if fmt.pct_style != "num" or x else ("n", 0.0)
        return fmt.pct(f, x)
    if f in DATES:
        return fmt.date(f, x)
    if f == "report_month":
        return fmt.month(x)
    if f in BOOLS:
        return fmt.boolean(x)
    raise KeyError(f)


def _assemble(values, fields, headers, titles, prof: Profile, fmt: Fmt, rng: random.Random, kind: str, county: str,
              rf: ReportFile | None, out: Path, fmt_kind: str, fname: str) -> Path:
    group = _group_row(fields) if prof.group_header and fmt_kind != "csv" and rng.random() < 0.7 else None
    merge_title = fmt_kind in ("xlsx", "xls")
    force_totals = rf is not None and rf.force_totals
    totals_pos = prof.totals
    u_tot, pos_tot = rng.random(), rng.choice(("top", "bottom"))
    if rf is not None and totals_pos is None and (force_totals or u_tot < 0.05):
        totals_pos = pos_tot
    if rf is not None and not force_totals and totals_pos and u_tot < 0.3:
        totals_pos = None
    n_titles = len(titles) + (1 if group else 0)
    header_row = n_titles
    first_data = header_row + 1 + (1 if totals_pos == "top" else 0)
    last_data = first_data + len(values) - 1
    formulas = prof.formulas and fmt_kind == "xlsx"
    data = []
    for i, v in enumerate(values):
        row = []
        for f in fields:
            if f in EXTRA_HEADERS:
                row.append(_extra_value(f, i, rng, formulas, header_row, 1 if totals_pos == "top" else 0))
            else:
                row.append(_cell(f, v, fmt, kind))
        data.append(row)
    totals = None
    if totals_pos:
        totals = totals_row(fields, values, fmt, kind, first_data=first_data, last_data=last_data,
                            error=rf.totals_error if rf is not None else None, formulas=formulas,
                            label=rng.choice(("合计", "总计", "合计")))
    merge_cols = []
    if prof.merge_vertical:
        merge_cols = [i for i, f in enumerate(fields) if f in ("county", "street", "community")]
        if kind == "monthly":
            merge_cols = [i for i, f in enumerate(fields) if f == "county"]
    sheet_name = {"ledger": "台账", "plan": "计划", "monthly": "月报"}[kind] if prof.sheet_named else rng.choice(("Sheet1", "数据", "明细"))
    if kind == "monthly" and not prof.sheet_named and rng.random() < 0.5:
        y, m = ym(rf.month)
        sheet_name = f"{y}年{m}月" if prof.month_loc != "filename" else "Sheet1"
    sheet, hr = layout(sheet_name=sheet_name, titles=titles, group=group, headers=headers, data=data,
                       merge_cols=merge_cols if fmt_kind in ("xlsx", "xls", "csv_gb", "csv_utf8") else [],
                       totals=totals, totals_pos=totals_pos, footers=_footers(prof, rng, rf.fill_date if rf else None),
                       merge_title=merge_title)
    assert hr == header_row
    for c, h in enumerate(headers):
        sheet.widths[c] = 14 if len(h) > 4 else 10
    sub = out / county / {"ledger": "台账", "plan": "计划", "monthly": "月报"}[kind]
    if rf is not None:
        sub = sub / str(ym(rf.month)[0])
    sub.mkdir(parents=True, exist_ok=True)
    return _write(sub / fname, sheet, prof, kind, rng, fmt_kind)


# ---------------------------------------------------------------------------------------------


def file_kinds(w: World, seed: int, profs: dict[str, Profile]) -> dict[tuple, str]:
    """Which files are .xls or .csv (a few), keyed by (kind, county, period)."""
    rng = random.Random(f"{seed}:formats")
    out: dict[tuple, str] = {}
    small = [c for c in COUNTIES if c != "库尔勒市"]
    a, b, c3 = rng.sample(small, 3)
    year_a, year_b = rng.choice((2020, 2021, 2022)), rng.choice((2023, 2024))
    out[("monthly_year", a, year_a)] = "xls"
    out[("monthly_year", b, year_b)] = "csv_gb"
    out[("monthly_year", c3, rng.choice((2021, 2022, 2023)))] = "csv_utf8"
    # the unit-converting counties also hand in a plan as text and as .xls: units and formats meet
    wan = next(c for c, p in profs.items() if p.area_wan)
    yuan = next(c for c, p in profs.items() if p.plan_yuan)
    out[("plan", wan, rng.choice((2022, 2023, 2024)))] = "csv_utf8"
    out[("plan", yuan, rng.choice((2021, 2024, 2025)))] = "xls"
    out[("ledger", rng.choice(small), None)] = "xls"
    out[("ledger", rng.choice(small), None)] = "csv_gb"
    return out


def render_all(w: World, out: Path) -> list[Path]:
    profs = profiles(w.seed)
    kinds = file_kinds(w, w.seed, profs)
    paths: list[Path] = []
    for lf in w.ledger_files:
        paths.append(render_ledger(lf, profs[lf.county], out, w.seed, kinds.get(("ledger", lf.county, None), "xlsx")))
    for pf in w.plan_files:
        paths.append(render_plan(pf, profs[pf.county], out, w.seed, kinds.get(("plan", pf.county, pf.year), "xlsx")))
    for rf in w.report_files:
        k = kinds.get(("monthly_year", rf.county, ym(rf.month)[0]), "xlsx")
        paths.append(render_report(rf, profs[rf.county], out, w.seed, k))
    assert len(set(str(p) for p in paths)) == len(paths), "two files with the same name"
    return paths
