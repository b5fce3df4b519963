"""The monthly bulletin (月度通报) for leadership: the month's changes, the county ranking with its
change since the previous month, and the red / yellow / green lagging tiers, on one printable
page: a Word document (python-docx, with the annual report's helpers) and the same document as
PDF (converted by LibreOffice, as the annual report is).

Everything is read from ``marts.bulletin_prefecture``, ``marts.bulletin_counties``, the tier
thresholds in ``marts.settings`` and the data clock (``marts.data_clock``); nothing is computed
here but the wording.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.clock import clock_text
from pipelines.counties import home_prefecture, prefecture_name
from pipelines.report import docx_to_pdf
from pipelines.report.document import _heading, _para, _set_cjk, _table
from pipelines.tiers import TIER_LABELS, TIERS, TierSettings, from_settings, rank_change_text
from pipelines.backend import locate
from pipelines.warehouse import connect, table_exists

__all__ = ["Bulletin", "TIER_FILLS", "bulletin_month", "collect", "summary_text", "tiers_text", "ranking_rows",
           "write_docx", "bulletin_bytes", "run_bulletin", "month_label"]

# cell fills of the tiers in print (light, so that the text stays legible in black and white)
TIER_FILLS = {"red": "F4B6B6", "yellow": "FCE4A6", "green": "C8E6C9"}
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass
class Bulletin:
    """What a bulletin prints, read from the marts."""

    month: dt.date                 # the first day of the month reported
    prefecture: dict[str, Any]     # the row of marts.bulletin_prefecture
    counties: pl.DataFrame         # rows of marts.bulletin_counties, in rank order
    tiers: TierSettings
    deadline: str                  # the plan's default completion deadline, e.g. 11月30日
    generated_at: dt.datetime
    clock: str = ""                # the data clock in Chinese (pipelines.clock)

    @property
    def issuer(self) -> str:
        """The prefecture whose bulletin it is, by name (巴州; a province warehouse holds several)."""
        return prefecture_name(self.prefecture.get("prefecture_code") or home_prefecture())

    @property
    def label(self) -> str:
        return month_label(self.month)

    def names(self, tier: str) -> list[str]:
        """The units of a tier, in rank order."""
        return self.counties.filter(pl.col("tier") == tier)["county_name"].to_list()


def month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月"


def bulletin_month(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The month a bulletin reports unless told otherwise (the one place that decides it): the
    latest due month of the data clock (``marts.data_clock``, flags.md "The data clock"); when
    that month has no bulletin (no plan in its year), the latest month that has one."""
    if not table_exists(con, "marts.bulletin_prefecture"):
        return None
    return con.execute("""
        select coalesce(
            (select c.latest_due_month from marts.data_clock as c
             where c.latest_due_month in (select report_month from marts.bulletin_prefecture)),
            (select max(report_month) from marts.bulletin_prefecture))""").fetchone()[0]


def collect(con: duckdb.DuckDBPyConnection, month: dt.date, now: dt.datetime | None = None,
            prefecture: str | None = None) -> Bulletin | None:
    """The bulletin of ``month`` (its plan year is the month's year) for one prefecture (a province
    warehouse holds several): ``prefecture``, else the deployment's own (counties.csv) when the month
    has it, else the lowest code; None when the marts hold no such month."""
    month = month.replace(day=1)
    params = {"year": month.year, "month": month, "pref": prefecture, "home": home_prefecture()}
    pref = con.execute("""select * from marts.bulletin_prefecture
                          where plan_year = $year and report_month = $month and coalesce($pref, prefecture_code) = prefecture_code
                          order by prefecture_code <> $home, prefecture_code limit 1""", params)
    cols = [d[0] for d in pref.description]
    row = pref.fetchone()
    if row is None:
        return None
    params = {"year": month.year, "month": month, "pref": row[cols.index("prefecture_code")]}
    counties = con.execute(
        """select * from marts.bulletin_counties where plan_year = $year and report_month = $month
             and prefecture_code = $pref
           order by progress_rank, sort_order""", params).pl()
    settings = dict(con.execute("select key, value from marts.settings").fetchall())
    return Bulletin(month=month, prefecture=dict(zip(cols, row)), counties=counties, tiers=from_settings(settings),
                    deadline=f"{int(settings['completion.deadline_month'])}月{int(settings['completion.deadline_day'])}日",
                    generated_at=(now or dt.datetime.now()).replace(microsecond=0), clock=clock_text(con))


# --- wording ------------------------------------------------------------------------------


def _n(x: float | None, unit: str = "", digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}{unit}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}%"


def _versus_pace(points_behind: float | None) -> str:
    if points_behind is None:
        return "—"
    if points_behind > 0:
        return f"落后计划进度 {points_behind:.1f} 个百分点"
    if points_behind < 0:
        return f"超前计划进度 {-points_behind:.1f} 个百分点"
    return "与计划进度持平"


def summary_text(b: Bulletin) -> str:
    """The opening paragraph: the plan, this month's changes, the state at the month's end."""
    p, m = b.prefecture, b.month.month
    return (
        f"{m}月,全州{b.month.year}年度计划改造小区{_n(p['count_plan_communities'])}个、{_n(p['plan_households'])}户。"
        f"本月新开工小区{_n(p['count_new_started_communities'])}个、{_n(p['new_started_households'])}户,"
        f"新完工小区{_n(p['count_new_completed_communities'])}个、{_n(p['new_completed_households'])}户,"
        f"完成投资{_n(p['invest_added_wan_yuan'], '万元', 1)},拨付资金{_n(p['paid_added_wan_yuan'], '万元', 1)}。"
        f"截至{m}月底,累计开工{_n(p['count_started_communities'])}个(开工率{_pct(p['pct_started_communities'])}),"
        f"完工{_n(p['count_completed_communities'])}个、{_n(p['completed_households'])}户"
        f"(户数完工率{_pct(p['pct_completed_households'])}),累计完成投资{_n(p['invest_done_wan_yuan'], '万元', 1)}"
        f"(投资完成率{_pct(p['pct_invest_done'])}),累计拨付资金{_n(p['paid_wan_yuan'], '万元', 1)}。"
        f"全州综合进度{_pct(p['pct_progress_index'])},按计划应达{_pct(p['pct_pace_index'])},"
        f"{_versus_pace(p['points_behind_pace'])}。"
    )


def tiers_text(b: Bulletin) -> str:
    """Which units stand in which tier."""
    parts = []
    for tier in TIERS:
        names = b.names(tier)
        colour = {"red": "红色", "yellow": "黄色", "green": "绿色"}[tier]
        listed = f":{'、'.join(names)}" if names and tier != "green" else ""
        parts.append(f"{colour}({TIER_LABELS[tier]},{b.tiers.rule(tier)}){len(names)}个{listed}")
    return "各县市按落后计划进度的程度分为三档:" + ";".join(parts) + "。"


def notes_text(b: Bulletin) -> list[str]:
    return [
        "综合进度 = (开工率 + 户数完工率 + 投资完成率)÷ 3,各项至多 100%;排名按综合进度,"
        "“较上月”为名次变化(↑ 上升、↓ 下降、— 不变或无上月数据)。",
        "计划应达进度:按各项目计划开工、完工日期推算到本月底应达到的综合进度(应开工率、应完工户数比例、"
        "按工期均摊的应完成投资比例的平均);未填计划开工日期的项目自 1 月 1 日起算,未填计划完工日期的"
        f"按当年 {b.deadline} 完工计。",
        f"分档阈值见 pipelines/config/program.toml [progress]:{b.tiers.rule('red')}为红色,"
        f"{b.tiers.rule('yellow')}为黄色,其余为绿色。本月新增 = 本月底累计数 − 上月底累计数(1 月为当月累计数)。",
    ]


# --- the Word document --------------------------------------------------------------------


def _fill(cell, hex_fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _kpi_rows(p: dict[str, Any]) -> list[list[str]]:
    return [
        ["开工小区(个)", _n(p["count_new_started_communities"]), _n(p["count_started_communities"]),
         _n(p["count_plan_communities"]), _pct(p["pct_started_communities"])],
        ["开工户数(户)", _n(p["new_started_households"]), _n(p["started_households"]), _n(p["plan_households"]),
         _pct(p["pct_started_households"])],
        ["完工小区(个)", _n(p["count_new_completed_communities"]), _n(p["count_completed_communities"]),
         _n(p["count_plan_communities"]), _pct(p["pct_completed_communities"])],
        ["完工户数(户)", _n(p["new_completed_households"]), _n(p["completed_households"]), _n(p["plan_households"]),
         _pct(p["pct_completed_households"])],
        ["完成投资(万元)", _n(p["invest_added_wan_yuan"], "", 1), _n(p["invest_done_wan_yuan"], "", 1),
         _n(p["plan_invest_wan_yuan"], "", 1), _pct(p["pct_invest_done"])],
        ["拨付资金(万元)", _n(p["paid_added_wan_yuan"], "", 1), _n(p["paid_wan_yuan"], "", 1),
         _n(p["plan_subsidy_wan_yuan"], "", 1) + "*", _pct(p["pct_paid_of_subsidy"])],
    ]


def ranking_rows(b: Bulletin) -> list[list[str]]:
    """The ranking table as printed: one row per unit in rank order."""
    rows = []
    for r in b.counties.iter_rows(named=True):
        behind = r["points_behind_pace"]
        rows.append([
            str(r["progress_rank"]), rank_change_text(r["rank_change"]), r["county_name"],
            _pct(r["pct_progress_index"]), _pct(r["pct_pace_index"]),
            "—" if behind is None else f"{0.0 - behind:+.1f}",  # progress − pace (0.0 − x: never −0.0)
            TIER_LABELS.get(r["tier"], "—"),
            _n(r["count_new_started_communities"]), _n(r["new_completed_households"]),
            _n(r["invest_added_wan_yuan"], "", 1),
        ])
    return rows


def write_docx(b: Bulletin, out: Path) -> None:
    """Write the bulletin as a one-page Word document (A4 portrait)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(1.8)
    section.top_margin, section.bottom_margin = Cm(1.6), Cm(1.4)
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        _set_cjk(doc.styles[name])
    doc.styles["Normal"].font.size = Pt(10)
    doc.styles["Normal"].paragraph_format.space_after = Pt(3)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_cjk(title.add_run(f"{b.issuer}城镇老旧小区改造工作月度通报"), 18, True)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_cjk(sub.add_run(f"({b.label} · {b.month.year}年度计划 · 州老旧小区改造工作领导小组办公室)"), 10.5)

    _heading(doc, "一、本月进展")
    _para(doc, summary_text(b), 10)
    kpi = _table(doc, ["指标", "本月新增", f"截至{b.month.month}月底累计", "年度计划", "完成率"], _kpi_rows(b.prefecture),
                 [4.0, 3.0, 3.6, 3.4, 3.0], size=9)
    kpi.alignment = 1  # centred on the page
    _para(doc, "* 拨付资金对照中央和自治区补助资金。", 8)

    _heading(doc, "二、各县市进度排名")
    header = ["排名", "较上月", "县市", "综合进度", "计划应达", "较计划(百分点)", "状态", "本月新开工(个)",
              "本月新完工(户)", "本月完成投资(万元)"]
    table = _table(doc, header, ranking_rows(b), [1.1, 1.3, 3.6, 1.6, 1.6, 1.8, 1.6, 1.6, 1.6, 2.0], size=8.5)
    for row, tier in zip(table.rows[1:], b.counties["tier"].to_list()):
        if tier in TIER_FILLS:
            _fill(row.cells[6], TIER_FILLS[tier])
    _para(doc, tiers_text(b), 9.5).paragraph_format.space_before = Pt(4)

    _heading(doc, "三、说明")
    for line in notes_text(b):
        _para(doc, line, 8)

    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_cjk(foot.add_run(f"{b.clock or f'数据截至 {b.label} 月报'} · 生成于 {b.generated_at:%Y-%m-%d %H:%M}"), 8)
    doc.save(str(out))


def bulletin_bytes(b: Bulletin, suffix: str) -> bytes:
    """The bulletin as ``.docx`` or ``.pdf`` bytes."""
    with tempfile.TemporaryDirectory(prefix="bulletin-") as tmp:
        docx = Path(tmp) / f"巴州老旧小区改造月度通报{b.month:%Y-%m}.docx"
        write_docx(b, docx)
        if suffix == ".docx":
            return docx.read_bytes()
        pdf = docx.with_suffix(".pdf")
        docx_to_pdf(docx, pdf)
        return pdf.read_bytes()


def _parse_month(text: str) -> dt.date | None:
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def run_bulletin(db_path: Path, month: str | None, out: Path) -> int:
    """CLI ``renovation bulletin``: the bulletin of ``month`` (YYYY-MM; default the data's latest month)
    as .docx or .pdf by the suffix of ``out``; 1 when the month has no data, 2 on a usage error."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".docx", ".pdf"):
        print(f"用法错误:通报文件须以 .docx 或 .pdf 结尾,收到 {out.name}", file=sys.stderr)
        return 2
    wanted = None
    if month is not None:
        wanted = _parse_month(month)
        if wanted is None:
            print(f"用法错误:--month 须为 YYYY-MM(例如 2025-10),收到 {month}", file=sys.stderr)
            return 2
    db_path = locate(db_path)
    if not db_path.exists():
        print(f"数据仓库不存在:{db_path.display()}", file=sys.stderr)
        return 1
    con = connect(db_path, read_only=True)
    try:
        wanted = wanted or bulletin_month(con)
        b = collect(con, wanted) if wanted is not None and table_exists(con, "marts.bulletin_prefecture") else None
    finally:
        con.close()
    if b is None:
        what = month_label(wanted) if wanted else "任何月份"
        print(f"{what}没有可通报的数据(该月所在年度无计划,或尚无该月之前的月报),未生成月度通报。", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bulletin_bytes(b, suffix))
    print(f"已生成 {b.label} 月度通报:{out}", file=sys.stderr)
    return 0
