"""Issue 12 journeys below the browser: what the pages read for county clerks (refused rows marked
已更正 once a later submission carries them, rejected files under their county) and the Chinese
names of problem codes."""

from __future__ import annotations

import duckdb
import pytest

import workbooks as W
from conftest import TODAY, q
from pipelines.access.scope import Scope
from pipelines.ingest import ingest_paths

LT = "652822"


@pytest.fixture
def reading(db_copy, monkeypatch):
    monkeypatch.setenv("RENOVATION_DB", str(db_copy))
    from pipelines.read.connection import clear_caches

    clear_caches()
    yield db_copy
    clear_caches()


def test_a_refused_row_is_marked_corrected_once_a_later_submission_carries_it(tmp_path, reading):
    from pipelines.read import quality as qq
    from pipelines.read.connection import clear_caches

    rows = W.monthly_rows(7)
    rows[0][4] = "二百六十"   # 团结小区: text in 户数
    rows[1][8] = 120          # 幸福住宅小区: 形象进度 over 100
    first = W.monthly(tmp_path, 7, rows=rows)
    [r] = ingest_paths([first], db_path=reading, today=TODAY)
    assert (r.status, r.rejected_rows) == ("accepted", 2)
    admin, clerk = Scope("admin"), Scope("clerk", LT)
    issues = qq.row_issues(admin, LT).filter(issues_of(first.name))
    assert issues["is_corrected"].to_list() == [False, False]
    assert set(issues["issue"].to_list()) <= {"数值在允许范围内", "百分比在 0–100 之间", "必填项不为空", "单元格可读取"}
    # the clerk sends the month again, 团结小区 put right, 幸福住宅小区 still wrong
    fixed = W.monthly_rows(7)
    fixed[1][8] = 120
    second = W.monthly(tmp_path, 7, fill="2021年8月4日", name="轮台县月报2021-07(更正).xlsx", rows=fixed)
    [r2] = ingest_paths([second], db_path=reading, today=TODAY)
    assert (r2.status, r2.rejected_rows) == ("accepted", 1)
    clear_caches()
    issues = qq.row_issues(clerk, LT)
    old = issues.filter(issues_of(first.name)).sort("row_number")
    assert old["row_number"].to_list() == [4, 5] and old["is_corrected"].to_list() == [True, False]
    assert issues.filter(issues_of(second.name))["is_corrected"].to_list() == [False]


def issues_of(name: str):
    import polars as pl

    return pl.col("file_name") == name


def test_rejected_files_are_logged_under_their_county(tmp_path, reading):
    from pipelines.read import submissions as qs

    bad = tmp_path / "轮台县月报2021-08.xlsx"
    bad.write_bytes(b"PK\x03\x04 not a workbook")
    anon = tmp_path / "损坏的文件.xlsx"
    anon.write_bytes(b"PK\x03\x04 neither")
    other = tmp_path / "尉犁县月报.xlsx"
    other.write_bytes(b"PK\x03\x04 nor this")
    assert [r.status for r in ingest_paths([bad, other], db_path=reading, today=TODAY)] == ["rejected"] * 2
    # a clerk's upload: the clerk's county, whatever the name says
    assert [r.status for r in ingest_paths([anon], db_path=reading, today=TODAY, allowed_county=LT)] == ["rejected"]
    logged = dict(q(reading, "select file_name, county_code from raw.ingest_log where status = 'rejected'"))
    assert logged == {bad.name: LT, other.name: "652823", anon.name: LT}
    shown = qs.ingest_log(Scope("admin"), LT)
    assert set(shown.filter(shown["status"] == "rejected")["file_name"].to_list()) == {bad.name, anon.name}
    # the clerk of 轮台县 gets its own, never 尉犁县's
    mine = qs.ingest_log(Scope("clerk", LT), None)["file_name"].to_list()
    assert bad.name in mine and anon.name in mine and other.name not in mine


def test_county_in_a_file_name():
    from pipelines.counties import county_in_name

    assert county_in_name("轮台县月报2025-03(错误).xlsx") == LT
    assert county_in_name("库尔勒经开区2025年计划.xlsx") == "652871"
    assert county_in_name("库尔勒市月报.xlsx") == "652801"
    assert county_in_name("库尔勒市与轮台县合并.xlsx") is None and county_in_name("损坏.xlsx") is None


def test_problem_codes_have_chinese_names():
    from expectations.names import EXPECTATION_NAMES, issue_name

    for code in ("TOTALS_MISMATCH", "county_not_allowed", *EXPECTATION_NAMES):
        name = issue_name(code)
        assert name and not any("a" <= ch.lower() <= "z" for ch in name), (code, name)
    assert issue_name("SOMETHING_NEW") == "其他问题"


# --- no "None" and no "empty" in the table grids (their canvas cannot be read in the browser) -------

GRID_ROLES = {"admin1": ["progress", "bulletin", "signal_counts", "risk", "annual", "biennial", "upload", "quality",
                         "action_log", "users"],
              "auditor1": ["risk", "upload", "quality"], "clerk_lt": ["progress", "annual", "upload", "quality"]}


@pytest.fixture(scope="module")
def pages_db(tmp_path_factory):
    from access_helpers import make_users
    from pages_fixtures import build_warehouse

    db = tmp_path_factory.mktemp("grids") / "w.duckdb"
    build_warehouse(db)
    make_users(db)
    return db


@pytest.mark.parametrize("user", list(GRID_ROLES))
def test_no_table_shows_none_or_empty(pages_db, monkeypatch, user):
    """Streamlit's grid draws a missing value as "None" and a table without rows as "empty": every
    table of every page (all tabs: the script draws them all) gets neither."""
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from access_helpers import login

    monkeypatch.setenv("RENOVATION_DB", str(pages_db))
    root = Path(__file__).resolve().parent.parent
    at = login(AppTest.from_file(str(root / "dashboard.py"), default_timeout=120).run(), user)
    bad = []
    for page in GRID_ROLES[user]:
        at = at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        for i, grid in enumerate(at.dataframe):
            df = grid.value
            hidden = {k for k, v in json.loads(grid.proto.columns or "{}").items() if v.get("hidden")}
            shown = [c for c in df.columns if c not in hidden]
            if df.empty:
                bad.append((page, i, "empty"))
            nulls = [c for c in shown if df[c].isna().any()]
            if nulls:
                bad.append((page, i, nulls))
    assert not bad, bad


# --- evaluation staff: formulas, ties -------------------------------------------------------------

def test_an_indicator_is_spelled_out_with_numerator_denominator_and_points():
    from pipelines.scoring.compute import Inputs, annual_score
    from pipelines.scoring.explain import formula_rows
    from pipelines.scoring.scheme import load_scheme

    scheme = load_scheme()
    inp = Inputs("652801", 2025, count_plan_rows=4, count_started=3, sum_invest_done_wan_yuan=14980.0,
                 sum_total_invest_wan_yuan=15730.0, sum_paid_wan_yuan=900.0, sum_subsidy_wan_yuan=800.0,
                 count_months_due=0)
    s = annual_score(inp, scheme)
    rows = {r[3]: r for r in formula_rows([s], [inp], scheme)}
    # the issue's own example: 14,980 ÷ 15,730 = 95.2% → 15 × 0.9523 = 14.28 of 15 points
    assert rows["investment_rate"][4:] == (14980.0, 15730.0, "累计完成投资", "计划总投资", "万元",
                                           "投资完成率 = 累计完成投资 ÷ 计划总投资 = 14,980 ÷ 15,730 万元 = 95.2% → 14.28 / 15 分")
    assert rows["start_rate"][-1] == "开工率 = 已开工项目数 ÷ 计划项目数 = 3 ÷ 4 个 = 75.0% → 15.00 / 20 分"
    # paid beyond the subsidy: the share is capped, and the formula says so
    assert rows["disbursement_rate"][-1].endswith("= 112.5%,按 100% 计 → 10.00 / 10 分")
    # no month due: not applicable, and not counted in the maximum
    assert "本项不适用" in rows["reporting_rate"][-1]


def test_equal_totals_share_a_rank_and_close_ones_show_the_deciding_decimals():
    import polars as pl

    from pipelines.read.scores import _deciding_decimals

    df = pl.DataFrame({"year": [2025] * 4, "county": ["甲", "乙", "丙", "丁"],
                       "points": [90.0, 87.3512, 87.3498, 90.0], "score_rank": [1, 3, 4, 1]})
    out = _deciding_decimals(df)
    assert out["points_text"].to_list() == ["90.000", "87.351", "87.350", "90.000"]
    assert out["rank_text"].to_list() == ["1(并列)", "3", "4", "1(并列)"]
    plain = _deciding_decimals(df.filter(pl.col("county").is_in(["甲", "乙"])))
    assert plain["points_text"].to_list() == ["90.00", "87.35"]


def test_tied_totals_rank_alike_in_the_read_function(tmp_path, monkeypatch):
    """Two counties whose totals differ only in a float's last bits share a rank."""
    from pages_fixtures import build_warehouse
    from pipelines.read import scores as qs
    from pipelines.read.connection import clear_caches

    db = tmp_path / "w.duckdb"
    build_warehouse(db)
    con = duckdb.connect(str(db))
    con.execute("update marts.scores set points = 80.0 + 1e-12 where indicator = 'total' and kind = 'annual' "
                "and year = 2025 and county_code = '652801'")
    con.execute("update marts.scores set points = 80.0 where indicator = 'total' and kind = 'annual' "
                "and year = 2025 and county_code = '652822'")
    con.close()
    monkeypatch.setenv("RENOVATION_DB", str(db))
    clear_caches()
    t = qs.score_totals(Scope("evaluator"), "annual").filter(pl_year(2025))
    ranks = dict(zip(t["county_code"], t["score_rank"]))
    assert ranks["652801"] == ranks["652822"] == 1
    assert dict(zip(t["county_code"], t["rank_text"]))["652822"] == "1(并列)"
    clear_caches()


def pl_year(y):
    import polars as pl

    return pl.col("year") == y
