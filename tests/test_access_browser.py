"""Access control in a real headless Chromium against the running app (`streamlit run dashboard.py`).

Per role: the log-in page (用户名, 密码, 登录), the menu it gets, the pages and downloads it may not
have (direct URLs answer 无权访问), a clerk's session never carrying another county's name (in the
DOM, or in any message the server sends over the websocket), the lock-out after five failures,
the idle timeout (a few seconds here, RENOVATION_IDLE_SECONDS), a verdict and its review by two
auditors, and the action-log rows all of this wrote.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from access_helpers import PASSWORD, USERS, browser_login, make_users
from pages_fixtures import LT, build_warehouse
from pipelines.access.store import store_path
from pipelines.counties import load_counties

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from test_browser import CHROMIUM_ARGS, free_port, start_app, stop_app  # noqa: E402

ALL_PAGES = {"progress": "进度总览", "bulletin": "月度通报", "signal_counts": "线索统计", "risk": "风险线索", "annual": "年度体检",
             "biennial": "两年评估", "upload": "数据上报", "quality": "数据质量", "action_log": "操作日志", "users": "用户管理"}
MENU = {
    "admin1": ["进度总览", "月度通报", "线索统计", "风险线索", "年度体检", "两年评估", "数据上报", "数据质量", "操作日志", "用户管理"],
    "leader1": ["进度总览", "月度通报", "线索统计", "年度体检", "两年评估"],
    "auditor1": ["进度总览", "月度通报", "线索统计", "风险线索", "年度体检", "两年评估", "数据上报", "数据质量", "操作日志"],
    "eval1": ["进度总览", "月度通报", "年度体检", "两年评估", "数据质量"],
    "clerk_lt": ["进度总览", "年度体检", "两年评估", "数据上报", "数据质量"],
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("access_browser") / "w.duckdb"
    build_warehouse(target)
    make_users(target)
    from pipelines.access import accounts

    accounts.add("lockme", "evaluator", PASSWORD, accounts.Actor("os:test", "operator"), db=target)
    return target


@pytest.fixture
def ctx(browser):
    c = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    yield c
    c.close()


def idle(p, timeout: float = 60_000) -> None:
    p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def menu(p) -> list[str]:
    return [t.strip().split("\n")[-1] for t in p.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def log(db: Path) -> list[dict]:
    con = sqlite3.connect(store_path(db))
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("select * from action_log order by seq")]
    finally:
        con.close()


def test_nothing_is_shown_before_the_log_in(server, ctx):
    p = ctx.new_page()
    p.goto(f"{server}/risk")
    p.get_by_role("button", name="登录", exact=True).wait_for(timeout=60_000)
    p.get_by_label("密码", exact=True).wait_for(timeout=60_000)  # the fields may be drawn a moment later
    idle(p)
    body = p.inner_text("body")
    assert "用户名" in body and "密码" in body
    assert "风险线索" not in body and "轮台县" not in body and "线索总数" not in body
    assert p.locator('[data-testid="stSidebarNav"]').count() == 0


def test_the_log_in_loads_the_chart_library_unseen_and_opens_the_page_asked_for(server, ctx):
    p = ctx.new_page()
    p.goto(f"{server}/bulletin")
    p.get_by_label("密码", exact=True).wait_for(timeout=60_000)
    idle(p)
    # while the form is filled in, the chart library loads: an empty chart, hidden from the user
    warm = p.locator(".st-key-chart_warmup")
    p.wait_for_function("() => document.querySelector('.st-key-chart_warmup .main-svg') !== null", timeout=60_000)
    assert not warm.is_visible()
    assert "登录" in p.inner_text("body")
    # the log-in opens the page asked for (its callback runs before the script: no second round trip)
    p.get_by_label("用户名", exact=True).fill("leader1")
    p.get_by_label("密码", exact=True).fill(PASSWORD)
    p.get_by_role("button", name="登录", exact=True).click()
    p.wait_for_selector('h2:has-text("月度通报")', timeout=60_000)
    idle(p)
    assert p.locator(".st-key-chart_warmup").count() == 0  # gone with the log-in page

@pytest.mark.parametrize("user", list(MENU))
def test_each_role_gets_its_menu_and_nothing_else(server, ctx, user):
    p = ctx.new_page()
    browser_login(p, server, user)
    assert menu(p) == MENU[user]
    role = USERS[user][0]
    body = p.inner_text('[data-testid="stSidebar"]')
    assert USERS[user][2] in body  # who is logged in
    # every page outside the menu, opened by its address, answers 无权访问 without its content
    for path, title in ALL_PAGES.items():
        if title in MENU[user]:
            continue
        browser_login(p, server, user, path)
        idle(p)
        main = p.inner_text('[data-testid="stMain"]')
        assert "无权访问" in main, (user, path)
        assert p.locator("h2").count() == 0 and p.locator('[data-testid="stDataFrame"]').count() == 0, (user, path)
    assert role in {"admin", "leader", "auditor", "evaluator", "clerk"}


DOWNLOADS = {  # (user, page) -> download buttons expected (labels, in part); none elsewhere
    ("leader1", "progress"): ["下载进度排名"], ("leader1", "bulletin"): ["Word", "PDF"], ("leader1", "annual"): ["scores.csv"], ("leader1", "signal_counts"): [],
    ("eval1", "progress"): [], ("eval1", "annual"): ["scores.csv"], ("eval1", "quality"): [],
    ("auditor1", "annual"): [], ("auditor1", "risk"): ["CSV(中文表头", "Excel", "说明", "案卷"],
    ("clerk_lt", "progress"): [], ("clerk_lt", "annual"): [], ("clerk_lt", "upload"): ["台账模板", "计划模板", "月报模板"],  # empty templates carry no data ("clerk_lt", "quality"): [],
}


@pytest.mark.parametrize("user,page", list(DOWNLOADS))
def test_downloads_follow_the_role_and_tables_have_no_toolbar_download(server, ctx, user, page):
    p = ctx.new_page()
    browser_login(p, server, user, "" if page == "progress" else page)
    idle(p)
    expected = DOWNLOADS[(user, page)]
    if expected and page != "risk":  # a download button may be drawn a moment after the run ends
        p.locator('[data-testid="stDownloadButton"]').first.wait_for(timeout=30_000)
    labels = set(p.locator('[data-testid="stDownloadButton"]').all_inner_texts())
    for tab in p.get_by_role("tab").all():  # a tab's content runs and is drawn when it is opened (lazy tabs)
        tab.click()
        p.locator('[role="tabpanel"]:visible [data-testid="stElementContainer"]').first.wait_for(timeout=60_000)
        if tab.inner_text().strip() == "线索清单与核查":  # the chosen signal's file (案卷) comes with its evidence
            p.wait_for_selector("text=证据", timeout=60_000)
        idle(p)
        p.wait_for_timeout(300)
        idle(p)
        labels |= set(p.locator('[data-testid="stDownloadButton"]').all_inner_texts())
    labels = sorted(x for x in labels if x.strip())
    expected = DOWNLOADS[(user, page)]
    assert len(labels) == len(expected), labels
    for want in expected:
        assert any(want in x for x in labels), (want, labels)
    if page == "annual" and user in ("leader1", "auditor1", "clerk_lt"):
        assert p.get_by_role("button", name="生成 2025 年度报告(Word)").count() == 0
    if page == "annual" and user == "eval1":
        assert p.get_by_role("button", name="生成 2025 年度报告(Word)").count() == 1
    frames = p.locator('[data-testid="stDataFrame"]:visible')
    if frames.count():  # the table toolbar offers no CSV download (client.disableDataExport)
        frames.first.hover()
        p.wait_for_timeout(300)
        toolbar = " ".join(p.locator('[data-testid="stElementToolbarButton"]').evaluate_all(
            "els => els.map(e => (e.getAttribute('aria-label') || '') + ' ' + e.innerText)"))
        assert "Download" not in toolbar and "下载" not in toolbar


def test_a_clerk_never_sees_another_county_in_the_page_or_on_the_wire(server, ctx):
    others = [c.name for c in load_counties() if c.code != LT]
    received: list[bytes] = []
    p = ctx.new_page()
    p.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(
        payload if isinstance(payload, bytes) else payload.encode("utf-8"))))
    browser_login(p, server, "clerk_lt")
    # the county selector offers its own county only
    p.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    options = p.get_by_role("option").all_inner_texts()
    assert options == ["轮台县"]
    p.keyboard.press("Escape")
    seen = []
    for title in MENU["clerk_lt"]:
        p.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
        p.wait_for_selector(f'h2:has-text("{title}")', timeout=60_000)
        idle(p)
        for tab in p.get_by_role("tab").all():  # every tab's content, drawn
            tab.click()
            idle(p)
        html = p.content()
        for name in others:
            assert name not in html, (title, name)
        seen.append(title)
    assert len(seen) == 5 and received
    wire = b"".join(received)
    for name in others:
        assert name.encode("utf-8") not in wire, name
    assert "轮台县".encode("utf-8") in wire


def test_five_failed_log_ins_lock_the_account(server, ctx, warehouse):
    p = ctx.new_page()
    for i in range(5):
        browser_login(p, server, "lockme", password=f"wrong-password-{i}", expect_ok=False)
        p.wait_for_selector('[data-testid="stAlert"]', timeout=30_000)
    assert "锁定" in p.inner_text('[data-testid="stMain"]')
    browser_login(p, server, "lockme", expect_ok=False)  # the right password, while locked
    p.wait_for_selector('[data-testid="stAlert"]', timeout=30_000)
    assert "锁定" in p.inner_text('[data-testid="stMain"]') and p.locator('button:has-text("退出登录")').count() == 0
    rows = [r for r in log(warehouse) if r["user_name"] == "lockme"]
    assert [r["result"] for r in rows] == ["failed"] * 5 + ["denied"]


def test_verdict_and_review_by_two_auditors(server, browser, warehouse):
    first = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    second = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        a = first.new_page()
        browser_login(a, server, "auditor1", "risk")
        a.get_by_role("tab", name="线索清单与核查").click()  # a lazy tab: it runs when chosen
        a.wait_for_selector("text=证据", timeout=60_000)
        idle(a)
        a.locator('[data-testid="stRadio"]').get_by_text("已确认", exact=True).click()
        a.get_by_label("说明", exact=True).fill("户数与台账不符,已现场核实")
        a.get_by_role("button", name="保存结论").click()
        a.wait_for_selector("text=已保存:已确认(待复核)", timeout=60_000)
        idle(a)
        body = a.inner_text('[data-testid="stMain"]')
        assert "待复核" in body and "审计局张科长(auditor1)" in body
        assert a.get_by_role("button", name="同意(复核通过)").count() == 0  # not by the proposer
        b = second.new_page()
        browser_login(b, server, "auditor2", "risk")
        b.get_by_role("tab", name="线索清单与核查").click()  # a lazy tab: it runs when chosen
        b.wait_for_selector("text=证据", timeout=60_000)
        idle(b)
        assert "待复核" in b.inner_text('[data-testid="stMain"]')
        b.get_by_role("button", name="同意(复核通过)").click()
        b.wait_for_selector("text=已复核:同意「已确认」", timeout=60_000)
        idle(b)
        body = b.inner_text('[data-testid="stMain"]')
        assert "已确认:审计局张科长(auditor1) 提出,审计局李审计(auditor2)" in body
        # the history beside the signal: proposal, then review
        history = b.locator('[data-testid="stDataFrame"]').last.inner_text()
        assert "auditor1" in history or "审计局张科长" in body
    finally:
        first.close()
        second.close()
    con = sqlite3.connect(":memory:")
    con.close()
    import duckdb

    w = duckdb.connect(str(warehouse), read_only=True)
    try:
        acts = w.execute("select act, verdict, decided_by, review_outcome from raw.verdicts order by decided_at").fetchall()
    finally:
        w.close()
    assert acts == [("verdict", "已确认", "auditor1", None), ("review", "已确认", "auditor2", "confirm")]


def test_the_action_log_holds_every_action_above(server, ctx, warehouse):
    p = ctx.new_page()
    browser_login(p, server, "auditor1", "action_log")
    idle(p)
    page_text = p.inner_text('[data-testid="stMain"]')
    assert "操作日志" in page_text
    rows = log(warehouse)
    kinds = {(r["user_name"], r["action"], r["result"]) for r in rows}
    for user in MENU:
        assert (user, "login", "ok") in kinds
    assert ("lockme", "login_failed", "failed") in kinds and ("lockme", "login_failed", "denied") in kinds
    assert ("auditor1", "verdict", "ok") in kinds and ("auditor2", "review", "ok") in kinds
    assert ("leader1", "denied", "denied") in kinds and ("clerk_lt", "denied", "denied") in kinds
    verdict = next(r for r in rows if r["action"] == "verdict")
    assert verdict["role"] == "auditor" and "已确认" in verdict["detail"] and "待复核" in verdict["detail"]
    # a download is recorded with what and which filters
    with p.expect_download(timeout=60_000) as dl:
        p.get_by_role("button", name="下载 CSV(按当前筛选条件)").click()
    text = Path(dl.value.path()).read_bytes().decode("utf-8-sig")
    assert text.startswith("时间,用户,角色,县市,操作,对象,详情,结果,来源")
    assert "核查结论" in text and "复核" in text and "登录失败" in text
    time.sleep(0.5)
    export = [r for r in log(warehouse) if r["action"] == "export"][-1]
    assert export["user_name"] == "auditor1" and export["object"] == "操作日志 CSV" and "筛选条件" in export["detail"]
    assert not any(PASSWORD in str(v) for r in log(warehouse) for v in r.values())


def test_a_session_ends_after_the_idle_timeout(warehouse, browser, tmp_path):
    port = free_port()
    os.environ["RENOVATION_IDLE_SECONDS"] = "12"
    try:
        proc = start_app(warehouse, port, tmp_path / "idle.server.log")
    finally:
        del os.environ["RENOVATION_IDLE_SECONDS"]
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        p = ctx.new_page()
        browser_login(p, f"http://127.0.0.1:{port}", "leader1")  # logged in: 退出登录 is shown
        # no action for longer than the timeout: the page clears itself back to the log-in form
        p.get_by_role("button", name="登录", exact=True).wait_for(timeout=60_000)
        idle(p)
        body = p.inner_text("body")
        assert "会话已因 12 秒 无操作而结束" in body and "进度总览 ·" not in body
    finally:
        ctx.close()
        stop_app(proc)
    ends = [r for r in log(warehouse) if r["user_name"] == "leader1" and r["action"] == "logout"]
    assert ends and ends[-1]["detail"] == "空闲超时"
