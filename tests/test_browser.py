"""The dashboard in a real headless Chromium (Debian chromium driven by Playwright's Python client).

A fixture starts `streamlit run dashboard.py` on a free port against a test warehouse (the
literal-row warehouse of pages_fixtures, or the one named by RENOVATION_TEST_DB, e.g. the demo
warehouse for the README screenshots), and every page is opened at 1366×768: it renders without
an exception and shows its key numbers. An upload shows its per-file result and a flags export
downloads. Each page is saved as <page>.png (to docs/screenshots/ with RENOVATION_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
import tempfile
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import q
import pytest

from access_helpers import PAGE_ROLE, browser_login, make_users
from pages_fixtures import build_warehouse

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
# the README's screenshots are refreshed on request (RENOVATION_SCREENSHOTS=1); a plain test run
# leaves the tracked files alone
SHOTS = (ROOT / "docs" / "screenshots" if os.environ.get("RENOVATION_SCREENSHOTS")
         else Path(tempfile.gettempdir()) / "renovation-screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = {"progress": "进度总览", "bulletin": "月度通报", "risk": "风险线索", "annual": "年度体检", "biennial": "两年评估",
         "upload": "数据上报", "quality": "数据质量"}

if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db: Path, port: int, log: Path | None = None) -> subprocess.Popen:
    """`streamlit run dashboard.py` on ``port`` against ``db``; returns once the server answers.
    The server's log goes to ``log`` (a file: a pipe nobody reads would block the server when full)."""
    env = dict(os.environ, RENOVATION_DB=str(db))
    log = log or db.with_suffix(".server.log")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"),
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not answer within 90 s")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """A private copy of the test warehouse (the upload test writes to it)."""
    target = tmp_path_factory.mktemp("browser") / "w.duckdb"
    given = os.environ.get("RENOVATION_TEST_DB")
    if given:
        shutil.copy(given, target)
    else:
        build_warehouse(target)
    make_users(target)
    return target


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    p = ctx.new_page()
    yield p
    ctx.close()


def wait_idle(p, timeout: float = 30_000) -> None:
    """Until the script run is over (Streamlit marks its root with the script state)."""
    p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def open_page(p, base: str, name: str, user: str | None = None) -> None:
    """The page in a new session, logged in as ``user`` (by default the role tests/access_helpers.py gives the page)."""
    browser_login(p, base, user or PAGE_ROLE[name], "" if name == "progress" else name)
    p.wait_for_selector(f'h2:has-text("{PAGES[name]}")', timeout=30_000)
    wait_idle(p)


def assert_clean(p) -> None:
    assert p.locator('[data-testid="stException"]').count() == 0
    body = p.inner_text("body")
    assert "Traceback" not in body


def screenshot(p, name: str) -> None:
    """The whole page at 1366 wide: the viewport grows to the length of the main column."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = p.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    p.set_viewport_size({"width": 1366, "height": max(768, min(int(height) + 40, 5000))})
    p.wait_for_timeout(800)
    wait_idle(p)
    p.screenshot(path=str(SHOTS / f"{name}.png"))
    p.set_viewport_size({"width": 1366, "height": 768})


def metric(p, label: str) -> str:
    return p.locator('[data-testid="stMetric"]').filter(has_text=label).first.inner_text()


def default_year(db: Path) -> int:
    latest = q(db, "select max(report_month) from core.report_rows")[0][0]
    years = {r[0] for r in q(db, "select distinct plan_year from core.plan_rows")}
    return latest.year if latest and latest.year in years else max(years)


def test_progress_page_shows_the_plan_figures(server, page, warehouse):
    open_page(page, server, "progress")
    assert_clean(page)
    year = default_year(warehouse)
    n, hh = q(warehouse, "select count(*), sum(households) from core.plan_rows where plan_year = ?", [year])[0]
    body = page.inner_text("body")
    assert f"{year} 年度计划" in body
    assert f"{n:,} 个" in body and f"{hh:,} 户" in body
    shown = page.locator('[role="tabpanel"]:visible .js-plotly-plot')
    shown.nth(1).locator(".main-svg").first.wait_for(timeout=30_000)
    assert shown.count() == 2  # the ranking and the map: the first of the lazy tabs
    lagging = [r[0] for r in q(warehouse, "select county_name from marts.progress_county where plan_year = ? and is_lagging", [year])]
    for name in lagging:
        assert name in page.inner_text('[data-testid="stAlert"]')
    screenshot(page, "progress")
    for tab, title in (("逐月进度", "逐月进度与计划对比"), ("五年目标", "年目标进度")):  # each tab runs and draws its own two charts
        page.get_by_role("tab", name=tab, exact=True).click()
        shown.filter(has_text=title).locator(".main-svg").first.wait_for(timeout=30_000)
        shown.nth(1).locator(".main-svg").first.wait_for(timeout=30_000)
        wait_idle(page)
        assert shown.count() == 2, tab
    assert page.locator('[role="tabpanel"]:visible h3').filter(has_text="年目标").count() == 1


def test_risk_page_shows_signals_and_the_export_downloads(server, page, warehouse):
    open_page(page, server, "risk")
    assert_clean(page)
    year = default_year(warehouse)
    n = q(warehouse, "select count(*) from marts.signals where plan_year = ? or (plan_year is null and period like ?)",
          [year, f"{year}-%"])[0][0]
    assert n > 0
    assert f"{n:,} 条" in metric(page, "线索总数")
    screenshot(page, "risk")
    page.get_by_role("tab", name="线索清单与核查").click()
    page.wait_for_selector("text=证据", timeout=30_000)
    assert_clean(page)
    screenshot(page, "risk_detail")
    page.get_by_role("tab", name="导出").click()  # a lazy tab: it runs when chosen
    page.get_by_role("button", name="下载 CSV(中文表头,含核查结论)").wait_for(timeout=60_000)
    with page.expect_download(timeout=30_000) as dl:
        page.get_by_role("button", name="下载 CSV(中文表头,含核查结论)").click()
    data = Path(dl.value.path()).read_bytes()
    assert data.startswith("\ufeff规则,严重程度,县市,计划年度,期间,小区名称,强度,证据,核查结论".encode("utf-8"))
    assert data.count(b"\r\n") == n + 1  # the header and one line per signal shown


@pytest.mark.parametrize("name,kind", [("annual", "annual"), ("biennial", "biennial")])
def test_score_pages_show_each_units_grade(server, page, warehouse, name, kind):
    open_page(page, server, name)
    assert_clean(page)
    year = default_year(warehouse)
    rows = q(warehouse, "select county_name, grade from marts.scores where kind = ? and year = ? and indicator = 'total'",
             [kind, year])
    assert rows
    body = page.inner_text("body")
    for g in {r[1] for r in rows}:
        assert g in body
    screenshot(page, name)


def test_bulletin_page_and_its_downloads(server, page, warehouse):
    open_page(page, server, "bulletin")
    assert_clean(page)
    month = q(warehouse, "select max(report_month) from marts.bulletin_prefecture")[0][0]
    label = f"{month.year}年{month.month}月"
    assert page.locator("h2").first.inner_text().startswith(f"月度通报 · {label}")
    new, hh = q(warehouse, """select count_new_started_communities, new_started_households from marts.bulletin_prefecture
                              where report_month = ?""", [month])[0]
    assert f"{new:,} 个" in metric(page, "本月新开工小区") and f"{hh:,} 户" in metric(page, "本月新开工小区")
    worst = q(warehouse, """select county_name from marts.bulletin_counties where report_month = ?
                            order by progress_rank desc, sort_order desc limit 1""", [month])[0][0]
    assert worst in page.locator(".js-plotly-plot").first.text_content()  # the ranking chart's labels
    screenshot(page, "bulletin")
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="下载通报(Word)").click()
    assert dl.value.suggested_filename == f"巴州老旧小区改造月度通报_{month:%Y-%m}.docx"
    from docx import Document

    doc = Document(dl.value.path())
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "巴州城镇老旧小区改造工作月度通报" in text and label in text
    with page.expect_download(timeout=180_000) as dl:
        page.get_by_role("button", name="下载通报(PDF)").click()
    pdf = Path(dl.value.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "Pages:           1" in info
    assert_clean(page)


def test_upload_page_downloads_a_template(server, page):
    import io

    import openpyxl

    open_page(page, server, "upload")
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="月报模板").click()
    wb = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    assert wb.sheetnames == ["月报", "填表说明"]
    assert wb["月报"]["A3"].value == "报告期:"
    assert_clean(page)


def test_quality_page_shows_validation_results(server, page, warehouse):
    open_page(page, server, "quality")
    assert_clean(page)
    # files counted once by content, however often they were uploaded
    files = q(warehouse, "select count(distinct coalesce(file_hash, file_path)) from raw.ingest_log")[0][0]
    assert f"{files:,} 个" in metric(page, "导入文件")
    screenshot(page, "quality")


def test_filters_hold_across_pages_in_the_browser(server, page, warehouse):
    open_page(page, server, "progress")
    unit = q(warehouse, "select county_name from marts.progress_county order by progress_rank desc limit 1")[0][0]
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    page.get_by_role("option", name=unit, exact=True).click()
    wait_idle(page)
    page.wait_for_selector(f'h2:has-text("{unit}")', timeout=30_000)
    page.get_by_role("link", name="数据质量").click()
    page.wait_for_selector(f'h2:has-text("数据质量 · {unit}")', timeout=30_000)
    assert_clean(page)


MONTHLY_CSV = (
    "县市,报告期,填报日期,计划年度,小区名称,户数,计划总投资,形象进度,累计完成投资,累计拨付资金,开工日期\n"
    "尉犁县,2025-02,2025-03-03,2025,罗布小区,80,160,50,90,60,2025-01-10\n"
)


def test_upload_shows_the_per_file_result(server, page, tmp_path):
    # last in this module: it writes to the server's warehouse
    good = tmp_path / "尉犁县月报2025-02(浏览器).csv"
    good.write_text(MONTHLY_CSV, encoding="utf-8")
    bad = tmp_path / "损坏的文件.xlsx"
    bad.write_bytes(b"not a workbook at all")
    open_page(page, server, "upload", "clerk_yl")
    assert_clean(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([str(good), str(bad)])
    page.wait_for_selector('text=损坏的文件.xlsx', timeout=30_000)
    page.get_by_role("button", name="开始导入").click()
    page.wait_for_selector('h3:has-text("本次导入结果")', timeout=120_000)
    wait_idle(page, 120_000)
    assert_clean(page)
    result = page.locator('[data-testid="stDataFrame"]').first
    text = page.inner_text("body")
    assert "本次导入结果" in text and "拒收 1 个" in text
    assert result.is_visible()
    assert "损坏的文件.xlsx" in text
    screenshot(page, "upload")
