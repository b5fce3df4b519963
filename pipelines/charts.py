"""Pure chart functions for the dashboard: frames in, Plotly figures out (no I/O, no Streamlit).

Colour means status wherever units are ranked: bars take the colour of their lagging tier
(``TIER_COLORS``, red / yellow / green by the thresholds of ``pipelines.tiers``) or of their grade
(``GRADE_COLORS``), with a legend in Chinese. Each unit keeps one colour (``unit_color``) only
where lines follow units over time. Labels are Chinese; money is in 万元, households in 户, rates
in %. Maps are drawn without tiles (a plain scatter on longitude and latitude axes), so the app
works offline. Each figure is built once per content (pipelines.memo): callers must not change one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from pipelines.counties import load_counties
from pipelines.memo import by_content
from pipelines.tiers import TIER_LABELS, TIERS, rank_change_text

__all__ = [
    "unit_color", "PREFECTURE_COLOR", "CHART_CONFIG", "fmt_wan", "fmt_households", "fmt_pct", "fmt_count", "fmt_month",
    "TIER_COLORS", "GRADE_COLORS", "progress_month_figure", "money_month_figure", "ranking_figure",
    "bulletin_ranking_figure", "seat_map_figure", "trajectory_figure",
    "reference_figure", "signals_by_rule_figure", "coverage_figure", "score_ranking_figure",
    "points_lost_figure", "score_trend_figure", "reporting_figure",
]

# Tableau 10: distinguishable, print-safe; one per unit in counties.csv order
_PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2",
            "#EDC948", "#FF9DA7", "#9C755F", "#E15759", "#BAB0AC")
PREFECTURE_COLOR = "#2F3E46"
LAG_COLOR = "#C62828"
# the lagging tiers (pipelines.tiers); grey for a unit without a tier (no monthly report yet)
TIER_COLORS = {"red": "#D32F2F", "yellow": "#F2B01E", "green": "#43A047", None: "#BDBDBD"}
NO_TIER_LABEL = "未评定(尚无月报)"
SEVERITY_COLORS = {"high": "#C62828", "medium": "#EF8F00", "low": "#8D99AE"}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
# how every chart of the dashboard is shown: no Plotly logo and no mode bar (its buttons' tooltips are
# English, "Download plot as a png", "Zoom in", …, and Streamlit's plotly.js carries no Chinese locale);
# dragging still zooms and a double click resets. The printable bulletin and report are the downloads.
CHART_CONFIG = {"displaylogo": False, "displayModeBar": False}


def unit_color(name_or_code: str | None) -> str:
    """The fixed colour of a unit (by canonical name or code); the prefecture's for anything else."""
    for i, c in enumerate(load_counties()):
        if name_or_code in (c.name, c.code):
            return _PALETTE[i % len(_PALETTE)]
    return PREFECTURE_COLOR


def fmt_wan(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:,.{digits}f} 万元"


def fmt_households(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f} 户"


def fmt_count(x: float | None, unit: str = "个") -> str:
    return "—" if x is None else f"{x:,.0f} {unit}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}%"


def fmt_month(d: dt.date | None) -> str:
    return "—" if d is None else f"{d.year}年{d.month}月"


# A small template given at construction: plotly's named templates are deep-copied into every
# figure, which made six charts cost half a second of the page's render.
_GRID = "#E6ECF4"
_TEMPLATE = go.layout.Template(layout=dict(
    paper_bgcolor="white", plot_bgcolor="white", colorway=list(_PALETTE),
    xaxis=dict(gridcolor=_GRID, linecolor=_GRID, zerolinecolor=_GRID, automargin=True),
    yaxis=dict(gridcolor=_GRID, linecolor=_GRID, zerolinecolor=_GRID, automargin=True),
))


def _fig(*data) -> go.Figure:
    return go.Figure(data=list(data) or None, layout=dict(template=_TEMPLATE))


def _hline(fig: go.Figure, y: float, text: str | None, color: str, dash: str = "dot", width: float = 1.5) -> None:
    """A horizontal reference line across the plot (add_hline is slow: it inspects every axis)."""
    fig.add_shape(type="line", xref="paper", x0=0, x1=1, yref="y", y0=y, y1=y, line=dict(color=color, dash=dash, width=width))
    if text:
        fig.add_annotation(xref="paper", x=0, yref="y", y=y, text=text, showarrow=False, xanchor="left",
                           yanchor="bottom", font=dict(size=11, color=color))


def _vline(fig: go.Figure, x: float, text: str | None, color: str, dash: str = "dot", yanchor: str = "bottom") -> None:
    fig.add_shape(type="line", yref="paper", y0=0, y1=1, xref="x", x0=x, x1=x, line=dict(color=color, dash=dash, width=1.5))
    if text:
        fig.add_annotation(yref="paper", y=0 if yanchor == "bottom" else 1, xref="x", x=x, text=text, showarrow=False,
                           xanchor="left", yanchor=yanchor, font=dict(size=11, color=color))


def _layout(fig: go.Figure, title: str, height: int = 340, **kw) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)),
        font=dict(family=FONT, size=12),
        height=height,
        margin=dict(l=10, r=10, t=50, b=10),
        hoverlabel=dict(font_family=FONT),
        separators=".,",
        **{"legend": dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1), **kw},
    )
    return fig


# a legend under the plot, for charts whose legend explains the colours (tiers, grades)
_LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0)


def _empty(title: str, text: str = "暂无数据") -> go.Figure:
    fig = _fig()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=14))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=220)


def _month_labels(months: list[dt.date]) -> list[str]:
    return [f"{m.month}月" for m in months]


# --- progress ----------------------------------------------------------------------------------

@by_content
def progress_month_figure(df: pl.DataFrame, title: str = "逐月进度与计划对比(小区,累计)") -> go.Figure:
    """Cumulative started/completed communities by month, against the scheduled starts and the plan."""
    if df.is_empty():
        return _empty(title, "本年度尚无月报数据")
    x = _month_labels(df["report_month"].to_list())
    fig = _fig()
    fig.add_bar(x=x, y=df["count_started_communities"].to_list(), name="已开工", marker_color="#4E79A7",
                hovertemplate="%{x} 已开工 %{y} 个<extra></extra>")
    fig.add_bar(x=x, y=df["count_completed_communities"].to_list(), name="已完工", marker_color="#59A14F",
                hovertemplate="%{x} 已完工 %{y} 个<extra></extra>")
    fig.add_scatter(x=x, y=df["count_due_start_communities"].to_list(), name="按计划应开工", mode="lines+markers",
                    line=dict(color="#F28E2B", dash="dash"), hovertemplate="%{x} 按计划应开工 %{y} 个<extra></extra>")
    plan = int(df["count_plan_communities"].max())
    _hline(fig, plan, f"年度计划 {plan} 个", PREFECTURE_COLOR)
    fig.update_yaxes(title_text="小区(个)", rangemode="tozero")
    return _layout(fig, title, barmode="group")


@by_content
def money_month_figure(df: pl.DataFrame, title: str = "逐月投资与资金拨付(万元,累计)") -> go.Figure:
    """Cumulative investment completed and funds paid by month, against planned investment and subsidies."""
    if df.is_empty():
        return _empty(title, "本年度尚无月报数据")
    x = _month_labels(df["report_month"].to_list())
    fig = _fig()
    fig.add_scatter(x=x, y=df["invest_done_wan_yuan"].to_list(), name="累计完成投资", mode="lines+markers",
                    line=dict(color="#4E79A7", width=3), hovertemplate="%{x} 完成投资 %{y:,.1f} 万元<extra></extra>")
    fig.add_scatter(x=x, y=df["paid_wan_yuan"].to_list(), name="累计拨付资金", mode="lines+markers",
                    line=dict(color="#B07AA1", width=3), hovertemplate="%{x} 拨付 %{y:,.1f} 万元<extra></extra>")
    plan = float(df["plan_invest_wan_yuan"].max())
    _hline(fig, plan, f"计划总投资 {plan:,.0f} 万元", PREFECTURE_COLOR)
    fig.update_yaxes(title_text="万元", rangemode="tozero", tickformat=",.0f")
    return _layout(fig, title)


def _tier_bars(fig: go.Figure, labels: list[str], values: list[float | None], tiers: list[str | None],
               legend: dict[str, str] | None, hover: list[str]) -> None:
    """Horizontal bars coloured by tier, one trace per tier so that the legend names each colour."""
    legend = legend or TIER_LABELS
    for tier in (*TIERS, None):
        idx = [i for i, t in enumerate(tiers) if (t if t in TIERS else None) == tier]
        if not idx:
            continue
        fig.add_bar(
            y=[labels[i] for i in idx], x=[values[i] for i in idx], orientation="h",
            name=legend.get(tier, NO_TIER_LABEL) if tier else NO_TIER_LABEL, marker_color=TIER_COLORS[tier],
            text=[fmt_pct(values[i]) for i in idx], textposition="outside", customdata=[hover[i] for i in idx],
            hovertemplate="%{y} 综合进度 %{x:.1f}%%{customdata}<extra></extra>",
        )


def _versus_pace(row: dict) -> str:
    behind = row.get("points_behind_pace")
    if behind is None:
        return ""
    pace = row.get("pct_pace_index")
    state = f"落后 {behind:.1f} 个百分点" if behind > 0 else (f"超前 {-behind:.1f} 个百分点" if behind < 0 else "持平")
    return f"<br>计划应达 {fmt_pct(pace)},{state}"


@by_content
def ranking_figure(df: pl.DataFrame, title: str = "各县市综合进度排名", legend: dict[str, str] | None = None) -> go.Figure:
    """Units by progress index, bars coloured by lagging tier (``tier``; legend texts from ``legend``,
    e.g. ``TierSettings.legend()``), with start, completion and investment rates as markers and the
    prefecture's index as a line."""
    if df.is_empty():
        return _empty(title, "本年度无计划数据")
    d = df.sort("progress_rank", descending=True)  # best at the top of a horizontal bar chart
    names = d["county_name"].to_list()
    rows = d.to_dicts()
    fig = _fig()
    _tier_bars(fig, names, d["pct_progress_index"].to_list(),
               d["tier"].to_list() if "tier" in d.columns else [None] * len(names), legend,
               [_versus_pace(r) for r in rows])
    for col, name, symbol in (("pct_started_communities", "开工率", "circle"),
                              ("pct_completed_households", "完工率(户)", "square"),
                              ("pct_invest_done", "投资完成率", "diamond")):
        fig.add_scatter(
            y=names, x=[min(v, 100.0) for v in d[col].fill_null(0).to_list()], mode="markers", name=name,
            customdata=d[col].fill_null(0).to_list(),
            marker=dict(symbol=symbol, size=9, color=PREFECTURE_COLOR, line=dict(color="white", width=1)),
            hovertemplate=f"%{{y}} {name} %{{customdata:.1f}}%<extra></extra>",
        )
    pref = d["pct_progress_index_prefecture"][0]
    if pref is not None:
        _vline(fig, pref, f"全州 {pref:.1f}%", PREFECTURE_COLOR)
    fig.update_yaxes(categoryorder="array", categoryarray=names)
    fig.update_xaxes(title_text="%", range=[0, 118], ticksuffix="%")
    return _layout(fig, title, height=max(300, 48 * len(names) + 130), barmode="overlay",
                   legend=_LEGEND_BELOW)


@by_content
def bulletin_ranking_figure(df: pl.DataFrame, title: str, legend: dict[str, str] | None = None) -> go.Figure:
    """The bulletin's ranking: progress index per unit coloured by tier, the plan's pace as a marker,
    the change of rank since the previous month in the label."""
    if df.is_empty():
        return _empty(title, "本月无通报数据")
    d = df.sort("progress_rank", descending=True)
    rows = d.to_dicts()
    labels = [f"{r['county_name']} {rank_change_text(r.get('rank_change'))}".removesuffix(" —") for r in rows]
    fig = _fig()
    _tier_bars(fig, labels, d["pct_progress_index"].to_list(), d["tier"].to_list(), legend,
               [_versus_pace(r) for r in rows])
    fig.add_scatter(y=labels, x=d["pct_pace_index"].to_list(), mode="markers", name="计划应达进度",
                    marker=dict(symbol="line-ns-open", size=22, color=PREFECTURE_COLOR, line=dict(width=3)),
                    hovertemplate="%{y} 计划应达 %{x:.1f}%<extra></extra>")
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    fig.update_xaxes(title_text="综合进度 %", range=[0, 118], ticksuffix="%")
    return _layout(fig, title, height=max(300, 40 * len(labels) + 130), barmode="overlay",
                   legend=_LEGEND_BELOW)


# label placement around the crowded Korla basin, so that names do not overlap
_LABEL_POS = {"652801": "bottom left", "652871": "middle right", "652826": "top right", "652827": "top left",
              "652828": "middle right", "652829": "bottom right", "652823": "bottom center", "652822": "top center",
              "652824": "bottom center", "652825": "bottom center"}


def _short(code: str, name: str) -> str:
    c = next((c for c in load_counties() if c.code == code), None)
    if c is None or not c.aliases:
        return name
    return min(c.aliases, key=len)


@by_content
def seat_map_figure(units: pl.DataFrame, ranking: pl.DataFrame, title: str = "各县市进度分布(县城位置)") -> go.Figure:
    """The ten units at their county seats, sized by planned households, coloured by lagging tier
    (as the ranking beside it); no tiles."""
    r = {row["county_code"]: row for row in ranking.iter_rows(named=True)}
    lat0 = 41.0
    fig = _fig()
    has, none = [], []
    for u in units.iter_rows(named=True):
        (has if u["county_code"] in r else none).append(u)
    if none:
        fig.add_scatter(
            x=[u["seat_lon"] for u in none], y=[u["seat_lat"] for u in none], mode="markers+text",
            text=[_short(u["county_code"], u["county_name"]) for u in none],
            textposition=[_LABEL_POS.get(u["county_code"], "bottom center") for u in none], name="本年度无计划",
            customdata=[u["county_name"] for u in none],
            marker=dict(size=10, color="#D0D0D0", line=dict(color="#999", width=1)),
            hovertemplate="%{customdata}:本年度无计划<extra></extra>",
        )
    if has:
        rows = [r[u["county_code"]] for u in has]
        hh = [row["plan_households"] or 0 for row in rows]
        big = max(hh) or 1
        rate = [row["pct_progress_index"] or 0 for row in rows]
        fig.add_scatter(
            x=[u["seat_lon"] for u in has], y=[u["seat_lat"] for u in has], mode="markers+text",
            text=[f"{_short(u['county_code'], u['county_name'])} {v:.0f}%" for u, v in zip(has, rate)],
            textposition=[_LABEL_POS.get(u["county_code"], "top center") for u in has],
            name="综合进度",
            customdata=[[row["plan_households"], row["count_plan_communities"], row["pct_started_communities"] or 0,
                         TIER_LABELS.get(row.get("tier"), NO_TIER_LABEL), u["county_name"]] for u, row in zip(has, rows)],
            marker=dict(size=[12 + 24 * math.sqrt(h / big) for h in hh],
                        color=[TIER_COLORS[row.get("tier") if row.get("tier") in TIERS else None] for row in rows],
                        line=dict(color="#FFFFFF", width=2)),
            hovertemplate="%{customdata[4]}<br>计划 %{customdata[1]} 个小区 / %{customdata[0]:,} 户"
                          "<br>开工率 %{customdata[2]:.1f}%<br>进度状态:%{customdata[3]}<extra></extra>",
        )
    fig.update_xaxes(title_text="经度 °E", range=[83.6, 89.0], showgrid=True, zeroline=False)
    # a degree of latitude is longer than a degree of longitude at 41°N: keep the shape true
    fig.update_yaxes(title_text="纬度 °N", range=[37.6, 42.9], scaleanchor="x",
                     scaleratio=1 / math.cos(math.radians(lat0)), showgrid=True, zeroline=False)
    return _layout(fig, title, height=420, showlegend=False)


@by_content
def trajectory_figure(traj: pl.DataFrame, proj: dict, title: str = "五年目标进度:已完工户数与按当前速度预测",
                      built_until: int | None = None, pace_months: int | None = None) -> go.Figure:
    """Completed households since the goal's start, the goal (communities built in or before ``built_until``),
    the even path to it, and the projection to the goal's month (``proj["goal_month"]``)."""
    if traj.is_empty():
        return _empty(title, "尚无月报数据")
    x = traj["report_month"].to_list()
    fig = _fig()
    fig.add_scatter(x=x, y=traj["path_households"].to_list(), name="均衡进度路径", mode="lines",
                    line=dict(color="#BAB0AC", dash="dot"), hovertemplate="%{x|%Y年%m月} 均衡路径 %{y:,.0f} 户<extra></extra>")
    fig.add_scatter(x=x, y=traj["completed_households"].to_list(), name="累计完工户数", mode="lines",
                    line=dict(color="#4E79A7", width=3), fill="tozeroy", fillcolor="rgba(78,121,167,0.12)",
                    hovertemplate="%{x|%Y年%m月} 已完工 %{y:,.0f} 户<extra></extra>")
    target = int(traj["target_households"].max() or 0)
    if target:
        built = f"{built_until} 年前建成小区" if built_until else "老旧小区"
        _hline(fig, target, f"目标:{built} {target:,} 户", LAG_COLOR, dash="dash")
    if proj and proj.get("months_to_goal"):
        fig.add_scatter(x=[proj["as_of_month"], proj["goal_month"]],
                        y=[proj["completed_households"], proj["projected_households_goal"]],
                        name=f"按近{pace_months or ''}个月速度预测", mode="lines+markers", line=dict(color="#F28E2B", dash="dash", width=3),
                        hovertemplate="%{x|%Y年%m月} 预测 %{y:,.0f} 户<extra></extra>")
    fig.update_yaxes(title_text="户", rangemode="tozero", tickformat=",.0f")
    fig.update_xaxes(tickformat="%Y年", dtick="M12")
    return _layout(fig, title, height=360)


@by_content
def reference_figure(df: pl.DataFrame, ours_label: str = "巴州", title: str = "开工率对比:本地 vs 全国、新疆(占年度计划小区 %)") -> go.Figure:
    """Start rates by month of the year: ours as a line, the published national and Xinjiang figures as markers."""
    if df.is_empty():
        return _empty(title, "本年度无可对比的公开数据")
    x = [f"{m}月" for m in df["month"].to_list()]
    fig = _fig()
    fig.add_scatter(x=x, y=df["prefecture"].to_list(), name=ours_label, mode="lines+markers",
                    line=dict(color=PREFECTURE_COLOR, width=3), connectgaps=True,
                    hovertemplate=f"%{{x}} {ours_label} %{{y:.1f}}%<extra></extra>")
    fig.add_scatter(x=x, y=df["national"].to_list(), name="全国(住建部公布)", mode="markers+lines",
                    marker=dict(size=11, symbol="square", color="#E15759"), line=dict(dash="dot", color="#E15759"),
                    connectgaps=True, hovertemplate="%{x} 全国 %{y:.1f}%<extra></extra>")
    fig.add_scatter(x=x, y=df["xinjiang"].to_list(), name="新疆(公开报道)", mode="markers",
                    marker=dict(size=13, symbol="diamond", color="#59A14F"),
                    hovertemplate="%{x} 新疆 %{y:.1f}%<extra></extra>")
    fig.update_yaxes(title_text="开工率 %", rangemode="tozero", ticksuffix="%")
    return _layout(fig, title)


# --- signals -----------------------------------------------------------------------------------

@by_content
def signals_by_rule_figure(df: pl.DataFrame, title: str = "各规则线索数(按严重程度)") -> go.Figure:
    """Signal counts per rule, stacked by severity."""
    if df.is_empty():
        return _empty(title, "当前筛选条件下没有风险线索")
    fig = _fig()
    counts = df.group_by("rule_label", "severity").len().sort("len", descending=True)
    order = counts.group_by("rule_label").agg(pl.col("len").sum()).sort("len")["rule_label"].to_list()
    for sev in ("high", "medium", "low"):
        part = counts.filter(pl.col("severity") == sev)
        if part.is_empty():
            continue
        fig.add_bar(y=part["rule_label"].to_list(), x=part["len"].to_list(), orientation="h",
                    name=f"{SEVERITY_LABELS[sev]}风险", marker_color=SEVERITY_COLORS[sev],
                    hovertemplate="%{y}:%{x} 条<extra></extra>")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig.update_xaxes(title_text="线索(条)")
    return _layout(fig, title, height=max(260, 26 * len(order) + 100), barmode="stack")


@by_content
def coverage_figure(df: pl.DataFrame, title: str = "各规则可评估率与命中率") -> go.Figure:
    """Per rule: share of units it could assess and share of assessed units it flagged."""
    if df.is_empty():
        return _empty(title)
    fig = _fig()
    fig.add_bar(y=df["rule_label"].to_list(), x=df["pct_assessable"].to_list(), orientation="h", name="可评估率",
                marker_color="#76B7B2", hovertemplate="%{y} 可评估 %{x:.1f}%<extra></extra>")
    fig.add_bar(y=df["rule_label"].to_list(), x=df["pct_flagged"].to_list(), orientation="h", name="命中率",
                marker_color="#E15759", hovertemplate="%{y} 命中 %{x:.1f}%<extra></extra>")
    fig.update_xaxes(title_text="%", range=[0, 105], ticksuffix="%")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=max(260, 30 * len(df) + 100), barmode="group")


# --- scores ------------------------------------------------------------------------------------

GRADE_COLORS = {"优秀": "#2E7D32", "良好": "#1565C0", "合格": "#EF8F00", "差": "#C62828"}


@by_content
def score_ranking_figure(totals: pl.DataFrame, title: str, grades: Sequence[tuple[float, str]] = ()) -> go.Figure:
    """Total score per unit (best first), bars coloured by grade with a legend naming each grade's
    range, and the grade cut-offs ``grades`` ((lowest total, grade) pairs, from marts.settings)."""
    if totals.is_empty():
        return _empty(title, "该年度没有得分")
    d = totals.sort("points", descending=False, nulls_last=False)
    names = d["county"].to_list()
    points, grade_of = d["points"].to_list(), d["grade"].to_list()
    fig = _fig()
    cuts = sorted(grades)
    bands = {}  # grade → its range in Chinese, from the cut-offs in force
    for i, (cut, label) in enumerate(cuts):
        upper = cuts[i + 1][0] if i + 1 < len(cuts) else None
        bands[label] = (f"{label}(< {upper:g} 分)" if cut <= 0 and upper is not None else
                        f"{label}(≥ {cut:g} 分)" if upper is None else f"{label}({cut:g}–{upper:g} 分)")
    for grade in dict.fromkeys([*GRADE_COLORS, *grade_of]):
        idx = [i for i, g in enumerate(grade_of) if g == grade]
        if not idx:
            continue
        fig.add_bar(y=[names[i] for i in idx], x=[points[i] for i in idx], orientation="h",
                    marker_color=GRADE_COLORS.get(grade, "#888"), name=bands.get(grade, grade),
                    text=[f"{points[i]:.1f} 分 · {grade}" for i in idx], textposition="outside",
                    hovertemplate="%{y}:%{x:.2f} 分<extra></extra>")
    for cut, label in cuts:
        if cut > 0:
            _vline(fig, cut, None, GRADE_COLORS.get(label, "#888"))
    fig.update_yaxes(categoryorder="array", categoryarray=names)
    fig.update_xaxes(range=[0, 112], title_text="得分")
    return _layout(fig, title, height=max(300, 40 * len(names) + 130), barmode="overlay",
                   legend=_LEGEND_BELOW)


@by_content
def points_lost_figure(breakdown: pl.DataFrame, title: str = "各指标失分(满分 − 得分)") -> go.Figure:
    """Points lost per indicator and unit, stacked: where each unit lost its points."""
    if breakdown.is_empty():
        return _empty(title)
    fig = _fig()
    palette = ("#E15759", "#F28E2B", "#EDC948", "#B07AA1", "#76B7B2", "#9C755F", "#FF9DA7", "#4E79A7", "#59A14F")
    for i, (name,) in enumerate(breakdown.select("indicator_label").unique(maintain_order=True).iter_rows()):
        part = breakdown.filter(pl.col("indicator_label") == name)
        fig.add_bar(y=part["county"].to_list(), x=part["points_lost"].to_list(), orientation="h", name=name,
                    marker_color=palette[i % len(palette)], hovertemplate=f"%{{y}} {name} 失 %{{x:.2f}} 分<extra></extra>")
    fig.update_xaxes(title_text="失分")
    fig.update_yaxes(autorange="reversed")
    n = breakdown["county"].n_unique()
    return _layout(fig, title, height=max(280, 40 * n + 120), barmode="stack")


@by_content
def score_trend_figure(totals: pl.DataFrame, title: str = "历年总分趋势",
                       grades: Sequence[tuple[float, str]] = ()) -> go.Figure:
    """Total score per unit over the years, one colour per unit, with the grade cut-offs ``grades``."""
    if totals.is_empty():
        return _empty(title)
    fig = _fig()
    for (name,) in totals.select("county").unique(maintain_order=True).iter_rows():
        part = totals.filter(pl.col("county") == name).sort("year")
        fig.add_scatter(x=part["year"].to_list(), y=part["points"].to_list(), name=name, mode="lines+markers",
                        line=dict(color=unit_color(name)), hovertemplate=f"{name} %{{x}} 年 %{{y:.1f}} 分<extra></extra>")
    for cut, label in grades:
        _hline(fig, cut, None, GRADE_COLORS.get(label, "#888"), width=1)
    low = totals["points"].min()
    fig.update_xaxes(dtick=1, title_text="年度")
    # the differences between units are a few points: start the axis near the lowest score
    fig.update_yaxes(title_text="得分", range=[max(0.0, min(70.0, float(low or 0) - 5)), 101])
    return _layout(fig, title)


# --- submissions -------------------------------------------------------------------------------

@by_content
def reporting_figure(df: pl.DataFrame, title: str = "月报报送情况(按时 / 迟报 / 缺报)") -> go.Figure:
    """Units × months: on time, late or missing, as a grid of coloured cells."""
    if df.is_empty():
        return _empty(title, "本年度无需报送的月报")
    units = df.select("county_name", "sort_order").unique().sort("sort_order")["county_name"].to_list()
    months = sorted(df["report_month"].unique().to_list())
    code = {(r["county_name"], r["report_month"]): (0 if not r["has_report"] else 1 if r["is_late"] else 2)
            for r in df.iter_rows(named=True)}
    z = [[code.get((u, m)) for m in months] for u in units]
    text = [[{0: "缺报", 1: "迟报", 2: "按时", None: ""}[v] for v in row] for row in z]
    fig = _fig(go.Heatmap(
        z=z, x=months, y=units, text=text, texttemplate="%{text}", zmin=0, zmax=2, showscale=False, xgap=2, ygap=2,
        colorscale=[[0, "#E15759"], [0.33, "#E15759"], [0.34, "#EDC948"], [0.66, "#EDC948"], [0.67, "#A5D6A7"], [1, "#A5D6A7"]],
        hovertemplate="%{y} %{x}:%{text}<extra></extra>",
    ))
    # margins set from the longest unit name rather than measured by plotly (automargin draws the
    # chart twice: it was most of this page's drawing time)
    fig.update_yaxes(autorange="reversed", automargin=False)
    fig.update_xaxes(type="category", automargin=False)
    left = 16 + 13 * max(len(u) for u in units)
    return _layout(fig, title, height=max(200, 34 * len(units) + 90)).update_layout(
        margin=dict(l=left, r=10, t=50, b=30))
