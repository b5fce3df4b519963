"""The monthly bulletin (月度通报): its marts (hand-worked on literal rows and on the page fixture),
the lagging tiers from config, the .docx/.pdf writer and `renovation bulletin`."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from docx import Document

from backends import copy_of, new_location, open_db
from pages_fixtures import KRL, LT, YL, build_warehouse
from pipelines.backend import Location
from pipelines import refresh
from pipelines import settings as paths
from pipelines.cli import main
from pipelines.report import bulletin as rb
from pipelines.warehouse import connect, define_macros, models

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
needs_poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")

D = dt.date.fromisoformat


pytestmark = pytest.mark.warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Location:
    return build_warehouse(new_location(tmp_path_factory.mktemp("bulletin")))


def rows(db: Location | Path, sql: str, params=None) -> list[dict]:
    con = open_db(db)
    try:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()


# --- the marts on literal rows (given / expect) --------------------------------------------

MONTHLY_COLS = ("county_code", "county_name", "sort_order", "plan_year", "report_month", "count_plan_communities",
                "plan_households", "plan_invest_wan_yuan", "plan_subsidy_wan_yuan", "count_reported_communities",
                "count_started_communities", "started_households", "count_completed_communities",
                "completed_households", "invest_done_wan_yuan", "paid_wan_yuan")


def literal_bulletin(red: float, yellow: float, prefectures: tuple[str, str] = ("6528", "6528")) -> duckdb.DuckDBPyConnection:
    """Two units of one prefecture (A: 652801, B: 652822; ``prefectures``: theirs as staging.counties
    holds them), one plan row each, January and February 2025.

    A: 100 households, 300 万元, planned 2024-12-01 → 2025-01-31: by the end of January the plan
       expects it started, completed and all of its investment done: pace (100 + 100 + 100) / 3 = 100.
       Reported: started in January with 150 万元 done (index (100 + 0 + 50) / 3 = 50.0), no change in February.
    B: 60 households, 300 万元, no planned dates: from 1 January to the deadline 30 November (333 days).
       January: started due, 30/333 of the investment: pace (100 + 0 + 9.009) / 3 = 36.3; nothing reported: 0.
       February: 58/333 = 17.42%: pace (100 + 0 + 17.42) / 3 = 39.1; reported started, completed, 300 万元
       done, 200 万元 paid: index 100.
    """
    con = duckdb.connect()
    for schema in ("staging", "core", "intermediate", "marts"):
        con.execute(f"create schema {schema}")
    sql = {m.table: m.sql for m in models()}
    con.execute(sql["staging.counties"])
    con.executemany("insert into staging.counties (county_code, county_name, sort_order, prefecture_code) "
                    "values (?, ?, ?, ?)", [("652801", "652801", 1, prefectures[0]), ("652822", "652822", 2, prefectures[1])])
    con.execute("create table marts.settings (key varchar, value double)")
    con.executemany("insert into marts.settings values (?, ?)",
                    [("progress.red_points_behind", red), ("progress.yellow_points_behind", yellow),
                     ("completion.deadline_month", 11), ("completion.deadline_day", 30)])
    con.execute("""create table core.plan_rows (county_code varchar, plan_year integer, households integer,
                   total_invest_wan_yuan double, planned_start_date date, planned_end_date date)""")
    con.executemany("insert into core.plan_rows values (?, 2025, ?, 300.0, ?, ?)",
                    [("652801", 100, D("2024-12-01"), D("2025-01-31")), ("652822", 60, None, None)])
    con.execute(f"create table marts.progress_monthly ({', '.join(c + ' ' + t for c, t in zip(MONTHLY_COLS, ('varchar', 'varchar', 'integer', 'integer', 'date', *(['double'] * 11))))})")
    monthly = [
        # unit, order, month, started, started hh, completed, completed hh, invest, paid
        ("652801", 1, "2025-01-01", 1, 100, 0, 0, 150.0, 100.0),
        ("652801", 1, "2025-02-01", 1, 100, 0, 0, 150.0, 100.0),
        ("652822", 2, "2025-01-01", 0, 0, 0, 0, 0.0, 0.0),
        ("652822", 2, "2025-02-01", 1, 60, 1, 60, 300.0, 200.0),
    ]
    plan = {"652801": (100, 300.0), "652822": (60, 300.0)}
    for u, order, m, s, sh, c, ch, inv, paid in monthly:
        con.execute(f"insert into marts.progress_monthly values ({', '.join('?' * len(MONTHLY_COLS))})",
                    [u, u, order, 2025, D(m), 1, plan[u][0], plan[u][1], 200.0, 1, s, sh, c, ch, inv, paid])
    define_macros(con)  # the progress index, as run_models defines it
    for table in ("marts.bulletin_schedule", "marts.bulletin_counties", "marts.bulletin_prefecture"):
        con.execute(f"create table {table} as {sql[table]}")
    return con


def test_bulletin_counties_on_literal_rows():
    con = literal_bulletin(red=50.0, yellow=36.3)
    got = {(r[0], r[1].month): r[2:] for r in con.execute(
        """select county_code, report_month, pct_progress_index, pct_pace_index, points_behind_pace, tier,
                  progress_rank, rank_change, count_new_started_communities, new_started_households,
                  count_new_completed_communities, new_completed_households, invest_added_wan_yuan, paid_added_wan_yuan
           from marts.bulletin_counties""").fetchall()}
    # A, January: 100 − 50 = 50.0 behind: exactly the red line, which is "more than": yellow
    assert got[("652801", 1)] == (50.0, 100.0, 50.0, "yellow", 1, None, 1, 100, 0, 0, 150.0, 100.0)
    # B, January: 36.3 behind, exactly the yellow line ("at least"): yellow
    assert got[("652822", 1)] == (0.0, 36.3, 36.3, "yellow", 2, None, 0, 0, 0, 0, 0.0, 0.0)
    # February: B overtakes A (↑1, ↓1); A's additions are nil, B's are the month's
    assert got[("652801", 2)] == (50.0, 100.0, 50.0, "yellow", 2, -1, 0, 0, 0, 0, 0.0, 0.0)
    assert got[("652822", 2)] == (100.0, 39.1, -60.9, "green", 1, 1, 1, 60, 1, 60, 300.0, 200.0)


def test_the_bulletin_groups_units_by_the_prefecture_staging_counties_holds():
    """The prefecture rule lives once, in staging.counties.prefecture_code: a unit registered there with
    another prefecture than its code's first four digits is ranked and totalled in that one (the marts
    used to derive it from the code themselves)."""
    con = literal_bulletin(red=50.0, yellow=36.3, prefectures=("6528", "9002"))
    got = con.execute("""select county_code, prefecture_code, progress_rank, rank_change from marts.bulletin_counties
                         where report_month = '2025-01-01' order by county_code""").fetchall()
    assert got == [("652801", "6528", 1, None), ("652822", "9002", 1, None)]  # each first of its own prefecture
    assert con.execute("""select prefecture_code, count_units from marts.bulletin_prefecture
                          where report_month = '2025-02-01' order by all""").fetchall() == [("6528", 1), ("9002", 1)]


def test_the_bulletin_keeps_the_unrounded_index_it_ranks_by():
    """bulletin_counties.progress_index: the index as ranked (pipelines.incremental.RANKS re-ranks by it), of
    which pct_progress_index is the figure shown. A, January: (100 + 0 + 50) / 3; B, February: 100."""
    con = literal_bulletin(red=50.0, yellow=36.3)
    got = dict(con.execute("""select county_code || strftime(report_month, '-%m'), progress_index
                              from marts.bulletin_counties""").fetchall())
    assert got == pytest.approx({"652801-01": 50.0, "652801-02": 50.0, "652822-01": 0.0, "652822-02": 100.0})
    assert con.execute("""select count(*) from marts.bulletin_counties
                          where pct_progress_index <> round(progress_index, 1)""").fetchone()[0] == 0


def test_tiers_follow_the_thresholds():
    con = literal_bulletin(red=49.9, yellow=40.0)
    tiers_of = dict(con.execute("select county_code || strftime(report_month, '-%m'), tier from marts.bulletin_counties")
                    .fetchall())
    assert tiers_of == {"652801-01": "red", "652801-02": "red", "652822-01": "green", "652822-02": "green"}


def test_bulletin_prefecture_on_literal_rows():
    con = literal_bulletin(red=10.0, yellow=5.0)
    feb = con.execute("""select count_units, count_new_started_communities, new_completed_households,
                                invest_added_wan_yuan, paid_added_wan_yuan, pct_progress_index, pct_pace_index,
                                points_behind_pace, tier, count_red_units, count_yellow_units, count_green_units
                         from marts.bulletin_prefecture where report_month = '2025-02-01'""").fetchone()
    # sums: 2 communities started of 2 (100), 60 of 160 households completed (37.5), 450 of 600 万元 (75):
    # index (100 + 37.5 + 75) / 3 = 70.8; pace: 2 due to start (100), A's 100 households due (62.5),
    # 300 + 300 × 58/333 = 352.25 of 600 (58.71): (100 + 62.5 + 58.71) / 3 = 73.7; 2.9 behind: green
    assert feb == (2, 1, 60, 300.0, 200.0, 70.8, 73.7, 2.9, "green", 1, 0, 1)


# --- the marts of the page fixture (pages_fixtures, hand-worked) ----------------------------


def test_bulletin_of_march_2025_on_the_fixture(warehouse):
    got = {r["county_code"]: r for r in rows(warehouse, "select * from marts.bulletin_counties where report_month = '2025-03-01'")}
    # 库尔勒市: 幸福小区 (2025-02-01 → 09-30) and 团结小区 (03-01 → 10-31) due to start, 建设局大院 (05-01) not: 66.67;
    # none due to finish; investment 200 × 58/241 + 400 × 30/244 = 48.13 + 49.18 = 97.31 of 1200 = 8.11:
    # pace (66.67 + 0 + 8.11) / 3 = 24.9; index 37.8 (progress_county): 12.9 ahead
    k = got[KRL]
    assert (k["pct_pace_index"], k["pct_progress_index"], k["points_behind_pace"], k["tier"]) == (24.9, 37.8, -12.9, "green")
    # … and in March 幸福小区 was completed (100 households), 360 − 160 = 200 万元 done and 190 − 80 = 110 paid
    assert (k["count_new_started_communities"], k["count_new_completed_communities"], k["new_completed_households"],
            k["invest_added_wan_yuan"], k["paid_added_wan_yuan"]) == (0, 1, 100, 200.0, 110.0)
    # 轮台县: 团结小区 due (03-01), 胜利小区 (04-01) not: 50; 300 × 30/244 = 36.89 of 400 = 9.22: pace 19.7; index 17.9
    # (1.8 behind); 团结小区 started 2025-03-20: 1 community, 150 households, 15 万元
    t = got[LT]
    assert (t["pct_pace_index"], t["points_behind_pace"], t["tier"], t["count_new_started_communities"],
            t["new_started_households"], t["invest_added_wan_yuan"]) == (19.7, 1.8, "green", 1, 150, 15.0)
    # 尉犁县: 罗布小区 01-01 → 09-30, 89 of 272 days: 32.72%: pace (100 + 0 + 32.72) / 3 = 44.2; index 43.8; no report since January
    y = got[YL]
    assert (y["pct_pace_index"], y["pct_progress_index"], y["points_behind_pace"], y["invest_added_wan_yuan"]) == \
           (44.2, 43.8, 0.4, 0.0)
    # ranks as marts.progress_county, unchanged since February (尉犁 43.75, 库尔勒 26.67, 轮台 0)
    assert [(r["county_name"], r["progress_rank"], r["rank_change"]) for r in sorted(got.values(), key=lambda r: r["progress_rank"])] == \
           [("尉犁县", 1, 0), ("库尔勒市", 2, 0), ("轮台县", 3, 0)]


def test_the_bulletin_index_is_the_progress_index_at_the_as_of_month(warehouse):
    # one formula in two marts: the bulletin's index at the as-of month is progress_county's
    diff = rows(warehouse, """
        select p.county_code, p.plan_year, p.pct_progress_index, b.pct_progress_index as b_index, p.progress_rank, b.progress_rank as b_rank
        from marts.progress_county as p
        join marts.bulletin_counties as b on b.county_code = p.county_code and b.plan_year = p.plan_year
             and b.report_month = p.as_of_month
        where p.pct_progress_index <> b.pct_progress_index or p.progress_rank <> b.progress_rank""")
    assert diff == []
    assert rows(warehouse, "select count(*) as n from marts.bulletin_counties where report_month = '2025-03-01'")[0]["n"] == 3


def with_tiers(warehouse: Location, tmp_path: Path, monkeypatch, red: float, yellow: float) -> Location:
    """A copy of ``warehouse`` refreshed with the tier thresholds of program.toml changed (in a copy
    of the configuration folder)."""
    config = tmp_path / "config"
    shutil.copytree(paths.CONFIG_DIR, config)
    text = (config / "program.toml").read_text(encoding="utf-8")
    for key, value in (("red_points_behind", red), ("yellow_points_behind", yellow)):
        text, n = re.subn(rf"^{key} = {{ value = [0-9.]+,", f"{key} = {{ value = {value:g},", text, flags=re.M)
        assert n == 1, key
    (config / "program.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(paths, "CONFIG_DIR", config)
    db = copy_of(warehouse, tmp_path, "tiers.duckdb")
    con = connect(db)
    refresh.refresh(con, only=("settings", "marts"))
    con.close()
    return db


def test_a_changed_threshold_reaches_the_marts(warehouse, tmp_path, monkeypatch):
    # 轮台县 is 1.8 behind, 尉犁县 0.4: with red above 1 and yellow from 0.3 they turn red and yellow
    db = with_tiers(warehouse, tmp_path, monkeypatch, red=1, yellow=0.3)
    got = dict((r["county_name"], r["tier"]) for r in rows(db, "select county_name, tier from marts.bulletin_counties where report_month = '2025-03-01'"))
    assert got == {"库尔勒市": "green", "轮台县": "red", "尉犁县": "yellow"}
    assert rows(db, "select value, source from marts.settings where key = 'progress.red_points_behind'")[0] == \
        {"value": 1.0, "source": "program.toml"}
    # and the bulletin says so
    con = open_db(db)
    try:
        b = rb.collect(con, dt.date(2025, 3, 1))
    finally:
        con.close()
    assert b.names("red") == ["轮台县"] and "落后计划进度超过 1 个百分点" in rb.tiers_text(b)


def test_the_tier_thresholds_are_settings(warehouse):
    got = {r["key"]: r["value"] for r in rows(warehouse, "select key, value from marts.settings where key like 'progress.%_points_behind'")}
    assert got == {"progress.red_points_behind": 10.0, "progress.yellow_points_behind": 5.0}


# --- the document and the command --------------------------------------------------------


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        parts += [" | ".join(c.text for c in row.cells) for row in t.rows]
    parts += [p.text for p in doc.sections[0].footer.paragraphs]
    return "\n".join(parts)


def test_bulletin_month_is_the_latest_month_of_the_data(warehouse):
    con = open_db(warehouse)
    try:
        assert rb.bulletin_month(con) == dt.date(2025, 3, 1)
    finally:
        con.close()


def test_cli_writes_the_docx_of_the_latest_month(warehouse, tmp_path):
    out = tmp_path / "通报.docx"
    assert main(["bulletin", "--db", str(warehouse), "--out", str(out)]) == 0
    text = docx_text(out)
    assert "巴州城镇老旧小区改造工作月度通报" in text and "2025年3月" in text
    # this month's changes for the prefecture: 1 community / 150 households started, 1 / 100 completed, 215 万元, 120 万元
    assert "本月新开工小区1个、150户,新完工小区1个、100户,完成投资215.0万元,拨付资金120.0万元" in text
    assert "全州综合进度34.1%,按计划应达25.8%,超前计划进度 8.3 个百分点" in text
    table = [line.split(" | ") for line in text.splitlines() if line.count(" | ") == 9 and line[0].isdigit()]
    assert [(r[0], r[1], r[2], r[6]) for r in table] == [("1", "—", "尉犁县", "正常"), ("2", "—", "库尔勒市", "正常"),
                                                         ("3", "—", "轮台县", "正常")]
    assert table[2][5] == "-1.8" and table[1][5] == "+12.9"  # progress − the plan's pace
    assert "落后计划进度超过 10 个百分点" in text  # the thresholds in force, from the settings mart
    # the data clock: the newest 填报日期 (库尔勒市's corrected March report, 2025-04-08) and the latest due month
    assert "数据截至 2025-04-08(所收报表中最新的填报日期),应报至 2025-03" in text


def test_cli_month_and_errors(warehouse, tmp_path, capsys):
    out = tmp_path / "b.docx"
    assert main(["bulletin", "--db", str(warehouse), "--month", "2025-02", "--out", str(out)]) == 0
    text = docx_text(out)
    # February: 库尔勒市 团结小区 started (1 community, 200 households), 120 万元 done, 50 paid
    assert "2025年2月" in text and "本月新开工小区1个、200户" in text
    assert main(["bulletin", "--db", str(warehouse), "--month", "2019-05", "--out", str(out)]) == 1
    assert "没有可通报的数据" in capsys.readouterr().err
    assert main(["bulletin", "--db", str(warehouse), "--month", "2025-13", "--out", str(out)]) == 2
    assert main(["bulletin", "--db", str(warehouse), "--out", str(tmp_path / "b.txt")]) == 2
    assert "用法错误" in capsys.readouterr().err


@needs_soffice
@needs_poppler
def test_pdf_is_one_page_with_the_same_content(warehouse, tmp_path):
    pdf = tmp_path / "b.pdf"
    assert main(["bulletin", "--db", str(warehouse), "--month", "2025-03", "--out", str(pdf)]) == 0
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.replace(" ", "")
    for needle in ("巴州城镇老旧小区改造工作月度通报", "2025年3月", "尉犁县", "库尔勒市", "轮台县", "本月新开工小区1个、150户"):
        assert needle in text


def ten_units() -> rb.Bulletin:
    """The worst case of the prefecture: all ten units, the longest names, large figures."""
    import polars as pl

    from pipelines.counties import load_counties
    from pipelines.tiers import TierSettings

    units = load_counties()
    counties = pl.DataFrame({
        "county_code": [c.code for c in units], "county_name": [c.name for c in units],
        "progress_rank": list(range(1, 11)), "rank_change": [None, 3, -2, 0, 1, -1, 4, -4, 0, 2],
        "pct_progress_index": [99.9 - 9 * i for i in range(10)], "pct_pace_index": [60.0] * 10,
        "points_behind_pace": [9 * i - 39.9 for i in range(10)],
        "tier": ["green"] * 5 + ["yellow", "red", "red", "red", "red"],
        "count_new_started_communities": [12] * 10, "new_completed_households": [1234] * 10,
        "invest_added_wan_yuan": [12345.6] * 10,
    })
    pref = {k: 123456 for k in ("count_plan_communities", "plan_households", "count_new_started_communities",
                                "new_started_households", "count_new_completed_communities", "new_completed_households",
                                "count_started_communities", "started_households", "count_completed_communities",
                                "completed_households")}
    pref.update({k: 123456.7 for k in ("invest_added_wan_yuan", "paid_added_wan_yuan", "invest_done_wan_yuan",
                                       "paid_wan_yuan", "plan_invest_wan_yuan", "plan_subsidy_wan_yuan")})
    pref.update({k: 99.9 for k in ("pct_started_communities", "pct_started_households", "pct_completed_communities",
                                   "pct_completed_households", "pct_invest_done", "pct_paid_of_subsidy",
                                   "pct_progress_index", "pct_pace_index")})
    pref["points_behind_pace"] = 12.3
    return rb.Bulletin(month=dt.date(2025, 10, 1), prefecture=pref, counties=counties, tiers=TierSettings(10, 5),
                       deadline="11月30日", generated_at=dt.datetime(2025, 11, 6, 9, 0))


def test_ranking_rows_as_printed():
    b = ten_units()
    b.counties = b.counties.with_columns(points_behind_pace=b.counties["points_behind_pace"].scatter(0, 0.0))
    rows = rb.ranking_rows(b)
    assert rows[0][:7] == ["1", "—", "库尔勒市", "99.9%", "60.0%", "+0.0", "正常"]  # on pace: +0.0, not −0.0
    assert rows[1][1] == "↑3" and rows[2][1] == "↓2" and rows[3][1] == "—"
    assert rows[6][5:7] == ["-14.1", "严重滞后"] and rows[6][9] == "12,345.6"


@needs_soffice
@needs_poppler
def test_ten_units_fit_on_one_page(tmp_path):
    b = ten_units()
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(rb.bulletin_bytes(b, ".pdf"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.replace(" ", "")
    assert "库尔勒经济技术开发区" in text and "↑3" in text and "↓4" in text and "严重滞后" in text


@pytest.mark.parametrize(("due", "months", "expected"), [
    # the data clock's latest due month, when the bulletin marts hold it
    ("2025-05-01", ["2025-03-01", "2025-04-01", "2025-05-01"], "2025-05-01"),
    # a due month in a year without a plan (January 2026): the latest month that has a bulletin
    ("2026-01-01", ["2025-11-01", "2025-12-01"], "2025-12-01"),
])
def test_bulletin_month_follows_the_data_clock(due, months, expected):
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.data_clock as select cast(? as date) as latest_due_month", [due])
    con.execute("create table marts.bulletin_prefecture (report_month date)")
    con.executemany("insert into marts.bulletin_prefecture values (?)", [[D(m)] for m in months])
    assert rb.bulletin_month(con) == D(expected)


def test_the_progress_index_rule_is_written_once():
    """The progress index (capped rates, their mean) is the macro of warehouse/macros; the marts that
    show or rank by it call it instead of repeating the expression (four copies before)."""
    import re

    from pipelines import settings as s

    capped = re.compile(r"least\(\s*100\.0")
    holders = sorted(p.relative_to(s.WAREHOUSE_DIR).as_posix() for p in s.WAREHOUSE_DIR.rglob("*.sql")
                     if capped.search(p.read_text(encoding="utf-8")))
    assert holders == ["macros/progress_index.sql"]
    for name in ("progress_county", "bulletin_counties", "bulletin_prefecture"):
        assert "progress_index(" in (s.WAREHOUSE_DIR / "marts" / f"{name}.sql").read_text(encoding="utf-8")
