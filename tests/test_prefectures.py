"""A province warehouse: units of two prefectures (issue 13 §2, the README's design answer for 100×).

The literal-row warehouse of pages_fixtures (巴州: 库尔勒市, 轮台县, 尉犁县) plus a generated
prefecture 9002 whose two units carry copies of 轮台县's and 尉犁县's files. The sidebar offers a 州
select before the 县市 select; the county options, the ranking charts, tables and ranks (1…n) are the
chosen prefecture's; with one prefecture nothing of this shows. A clerk sees its own county only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from access_helpers import login, make_users
from backends import copy_of, env, new_location, open_db
from pages_fixtures import KRL, LT, YL, build_warehouse

from pipelines import counties
from pipelines.report import bulletin as rb
from pipelines.warehouse import add_units, connect

ROOT = Path(__file__).resolve().parent.parent
G1, G2 = "900201", "900202"   # prefecture 9002: copies of 轮台县 and 尉犁县
COPIES = {LT: (G1, "广嘉县"), YL: (G2, "吉达县")}
BAYINGOL = [c.name for c in counties.load_counties()]   # the units of counties.csv, in its order

pytestmark = pytest.mark.warehouse


def _add_prefecture(loc) -> None:
    """Units of a second prefecture with copies of two units' files (new file ids), then a full refresh."""
    from pipelines import refresh

    con = connect(loc)
    try:
        add_units(con, [(code, name, (name[:2],), 41.0, 86.0) for code, name in COPIES.values()])
        shift = con.execute("select max(file_id) from raw.submissions").fetchone()[0]
        case = "case county_code " + " ".join(f"when '{a}' then '{b}'" for a, (b, _) in COPIES.items()) + " end"
        files = f"select file_id from staging.{{t}} where county_code in ('{LT}', '{YL}')"
        con.execute(f"""insert into raw.submissions select * replace (file_id + {shift} as file_id,
                            'copy' || file_hash as file_hash, 'copy' || file_name as file_name)
                        from raw.submissions where file_id in ({' union '.join(files.format(t=t) for t in
                                                               ('ledger_rows', 'plan_rows', 'report_rows'))})""")
        for t in ("ledger_rows", "plan_rows", "report_rows"):
            con.execute(f"""insert into staging.{t} select * replace (file_id + {shift} as file_id,
                                {case} as county_code, {case} as county_raw)
                            from staging.{t} where county_code in ('{LT}', '{YL}')""")
        refresh.refresh(con)
        con.execute("checkpoint")
    finally:
        con.close()


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    loc = build_warehouse(new_location(tmp_path_factory.mktemp("province"), "province.duckdb"))
    _add_prefecture(loc)
    return loc


@pytest.fixture(scope="module")
def one_prefecture(tmp_path_factory):
    return build_warehouse(new_location(tmp_path_factory.mktemp("one"), "one.duckdb"))


def _use(loc, monkeypatch, tmp_path):
    for name, value in env(loc).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RENOVATION_ACCESS_DB", str(tmp_path / "access.sqlite"))
    make_users(loc)


def _app(user: str = "admin1") -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    return login(at, user)


def _select(at: AppTest, label: str):
    return next((s for s in at.sidebar.selectbox if s.label == label), None)


def _ranking_table(at: AppTest):
    """The 排名明细表 of 进度总览 as (rank, county name) rows."""
    df = next(d.value for d in at.dataframe if "progress_rank" in d.value.columns)
    return list(zip(df["progress_rank"].astype(str), df["county_name"]))


def test_the_marts_rank_and_total_within_a_prefecture(province):
    con = open_db(province)
    try:
        ranks = con.execute("""select prefecture_code, list(progress_rank order by progress_rank) from marts.progress_county
                               where plan_year = 2025 group by all order by all""").fetchall()
        assert ranks == [("6528", [1, 2, 3]), ("9002", [1, 2])]
        months = con.execute("""select prefecture_code, list(distinct progress_rank order by progress_rank)
                                from marts.bulletin_counties where plan_year = 2025 and report_month = '2025-03-01'
                                group by all order by all""").fetchall()
        assert [m[0] for m in months] == ["6528", "9002"] and max(months[1][1]) <= 2
        units = con.execute("""select prefecture_code, count_units from marts.bulletin_prefecture
                               where plan_year = 2025 and report_month = '2025-03-01' order by all""").fetchall()
        assert units == [("6528", 3), ("9002", 2)]
        # the copies carry 轮台县's and 尉犁县's figures: their prefecture's rates are those two units'
        lt_yl = con.execute(f"""select round(100.0 * sum(count_started_communities) / sum(count_plan_communities), 1)
                                from marts.progress_county where plan_year = 2025 and county_code in ('{LT}', '{YL}')""").fetchone()[0]
        g = con.execute("select distinct pct_started_prefecture from marts.progress_county "
                        "where plan_year = 2025 and prefecture_code = '9002'").fetchall()
        assert g == [(lt_yl,)]
        # the printed bulletin: the deployment's own prefecture unless one is named
        home = rb.collect(con, dt.date(2025, 3, 1))
        other = rb.collect(con, dt.date(2025, 3, 1), prefecture="9002")
        assert (home.issuer, home.prefecture["count_units"], home.counties.height) == ("巴州", 3, 3)
        assert (other.issuer, sorted(other.counties["county_name"])) == ("州 9002", ["吉达县", "广嘉县"])
        assert sorted(other.counties["progress_rank"]) == [1, 2]
    finally:
        con.close()


def test_a_province_sidebar_offers_the_prefecture_then_its_counties(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = _app()
    pref = _select(at, "州")
    assert pref is not None, "a warehouse of two prefectures shows a 州 select"
    assert pref.options == ["巴州", "州 9002"] and pref.value == "6528"  # the deployment's own by default
    assert _select(at, "县市").options == ["全州", *BAYINGOL]
    table = _ranking_table(at)
    assert [r[1] for r in table] and {r[1] for r in table} <= {"库尔勒市", "轮台县", "尉犁县"}
    assert sorted(int(r[0]) for r in table) == [1, 2, 3]

    pref.set_value("9002").run()
    assert not at.exception
    assert _select(at, "县市").options == ["全州", "广嘉县", "吉达县"]
    table = _ranking_table(at)
    assert sorted(r[1] for r in table) == ["吉达县", "广嘉县"]
    assert sorted(int(r[0]) for r in table) == [1, 2]
    # the ranking chart and the seat map draw the two units of 9002 and none of 巴州's
    charts = [json.dumps(json.loads(c.proto.spec)["data"], ensure_ascii=False) for c in at.get("plotly_chart")]
    assert len(charts) == 2 and all("广嘉" in c and "吉达" in c for c in charts)
    assert not any(n in c for c in charts for n in ("库尔勒", "轮台", "尉犁"))
    # the cards are the prefecture's: the plan of the two copies (轮台县 and 尉犁县's)
    con = open_db(province)
    try:
        plan = con.execute(f"select count(*) from core.plan_rows where plan_year = 2025 and county_code in ('{G1}', '{G2}')"
                           ).fetchone()[0]
    finally:
        con.close()
    assert next(m.value for m in at.metric if m.label == "计划改造小区") == f"{plan} 个"
    assert at.query_params.get("prefecture") == "9002"


def test_the_bulletin_ranks_the_chosen_prefectures_counties(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = _app()
    at.switch_page("app_pages/bulletin.py").run()
    _select(at, "州").set_value("9002").run()
    assert not at.exception
    df = next(d.value for d in at.dataframe if "progress_rank" in d.value.columns)
    assert sorted(df["county_name"]) == ["吉达县", "广嘉县"]
    assert sorted(int(r) for r in df["progress_rank"]) == [1, 2]
    assert any("全州 2 个县市" in c.value for c in at.caption)


def test_a_link_to_a_county_of_another_prefecture_opens_that_prefecture(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.query_params["unit"] = G1
    at = login(at.run(), "admin1")
    assert _select(at, "州").value == "9002"
    assert _select(at, "县市").value == G1


def test_a_clerk_sees_no_prefecture_select_and_no_other_unit(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = _app("clerk_lt")
    assert _select(at, "州") is None
    assert _select(at, "县市").options == ["轮台县"]
    text = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.header))
    assert not any(n in text for n in ("广嘉县", "吉达县", "州 9002", "库尔勒市"))


def test_one_prefecture_shows_no_prefecture_select(one_prefecture, monkeypatch, tmp_path):
    _use(one_prefecture, monkeypatch, tmp_path)
    at = _app()
    assert _select(at, "州") is None
    assert _select(at, "县市").options == ["全州", *BAYINGOL]
    assert "prefecture" not in at.query_params
    assert at.header[0].value.endswith("全州")


def test_prefecture_names_come_from_the_configuration():
    assert counties.prefecture_of("652822") == "6528" == counties.home_prefecture()
    assert counties.prefecture_name("6528") == "巴州"
    assert counties.prefecture_name("9002") == "州 9002"


def test_the_incremental_rank_update_keeps_ranks_within_a_prefecture(province, tmp_path):
    """An import's refresh sets bulletin_counties' ranks anew over the whole table (pipelines.incremental.RANKS):
    on a fully built province warehouse it must find every rank as the model made it, per prefecture."""
    from pipelines.incremental import RANKS

    con = connect(copy_of(province, tmp_path))
    try:
        before = con.execute("select * from marts.bulletin_counties order by all").fetchall()
        con.execute(RANKS["marts.bulletin_counties"])
        assert con.execute("select * from marts.bulletin_counties order by all").fetchall() == before
    finally:
        con.close()


def test_the_incremental_rank_update_orders_by_the_stored_index(province, tmp_path):
    """RANKS orders by bulletin_counties.progress_index, the model's own unrounded index, not by a copy of
    its expression: two units a few hundredths apart (the same figure to one decimal) rank as those
    hundredths say, and every rank is the rank of the stored index within its prefecture."""
    from pipelines.incremental import RANKS

    con = connect(copy_of(province, tmp_path))
    try:
        year, month = con.execute("select plan_year, max(report_month) from marts.bulletin_counties "
                                  "where prefecture_code = '6528' group by all order by all desc limit 1").fetchone()
        key = "plan_year = ? and report_month = ? and prefecture_code = '6528'"
        (last, last_index), (first, first_index) = (
            con.execute(f"select county_code, progress_index from marts.bulletin_counties where {key} "
                        f"order by progress_rank {o}, county_code limit 1", [year, month]).fetchone()
            for o in ("desc", "asc"))
        assert last != first and last_index < first_index
        # the last unit's index moves 0.04 above the first's, both shown as the first's figure to one decimal
        shown = round(first_index, 1)
        for county, index in ((first, shown - 0.02), (last, shown + 0.02)):
            con.execute(f"update marts.bulletin_counties set progress_index = ? where county_code = ? and {key}",
                        [index, county, year, month])
        con.execute(RANKS["marts.bulletin_counties"])
        ranks = dict(con.execute(f"select county_code, progress_rank from marts.bulletin_counties where {key}",
                                 [year, month]).fetchall())
        assert ranks[last] < ranks[first]
        assert con.execute("""
            with expected as (
                select *, rank() over (partition by prefecture_code, plan_year, report_month
                                       order by progress_index desc) as expected
                from marts.bulletin_counties)
            select count(*) from (
                select progress_rank, expected, rank_change,
                       lag(expected) over (partition by county_code, plan_year order by report_month) - expected
                           as expected_change
                from expected)
            where progress_rank <> expected or rank_change is distinct from expected_change""").fetchone()[0] == 0
    finally:
        con.close()


def test_marts_and_reads_take_the_prefecture_staging_counties_holds(province, monkeypatch, tmp_path):
    """The prefecture rule lives once, in staging.counties.prefecture_code (written by
    pipelines.counties.prefecture_of): a unit registered there under another prefecture than its code's
    first four digits (广嘉县, 900201, under 巴州) is ranked, totalled, listed and summed with that one."""
    from pipelines import refresh
    from pipelines.access.scope import Scope
    from pipelines.read import connection, filters, progress
    from pipelines.warehouse import transaction

    loc = copy_of(province, tmp_path)
    con = connect(loc)
    try:
        con.execute("update staging.counties set prefecture_code = '6528' where county_code = ?", [G1])
        with transaction(con):
            refresh.refresh(con)
    finally:
        con.close()
    con = open_db(loc)
    try:
        ranks = {c: (p, r) for c, p, r in con.execute(
            "select county_code, prefecture_code, progress_rank from marts.progress_county where plan_year = 2025").fetchall()}
        # 广嘉县 carries 轮台县's figures: ranked with it, among 巴州's; 吉达县 alone in 9002
        assert ranks[G1] == ranks[LT] and ranks[G1][0] == "6528" and ranks[G2] == ("9002", 1)
        assert sorted(r for p, r in ranks.values() if p == "6528") == [1, 2, 3, 3]
        assert con.execute("""select prefecture_code, count_units from marts.bulletin_prefecture
                              where plan_year = 2025 and report_month = '2025-03-01' order by all""").fetchall() == \
            [("6528", 4), ("9002", 1)]
        plans = dict(con.execute("""select county_code, count_plan_communities from marts.progress_monthly
                                    where plan_year = 2025 and report_month = '2025-03-01'""").fetchall())
    finally:
        con.close()
    for name, value in env(loc).items():
        monkeypatch.setenv(name, value)
    connection.clear_caches()
    try:
        admin = Scope("admin")
        assert filters.units(admin, "9002")["county_code"].to_list() == [G2]
        assert G1 in filters.units(admin, "6528")["county_code"].to_list()
        by_month = progress.progress_by_month(admin, 2025, None, "6528")
        march = by_month.filter(by_month["report_month"] == dt.date(2025, 3, 1))["count_plan_communities"].item()
        assert march == sum(plans[c] for c in (KRL, LT, YL, G1) if c in plans)
    finally:
        connection.close_connection()
        connection.clear_caches()


# --- the other pages: 风险线索, 线索统计, 年度体检, 数据质量, 数据上报 scoped by the prefecture chosen ---------------

def _page(page: str, user: str, prefecture: str, **state) -> AppTest:
    at = _app(user)
    at.switch_page(f"app_pages/{page}.py").run()
    for key, value in state.items():
        at.session_state[key] = value
    _select(at, "州").set_value(prefecture).run()
    assert not at.exception
    return at


def _frame(at: AppTest, *columns: str):
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def _counties_shown(at: AppTest, *columns: str) -> set[str]:
    """The county names of the table with ``columns`` (none when the table is empty: a caption says so)."""
    frames = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    return {n for f in frames for n in f["county_name"].dropna()}


def _rows(loc, sql: str, params=()):
    con = open_db(loc)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_risk_page_lists_and_ranks_the_chosen_prefectures_units(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = _page("risk", "auditor1", "9002", risk_span="全部年度")
    expected = _rows(province, "select count(*) from marts.signals where county_code in (?, ?)", (G1, G2))[0][0]
    assert expected, "the copies of 轮台县's and 尉犁县's files raise signals of their own"
    assert _metric(at, "线索总数") == f"{expected} 条"
    ranking = _frame(at, "risk_rank", "community_name")
    assert ranking.shape[0] and set(ranking["county_name"]) <= {"广嘉县", "吉达县"}
    ranks = sorted(int(r) for r in ranking["risk_rank"])
    assert ranks[0] == 1 and ranks[-1] <= len(ranks)
    counties = _frame(at, "risk_rank", "count_communities")
    assert sorted(counties["county_name"]) == sorted(
        n for (n,) in _rows(province, "select county_name from marts.risk_counties where county_code in (?, ?)", (G1, G2)))
    assert sorted(int(r) for r in counties["risk_rank"])[0] == 1
    assert max(int(r) for r in counties["risk_rank"]) <= counties.shape[0]
    # the export: the list shown, the prefecture named in its filters (the 说明 sheet and the CSV's note)
    at.session_state["risk_tab"] = "导出"
    at.run()
    text = " ".join(m.value for m in at.markdown)
    assert "州 州 9002" in text and f"线索条数**:{expected}" in text


def test_the_signal_reads_and_counts_take_the_prefecture(province, monkeypatch, tmp_path):
    from pipelines.access.scope import Scope
    from pipelines.read import audit, connection

    _use(province, monkeypatch, tmp_path)
    connection.clear_caches()
    try:
        admin = Scope("admin")
        sig = audit.signals(admin, None, None, "9002")
        assert sig.height and set(sig["county_code"]) <= {G1, G2}
        assert set(audit.signals(admin, None, None, "6528")["county_code"]) <= {KRL, LT, YL}
        counts = audit.signal_counts(Scope("leader"), None, "9002")
        assert set(counts["county_name"]) <= {"广嘉县", "吉达县"} and counts["count_signals"].sum() == sig.height
        ranking = audit.risk_ranking(admin, None, None, "9002")
        assert ranking.height and set(ranking["county_name"]) <= {"广嘉县", "吉达县"}
        assert sorted(ranking["risk_rank"])[0] == 1
    finally:
        connection.close_connection()
        connection.clear_caches()


def test_the_scores_page_ranks_the_chosen_prefectures_units(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = _page("annual", "eval1", "9002")
    totals = _frame(at, "rank_text", "county")
    assert sorted(totals["county"]) == ["吉达县", "广嘉县"]
    assert sorted(int(r.split("(")[0]) for r in totals["rank_text"])[0] == 1
    # the prefecture scored as one unit sums every unit of the warehouse: not shown for one prefecture of two
    assert not any(m.label == "全州整体得分" for m in at.metric)
    assert _metric(at, "参评县市") == "2 个"
    # the matrix of points lost (below the chart tabs) names the two units only
    matrix = _frame(at, "县市")
    assert sorted(matrix["县市"]) == ["吉达县", "广嘉县"]
    # one unit: its rank among the prefecture's two
    _select(at, "县市").set_value(G1).run()
    assert _metric(at, "全州排名").endswith("/ 2")


def test_the_score_reads_and_exports_take_the_prefecture(province, monkeypatch, tmp_path):
    from pipelines.access.scope import Scope
    from pipelines.read import connection
    from pipelines.read import scores as qs

    _use(province, monkeypatch, tmp_path)
    connection.clear_caches()
    try:
        ev = Scope("evaluator")
        year = qs.score_years(ev, "annual")[0]
        whole = qs.whatif_subsidy(ev, year)
        mine = qs.whatif_subsidy(ev, year, "9002")
        assert sorted(mine["county_name"]) == ["吉达县", "广嘉县"] and whole.height > mine.height
        # the prefecture's pool is split among its own units: the changes add up to nothing
        assert abs(mine["change_wan_yuan"].sum()) < 1e-6
        assert abs(mine["share_wan_yuan"].sum() - mine["base_share_wan_yuan"].sum()) < 1e-6
        assert qs.whatif_subsidy(Scope("clerk", LT), year, "9002").is_empty()   # a clerk: nothing
        csv = Scope("admin")
        text = qs.scores_csv_bytes(csv, year, "annual", "9002").decode("utf-8-sig")
        assert "广嘉县" in text and "吉达县" in text and "轮台县" not in text and "库尔勒市" not in text
        assert "轮台县" in qs.scores_csv_bytes(csv, year, "annual").decode("utf-8-sig")
    finally:
        connection.close_connection()
        connection.clear_caches()


def test_the_whatif_mart_holds_each_prefectures_pool_and_the_page_only_reads_it(province, monkeypatch, tmp_path):
    """Pages read marts, they do not recompute: the refresh splits the pool of every unit of the
    warehouse ('all') and each prefecture's among its own units; the read of one prefecture filters the mart."""
    from pipelines.access.scope import Scope
    from pipelines.read import connection
    from pipelines.read import scores as qs
    from pipelines.scoring import load_scheme, whatif

    rows = _rows(province, """select pool, county_code, year, central_subsidy_wan_yuan, score, share_wan_yuan,
                                     change_wan_yuan from marts.whatif_subsidy order by all""")
    assert sorted({r[0] for r in rows}) == ["6528", "9002", "all"]
    share = load_scheme().performance_share
    years = sorted({r[2] for r in rows})
    for y in years:
        of = {p: {r[1]: r for r in rows if r[0] == p and r[2] == y} for p in ("all", "6528", "9002")}
        assert set(of["all"]) == set(of["6528"]) | set(of["9002"]) and not set(of["6528"]) & set(of["9002"])
        assert set(of["9002"]) <= {G1, G2} and set(of["6528"]) <= {KRL, LT, YL}
        for p in ("6528", "9002"):   # each prefecture's split: the formula over its own units only
            expected = whatif.split_performance_share({c: r[3] for c, r in of[p].items()},
                                                      {c: r[4] for c, r in of[p].items()}, share)
            assert [v for x in expected for v in (x.share_wan_yuan, x.change_wan_yuan)] == \
                pytest.approx([v for x in expected for v in of[p][x.county_code][5:7]])

    def no_split(*args, **kwargs):
        raise AssertionError("the what-if split is recomputed at read time")

    monkeypatch.setattr(whatif, "split_performance_share", no_split)
    _use(province, monkeypatch, tmp_path)
    connection.clear_caches()
    try:
        ev = Scope("evaluator")
        for y in years:
            for p in ("9002", "6528", None):
                got = qs.whatif_subsidy(ev, y, p)
                want = [(r[3], r[4], r[5], r[6]) for r in rows if r[0] == (p or "all") and r[2] == y]
                assert sorted(got.select("central_subsidy_wan_yuan", "score", "share_wan_yuan",
                                         "change_wan_yuan").rows(), key=str) == sorted(want, key=str)
    finally:
        connection.close_connection()
        connection.clear_caches()


def test_the_annual_report_reads_the_whatif_split_of_every_unit_once(province):
    """The mart holds each prefecture's pool beside the whole warehouse's: the report reads the latter, one
    row per county with central subsidy, not one per pool."""
    from pipelines.report.collect import collect

    year = _rows(province, "select max(year) from marts.whatif_subsidy")[0][0]
    expected = _rows(province, """select county_name, central_subsidy_wan_yuan, base_share_wan_yuan, score,
                                         share_wan_yuan, change_wan_yuan from marts.whatif_subsidy
                                  where year = ? and pool = 'all' order by sort_order""", [year])
    assert _rows(province, "select count(*) from marts.whatif_subsidy where year = ?", [year])[0][0] == 2 * len(expected)
    con = open_db(province)
    try:
        got = collect(con, year).whatif
    finally:
        con.close()
    names = [r[0] for r in got]
    assert [tuple(r) for r in got] == expected and len(names) == len(set(names))
    assert {"广嘉县", "吉达县", "轮台县"} <= set(names)


def test_a_whatif_mart_of_an_earlier_version_is_rebuilt_with_its_pools(province, tmp_path):
    """A warehouse of the version before the pools holds marts.whatif_subsidy without ``pool`` (the whole
    warehouse's split only): it is stale for that reason, and the refresh before serve or an export makes
    the table again as declared, with every pool."""
    from pipelines import refresh
    from pipelines.operations import ensure_fresh

    loc = copy_of(province, tmp_path)
    con = connect(loc)
    try:
        con.execute("delete from marts.whatif_subsidy where pool <> 'all'")
        con.execute("alter table marts.whatif_subsidy drop column pool")
        con.execute("checkpoint")
    finally:
        con.close()
    con = open_db(loc)
    try:
        assert any("marts.whatif_subsidy" in r for r in refresh.stale_reasons(con))
    finally:
        con.close()
    assert ensure_fresh(loc if loc.is_lake else loc.file, "看板", before="启动看板")
    con = open_db(loc)
    try:
        assert refresh.stale_reasons(con) == []
        cols = [r[0] for r in con.execute("select * from marts.whatif_subsidy limit 0").description]
        assert cols[0] == "pool"
        assert con.execute("select list(distinct pool order by pool) from marts.whatif_subsidy").fetchone()[0] == \
            ["6528", "9002", "all"]
    finally:
        con.close()


def test_the_quality_page_counts_the_chosen_prefectures_files(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = _page("quality", "admin1", "9002")
    # raw.ingest_log holds no line for the copies: left are the files refused before their county was known
    (files,) = _rows(province, """select count(distinct coalesce(file_hash, file_path)) from raw.ingest_log
                                  where county_code is null or county_code in (?, ?)""", (G1, G2))[0]
    (every,) = _rows(province, "select count(distinct coalesce(file_hash, file_path)) from raw.ingest_log")[0]
    assert files < every
    assert _metric(at, "导入文件") == f"{files} 个"
    at.session_state["quality_tab"] = "隔离行与问题"
    at.run()
    # raw.row_issues holds none of the copies' files either: 巴州's refused rows are not listed under 9002
    assert not _counties_shown(at, "file_name", "issue") & {"库尔勒市", "轮台县", "尉犁县"}
    _select(at, "州").set_value("6528").run()
    assert _counties_shown(at, "file_name", "issue") & {"库尔勒市", "轮台县", "尉犁县"}


def test_the_upload_page_lists_the_chosen_prefectures_submissions(province, monkeypatch, tmp_path):
    _use(province, monkeypatch, tmp_path)
    at = _page("upload", "admin1", "9002")
    history = _frame(at, "file_name", "submission_rank")
    assert sorted(set(history["county_name"])) == ["吉达县", "广嘉县"]
    clock = _frame(at, "latest_report_month", "count_months_behind")
    assert sorted(clock["county_name"]) == ["吉达县", "广嘉县"]
    missing = [d.value for d in at.dataframe if "问题" in d.value.columns]
    assert all(set(m["county_name"]) <= {"吉达县", "广嘉县"} for m in missing)
    at.session_state["upload_records_tab"] = "导入日志(含拒收与重复)"
    at.run()
    assert not _counties_shown(at, "batch_id", "status") & {"库尔勒市", "轮台县", "尉犁县"}
    _select(at, "州").set_value("6528").run()
    assert _counties_shown(at, "batch_id", "status") & {"库尔勒市", "轮台县", "尉犁县"}
