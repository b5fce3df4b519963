"""No English in the interface (issue 12): every page of every role, every tab, every multiselect's
list, crawled in a real headless Chromium; and an address that names no page.

What counts is what a user sees: text nodes that are rendered (not icons drawn from ligatures,
not text shrunk to nothing by the app's CSS because a Chinese ::after replaces it), placeholders
of empty inputs, and the table grids' cells (their screen-reader copy). The grids' own canvas
("None" for a missing value, "empty" for a table without rows) is checked by
tests/test_journeys.py::test_no_table_shows_none_or_empty on the data the grids receive.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from access_helpers import USERS, browser_login, make_users
from pages_fixtures import build_warehouse

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from test_browser import CHROMIUM_ARGS, free_port, start_app, stop_app  # noqa: E402

ROLES = ("admin1", "leader1", "auditor1", "eval1", "clerk_lt")

#: Streamlit's built-in English and English codes of the project that must not reach a user
PLACEHOLDERS = ("None", "Select all", "empty", "Page not found", "Choose an option", "Choose options", "No results",
                "Skip to main content", "Browse files", "Upload", "null", "NaN", "NaT")
CODES = re.compile(
    r"\b[A-Z]{2,}(?:_[A-Z0-9]+)+\b"          # TOTALS_MISMATCH, NOT_IN_LEDGER
    r"|\bexpect_\w+|\bExpect[A-Z]\w+"        # expect_cells_readable, ExpectPaidWithinPlan
    r"|\b(?:gx|sql):"                        # the engine of a signal
    r"|\b[a-z]+_[a-z_]+\b"                   # snake_case field names: paid_wan_yuan
    r"|\b(?:monthly|ledger|plan|annual|biennial|high|medium|low|accepted|rejected|duplicate|reject|finding)\b")

VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), el = node.parentElement;
    if (!text || !el) continue;
    if (el.closest('[data-testid*="Icon"], script, style, noscript, [translate="no"]')) continue;
    // a closed expander (技术细节 holds the codes for the technical staff) is not seen
    if (el.closest('details:not([open])') && !el.closest('summary')) continue;
    const cs = getComputedStyle(el);
    if (parseFloat(cs.fontSize) === 0 || cs.visibility === 'hidden') continue;
    if (!el.getClientRects().length) continue;
    out.push(text);
  }
  document.querySelectorAll('input, textarea').forEach(e => {
    if (!e.value && e.placeholder && e.getClientRects().length) out.push(e.placeholder); });
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("chinese") / "w.duckdb"
    build_warehouse(db)
    make_users(db)
    port = free_port()
    proc = start_app(db, port)
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)


#: the tooltips of every chart's tool buttons (shown on hover, so not in the visible text)
CHART_TOOLTIPS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] [data-title]')]
                          .map(e => e.getAttribute('data-title'))"""


def idle(p, timeout: float = 60_000) -> None:
    p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def english(texts: list[str]) -> list[str]:
    bad = []
    for t in texts:
        for name in USERS:  # account names are data, not interface
            t = t.replace(name, "")
        words = set(re.findall(r"[A-Za-z][A-Za-z ]*[A-Za-z]|[A-Za-z]", t))
        if t.strip() in PLACEHOLDERS or any(w in PLACEHOLDERS for w in words) or CODES.search(t):
            bad.append(t[:120])
    return bad


def seen(p) -> list[str]:
    texts = p.evaluate(VISIBLE_TEXT)
    for grid in p.locator('[data-testid="stDataFrame"]:visible').all():
        # a checkbox column's screen-reader text is true/false: a checkbox is drawn
        texts += [t for t in grid.locator("td").all_text_contents() if t not in ("true", "false")]
    return texts


def test_english_is_found_by_the_crawl():
    # the check itself: each placeholder and code is caught, Chinese and user names are not
    assert english(["None", "Select all", "empty", "规则 TOTALS_MISMATCH", "expect_cells_readable", "类型 monthly",
                    "paid_wan_yuan", "gx:signals_plan/expect_x"]) == \
        ["None", "Select all", "empty", "规则 TOTALS_MISMATCH", "expect_cells_readable", "类型 monthly",
         "paid_wan_yuan", "gx:signals_plan/expect_x"]
    assert english(["管理员(admin1)", "下载 scores.csv(2025 年)", "库尔勒市台账.xlsx", "下载通报(PDF)"]) == []


@pytest.mark.parametrize("user", ROLES)
def test_no_english_on_any_page(server, browser, user):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        p = ctx.new_page()
        browser_login(p, server, user)
        titles = [t.strip().split("\n")[-1] for t in p.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
        assert titles
        found: dict[str, list[str]] = {}
        for title in titles:
            p.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
            p.wait_for_selector(f'h2:has-text("{title}")', timeout=60_000)
            idle(p)
            texts = seen(p)
            for tab in p.get_by_role("tab").all():
                tab.click()
                idle(p)
                texts += [t for t in seen(p) if t not in ("true", "false")]
            for box in p.locator('[data-testid="stMultiSelect"]:visible').all():
                box.click()
                p.wait_for_timeout(300)
                texts += p.evaluate(VISIBLE_TEXT)
                p.keyboard.press("Escape")
            bad = english(texts)
            # a chart's hover tools: plotly's mode bar titles its buttons in English ("Zoom in", …)
            bad += [t for t in p.evaluate(CHART_TOOLTIPS) if re.search(r"[A-Za-z]{2,}", t)]
            if bad:
                found[title] = sorted(set(bad))
        assert not found, found
    finally:
        ctx.close()


def test_an_unknown_address_answers_in_chinese(server, browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        p = ctx.new_page()
        p.goto(f"{server}/no-such-page")
        p.get_by_role("button", name="登录", exact=True).wait_for(timeout=60_000)
        p.wait_for_timeout(1500)  # the dialog, when there is one, comes with the run
        idle(p)
        body = p.inner_text("body")
        assert "Page not found" not in body and "does not seem to exist" not in body
        assert "您要打开的页面不存在" in body
        assert not english(p.evaluate(VISIBLE_TEXT))
    finally:
        ctx.close()
