"""Annual check and biennial evaluation (spec evaluation.md) with hand-worked numbers.

The example warehouse is built in tests/test_scoring_fixtures.py; every expected number below is
worked by hand from its literal rows, with the arithmetic in the comment."""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

import duckdb
import pytest
from test_scoring_fixtures import LUNTAI, RUOQIANG, YULI, example_warehouse
from backends import open_db, persist

from pipelines.backend import Location

from pipelines import constants, scoring
from pipelines.scoring import store, whatif
from pipelines.scoring import Inputs, Line, annual_score, biennial_score, grade_of, load_scheme, total_of
from pipelines.warehouse import WAREHOUSE_DIR

pytestmark = pytest.mark.warehouse

SCHEME = load_scheme()


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return example_warehouse()


@pytest.fixture(scope="module")
def scores(con) -> dict[tuple[str, int, str], scoring.Score]:
    return {(s.county_code, s.year, s.kind): s for s in scoring.compute_scores(con, SCHEME)}


# --- the scheme ---------------------------------------------------------------------------


def test_scheme_defaults_are_the_spec():
    assert SCHEME.version
    assert [(i.code, i.points) for i in SCHEME.indicators] == [
        ("start_rate", 20), ("ontime_completion_rate", 20), ("investment_rate", 15), ("disbursement_rate", 10),
        ("satisfaction", 15), ("households_rate", 5), ("property_rate", 5), ("notice_rate", 5),
        ("reporting_rate", 5),
    ]
    assert sum(i.points for i in SCHEME.indicators) == 100
    assert SCHEME.grades == ((95, "优秀"), (85, "良好"), (75, "合格")) and SCHEME.grade_below == "差"
    assert (SCHEME.completion_deadline_month, SCHEME.completion_deadline_day) == (11, 30)  # program.toml
    assert SCHEME.notice_min_working_days == 14 and SCHEME.report_due_day == 5
    assert (SCHEME.annual_mean_weight, SCHEME.progress_points, SCHEME.base_year, SCHEME.horizon_years) == (
        0.8, 20, 2019, 6)


def test_changed_threshold_reaches_the_sql(con):
    # with a 16-working-day rule none of 轮台县's four rows passes (p1 15, p2 14, p3 10, p4 missing);
    # with the default 14, p1 and p2 do
    con.execute("update marts.settings set value = 16 where key = 'notice.min_working_days'")
    store._build_inputs(con)
    try:
        (inp,) = [i for i in scoring.read_inputs(con, 2021) if i.county_code == LUNTAI]
        assert inp.count_notice_ok == 0
    finally:
        constants.publish(con)
        store._build_inputs(con)
    (inp,) = [i for i in scoring.read_inputs(con, 2021) if i.county_code == LUNTAI]
    assert inp.count_notice_ok == 2


# --- every annual indicator, 轮台县 2021 ---------------------------------------------------
# P = p1 团结小区 (100 户, 总投资 200, 中央 50, 自治区 30, 公示 15 天),
#     p2 幸福小区 (200 户, 300, 0, 20, 14 天), p3 雪莲花园 (50 户, 100, 20, 0, 10 天),
#     p4 幸福小区 again (150 户, 100, 10, 0, no notice) — a duplicate entry with no report at all.
# R(p1) = December: 开工 2021-04-01, 完工 2021-10-15, 验收 2021-11-20, 满意度 90, 物业 是, 投资 180, 拨付 70
# R(p2) = December: 开工 2021-05-01, 完工 2021-12-10, 验收 2021-12-20, 满意度 80, 物业 否, 投资 330, 拨付 20
# R(p3) = December (the January 2022 completion is after the year): 形象进度 30, 投资 40, 拨付 10

LUNTAI_2021 = {
    # p1, p2 have a start date; p3 has progress 30 > 0; p4 has no report → 3 / 4
    "start_rate": (3 / 4, 20 * 3 / 4),
    # subsidised rows p1, p3, p4; only p1 finished by 30 Nov (p2 is not subsidised) → 1 / 3
    "ontime_completion_rate": (1 / 3, 20 / 3),
    # (180 + 330 + 40 + 0) / (200 + 300 + 100 + 100) = 550 / 700
    "investment_rate": (550 / 700, 15 * 550 / 700),
    # (70 + 20 + 10 + 0) / ((50+30) + (0+20) + (20+0) + (10+0)) = 100 / 130
    "disbursement_rate": (100 / 130, 10 * 100 / 130),
    # accepted by 31 Dec with a satisfaction: p1, p2 → (100×90 + 200×80) / (100+200) = 25000 / 300
    "satisfaction": (25000 / 300, 15 * (25000 / 300) / 100),
    # completed by 31 Dec: p1, p2 → (100 + 200) / (100 + 200 + 50 + 150) = 300 / 500
    "households_rate": (0.6, 3.0),
    # of the completed p1, p2 only p1 has 物业 是 → 1 / 2
    "property_rate": (0.5, 2.5),
    # notice ≥ 14 working days: p1 (15), p2 (14); p3 (10) and p4 (missing) fail → 2 / 4
    "notice_rate": (0.5, 2.5),
    # months 1–12: July missing, March first filed 04-06 (late); May first filed 06-05 (on time,
    # its late revision does not count), December without a fill date counts as on time → 10 / 12
    "reporting_rate": (10 / 12, 5 * 10 / 12),
}


@pytest.mark.parametrize("code", list(LUNTAI_2021))
def test_annual_indicator_hand_worked(scores, code):
    value, points = LUNTAI_2021[code]
    line = scores[(LUNTAI, 2021, "annual")].line(code)
    assert line.value == pytest.approx(value)
    assert line.points == pytest.approx(points)
    assert line.max_points == SCHEME.indicator(code).points


def test_annual_total_hand_worked(scores):
    s = scores[(LUNTAI, 2021, "annual")]
    # all applicable, Σ max = 100: 15 + 6.6667 + 11.7857 + 7.6923 + 12.5 + 3 + 2.5 + 2.5 + 4.1667 = 65.8114
    expected = sum(p for _, p in LUNTAI_2021.values())
    assert s.total == pytest.approx(expected) and round(s.total, 4) == 65.8114
    assert s.grade == "差" and s.as_of_label == ""


def test_not_applicable_rescaling(scores):
    s = scores[(YULI, 2021, "annual")]
    # 尉犁县 2021: one row, 80 户, 总投资 100, no subsidy at all, 60% done, not finished; only the
    # December report, filed 2022-01-05 (the 5th: on time)
    v = s.values()
    assert v["disbursement_rate"] is None  # 中央 + 自治区 = 0
    assert v["satisfaction"] is None  # nothing accepted
    assert v["property_rate"] is None  # nothing completed
    assert v["ontime_completion_rate"] == 0  # no subsidised row → all of P, 0 / 1
    assert v["reporting_rate"] == pytest.approx(1 / 12)
    for code in ("disbursement_rate", "satisfaction", "property_rate"):
        line = s.line(code)
        assert line.points is None and line.max_points == SCHEME.indicator(code).points
    # points 20 (start) + 0 + 15 (invest 100/100) + 0 (households) + 5 (notice) + 5/12 (reporting)
    # over the applicable maximum 20+20+15+5+5+5 = 70: 40.41667 / 70 × 100 = 57.7381
    assert s.total == pytest.approx((20 + 15 + 5 + 5 / 12) / 70 * 100)
    assert s.grade == "差"


def test_county_without_plan_rows_is_not_scored(con, scores):
    # 若羌县 has a 2020 plan but none for 2021; 库尔勒市 has nothing at all
    assert (RUOQIANG, 2021, "annual") not in scores
    assert ("652801", 2021, "annual") not in scores
    assert (RUOQIANG, 2020, "annual") in scores
    assert annual_score(Inputs(county_code="x", score_year=2021), SCHEME) is None


def test_plan_row_without_report(scores):
    # 若羌县 2020: one row (60 户, 总投资 50, 自治区 10, 公示 14 天), never reported on → no start, no
    # completion, zero investment and payment; nothing accepted or completed → satisfaction and
    # property not applicable; no monthly report in 2020 → reporting 0 / 12
    s = scores[(RUOQIANG, 2020, "annual")]
    v = s.values()
    assert v["start_rate"] == 0 and v["ontime_completion_rate"] == 0
    assert v["investment_rate"] == 0 and v["disbursement_rate"] == 0 and v["households_rate"] == 0
    assert v["satisfaction"] is None and v["property_rate"] is None
    assert v["notice_rate"] == 1 and v["reporting_rate"] == 0
    # 5 points of an applicable maximum 100 − 15 − 5 = 80 → 6.25
    assert s.total == pytest.approx(6.25)


def test_report_row_without_plan_row_changes_nothing(con):
    # the December row "无名小区" (投资 999) is linked to no plan row: it is in no R(p)
    sums = con.execute(
        "select sum(invest_done_wan_yuan) from intermediate.indicator_rows where score_year = 2021 and county_code = ?",
        [LUNTAI],
    ).fetchone()[0]
    assert sums == 550


def test_year_in_progress_label(con, scores):
    # the last month received from any county is 2022-01: 2022 is scored as of then
    s = scores[(YULI, 2022, "annual")]
    assert s.as_of_label == "截至2022-01"
    assert scores[(YULI, 2021, "annual")].as_of_label == ""
    # months after January are left out: 尉犁县's January report filed 02-03 → 1 / 1
    assert s.line("reporting_rate").value == 1
    # 东风小区: started (20), subsidised and unfinished (0), 8/80 invested (1.5), 2/10 paid (2),
    # households 0, notice 14 (5), reporting 5 → 33.5 / (100 − 15 − 5) × 100 = 41.875
    assert s.total == pytest.approx(41.875)
    # its January report names 完工日期 2022-03-01: after the as-of month, so not completed yet
    # (counted, households_rate would be 1 and property_rate applicable)
    assert s.line("households_rate").value == 0 and s.line("property_rate").value is None
    months = con.execute(
        "select count(*) from intermediate.indicator_months where score_year = 2022 and county_code = ?", [YULI]
    ).fetchone()[0]
    assert months == 1


def test_year_in_progress_without_any_month_has_no_reporting_indicator():
    # a plan year none of whose months has arrived yet: nothing to judge timeliness on
    inp = Inputs(county_code="x", score_year=2023, count_plan_rows=2, count_notice_ok=2, sum_households=10,
                 sum_total_invest_wan_yuan=5, count_ontime_base=2, count_months_due=0)
    s = annual_score(inp, SCHEME)
    assert s.line("reporting_rate").value is None and s.line("reporting_rate").max_points == 5
    # notice 5 of (100 − 10 − 15 − 5 − 5) = 65 → 7.6923
    assert s.total == pytest.approx(5 / 65 * 100)


# --- grades -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade"),
    [(100, "优秀"), (95, "优秀"), (94.9999, "良好"), (85, "良好"), (84.9999, "合格"), (75, "合格"),
     (74.9999, "差"), (0, "差")],
)
def test_grade_boundaries(total, grade):
    assert grade_of(total, SCHEME) == grade


def _full(**over) -> Inputs:
    """A county with every indicator at 1 (and satisfaction 100), then ``over``."""
    base = dict(county_code="x", score_year=2021, count_plan_rows=4, count_started=4, count_ontime_base=4,
                count_ontime_completed=4, sum_invest_done_wan_yuan=10, sum_total_invest_wan_yuan=10,
                sum_paid_wan_yuan=5, sum_subsidy_wan_yuan=5, count_satisfaction_rows=1,
                sum_satisfaction_households=10, sum_satisfaction_weighted=1000, sum_households_completed=10,
                sum_households=10, count_completed=4, count_completed_with_property=4, count_notice_ok=4,
                count_months_due=12, count_months_ontime=12)
    return Inputs(**(base | over))


@pytest.mark.parametrize(
    ("over", "total", "grade"),
    [
        ({}, 100, "优秀"),
        # start 3/4 → 15 of 20: 100 − 5 = 95 exactly
        ({"count_started": 3}, 95, "优秀"),
        # start 1/4 → 5 of 20: 100 − 15 = 85 exactly
        ({"count_started": 1}, 85, "良好"),
        # start 0 and on time 3/4 → 0 + 15: 100 − 20 − 5 = 75 exactly
        ({"count_started": 0, "count_ontime_completed": 3}, 75, "合格"),
        # start 0, on time 2/4 → 0 + 10: 70
        ({"count_started": 0, "count_ontime_completed": 2}, 70, "差"),
    ],
)
def test_grade_exactly_at_boundaries_from_inputs(over, total, grade):
    s = annual_score(_full(**over), SCHEME)
    assert s.total == pytest.approx(total)
    assert s.grade == grade


def test_grade_on_unrounded_total():
    # 84.996 would print as 85.00 but is below 85 → 合格
    assert grade_of(84.996, SCHEME) == "合格"


def test_rescaled_boundary():
    # disbursement not applicable (no subsidy): Σ max 90; start 3/4 → 15; 85 / 90 × 100 = 94.44 → 良好
    s = annual_score(_full(sum_subsidy_wan_yuan=0, sum_paid_wan_yuan=0, count_started=3), SCHEME)
    assert s.line("disbursement_rate").value is None
    assert s.total == pytest.approx(85 / 90 * 100) and s.grade == "良好"


def test_rates_capped_at_one():
    # 投资 15 / 10 and 拨付 9 / 5 exceed the plan: both capped at 1
    s = annual_score(_full(sum_invest_done_wan_yuan=15, sum_paid_wan_yuan=9), SCHEME)
    assert s.line("investment_rate").value == 1 and s.line("disbursement_rate").value == 1


def test_total_of_ignores_not_applicable_lines():
    lines = [Line("a", 0.5, 10, 20), Line("b", None, None, 10), Line("c", 1, 5, 5)]
    # (10 + 5) / (20 + 5) × 100 = 60
    assert total_of(lines) == pytest.approx(60)


# --- biennial -----------------------------------------------------------------------------


def test_biennial_progress_term(scores):
    s = scores[(LUNTAI, 2021, "biennial")]
    # T(轮台县) = 400 + 600 (built ≤ 2000; the 2005 estate excluded) = 1000
    # completed by 31 Dec 2021: p1 100 + p2 200 = 300; expected 1000 × (2021 − 2019) / 6 = 333.33
    # progress = min(1, 300 / 333.33) = 0.9 → 18 points
    assert s.line("five_year_progress").value == pytest.approx(0.9)
    assert s.line("five_year_progress").points == pytest.approx(18)
    # 2020 not scored: annual_prev empty, mean = 2021's 65.8114 → 0.8 × 65.8114 = 52.6491
    assert s.line("annual_prev").value is None and s.line("annual_prev").points is None
    assert s.line("annual_prev").max_points is None
    mean = sum(p for _, p in LUNTAI_2021.values())
    assert s.line("annual_mean").value == pytest.approx(mean)
    assert s.line("annual_mean").points == pytest.approx(0.8 * mean) and s.line("annual_mean").max_points == 80
    # (52.6491 + 18) / (80 + 20) × 100 = 70.6491
    assert s.total == pytest.approx(0.8 * mean + 18) and s.grade == "差"


def test_biennial_progress_counts_later_reports_and_earlier_plans(scores):
    s = scores[(LUNTAI, 2022, "biennial")]
    # by December 2022 p3 (50 户) has finished too (January 2022): 300 + 50 = 350
    # expected 1000 × (2022 − 2019) / 6 = 500 → 0.7 → 14 points; 轮台县 not scored in 2022
    assert s.line("five_year_progress").value == pytest.approx(0.7)
    assert s.line("annual_curr").value is None
    assert s.as_of_label == "截至2022-01"


def test_biennial_progress_not_applicable_without_old_ledger(scores):
    s = scores[(YULI, 2022, "biennial")]
    # no ledger → T = 0: progress not applicable; mean (57.7381 + 41.875) / 2 = 49.8065 → total = mean
    assert s.line("five_year_progress").value is None and s.line("five_year_progress").max_points == 20
    mean = ((20 + 15 + 5 + 5 / 12) / 70 * 100 + 41.875) / 2
    assert s.line("annual_mean").value == pytest.approx(mean)
    assert s.total == pytest.approx(mean)


def test_biennial_scored_in_one_year_only(scores):
    s = scores[(RUOQIANG, 2021, "biennial")]
    # 2020: 6.25, 2021 not scored; T = 120, expected 120 × 2 / 6 = 40, completed 0 → 0
    # (0.8 × 6.25 + 0) / 100 × 100 = 5
    assert s.line("annual_prev").value == pytest.approx(6.25) and s.line("annual_curr").value is None
    assert s.total == pytest.approx(5)


def test_biennial_no_row_when_scored_in_neither_year(scores):
    assert ("652801", 2021, "biennial") not in scores
    assert biennial_score(Inputs(county_code="x", score_year=2021), None, None, SCHEME) is None


def test_biennial_pure():
    inp = Inputs(county_code="x", score_year=2023, sum_households_completed_to_date=800,
                 sum_ledger_households_old=1200)
    s = biennial_score(inp, 80.0, 90.0, SCHEME)
    # mean 85 → 68; progress 800 / (1200 × 4 / 6 = 800) = 1 → 20; (68 + 20) / 100 × 100 = 88 → 良好
    assert s.line("annual_mean").points == pytest.approx(68)
    assert s.line("five_year_progress").value == pytest.approx(1)
    assert s.total == pytest.approx(88) and s.grade == "良好"


# --- marts.scores and scores.csv ----------------------------------------------------------


@pytest.fixture(scope="module")
def db_file(tmp_path_factory) -> Location:
    return persist(example_warehouse(), tmp_path_factory.mktemp("scores"))


def _read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "county,year,kind,indicator,value,points,max_points,grade"
    return list(csv.DictReader(io.StringIO(text)))


def test_scores_csv_annual_from_inputs(db_file, tmp_path):
    # the scores mart is empty (hook not run): computed from intermediate.score_inputs
    out = tmp_path / "scores.csv"
    assert scoring.run_scores(db_file, 2021, "annual", out) == 0
    rows = _read_csv(out)
    # 轮台县 before 尉犁县 (counties.csv order), 9 indicators + total each
    assert [r["county"] for r in rows] == ["轮台县"] * 10 + ["尉犁县"] * 10
    lt = {r["indicator"]: r for r in rows if r["county"] == "轮台县"}
    assert list(lt) == [i.code for i in SCHEME.indicators] + ["total"]
    assert lt["ontime_completion_rate"] == {
        "county": "轮台县", "year": "2021", "kind": "annual", "indicator": "ontime_completion_rate",
        "value": "0.3333", "points": "6.67", "max_points": "20", "grade": ""}
    assert lt["satisfaction"]["value"] == "83.3333" and lt["satisfaction"]["points"] == "12.50"
    assert lt["total"] == {"county": "轮台县", "year": "2021", "kind": "annual", "indicator": "total",
                           "value": "65.8114", "points": "65.81", "max_points": "100", "grade": "差"}
    yl = {r["indicator"]: r for r in rows if r["county"] == "尉犁县"}
    assert (yl["disbursement_rate"]["value"], yl["disbursement_rate"]["points"],
            yl["disbursement_rate"]["max_points"]) == ("", "", "10")
    assert yl["total"]["value"] == "57.7381"


def test_scores_csv_biennial(db_file, tmp_path):
    out = tmp_path / "b.csv"
    assert scoring.run_scores(db_file, 2021, "biennial", out) == 0
    rows = _read_csv(out)
    assert [r["county"] for r in rows] == ["轮台县"] * 5 + ["尉犁县"] * 5 + ["若羌县"] * 5
    lt = {r["indicator"]: r for r in rows if r["county"] == "轮台县"}
    assert list(lt) == ["annual_prev", "annual_curr", "annual_mean", "five_year_progress", "total"]
    assert (lt["annual_prev"]["value"], lt["annual_prev"]["points"], lt["annual_prev"]["max_points"]) == ("", "", "")
    assert (lt["annual_curr"]["value"], lt["annual_curr"]["points"]) == ("65.8114", "")
    assert lt["annual_mean"]["max_points"] == "80" and lt["five_year_progress"]["points"] == "18.00"
    assert lt["total"]["value"] == "70.6491" and lt["total"]["max_points"] == "100"


def test_scores_year_without_data_exits_1(db_file, tmp_path, capsys):
    assert scoring.run_scores(db_file, 2019, "annual", tmp_path / "x.csv") == 1
    assert not (tmp_path / "x.csv").exists()
    assert "没有数据" in capsys.readouterr().err


def test_scores_to_stdout(db_file, capsysbinary):
    assert scoring.run_scores(db_file, 2022, "annual", None) == 0
    out = capsysbinary.readouterr().out
    assert out.startswith(b"\xef\xbb\xbf") and "尉犁县,2022,annual,total,41.8750,41.88,100,差" in out.decode("utf-8-sig")


def test_refresh_writes_mart_and_export_reads_it(tmp_path):
    con = example_warehouse()
    scoring.refresh(con)
    got = con.execute(
        "select value, points, max_points, grade, scheme_version, as_of_label from marts.scores "
        "where county_code = ? and year = 2021 and kind = 'annual' and indicator = 'total'", [LUNTAI]
    ).fetchone()
    assert got[0] == pytest.approx(65.8114, abs=1e-4) and got[2] == 100 and got[3] == "差"
    assert got[4] == SCHEME.version and got[5] == ""
    assert con.execute(
        "select distinct as_of_label from marts.scores where year = 2022").fetchall() == [("截至2022-01",)]
    # one row per county, year, kind and indicator; read back equal to the computed scores
    computed = {(s.county_code, s.year, s.kind): s for s in scoring.compute_scores(con, SCHEME)}
    for (c, y, k), s in computed.items():
        (back,) = [b for b in scoring.read_scores(con, y, k) if b.county_code == c]
        assert back.total == pytest.approx(s.total) and back.grade == s.grade
        assert [(x.indicator, x.value) for x in back.lines] == [(x.indicator, x.value) for x in s.lines]
    # the export reads the mart: a changed mart value shows in the export
    con.execute("update marts.scores set grade = '测试' where indicator = 'total' and year = 2021 and kind = 'annual'")
    assert all(s.grade == "测试" for s in scoring.scores_for(con, 2021, "annual", SCHEME))


def test_formula_escape_in_export():
    s = scoring.Score("x", 2021, "annual", (), 50.0, "=HYPERLINK()", "", "-某县", 0)
    text = scoring.scores_csv([s])
    assert "'-某县" in text and "'=HYPERLINK()" in text


# --- what-if ------------------------------------------------------------------------------


def test_whatif_split_hand_worked():
    # central A 100, B 300 → pool 0.2 × 400 = 80; weights A 100 × 90/100 = 90, B 300 × 60/100 = 180
    # A: 80 × 90/270 = 26.667 (own part 20, +6.667); B: 80 × 180/270 = 53.333 (own 60, −6.667)
    rows = {r.county_code: r for r in whatif.split_performance_share({"A": 100, "B": 300}, {"A": 90, "B": 60}, 0.2)}
    assert rows["A"].share_wan_yuan == pytest.approx(80 * 90 / 270)
    assert rows["A"].change_wan_yuan == pytest.approx(80 * 90 / 270 - 20)
    assert rows["B"].share_wan_yuan == pytest.approx(80 * 180 / 270)
    assert sum(r.share_wan_yuan for r in rows.values()) == pytest.approx(80)


def test_whatif_equal_scores_keep_own_part_and_unscored_get_nothing():
    rows = whatif.split_performance_share({"A": 100, "B": 300, "C": 50}, {"A": 70, "B": 70, "C": None}, 0.2)
    by = {r.county_code: r for r in rows}
    # pool 0.2 × 450 = 90; weights 70, 210, 0 → A 90 × 70/280 = 22.5, B 67.5, C 0
    assert by["A"].share_wan_yuan == pytest.approx(22.5) and by["C"].share_wan_yuan == 0


def test_whatif_mart(con):
    scoring.refresh(con)
    rows = con.execute(
        "select county_code, central_subsidy_wan_yuan, score, share_wan_yuan from marts.whatif_subsidy "
        "where year = 2021 and pool = 'all' order by sort_order").fetchall()
    # 2021 central: 轮台县 50 + 20 + 10 = 80; 尉犁县 0 (no row) → 轮台县 takes the whole pool 0.2 × 80 = 16
    assert [(r[0], r[1]) for r in rows] == [(LUNTAI, 80)]
    assert rows[0][3] == pytest.approx(16)
    assert not whatif.query(con, 2021).is_empty()
    # one prefecture (巴州, 6528): its pool is the whole warehouse's, row for row
    pools = con.execute("select distinct pool from marts.whatif_subsidy order by all").fetchall()
    assert pools == [("6528",), ("all",)]
    years = [y for (y,) in con.execute("select distinct year from marts.whatif_subsidy order by year").fetchall()]
    assert years and all(whatif.query(con, y, "6528").equals(whatif.query(con, y)) for y in years)


def test_mart_descriptions_state_the_grain():
    for name in ("intermediate/indicator_rows", "intermediate/indicator_months", "intermediate/score_inputs",
                 "marts/scores", "marts/scores_prefecture", "marts/whatif_subsidy"):
        first = (WAREHOUSE_DIR / f"{name}.sql").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("-- One row per"), name


def test_scheme_file_is_valid_toml():
    data = tomllib.loads(scoring.SCHEME_PATH.read_text(encoding="utf-8"))
    assert data["version"] == SCHEME.version


def test_runs_as_the_scores_step_inside_the_refresh_transaction():
    from pipelines.scoring import store

    con = example_warehouse()
    con.execute("begin transaction")
    store.refresh(con)
    con.execute("commit")
    # 9 + 1 lines × 4 annual scores, 4 + 1 lines × 5 biennial scores
    assert con.execute("select count(*) from marts.scores").fetchone()[0] == 10 * 4 + 5 * 5


# --- end to end: real workbooks through ingest, linking and the refresh ------------------


def test_scores_cli_on_ingested_workbooks(small_db, tmp_path):
    # conftest's small set: 轮台县 plan 2021 (团结小区 260 户 780 万, 中央 400 + 自治区 80; 幸福住宅小区 120 户
    # 360, 180 + 40; 雪莲花园(二期) 150 户 520, 260 + 50; notice 2020-09-01…09-25 = 19 working days) and
    # the monthly reports January–June, each filed on the 3rd of the next month. The data clock: the newest
    # 填报日期 is 2021-07-03, before June's deadline (07-05), so the latest due month is May and the year is
    # scored as of 2021-05 (the June report, filed early, is not counted yet). R(p) is May:
    # 团结 started 04-10, 40%, 投资 2×156 = 312, 拨付 2×70 = 140; 幸福 started 04-15, 50%, 180, 80; 雪莲 nothing.
    from pipelines.cli import main

    out = tmp_path / "scores.csv"
    assert main(["scores", "--db", str(small_db), "--year", "2021", "--out", str(out)]) == 0
    rows = {r["indicator"]: r for r in _read_csv(out)}
    assert {r["county"] for r in rows.values()} == {"轮台县"}
    expected = {
        "start_rate": 2 / 3,                      # 团结, 幸福 started
        "ontime_completion_rate": 0.0,            # all three subsidised, none finished
        "investment_rate": 492 / 1660,            # (312 + 180 + 0) / (780 + 360 + 520)
        "disbursement_rate": 220 / 1010,          # (140 + 80) / (480 + 220 + 310)
        "households_rate": 0.0,
        "notice_rate": 1.0,                       # 19 ≥ 14 working days, all three
        "reporting_rate": 1.0,                    # months 1–5 (as of May), all on time
    }
    for code, value in expected.items():
        assert float(rows[code]["value"]) == pytest.approx(value, abs=5e-5), code
    assert rows["satisfaction"]["value"] == "" and rows["property_rate"]["value"] == ""
    # (20×2/3 + 0 + 15×492/1660 + 10×220/1010 + 0 + 5 + 5) / 80 × 100 = 37.4467
    total = (20 * 2 / 3 + 15 * 492 / 1660 + 10 * 220 / 1010 + 5 + 5) / 80 * 100
    assert float(rows["total"]["value"]) == pytest.approx(total, abs=5e-5)
    con = open_db(small_db)
    try:
        labels = con.execute("select distinct as_of_label from intermediate.score_inputs where score_year = 2021").fetchall()
    finally:
        con.close()
    assert labels == [("截至2021-05",)]


def test_prefecture_as_one_unit(con):
    scoring.refresh(con)
    pref = scoring.read_prefecture(con, 2021)
    # 2021 pooled: 轮台县 + 尉犁县 — start (3 + 1) / (4 + 1) = 0.8; on time (1 + 0) / (3 + 1) = 0.25;
    # investment (550 + 100) / (700 + 100) = 0.8125; disbursement (100 + 0) / (130 + 0)
    v = {x.indicator: x.value for x in pref.lines}
    assert v["start_rate"] == pytest.approx(0.8) and v["ontime_completion_rate"] == pytest.approx(0.25)
    assert v["investment_rate"] == pytest.approx(650 / 800) and v["disbursement_rate"] == pytest.approx(100 / 130)
    # reporting (10 + 1) / (12 + 12)
    assert v["reporting_rate"] == pytest.approx(11 / 24)
    assert con.execute("select count_counties from marts.scores_prefecture where year = 2021 and indicator = 'total'"
                       ).fetchone()[0] == 2
