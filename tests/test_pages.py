"""Every dashboard page through Streamlit's AppTest, on the literal-row warehouse of pages_fixtures.

The app uses st.navigation over app_pages/; AppTest runs dashboard.py and switches pages by file,
so the global filters of the sidebar hold across pages as they do in a browser. Assertions are
on what the user sees: headers, KPI cards, notices, tables.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from backends import LAKE, copy_of, env, new_location, open_db
from access_helpers import PAGE_ROLE, login, make_users
from pages_fixtures import EXPECTED, LT, build_warehouse

from pipelines.backend import Location

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("progress", "bulletin", "risk", "annual", "biennial", "upload", "quality")


pytestmark = pytest.mark.warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Location:
    return build_warehouse(new_location(tmp_path_factory.mktemp("pages"), "pages.duckdb"))


@pytest.fixture
def db(warehouse, tmp_path, monkeypatch, request) -> Location:
    """A copy of the literal-row warehouse per test, so that writes (uploads, verdicts) stay local.
    On DuckLake (where a copy costs seconds) the tests that only read share the module's warehouse."""
    loc = copy_of(warehouse, tmp_path) if not LAKE or "writes" in request.keywords else warehouse
    for name, value in env(loc).items():
        monkeypatch.setenv(name, value)
    if LAKE:  # the access store of a DuckLake is not beside a file: one per test
        monkeypatch.setenv("RENOVATION_ACCESS_DB", str(tmp_path / "access.sqlite"))
    make_users(loc)
    return loc


def app(user: str = "admin1") -> AppTest:
    """The dashboard, logged in as ``user`` through its log-in page (tests/access_helpers.py)."""
    import os

    make_users(os.environ["RENOVATION_DB"])
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    return login(at, user)


def press(at: AppTest, label: str) -> AppTest:
    """Click the button (or form submit button) with this label in the page's main area."""
    next(b for b in at.main.button if b.label == label).click()
    return at.run()


def open_page(at: AppTest, page: str) -> AppTest:
    return at.switch_page(f"app_pages/{page}.py").run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def deltas(at: AppTest) -> dict[str, str]:
    return {m.label: m.delta for m in at.metric}


def texts(at: AppTest) -> str:
    parts = [x.value for x in at.markdown] + [x.body for x in at.warning] + [x.body for x in at.info] + \
            [x.body for x in at.success] + [x.value for x in at.caption] + [x.body for x in at.error]
    return "\n".join(str(p) for p in parts)


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.body for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_chinese_without_exception(db, page):
    at = open_page(app(PAGE_ROLE[page]), page)
    no_errors(at)
    assert at.header, "a page starts with its header"
    title = at.header[0].value
    assert {"progress": "进度总览", "bulletin": "月度通报", "risk": "风险线索", "annual": "年度体检", "biennial": "两年评估",
            "upload": "数据上报", "quality": "数据质量"}[page] in title
    assert "2025" in title or page in ("upload", "quality")


def test_progress_kpis_are_the_hand_worked_figures(db):
    at = app()  # the default page is 进度总览, year defaults to the year of the latest report (2025)
    no_errors(at)
    m, d = metrics(at), deltas(at)
    assert m["计划改造小区"] == f"{EXPECTED['plan_communities']} 个"
    assert m["已开工小区"] == f"{EXPECTED['started_communities']} 个"
    assert d["已开工小区"] == f"开工率 {EXPECTED['pct_started']}%"
    assert m["已完工小区"] == f"{EXPECTED['completed_communities']} 个"
    assert m["计划改造户数"] == f"{EXPECTED['plan_households']} 户"
    assert m["已开工户数"] == f"{EXPECTED['started_households']} 户"
    assert m["已完工户数"] == f"{EXPECTED['completed_households']} 户"
    assert m["累计完成投资"] == f"{EXPECTED['invest_done']:,.1f} 万元"
    assert f"{EXPECTED['plan_invest']:,.0f} 万元" in d["累计完成投资"]
    assert m["累计拨付资金"] == f"{EXPECTED['paid']:,.1f} 万元"
    assert d["累计拨付资金"] == f"占计划总投资 {EXPECTED['pct_paid_of_plan']}%"
    assert f"数据截至 {EXPECTED['as_of']}" in texts(at)


def progress_tab(at: AppTest, tab: str) -> AppTest:
    """The progress page's tabs are lazy (only the chosen one runs): choose ``tab``."""
    at.session_state["progress_tab"] = tab
    return at.run()


def test_progress_names_the_lagging_units_and_the_2025_projection(db):
    at = app()
    assert [t.label for t in at.tabs] == ["县市排名", "逐月进度", "五年目标"]
    warning = " ".join(w.body for w in at.warning)
    for name in EXPECTED["lagging"]:
        assert name in warning
    for name in set(EXPECTED["ranking"]) - set(EXPECTED["lagging"]):
        assert name not in warning
    assert "累计完工" not in texts(at)  # the goal's tab has not run
    t = texts(progress_tab(at, "五年目标"))
    assert f"累计完工 **{EXPECTED['goal_completed']} 户**" in t
    assert f"{EXPECTED['goal_households']:,} 户" in t
    assert f"**{EXPECTED['goal_projected']} 户**" in t
    assert "无法按期完成" in t  # 385 of 1220 households


def test_progress_ranking_table_is_in_rank_order(db):
    at = app()
    table = at.dataframe[0].value
    assert list(table["county_name"]) == EXPECTED["ranking"]
    # the compact table shows the status (the bulletin's tiers: 落后 is 严重滞后 or 滞后)
    assert set(table["tier"]) <= {"严重滞后", "滞后", "正常", "—"}
    assert [t in ("严重滞后", "滞后") for t in table["tier"]] == [n in EXPECTED["lagging"] for n in EXPECTED["ranking"]]


def test_progress_charts_are_drawn(db):
    at = app()
    shown = {}
    for tab in ("县市排名", "逐月进度", "五年目标"):  # only the chosen tab's two charts are drawn
        charts = progress_tab(at, tab).get("plotly_chart")
        shown[tab] = " ".join(json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in charts)
        assert len(charts) == 2, tab
    assert "县城位置" in shown["县市排名"] and "各县市综合进度排名" in shown["县市排名"]
    assert "按计划应开工" in shown["逐月进度"]
    assert "全国" in shown["五年目标"] and "按近12个月速度预测" in shown["五年目标"]


def test_unit_filter_holds_across_pages(db):
    at = app()
    at.sidebar.selectbox(key="filter_unit").set_value(LT).run()
    m = metrics(at)
    # 轮台县 plans 团结小区 and 胜利小区; 团结小区 started in March
    assert m["计划改造小区"] == "2 个" and m["已开工小区"] == "1 个"
    for page in ("upload", "annual", "quality", "progress"):
        at = open_page(at, page)
        no_errors(at)
        assert "轮台县" in at.header[0].value
    assert at.session_state["filter_unit"] == LT


def test_a_link_carries_the_filters(db):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.query_params["year"] = "2024"
    at.query_params["unit"] = "652801"
    at.run()
    at = login(at, "admin1")
    no_errors(at)
    assert at.header[0].value == "进度总览 · 2024 年度计划 · 库尔勒市"
    at.sidebar.selectbox(key="filter_unit").set_value(LT).run()
    assert at.query_params["unit"] == LT and at.query_params["year"] == "2024"


def test_year_filter_changes_the_plan_shown(db):
    at = app()
    at.sidebar.selectbox(key="filter_year").set_value(2024).run()
    m = metrics(at)
    # 2024: 库尔勒市 石化大院 only, 120 households, completed 2024-10-20
    assert m["计划改造小区"] == "1 个" and m["已完工户数"] == "120 户"
    assert "2024 年度计划" in at.header[0].value


def test_risk_page_lists_the_signals_of_the_year_with_evidence_and_export(db):
    con = open_db(db)
    n_year = con.execute(
        "select count(*) from marts.signals where plan_year = 2025 or (plan_year is null and period like '2025-%')"
    ).fetchone()[0]
    high = con.execute("select count(*) from marts.signals where severity = 'high' and plan_year = 2025").fetchone()[0]
    con.close()
    assert n_year > 0, "the fixture trips signals: a late and two missing reports at least"
    at = open_page(app(), "risk")
    no_errors(at)
    m = metrics(at)
    assert m["线索总数"] == f"{n_year} 条"
    assert m["高风险线索"] == f"{high} 条"
    assert m["待核查"] == f"{n_year} 条"
    # lazy tabs: the first (the ranking) runs; the list and the export when chosen
    assert "**证据**" not in texts(at) and not at.get("plotly_chart")
    at = risk_tab(at, "线索清单与核查")
    # drill-down: the first signal's evidence is shown
    assert "**证据**" in texts(at)
    at = risk_tab(at, "导出")
    labels = [b.label for b in at.get("download_button")]
    assert any("CSV" in x for x in labels) and any("Excel" in x for x in labels)
    # the export is stamped with the filters and the as-of month
    assert "数据截至" in texts(at) and "县市 全州" in texts(at)


def test_risk_filters_narrow_the_list(db):
    at = open_page(app(), "risk")
    rule = at.multiselect[0].options[0]
    at.multiselect[0].set_value([rule]).run()
    shown = int(metrics(at)["线索总数"].split()[0])
    con = open_db(db)
    expected = con.execute(
        """select count(*) from marts.signals s join marts.signal_rules r using (rule)
           where r.label = ? and (s.plan_year = 2025 or (s.plan_year is null and s.period like '2025-%'))""", [rule]
    ).fetchone()[0]
    con.close()
    assert shown == expected


def risk_tab(at: AppTest, tab: str) -> AppTest:
    """The risk page's tabs are lazy (only the chosen one runs): choose ``tab``."""
    at.session_state["risk_tab"] = tab
    return at.run()


@pytest.mark.writes
def test_a_verdict_is_written_under_the_auditors_account_and_a_high_one_waits_for_review(db):
    at = risk_tab(open_page(app("auditor1"), "risk"), "线索清单与核查")
    before = int(metrics(at)["待核查"].split()[0])
    sid = at.session_state["risk_signal"]
    severity = _rows(db, "select severity from marts.signals where signal_id = ?", [sid])[0][0]
    assert not any(t.label == "核查人" for t in at.text_input), "no free-text reviewer field"
    next(r for r in at.main.radio if r.label == "结论").set_value("已排除")
    next(t for t in at.main.text_area if t.label == "说明").set_value("台账漏登,已现场核实")
    at = press(at, "保存结论")
    no_errors(at)
    assert _rows(db, "select decided_by, verdict, needs_review from raw.verdicts") == [
        ("auditor1", "已排除", severity == "high")]
    assert int(metrics(at)["待核查"].split()[0]) == before - 1
    if severity == "high":  # the first signal of the list is a high one in this fixture
        assert any("已保存:已排除(待复核)" in s.body for s in at.success)
        assert "待复核" in " ".join(t.value for t in at.main.text) and "审计局张科长" in " ".join(t.value for t in at.main.text)
        # the proposer cannot review their own verdict
        assert not any(b.label == "同意(复核通过)" for b in at.main.button)
        at2 = risk_tab(open_page(app("auditor2"), "risk"), "线索清单与核查")
        at2.selectbox(key="risk_signal").set_value(sid).run()
        at2 = press(at2, "同意(复核通过)")
        no_errors(at2)
        assert _rows(db, "select verdict, verdict_in_force, reviewed_by from marts.verdict_current where signal_id = ?",
                     [sid]) == [("已排除", "已排除", "审计局李审计(auditor2)")]


@pytest.mark.writes
def test_a_review_answers_the_proposal_the_reviewer_saw_not_one_made_since(db):
    """Two auditors at once: the reviewer's page shows one proposal; before the click, its proposer
    replaces it with another. The click must not confirm a verdict the reviewer never saw: it is
    refused with a message naming the new proposal, which the next click may then review."""
    from pipelines.access.auth import SessionUser
    from pipelines.read import actions

    sid = _rows(db, "select signal_id from marts.signals where severity = 'high' order by signal_id limit 1")[0][0]
    proposer = SessionUser("auditor1", "审计局张科长", "auditor", None)
    actions.write_verdict(proposer, sid, "已排除", "拟排除")
    at = risk_tab(open_page(app("auditor2"), "risk"), "线索清单与核查")
    at.selectbox(key="risk_signal").set_value(sid).run()
    no_errors(at)
    assert any("同意后「已排除」生效" in c.value for c in at.main.caption)
    actions.write_verdict(proposer, sid, "已确认", "改为确认")  # meanwhile, in another session
    at = press(at, "同意(复核通过)")
    assert not at.exception
    assert any("已有变动" in e.body and "「已确认」" in e.body for e in at.error), [e.body for e in at.error]
    assert _rows(db, "select count(*) from raw.verdicts where act = 'review'")[0][0] == 0
    assert _rows(db, "select status, proposed_verdict from marts.verdict_current where signal_id = ?", [sid]) == [
        ("待复核", "已确认")]
    # the page now shows the new proposal: a click reviews that one
    assert any("同意后「已确认」生效" in c.value for c in at.main.caption)
    at = press(at, "同意(复核通过)")
    no_errors(at)
    assert _rows(db, "select verdict, decided_by, review_outcome from raw.verdicts where act = 'review'") == [
        ("已确认", "auditor2", "confirm")]


@pytest.mark.writes
def test_only_auditors_record_verdicts(db):
    from pipelines.access.auth import SessionUser
    from pipelines.access.scope import Forbidden
    from pipelines.read import actions

    at = risk_tab(open_page(app("admin1"), "risk"), "线索清单与核查")  # the admin sees the signals but gives no verdict
    no_errors(at)
    assert not any(b.label == "保存结论" for b in at.main.button)
    sid = at.session_state["risk_signal"]
    for role in ("admin", "leader", "evaluator"):
        with pytest.raises(Forbidden):
            actions.write_verdict(SessionUser("x", "x", role, None), sid, "已确认", "")
    assert _rows(db, "select count(*) from raw.verdicts")[0][0] == 0


@pytest.mark.parametrize("kind,page", [("annual", "annual"), ("biennial", "biennial")])
def test_scores_pages_show_the_grades_of_the_mart(db, kind, page):
    con = open_db(db)
    rows = con.execute(
        "select county_name, points, grade from marts.scores where kind = ? and year = 2025 and indicator = 'total'",
        [kind]).fetchall()
    con.close()
    assert rows
    at = open_page(app(), page)
    no_errors(at)
    m = metrics(at)
    for g in ("优秀", "良好", "合格", "差"):
        assert m[g] == f"{sum(1 for r in rows if r[2] == g)} 个"
    table = at.dataframe[0].value
    assert sorted(zip(table["county"], table["grade"])) == sorted((r[0], r[2]) for r in rows)
    assert any("scores.csv" in b.label for b in at.get("download_button"))
    if kind == "annual":  # the prefecture as one unit, and the subsidy what-if of the scoring work
        con = open_db(db)
        pref = con.execute("select points from marts.scores_prefecture where year = 2025 and indicator = 'total'").fetchone()
        con.close()
        assert m["全州整体得分"] == f"{pref[0]:.2f} 分"
        assert any("按体检得分分配" in e.label for e in at.expander)


def test_annual_page_for_one_unit_shows_where_it_lost_points(db):
    con = open_db(db)
    total, grade = con.execute(
        "select points, grade from marts.scores where kind='annual' and year=2025 and indicator='total' and county_code=?",
        [LT]).fetchone()
    worst = con.execute(
        """select indicator_name from marts.scores where kind='annual' and year=2025 and county_code=? and indicator<>'total'
           and is_applicable order by max_points - points desc limit 1""", [LT]).fetchone()[0]
    con.close()
    at = app()
    at.sidebar.selectbox(key="filter_unit").set_value(LT).run()
    at = open_page(at, "annual")
    no_errors(at)
    m = metrics(at)
    assert m["轮台县 总分"] == f"{total:.2f} 分"
    assert m["等级"] == grade
    assert worst in m["失分最多"]


def test_upload_page_shows_missing_and_late_reports(db):
    at = open_page(app("admin1"), "upload")
    no_errors(at)
    m = metrics(at)
    # 2025: three units × months 1–3 = 9 reports due; 尉犁县 misses 2 and 3; 轮台县 2025-02 was late
    assert m["应报月报"] == "9 期" and m["缺报"] == "2 期" and m["迟报"] == "1 期"
    problems = at.dataframe[1].value
    assert sorted(zip(problems["county_name"], problems["report_month"])) == sorted(EXPECTED["late"] + EXPECTED["missing"])
    history = at.dataframe[2].value
    assert "轮台县月报2025-02.xlsx" in set(history["file_name"])
    assert len(at.dataframe) == 3  # the log's tab is lazy: drawn when chosen
    at.session_state["upload_records_tab"] = "导入日志(含拒收与重复)"
    at.run()
    no_errors(at)
    log = at.dataframe[2].value
    assert "已拒收" in set(log["status"]) and "已存在(重复文件)" in set(log["status"])


def test_the_data_clock_is_shown_with_every_units_newest_month(db):
    # the newest 填报日期 of all files is 2025-04-08 (库尔勒市's corrected March report): March's deadline
    # (04-05) has passed, so March 2025 is the latest due month
    at = app()
    no_errors(at)
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "数据截至 2025-04-08" in sidebar and "应报至 2025-03" in sidebar
    at = open_page(at, "upload")
    no_errors(at)
    clock = at.dataframe[0].value
    newest = dict(zip(clock["county_name"], clock["latest_report_month"].astype(str).str[:7]))
    # every unit is listed, with the newest month it has reported (none for the seven without reports)
    assert len(newest) == 10
    assert (newest["库尔勒市"], newest["轮台县"], newest["尉犁县"]) == ("2025-03", "2025-03", "2025-01")
    behind = dict(zip(clock["county_name"], clock["count_months_behind"]))
    assert behind["尉犁县"] == "2" and behind["库尔勒市"] == ""  # blank (not "None"): up to date
    assert "次月 5 日" in texts(at)


MONTHLY_CSV = (
    "县市,报告期,填报日期,计划年度,小区名称,户数,计划总投资,形象进度,累计完成投资,累计拨付资金,开工日期\n"
    "尉犁县,2025-02,2025-03-03,2025,罗布小区,80,160,50,90,60,2025-01-10\n"
)


@pytest.mark.writes
def test_an_upload_shows_its_per_file_result(db):
    at = open_page(app("clerk_yl"), "upload")
    at.file_uploader[0].set_value([
        ("尉犁县月报2025-02.csv", MONTHLY_CSV.encode("utf-8"), "text/csv"),
        ("损坏的文件.xlsx", b"this is not a workbook", "application/octet-stream"),
    ])
    at = press(at, "开始导入")
    no_errors(at)
    table = at.dataframe[0].value
    status = dict(zip(table["文件"], table["状态"]))
    assert status["尉犁县月报2025-02.csv"] == "已入库"
    assert status["损坏的文件.xlsx"] == "已拒收"
    assert any("已入库 1 个" in s.value for s in at.subheader)
    assert any("损坏的文件.xlsx" in e.label.replace("\\", "") for e in at.expander)  # the label is Markdown-escaped
    # the new report is in the warehouse and the page no longer counts it missing
    m = metrics(at)
    assert m["缺报"] == "1 期"
    # the same file again is recognised
    at.file_uploader[0].set_value([("尉犁县月报2025-02.csv", MONTHLY_CSV.encode("utf-8"), "text/csv")])
    at = press(at, "开始导入")
    table = at.dataframe[0].value
    assert list(table["状态"]) == ["已存在(重复文件)"]


def test_quality_page_shows_validation_and_row_issues(db):
    at = open_page(app(), "quality")
    no_errors(at)
    m = metrics(at)
    # files by content: 16 accepted + 1 rejected; the duplicate upload of file 9 is the same file (18 attempts)
    assert m["导入文件"] == "17 个" and m["拒收文件"] == "1 个"
    assert deltas(at)["导入文件"] == "另有重复上传 1 次"
    assert m["隔离行"] == "1 行" and m["数据问题提示"] == "1 条"
    assert m["未通过的校验"] == "1 项"
    failed = at.dataframe[1].value
    assert list(failed["description"]) == ["累计拨付资金不超过计划总投资"]


def test_quality_page_renders_each_batch_in_chinese_without_gx_html(db):
    at = open_page(app(), "quality")
    no_errors(at)
    assert not any(s.label.startswith("校验批次") for s in at.selectbox)  # lazy tabs: the batch tab has not run
    at.session_state["quality_tab"] = "校验明细(按批次)"
    at.run()
    assert not at.get("iframe")  # GX's HTML (scripts from CDNs, English) is no longer embedded
    batch = next(s for s in at.selectbox if s.label.startswith("校验批次"))
    assert batch.value == "batch-1"
    t = texts(at)
    assert "**月报**:2 项校验,1 项未通过" in t and "**计划**:1 项校验,全部通过" in t
    monthly = next(d.value for d in at.dataframe if "result" in d.value.columns)
    assert list(monthly["result"]) == ["未通过", "通过"]
    # the column validated, by its Chinese header
    assert list(monthly["field"]) == ["累计拨付资金", "形象进度"]
    # the batch's quarantined row and finding, with file, sheet, row and column
    assert "**本批被隔离的行与数据问题**:2 条" in t


@pytest.mark.parametrize("page", PAGES)
def test_a_missing_warehouse_gives_a_notice_not_a_trace(tmp_path, monkeypatch, page):
    # a file that is not there; a DuckLake whose catalog server does not answer
    missing = "ducklake:postgres:host=127.0.0.1 port=9 dbname=nowhere connect_timeout=2" if LAKE else tmp_path / "nowhere.duckdb"
    monkeypatch.setenv("RENOVATION_DB", str(missing))
    monkeypatch.setenv("RENOVATION_ACCESS_DB", str(tmp_path / "access.sqlite"))
    at = open_page(app(PAGE_ROLE[page]), page)
    assert not at.exception
    assert "Traceback" not in texts(at)
    assert at.info or at.error


def test_an_empty_warehouse_says_what_to_do(tmp_path, monkeypatch):
    from pipelines.warehouse import connect

    loc = new_location(tmp_path, "empty.duckdb")
    connect(loc).close()
    for name, value in env(loc).items():
        monkeypatch.setenv(name, value)
    at = app()
    assert not at.exception
    assert any("还没有年度计划数据" in i.body for i in at.info)
    for page in ("risk", "annual", "upload", "quality"):
        at = open_page(app(PAGE_ROLE[page]), page)
        assert not at.exception, page


@pytest.mark.skipif(LAKE, reason="a damaged embedded file")
def test_a_broken_warehouse_file_gives_a_chinese_error(tmp_path, monkeypatch):
    path = tmp_path / "broken.duckdb"
    path.write_bytes(b"not a database" * 100)
    monkeypatch.setenv("RENOVATION_DB", str(path))
    at = app()
    assert not at.exception
    assert at.info or at.error
    assert all("Traceback" not in x for x in [e.body for e in at.error])


def test_charts_keep_one_colour_per_unit():
    from pipelines import charts

    colours = [charts.unit_color(c) for c in ("652801", "652822", "652823", "652824", "652825",
                                               "652826", "652827", "652828", "652829", "652871")]
    assert len(set(colours)) == 10
    assert charts.unit_color("轮台县") == charts.unit_color("652822")
    assert charts.unit_color("全州") == charts.PREFECTURE_COLOR


def test_signal_exports_escape_formulas_and_carry_the_bom():
    from pipelines.read import exports as queries

    df = pl.DataFrame({
        "rule": ["NOT_IN_LEDGER"], "severity": ["high"], "county_name": ["轮台县"], "plan_year": [2025],
        "period": [None], "community_name": ["=HYPERLINK(\"x\")"], "score": [1.0], "evidence": ["+计划 1 行"],
        "verdict": ["待核查"], "verdict_note": [None],
    })
    text = queries.signals_csv_bytes(df).decode("utf-8")
    assert text.startswith("\ufeff规则,严重程度,县市,计划年度,期间,小区名称,强度,证据,核查结论,核查说明,核查人,复核人,核查时间,规则代码")
    assert ",高," in text and "high" not in text
    assert "'=HYPERLINK" in text and "'+计划" in text
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(queries.signals_xlsx_bytes(df, [("筛选条件", "=1+1")], None)))
    assert wb.sheetnames == ["风险线索", "说明"]
    assert wb["风险线索"]["F2"].value == "'=HYPERLINK(\"x\")"
    assert wb["说明"]["B1"].value == "'=1+1"
    thresholds = pl.DataFrame({"key": ["INFLATED_SCALE.pct_over"], "value": [0.1], "version": ["v1"]})
    rules = pl.DataFrame({"rule": ["INFLATED_SCALE"], "label": ["规模虚报"], "severity": ["high"], "description": ["超过 10%"]})
    note = queries.signals_stamp_text([("数据截至", "2025年3月")], thresholds, rules).decode("utf-8")
    assert note.startswith("\ufeff数据截至:2025年3月") and "规模虚报 · 超出比例 = 0.1(代码 INFLATED_SCALE.pct_over)" in note


# --- the progress marts, given/expect on the literal rows ---------------------------------------

def _rows(db: Location | Path, sql: str, params=None) -> list[tuple]:
    con = open_db(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_progress_county_rates_rank_and_lag(warehouse):
    got = _rows(warehouse, """
        select county_name, count_started_communities, pct_started_communities, pct_completed_households, pct_invest_done,
            pct_progress_index, progress_rank, is_lagging, pct_progress_index_prefecture
        from marts.progress_county where plan_year = 2025 order by progress_rank""")
    assert got == [
        # 尉犁县: 罗布小区 started (January state carries to March), none completed; 50 / 160 = 31.25%
        ("尉犁县", 1, 100.0, 0.0, 31.3, EXPECTED["index"][0], 1, False, EXPECTED["index_prefecture"]),
        # 库尔勒市: 幸福、团结 started of 3, 幸福 (100 of 600 households) completed; (190 + 170 + 0) / 1200 = 30.0%
        ("库尔勒市", 2, 66.7, 16.7, 30.0, EXPECTED["index"][1], 2, False, EXPECTED["index_prefecture"]),
        # 轮台县: 团结 started of 2, none completed; 15 / 400 = 3.75%: 1.8 points behind the plan's pace, not lagging
        ("轮台县", 1, 50.0, 0.0, 3.8, EXPECTED["index"][2], 3, False, EXPECTED["index_prefecture"]),
    ]


def test_progress_monthly_is_cumulative_against_the_schedule(warehouse):
    got = _rows(warehouse, """
        select strftime(report_month, '%m'), count_started_communities, count_completed_communities, count_due_start_communities
        from marts.progress_monthly where plan_year = 2025 and county_code = ? order by report_month""", ["652801"])
    # 库尔勒市: started 幸福 (Jan), 团结 (Feb 20); completed 幸福 (Mar 25);
    # scheduled starts 幸福 2025-02-01, 团结 2025-03-01, 建设局大院 2025-05-01
    assert got == [("01", 1, 0, 0), ("02", 2, 0, 1), ("03", 2, 1, 2)]


def test_trajectory_path_and_projection(warehouse):
    path = _rows(warehouse, """select sum(path_households), sum(target_households) from marts.progress_trajectory
                               where report_month = date '2025-03-01'""")[0]
    # 63 of the 72 months of 2020–2025 have passed by March 2025: 1220 × 63 / 72 = 1067.5
    assert path == (1067.5, 1220)
    krl = _rows(warehouse, """select completed_households, pace_households_per_month, months_to_goal, projected_households_goal
                              from marts.progress_projection where county_code = '652801'""")[0]
    # 120 (2024) + 100 (2025-03) = 220 completed; 220 over the 12 months since 2024-03; 9 months left: 220 + 165
    assert krl[0] == 220 and krl[1] == pytest.approx(220 / 12) and krl[2] == 9 and krl[3] == 385


def test_reporting_finds_missing_and_late(warehouse):
    got = _rows(warehouse, """select county_name, strftime(report_month, '%Y-%m'), has_report, is_late
                              from marts.progress_reporting where plan_year = 2025 and (is_late or not has_report)
                              order by 1, 2""")
    assert got == [("尉犁县", "2025-02", False, False), ("尉犁县", "2025-03", False, False), ("轮台县", "2025-02", True, True)]


def test_compare_shows_the_plan_row_beside_its_ledger_community():
    from pipelines.read.audit import _compare

    plan = pl.DataFrame({"plan_row_id": ["p1"], "community_id": ["c1"], "name": ["幸福小区(一期)"], "address": [None],
                         "build_year": [1997], "buildings": [8], "households": [412], "area_m2": [30000.0]})
    ledger = pl.DataFrame({"community_id": ["c1"], "name": ["幸福小区"], "address": ["人民路1号"], "build_year": [1995],
                           "buildings": [8], "households": [260], "area_m2": [20000.0]})
    got = {r["字段"]: (r["台账"], r["计划"], r["差异"]) for r in _compare(plan, ledger, "p1").iter_rows(named=True)}
    assert got["户数"] == ("260", "412", "+152(+58%)")  # 412 − 260 = 152; 152 / 260 = 58%
    assert got["建成年份"] == ("1995", "1997", "+2 年")
    assert got["楼栋数"][2] == "一致" and got["小区名称"][2] == "不同" and got["地址"] == ("人民路1号", "—", "")
    assert _compare(plan, ledger, None).is_empty()


@pytest.mark.writes
def test_an_upload_over_the_size_limit_is_refused_before_ingest(db, monkeypatch):
    from pipelines.read import actions

    monkeypatch.setattr(actions, "max_upload_bytes", lambda: 100)  # limits.toml says 50 MiB; 100 bytes here
    at = open_page(app("clerk_yl"), "upload")
    at.file_uploader[0].set_value([("尉犁县月报2025-02.csv", MONTHLY_CSV.encode("utf-8"), "text/csv")])
    at = press(at, "开始导入")
    no_errors(at)
    table = at.dataframe[0].value
    assert list(table["状态"]) == ["已拒收"] and "超过" in table["说明"][0]
    assert _rows(db, "select count(*) from raw.ingest_log where file_name like '尉犁县月报2025-02%'")[0][0] == 0


@pytest.mark.skipif(LAKE, reason="an embedded file made by the first upload (a DuckLake is made by its operator)")
def test_the_first_upload_creates_the_warehouse(tmp_path, monkeypatch):
    path = tmp_path / "new.duckdb"
    monkeypatch.setenv("RENOVATION_DB", str(path))
    at = open_page(app("clerk_yl"), "upload")
    assert not at.exception and any("不存在" in i.body for i in at.info)
    at.file_uploader[0].set_value([("尉犁县月报2025-02.csv", MONTHLY_CSV.encode("utf-8"), "text/csv")])
    at = press(at, "开始导入")
    no_errors(at)
    assert list(at.dataframe[0].value["状态"]) == ["已入库"]
    assert path.exists()
    assert _rows(path, "select count(*) from raw.submissions")[0][0] == 1


# --- 月度通报 (issue 12) ------------------------------------------------------------------


def test_bulletin_page_shows_the_latest_month_hand_worked(db):
    at = open_page(app(), "bulletin")
    no_errors(at)
    # the data's latest month by default (2025-03)
    assert at.header[0].value == "月度通报 · 2025年3月 · 全州"
    assert at.selectbox(key="bulletin_month").value == dt.date(2025, 3, 1)
    m, d = metrics(at), deltas(at)
    # March: 轮台县 团结小区 started (150 households); 库尔勒市 幸福小区 completed (100); 200 + 15 万元 done; 110 + 10 paid
    assert (m["本月新开工小区"], d["本月新开工小区"]) == ("1 个", "150 户")
    assert (m["本月新完工小区"], d["本月新完工小区"]) == ("1 个", "100 户")
    assert m["本月完成投资"] == "215.0 万元" and m["本月拨付资金"] == "120.0 万元"
    # index 34.1 against the plan's pace 25.8 (tests/test_bulletin.py): 8.3 ahead
    assert (m["全州综合进度"], d["全州综合进度"]) == ("34.1%", "计划应达 25.8%")
    assert m["较计划进度"] == "+8.3 个百分点"
    table = next(x.value for x in at.dataframe if "county_name" in x.value.columns)
    assert list(table["county_name"]) == ["尉犁县", "库尔勒市", "轮台县"]
    assert list(table["tier"]) == ["正常"] * 3 and list(table["rank_change"]) == ["—"] * 3
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["下载通报(Word)", "下载通报(PDF)"]


def test_bulletin_page_follows_the_chosen_month(db):
    at = open_page(app(), "bulletin")
    at.selectbox(key="bulletin_month").set_value(dt.date(2025, 2, 1)).run()
    no_errors(at)
    assert at.header[0].value == "月度通报 · 2025年2月 · 全州"
    # February: 库尔勒市 团结小区 started (200 households), 120 万元 done, 50 paid
    m, d = metrics(at), deltas(at)
    assert (m["本月新开工小区"], d["本月新开工小区"], m["本月完成投资"]) == ("1 个", "200 户", "120.0 万元")
    # another year: its latest month (2024: December, where 石化大院 completed in October stands)
    at.sidebar.selectbox(key="filter_year").set_value(2024).run()
    no_errors(at)
    assert at.header[0].value == "月度通报 · 2024年12月 · 全州"
    assert metrics(at)["全州综合进度"] == "98.6%"  # (100 + 100 + 230 / 240 × 100 = 95.8) / 3


def test_bulletin_page_under_a_unit_filter_shows_the_unit(db):
    at = app()
    at.sidebar.selectbox(key="filter_unit").set_value(LT).run()
    at = open_page(at, "bulletin")
    no_errors(at)
    assert at.header[0].value == "月度通报 · 2025年3月 · 轮台县"
    m, d = metrics(at), deltas(at)
    # 轮台县 in March: 团结小区 started (150 households), 15 万元 done of 400 (3.8%); index 17.9 against 19.7
    assert (m["本月新开工小区"], d["本月新开工小区"], m["本月完成投资"]) == ("1 个", "150 户", "15.0 万元")
    assert d["本月完成投资"] == "累计 15 万元 · 3.8%"
    assert (m["轮台县综合进度"], d["轮台县综合进度"], m["较计划进度"]) == ("17.9%", "计划应达 19.7%", "-1.8 个百分点")
    assert m["进度状态"] == "正常" and (m["全州排名"], d["全州排名"]) == ("第 3 名 / 3", "较上月不变")
    # the ranking still lists every unit
    table = next(x.value for x in at.dataframe if "county_name" in x.value.columns)
    assert len(table) == 3


def test_bulletin_page_shows_tiers_from_the_settings(db, monkeypatch, tmp_path):
    from test_bulletin import with_tiers

    for name, value in env(with_tiers(db, tmp_path, monkeypatch, red=1, yellow=0.3)).items():
        monkeypatch.setenv(name, value)
    at = open_page(app(), "bulletin")
    no_errors(at)
    m, d = metrics(at), deltas(at)
    assert (m["严重滞后县市(红色)"], d["严重滞后县市(红色)"]) == ("1 个", "轮台县")
    assert (m["滞后县市(黄色)"], d["滞后县市(黄色)"]) == ("1 个", "尉犁县")
    table = next(x.value for x in at.dataframe if "county_name" in x.value.columns)
    assert dict(zip(table["county_name"], table["tier"])) == {"尉犁县": "滞后", "库尔勒市": "正常", "轮台县": "严重滞后"}
    assert "落后计划进度超过 1 个百分点" in texts(at)
    # the progress page's ranking takes the same colours
    at = open_page(at, "progress")
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    ranking = next(s for s in specs if s["layout"]["title"]["text"] == "各县市综合进度排名")
    bars = {t["name"]: t["y"] for t in ranking["data"] if t["type"] == "bar"}
    assert bars == {"红色·严重滞后(落后计划进度超过 1 个百分点)": ["轮台县"],
                    "黄色·滞后(落后计划进度 0.3–1 个百分点)": ["尉犁县"],
                    "绿色·正常(落后不足 0.3 个百分点或超前)": ["库尔勒市"]}


def test_the_bulletin_downloads_are_the_bulletin_of_the_month(db):
    from docx import Document

    from pipelines.access.scope import Forbidden, Scope
    from pipelines.read import bulletin as qb

    leader = Scope("leader")
    b = qb.bulletin(leader, dt.date(2025, 3, 1))
    doc = Document(io.BytesIO(qb.bulletin_file(leader, b, ".docx")))
    assert "巴州城镇老旧小区改造工作月度通报" in doc.paragraphs[0].text
    assert any("2025年3月" in p.text for p in doc.paragraphs)
    # the bulletin ranks every county: not for a county clerk
    with pytest.raises(Forbidden):
        qb.bulletin(Scope("clerk", "652822"), dt.date(2025, 3, 1))


def test_upload_page_offers_the_three_templates(db):
    at = open_page(app(), "upload")
    no_errors(at)
    buttons = {b.label: b for b in at.get("download_button")}
    assert set(buttons) >= {"台账模板", "计划模板", "月报模板"}


QUALITY_PAGE_IN_A_FRESH_INTERPRETER = """
import sys
sys.path.insert(0, sys.argv[2])
from streamlit.testing.v1 import AppTest
from access_helpers import login, make_users
make_users(sys.argv[3])
at = login(AppTest.from_file(sys.argv[1], default_timeout=120).run(), "admin1")
at = at.switch_page("app_pages/quality.py").run()
assert not at.exception, [e.value for e in at.exception]
assert at.header[0].value.startswith("数据质量"), at.header[0].value
print("GX_LOADED" if "great_expectations" in sys.modules else "GX_NOT_LOADED")
"""


def test_quality_page_view_does_not_import_great_expectations(small_db, tmp_path):
    import subprocess
    import sys

    from pipelines.validation.runner import docs_stale

    # a warehouse whose GX runs are kept beside it and newer than any rendered Data Docs: the page
    # used to render them (importing GX, 7 s cold) on a view
    assert docs_stale(small_db)
    out = subprocess.run([sys.executable, "-c", QUALITY_PAGE_IN_A_FRESH_INTERPRETER, str(ROOT / "dashboard.py"),
                          str(ROOT / "tests"), str(small_db)],
                         env=dict(os.environ, RENOVATION_DB=str(small_db)), cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "GX_NOT_LOADED"


@pytest.mark.writes
def test_a_warehouse_of_an_earlier_version_is_named_as_such_not_as_unreadable(db):
    """Opened by the dashboard without serve (which upgrades it first), a warehouse from before
    staging.counties.prefecture_code says what it is and what to run, not 暂时无法读取 / 尚无数据."""
    if LAKE:
        pytest.skip("the embedded file's upgrade path")
    import duckdb

    con = duckdb.connect(str(db.file))
    con.execute("alter table staging.counties drop column prefecture_code")
    con.close()
    at = app()
    said = " ".join([x.body for x in at.sidebar.info] + [x.body for x in at.sidebar.error])
    assert "早于当前版本" in said and "renovation serve" in said, said
    assert "暂时无法读取" not in said
