"""Colour means status wherever units are ranked (issue 12): the figure objects of pipelines.charts."""

from __future__ import annotations

import polars as pl

from pipelines import charts
from pipelines.counties import load_counties
from pipelines.tiers import TierSettings

LEGEND = TierSettings(10, 5).legend()


def ranking_frame() -> pl.DataFrame:
    """The case of the issue: 博湖县 at 99.6% on pace, 尉犁县 far behind, one unit in between, one without reports."""
    return pl.DataFrame({
        "county_code": ["652829", "652826", "652823", "652825"],
        "county_name": ["博湖县", "和硕县", "尉犁县", "且末县"],
        "progress_rank": [1, 2, 3, 4],
        "pct_progress_index": [99.6, 90.0, 80.0, 0.0],
        "pct_started_communities": [100.0, 100.0, 100.0, 0.0],
        "pct_completed_households": [99.0, 80.0, 46.8, 0.0],
        "pct_invest_done": [99.8, 90.0, 93.3, 0.0],
        "pct_progress_index_prefecture": [92.0] * 4,
        "is_lagging": [False, False, True, True],
        "plan_households": [300, 200, 100, 50],
        "count_plan_communities": [4, 3, 4, 1],
        "pct_pace_index": [67.6, 96.0, 93.6, None],
        "points_behind_pace": [-32.0, 6.0, 13.6, None],
        "tier": ["green", "yellow", "red", None],
    })


def bar_colours(fig) -> dict[str, tuple[str, str]]:
    """County → (bar colour, legend name) over the bar traces."""
    out = {}
    for t in fig.data:
        if t.type == "bar":
            for y in t.y:
                out[y.split(" ")[0]] = (t.marker.color, t.name)
    return out


def test_ranking_bars_take_the_colour_of_their_tier():
    fig = charts.ranking_figure(ranking_frame(), legend=LEGEND)
    got = bar_colours(fig)
    assert got["博湖县"] == (charts.TIER_COLORS["green"], LEGEND["green"])
    assert got["和硕县"] == (charts.TIER_COLORS["yellow"], LEGEND["yellow"])
    assert got["尉犁县"] == (charts.TIER_COLORS["red"], LEGEND["red"])
    assert got["且末县"] == (charts.TIER_COLORS[None], charts.NO_TIER_LABEL)
    # one legend entry per colour, in Chinese, naming the threshold
    names = [t.name for t in fig.data if t.type == "bar"]
    assert names == [LEGEND["red"], LEGEND["yellow"], LEGEND["green"], charts.NO_TIER_LABEL]
    assert LEGEND["red"] == "红色·严重滞后(落后计划进度超过 10 个百分点)"
    assert all(t.showlegend is not False for t in fig.data if t.type == "bar")
    # no unit colour (identity) on a ranking bar
    unit_colours = {charts.unit_color(c) for c in ranking_frame()["county_code"]}
    assert not unit_colours & {c for c, _ in got.values()}


def test_ranking_keeps_the_rank_order_and_the_hover_names_the_pace():
    fig = charts.ranking_figure(ranking_frame(), legend=LEGEND)
    # best at the top of a horizontal bar chart: the category array runs from the bottom
    assert list(fig.layout.yaxis.categoryarray) == ["且末县", "尉犁县", "和硕县", "博湖县"]
    red = next(t for t in fig.data if t.type == "bar" and t.name == LEGEND["red"])
    assert "计划应达 93.6%,落后 13.6 个百分点" in red.customdata[0]


def test_a_ranking_without_tiers_is_grey_not_coloured_by_unit():
    fig = charts.ranking_figure(ranking_frame().drop("tier"))
    assert {c for c, _ in bar_colours(fig).values()} == {charts.TIER_COLORS[None]}


def test_bulletin_ranking_marks_the_pace_and_the_change_of_rank():
    df = ranking_frame().with_columns(pl.Series("rank_change", [None, 2, -1, 0]))
    fig = charts.bulletin_ranking_figure(df, "排名", LEGEND)
    labels = list(fig.layout.yaxis.categoryarray)
    assert labels == ["且末县", "尉犁县 ↓1", "和硕县 ↑2", "博湖县"]
    pace = next(t for t in fig.data if t.name == "计划应达进度")
    assert dict(zip(pace.y, pace.x))["尉犁县 ↓1"] == 93.6
    assert bar_colours(fig)["尉犁县"][0] == charts.TIER_COLORS["red"]


def test_seat_map_colours_units_by_tier():
    units = pl.DataFrame({"county_code": ["652829", "652823", "652801"], "county_name": ["博湖县", "尉犁县", "库尔勒市"],
                          "seat_lat": [41.98, 41.34, 41.76], "seat_lon": [86.63, 86.26, 86.15]})
    fig = charts.seat_map_figure(units, ranking_frame())
    planned = next(t for t in fig.data if t.name == "综合进度")
    colours = dict(zip((c[4] for c in planned.customdata), planned.marker.color))
    assert colours == {"博湖县": charts.TIER_COLORS["green"], "尉犁县": charts.TIER_COLORS["red"]}
    assert not planned.marker.showscale  # no continuous red-to-green scale beside the tiers


def test_score_ranking_bars_take_the_colour_of_their_grade():
    totals = pl.DataFrame({"county": ["轮台县", "尉犁县", "博湖县"], "points": [96.0, 80.0, 60.0],
                           "grade": ["优秀", "合格", "差"]})
    # the cut-offs in force (marts.settings), here changed from the defaults: the legend follows them
    fig = charts.score_ranking_figure(totals, "总分", [(90.0, "优秀"), (85.0, "良好"), (70.0, "合格"), (0.0, "差")])
    got = bar_colours(fig)
    assert got["轮台县"] == (charts.GRADE_COLORS["优秀"], "优秀(≥ 90 分)")
    assert got["尉犁县"] == (charts.GRADE_COLORS["合格"], "合格(70–85 分)")
    assert got["博湖县"] == (charts.GRADE_COLORS["差"], "差(< 70 分)")
    assert not unit_colours_in(fig)
    assert list(fig.layout.yaxis.categoryarray) == ["博湖县", "尉犁县", "轮台县"]


def unit_colours_in(fig) -> set[str]:
    """Unit colours used by bars (identity where status is meant)."""
    units = {charts.unit_color(c.code) for c in load_counties()}
    return {t.marker.color for t in fig.data if t.type == "bar"} & units


def test_trend_lines_keep_one_colour_per_unit():
    totals = pl.DataFrame({"county": ["轮台县", "轮台县", "尉犁县", "尉犁县"], "year": [2021, 2022, 2021, 2022],
                           "points": [90.0, 92.0, 80.0, 85.0]})
    fig = charts.score_trend_figure(totals)
    lines = {t.name: t.line.color for t in fig.data if t.type == "scatter"}
    assert lines == {"轮台县": charts.unit_color("轮台县"), "尉犁县": charts.unit_color("尉犁县")}


def test_a_figure_is_built_once_per_content_and_anew_for_other_content(monkeypatch):
    """A rerun asks for the same figure again (issue 12: a scores page spent half its run building
    three figures): equal content gives the figure already built, whatever the frame object; any
    changed value, column or argument gives a figure of its own."""
    built = []
    real = charts.go.Figure

    def counting(*a, **k):
        built.append(1)
        return real(*a, **k)

    monkeypatch.setattr(charts.go, "Figure", counting)
    charts.ranking_figure.cache_clear()
    first = charts.ranking_figure(ranking_frame(), legend=LEGEND)
    again = charts.ranking_figure(ranking_frame(), legend=dict(LEGEND))  # new, equal objects
    assert again is first and len(built) == 1
    other = ranking_frame().with_columns(pl.when(pl.col("county_name") == "尉犁县").then(81.0)
                                         .otherwise(pl.col("pct_progress_index")).alias("pct_progress_index"))
    changed = charts.ranking_figure(other, legend=LEGEND)
    assert changed is not first and len(built) == 2
    bars = {y: x for t in changed.data if t.type == "bar" for y, x in zip(t.y, t.x)}
    assert bars["尉犁县"] == 81.0
    assert charts.ranking_figure(ranking_frame(), "另一个标题", legend=LEGEND).layout.title.text == "另一个标题"
    renamed = ranking_frame().rename({"plan_households": "planned_households"})
    assert charts.ranking_figure(renamed, legend=LEGEND) is not first


def test_reporting_grid_sets_its_margins_from_the_longest_unit_name():
    # its margins are set, not measured by plotly (automargin draws the chart twice, most of the
    # 数据上报 page's drawing); the left one must still hold every unit's name whole
    def grid(names):
        return pl.DataFrame({"county_name": names, "sort_order": list(range(len(names))),
                             "report_month": ["2025-01"] * len(names), "has_report": [True] * len(names),
                             "is_late": [False] * len(names)})

    short = charts.reporting_figure(grid(["轮台县"]))
    long = charts.reporting_figure(grid(["轮台县", "库尔勒经济技术开发区"]))
    for fig in (short, long):
        assert fig.layout.yaxis.automargin is False and fig.layout.xaxis.automargin is False
    font = 12  # the axis labels' size: a Chinese character is about as wide as the font is high
    assert long.layout.margin.l >= font * len("库尔勒经济技术开发区") + 10
    assert short.layout.margin.l < long.layout.margin.l
    assert long.data[0].hovertemplate.startswith("%{y} %{x}")  # the status in words on hover
