"""Each user group's daily jobs (issue 12), in a real headless Chromium against the running app.

One server per module on the literal-row warehouse of pages_fixtures (tests that write — a verdict,
an upload — run last and say so). Audit bureau: the 全部年度 choice, ranks 1…n within the filter,
a verdict shown at once with the signal kept selected, Chinese exports with the verdict and who gave
it, the engine text only inside 技术细节. County clerks: refused rows open with cell and reason.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from access_helpers import browser_login, make_users
from pages_fixtures import build_warehouse

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from conftest import q  # noqa: E402


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("journeys") / "w.duckdb"
    build_warehouse(target)
    make_users(target)
    return target


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    yield ctx.new_page()
    ctx.close()


def idle(p, timeout: float = 60_000) -> None:
    p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def metric(p, label: str) -> str:
    return p.locator('[data-testid="stMetric"]').filter(has_text=label).first.inner_text()


def main_text(p) -> str:
    return p.inner_text('[data-testid="stMain"]')


def download(p, button: str) -> bytes:
    idle(p)  # a download button reruns the page when clicked: the next one is clicked once it is drawn again
    p.wait_for_timeout(300)
    idle(p)
    for attempt in range(3):  # a click that lands while the page reruns is lost: click again
        try:
            with p.expect_download(timeout=40_000) as dl:
                p.get_by_role("button", name=button).click()
            break
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            idle(p)
    data = Path(dl.value.path()).read_bytes()
    idle(p)
    return data


def signal_choice(p):
    return p.locator('[data-testid="stSelectbox"]').filter(has_text="查看线索详情")


def chosen_signal(p) -> str:
    return signal_choice(p).locator("input").input_value().strip()


# --- audit bureau --------------------------------------------------------------------------------

def test_risk_page_offers_all_years(server, page, warehouse):
    browser_login(page, server, "auditor1", "risk")
    this_year = q(warehouse, "select count(*) from marts.signals where plan_year = 2025 "
                             "or (plan_year is null and period like '2025-%')")[0][0]
    every = q(warehouse, "select count(*) from marts.signals")[0][0]
    assert every > this_year  # the fixture has 2024 signals too
    assert f"{this_year:,} 条" in metric(page, "线索总数")
    page.get_by_role("radio", name="全部年度").click()
    page.wait_for_selector('h2:has-text("风险线索 · 全部年度")', timeout=30_000)
    idle(page)
    assert f"{every:,} 条" in metric(page, "线索总数")


def test_the_rule_engine_stays_in_a_technical_details_expander(server, page):
    browser_login(page, server, "auditor1", "risk")
    page.get_by_role("tab", name="线索清单与核查").click()  # a lazy tab: it runs when chosen
    page.wait_for_selector("text=证据", timeout=60_000)
    idle(page)
    body = main_text(page)
    assert "证据" in body
    for engine_text in ("gx:", "sql:", "signals_plan", "expect_", "计算方式"):
        assert engine_text not in body, engine_text
    # the rule is named in Chinese where the code was
    assert "NOT_IN_LEDGER" not in body and "台账外项目" in body
    page.get_by_text("技术细节", exact=True).click()
    page.wait_for_selector("text=计算方式", timeout=30_000)
    assert "NOT_IN_LEDGER" in main_text(page)


def test_risk_exports_are_in_chinese(server, page, warehouse):
    import openpyxl

    browser_login(page, server, "auditor1", "risk")
    page.get_by_role("tab", name="导出").click()  # a lazy tab: it runs when chosen
    page.get_by_role("button", name="下载 CSV(中文表头,含核查结论)").wait_for(timeout=60_000)
    idle(page)
    n = q(warehouse, "select count(*) from marts.signals where plan_year = 2025 "
                     "or (plan_year is null and period like '2025-%')")[0][0]
    rows = list(csv.reader(io.StringIO(download(page, "下载 CSV(中文表头,含核查结论)").decode("utf-8-sig"))))
    assert rows[0] == ["规则", "严重程度", "县市", "计划年度", "期间", "小区名称", "强度", "证据", "核查结论", "核查说明",
                       "核查人", "复核人", "核查时间", "规则代码"]
    assert len(rows) == n + 1
    labels = dict(q(warehouse, "select rule, label from marts.signal_rules"))
    for r in rows[1:]:
        assert r[0] == labels[r[-1]]  # the Chinese name, and the code in the one extra column
        assert r[1] in {"高", "中", "低"} and r[8] == "待核查"
    wb = openpyxl.load_workbook(io.BytesIO(download(page, "下载 Excel(含筛选条件、阈值与核查记录)")))
    ws = wb["风险线索"]
    assert [c.value for c in ws[1]] == rows[0]
    assert {ws.cell(i, 2).value for i in range(2, ws.max_row + 1)} <= {"高", "中", "低"}
    info = [str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value is not None]
    assert any("规模虚报 · 超出比例" in v for v in info)
    note = download(page, "下载 CSV 的说明(筛选条件与阈值)").decode("utf-8-sig")
    assert "严重程度 高" in note and "(high" not in note


def test_ranks_count_from_one_within_the_filter(warehouse, monkeypatch):
    from pipelines.access.scope import Scope
    from pipelines.read import audit as qa

    monkeypatch.setenv("RENOVATION_DB", str(warehouse))
    auditor = Scope("auditor")
    for year, unit in ((2025, None), (None, None), (2025, "652823"), (None, "652822")):
        r = qa.risk_ranking(auditor, year, unit)
        if r.is_empty():
            continue
        ranks = r["risk_rank"].to_list()
        assert ranks[0] == 1, (year, unit, ranks)
        # 1…n, equal scores sharing a rank: each rank is the count of better rows plus one
        scores = r["risk_score"].to_list()
        assert ranks == [1 + sum(s > x for s in scores) for x in scores], (year, unit)
    # the filtered ranking of a county that is not the riskiest starts at 1 where the mart's does not
    lt = qa.risk_ranking(auditor, None, "652822")
    assert lt["prefecture_rank"].min() > 1 and lt["risk_rank"].min() == 1


# --- evaluation staff ----------------------------------------------------------------------------

def test_scores_are_explained_provisional_and_the_report_comes_as_pdf(server, page, warehouse):
    browser_login(page, server, "eval1", "annual")
    page.wait_for_selector('h2:has-text("年度体检")', timeout=60_000)
    as_of = q(warehouse, "select distinct as_of_label from marts.scores where year = 2025")[0][0]
    assert as_of.startswith("截至2025-")
    # every chart and table of the year in progress is marked, on each of the page's (lazy) tabs
    # the indicator details (numerators, denominators, formulas) are below the tabs, always shown
    assert as_of in page.locator("h3").filter(has_text="指标明细").first.inner_text()
    titles, headings = [], {"总分与排名": "得分与排名"}
    for tab in ("总分与排名", "各指标失分", "历年趋势"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_selector('[data-testid="stTabs"] [role="tabpanel"]:visible .js-plotly-plot .gtitle',
                               timeout=60_000)
        idle(page)
        titles += page.locator('[role="tabpanel"]:visible .js-plotly-plot .gtitle').all_text_contents()
        if tab in headings:
            assert as_of in page.locator("h3").filter(has_text=headings[tab]).first.inner_text()
    assert len(titles) >= 3 and all(as_of in t for t in titles), titles
    # a county: each indicator with its numerator, denominator and formula
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    page.get_by_role("option", name="库尔勒市", exact=True).click()
    page.wait_for_selector('h2:has-text("库尔勒市")', timeout=60_000)
    idle(page)
    body = main_text(page)
    formulas = [r[0] for r in q(warehouse, "select formula from marts.score_formulas where year = 2025 and kind = 'annual' "
                                           "and county_code = '652801'")]
    assert len(formulas) == 9
    for f in formulas:
        assert f in body, f
    assert "投资完成率 = 累计完成投资 ÷ 计划总投资 = " in body
    # the report, as the CLI offers it: .docx and .pdf
    page.get_by_role("button", name="生成 2025 年度报告(PDF)").click()
    page.get_by_role("button", name="下载年度报告 .pdf").wait_for(timeout=240_000)
    assert download(page, "下载年度报告 .pdf").startswith(b"%PDF")


def test_a_saved_verdict_shows_at_once_and_keeps_the_signal(server, page, warehouse):
    # writes a verdict: after the read-only tests above
    browser_login(page, server, "auditor1", "risk")
    page.get_by_role("tab", name="线索清单与核查").click()  # a lazy tab: it runs when chosen
    page.wait_for_selector("text=证据", timeout=60_000)
    idle(page)
    # only the open signals
    page.locator('[data-testid="stMultiSelect"]').filter(has_text="核查结论").click()
    page.get_by_role("option", name="待核查", exact=True).click()
    page.keyboard.press("Escape")
    idle(page)
    signal_choice(page).click()
    options = page.get_by_role("option").all_inner_texts()
    assert len(options) >= 3
    target = options[2].strip()
    page.get_by_role("option").nth(2).click()
    idle(page)
    assert chosen_signal(page) == target
    page.locator('[data-testid="stRadio"]').get_by_text("需补充材料", exact=True).click()
    page.get_by_label("说明", exact=True).fill("请县市补充开工资料")
    page.get_by_role("button", name="保存结论").click()
    page.wait_for_selector("text=已保存:需补充材料", timeout=60_000)
    idle(page)
    # the same signal stays open although 结论 = 待核查 no longer holds for it, with its new verdict
    assert chosen_signal(page).startswith(target)
    body = main_text(page)
    assert "需补充材料:审计局张科长(auditor1)" in body
    # and the export (a new session: no verdict filter) carries the verdict, who gave it and when
    browser_login(page, server, "auditor1", "risk")
    page.get_by_role("radio", name="全部年度").click()
    page.wait_for_selector('h2:has-text("风险线索 · 全部年度")', timeout=30_000)
    idle(page)
    page.get_by_role("tab", name="导出").click()  # a lazy tab: it runs when chosen
    page.get_by_role("button", name="下载 CSV(中文表头,含核查结论)").wait_for(timeout=60_000)
    idle(page)
    rows = list(csv.reader(io.StringIO(download(page, "下载 CSV(中文表头,含核查结论)").decode("utf-8-sig"))))
    done = [r for r in rows[1:] if r[8] == "需补充材料"]
    assert len(done) == 1
    assert done[0][9] == "请县市补充开工资料" and done[0][10] == "审计局张科长(auditor1)" and done[0][12][:2] == "20"


# --- county clerks (writes to the warehouse: last in this module) ----------------------------------

MONTHLY_HEADER = "县市,报告期,填报日期,计划年度,小区名称,户数,计划总投资,形象进度,累计完成投资,累计拨付资金,开工日期\n"


def upload(p, paths: list[Path]) -> None:
    p.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([str(x) for x in paths])
    p.wait_for_selector(f'text={paths[-1].name}', timeout=30_000)
    p.get_by_role("button", name="开始导入").click()
    p.wait_for_selector('h3:has-text("本次导入结果")', timeout=120_000)
    idle(p, 120_000)


def test_a_clerk_sees_refused_rows_then_their_correction(server, page, tmp_path, warehouse):
    bad = tmp_path / "轮台县月报2025-04.csv"
    bad.write_text(MONTHLY_HEADER + "轮台县,2025-04,2025-05-03,2025,团结小区,150,300,待定,90,60,2025-03-05\n"
                   "轮台县,2025-04,2025-05-03,2025,胜利小区,50,100,20,20,10,2025-04-02\n", encoding="utf-8")
    broken = tmp_path / "轮台县台账(损坏).xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    browser_login(page, server, "clerk_lt", "upload")
    upload(page, [bad, broken])
    head = page.locator("h3").filter(has_text="本次导入结果").inner_text()
    assert "1 行数据被拒收" in head, head
    body = main_text(page)
    assert "被拒收的行(共 1 处)" in body
    assert page.locator('[data-testid="stAlert"]').filter(has_text="被拒收").count() >= 1
    # the file's expander is open, naming the cell and the reason
    assert "已入库(部分行被拒收)" in body and "H 列「形象进度」" in body and "待定" in body
    # the rejected workbook is listed on 数据质量 under the county (today: county None, gone under the filter)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("数据质量", exact=True).click()
    page.wait_for_selector('h2:has-text("数据质量 · 轮台县")', timeout=60_000)
    idle(page)
    page.get_by_role("tab", name="拒收文件").click()  # a lazy tab: it runs when chosen
    page.locator('[role="tabpanel"]:visible [data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    idle(page)
    assert "没有被拒收的文件" not in main_text(page)
    assert q(warehouse, "select county_code from raw.ingest_log where file_name = ?", [broken.name]) == [("652822",)]
    # the month sent again, put right: the refused row is 已更正
    good = tmp_path / "轮台县月报2025-04(更正).csv"
    good.write_text(MONTHLY_HEADER + "轮台县,2025-04,2025-05-04,2025,团结小区,150,300,40,90,60,2025-03-05\n"
                    "轮台县,2025-04,2025-05-04,2025,胜利小区,50,100,20,20,10,2025-04-02\n", encoding="utf-8")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("数据上报", exact=True).click()
    page.wait_for_selector('h2:has-text("数据上报")', timeout=60_000)
    idle(page)
    upload(page, [good])
    head = page.locator("h3").filter(has_text="本次导入结果").inner_text()
    assert "被拒收" not in head
    page.locator('[data-testid="stSidebarNav"]').get_by_text("数据质量", exact=True).click()
    page.wait_for_selector('h2:has-text("数据质量 · 轮台县")', timeout=60_000)
    idle(page)
    page.get_by_role("tab", name="隔离行与问题").click()
    page.get_by_text("行已由之后报送并入库的同一县市").wait_for(timeout=60_000)
    idle(page)
    assert "其中 1 行已由之后报送并入库的同一县市、同一期文件更正" in main_text(page)


# --- leadership --------------------------------------------------------------------------------------

def test_click_a_county_on_the_ranking_to_filter_the_page_and_see_its_projects(server, page, warehouse):
    browser_login(page, server, "leader1")
    page.wait_for_selector('h2:has-text("进度总览 · 2025 年度计划 · 全州")', timeout=60_000)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="各县市综合进度排名")
    chart.scroll_into_view_if_needed()
    names = chart.locator(".yaxislayer-above .ytick text").all_text_contents()
    assert len(names) == 3
    bars = chart.locator(".barlayer g.point path")
    bars.nth(0).click(force=True)  # the bottom bar: the last-ranked county
    worst = q(warehouse, "select county_name from marts.progress_county where plan_year = 2025 "
                         "order by progress_rank desc limit 1")[0][0]
    page.wait_for_selector(f'h2:has-text("进度总览 · 2025 年度计划 · {worst}")', timeout=60_000)
    idle(page)
    assert f"unit=" in page.url  # the address holds the filter, as a link to what is shown
    # the drill-down: the county's projects
    n = q(warehouse, "select count(*) from core.plan_rows where plan_year = 2025 and county_name = ?", [worst])[0][0]
    assert page.locator("h3").filter(has_text=f"{worst} 2025 年度项目明细({n} 个").count() == 1
    # and back to the prefecture with the sidebar: the chart's old selection does not pull the filter back
    page.get_by_role("button", name="返回全州").click()
    page.wait_for_selector('h2:has-text("进度总览 · 2025 年度计划 · 全州")', timeout=60_000)
    idle(page)
    assert page.locator("h3").filter(has_text="年度项目明细").count() == 0


def test_the_ranking_table_fits_1366_and_print_drops_the_sidebar(server, browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        p = ctx.new_page()
        browser_login(p, server, "leader1")
        p.get_by_text("排名明细表", exact=True).click()
        grid = p.locator('[data-testid="stDataFrame"]:visible').first
        grid.wait_for(timeout=30_000)
        p.wait_for_timeout(500)
        # no sideways scrolling inside the table, and county names whole
        widths = grid.evaluate("""g => { const s = g.querySelector('.dvn-scroller');
                                         return s ? [s.scrollWidth, s.clientWidth] : [0, 0]; }""")
        assert widths[0] > 0 and widths[0] <= widths[1] + 1, widths
        cells = grid.locator("td").all_text_contents()
        for name in q_names(p):
            assert name in cells
        p.emulate_media(media="print")
        assert not p.locator('[data-testid="stSidebar"]').is_visible()
        breaks = p.locator('[data-testid="stPlotlyChart"]').first.evaluate("e => getComputedStyle(e).breakInside")
        assert breaks == "avoid"
    finally:
        ctx.close()


def q_names(p) -> list[str]:
    return ["库尔勒市", "轮台县", "尉犁县"]
