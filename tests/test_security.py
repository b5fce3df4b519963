"""Security: user-derived strings render inert, every export escapes formulas, no secret in any log.

The injection warehouse is the literal-row warehouse of pages_fixtures with payloads in place of a
community name (Markdown link, image and HTML in 胜利小区's name; a formula in 罗布小区's) and of a
file name; uploads add a file name, a sheet name and a cell value. The app runs in real headless
Chromium; a payload must show as the text it is, with no link, image or element made of it, and
no request to the payload's host.
"""

from __future__ import annotations

import csv
import io
import logging
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import pages_fixtures as F
from access_helpers import PASSWORD, browser_login, make_users
from pipelines.read import exports

ROOT = Path(__file__).resolve().parent.parent
LINK = "[官方通知](http://evil.example/notice)"
IMAGE = "![x](http://evil.example/beacon.png)"
HTML = "<img src=http://evil.example/h.png>"
NAME = f"胜利小区{LINK}{IMAGE}{HTML}"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"点击\")罗布小区"
FILE = f"{LINK}.xlsx"
FORMULA_START = exports.FORMULA_START


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    mp = pytest.MonkeyPatch()
    swap = {"胜利小区": NAME, "罗布小区": FORMULA}
    mp.setattr(F, "LEDGER", [(c, swap.get(n, n), *rest) for c, n, *rest in F.LEDGER])
    mp.setattr(F, "PLAN", [(fid, c, y, swap.get(n, n), *rest) for fid, c, y, n, *rest in F.PLAN])
    mp.setattr(F, "REPORTS", [(fid, y, swap.get(n, n), *rest) for fid, y, n, *rest in F.REPORTS])
    mp.setattr(F, "FILES", [(fid, k, c, per, fill, FILE if fid == 6 else name) for fid, k, c, per, fill, name in F.FILES])
    try:
        path = F.build_warehouse(tmp_path_factory.mktemp("security") / "w.duckdb")
    finally:
        mp.undo()
    make_users(path)
    return path


def _signals(db: Path) -> pl.DataFrame:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql("""select s.*, coalesce(v.status, '待核查') as verdict, v.status_text, v.verdict_note
                          from marts.signals s left join marts.verdict_current v using (signal_id)""").pl()
    finally:
        con.close()


# --- Markdown: the one helper --------------------------------------------------------------------

@pytest.mark.parametrize("payload", [LINK, IMAGE, HTML, "**粗体** _斜体_ `代码`", "# 标题\n- 列表", "www.evil.example",
                                     "http://evil.example/x", "a@evil.example", ":red[红字] :material/home:", "$x^2$",
                                     "<script>alert(1)</script>", "\\[x\\](y)"])
def test_plain_escapes_every_markdown_construct(payload):
    from app_pages._common import plain

    out = plain(payload)
    # every ASCII punctuation character is backslash-escaped, so none can open a construct …
    i = 0
    while i < len(out):
        ch = out[i]
        if ch == "\\":
            i += 2
            continue
        assert not (ch.isascii() and not ch.isalnum() and not ch.isspace()), (payload, out, ch)
        i += 1
    assert "\n" not in out
    # … and removing the escapes gives the text back (on one line)
    import re

    assert re.sub(r"\\(.)", r"\1", out).replace("\u200b", "") == " ".join(payload.split())
    # GFM autolink literals (found after escapes are resolved) are broken by a zero-width space
    unescaped = re.sub(r"\\(.)", r"\1", out)
    assert "://" not in unescaped and "www." not in unescaped.lower()
    assert unescaped.count("@") == unescaped.count("@\u200b")


# --- formulas in every export --------------------------------------------------------------------

def _assert_no_formula(cells: list[str], where: str) -> None:
    for c in cells:
        if isinstance(c, str) and c.startswith(FORMULA_START):
            try:
                float(c)
                continue  # a number such as -1.5
            except ValueError:
                pytest.fail(f"{where}: cell {c!r} would run as a formula")


def test_csv_and_xlsx_exports_escape_formulas(warehouse):
    import openpyxl

    sig = _signals(warehouse)
    assert FORMULA in sig["community_name"].to_list()
    rows = list(csv.reader(io.StringIO(exports.signals_csv_bytes(sig).decode("utf-8-sig"))))
    _assert_no_formula([c for r in rows for c in r], "flags.csv")
    assert any(c.startswith("'=HYPERLINK") for r in rows for c in r)
    history = pl.DataFrame({"signal_id": [sig["signal_id"][0]], "decided_at": ["2025-05-01 10:00"],
                            "decided_by_label": ["@SUM(A1)"], "act_label": ["结论「已确认」"], "from_status": ["待核查"],
                            "to_status": ["已确认"], "note": ["-2+3"]})
    books = {
        "signals.xlsx": exports.signals_xlsx_bytes(sig, [("筛选条件", "=1+1")], None, history),
        "case.xlsx": exports.case_file_xlsx_bytes({}, [("计划行", sig.select("community_name", "evidence"))], history,
                                                  [("小区名称", FORMULA)]),
        "table.xlsx": exports.table_xlsx_bytes([("表", sig.select("community_name", "file_name"), None)], [("x", "+1")]),
    }
    for name, data in books.items():
        wb = openpyxl.load_workbook(io.BytesIO(data))
        cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
        _assert_no_formula([c for c in cells if isinstance(c, str)], name)
        assert any(isinstance(c, str) and c.startswith("'") for c in cells), name
    table = list(csv.reader(io.StringIO(exports.table_csv_bytes(sig.select("community_name", "evidence")).decode("utf-8-sig"))))
    _assert_no_formula([c for r in table for c in r], "table csv")


def test_action_log_csv_escapes_formulas(tmp_path):
    from pipelines.access import action_log

    db = tmp_path / "w.duckdb"
    action_log.record("=cmd|' /C calc'!A0", "anonymous", "login_failed", object="@SUM(1)", detail="+1", db=db)
    rows = list(csv.reader(io.StringIO(action_log.csv_bytes(action_log.read(db=db)).decode("utf-8-sig"))))
    _assert_no_formula([c for r in rows for c in r], "action log csv")
    assert rows[1][1] == "'=cmd|' /C calc'!A0"


@pytest.mark.slow
def test_the_report_docx_and_pdf_escape_formulas(warehouse, tmp_path):
    from docx import Document

    from pipelines.report import run_report

    out = tmp_path / "report.docx"
    assert run_report(warehouse, 2025, out) == 0
    doc = Document(str(out))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    paras = [p.text for p in doc.paragraphs]
    _assert_no_formula(cells + paras, "report.docx")
    assert any(c.startswith("'=HYPERLINK") for c in cells), "the flagged community is in the report, escaped"
    pdf = tmp_path / "report.pdf"
    assert run_report(warehouse, 2025, pdf) == 0
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "'=HYPERLINK" in text.replace("’", "'")
    for line in text.splitlines():
        assert not line.strip().startswith("=HYPERLINK"), line


# --- no secret in any log -------------------------------------------------------------------------

def test_no_password_or_hash_in_python_logs(tmp_path, caplog):
    from pipelines.access import accounts, auth

    db = tmp_path / "w.duckdb"
    caplog.set_level(logging.DEBUG)
    accounts.add("sec1", "auditor", "Secret-Pass-4711", accounts.Actor("os:t", "operator"), db=db)
    auth.log_in("sec1", "Secret-Pass-4711", db)
    auth.log_in("sec1", "Wrong-Pass-0815", db)
    text = caplog.text + store_dump(db)
    assert "Secret-Pass-4711" not in text and "Wrong-Pass-0815" not in text
    assert "Secret-Pass-4711" not in "".join(r.getMessage() for r in caplog.records)


def store_dump(db: Path) -> str:
    import sqlite3

    from pipelines.access.store import store_path

    con = sqlite3.connect(store_path(db))
    try:
        rows = [*con.execute("select * from action_log"), *con.execute("select * from login_attempts")]
        return "\n".join(str(r) for r in rows)
    finally:
        con.close()


def test_the_cli_never_echoes_a_password(tmp_path):
    db = tmp_path / "w.duckdb"
    p = subprocess.run([sys.executable, "-m", "pipelines.cli", "users", "add", "sec2", "--role", "leader",
                        "--password-stdin", "--db", str(db), "-v"], input="Cli-Secret-9931\n", capture_output=True,
                       text=True, cwd=ROOT)
    assert p.returncode == 0 and "Cli-Secret-9931" not in p.stdout + p.stderr


# --- in the browser --------------------------------------------------------------------------------

browser_only = pytest.mark.browser


@pytest.fixture(scope="module")
def served(warehouse, tmp_path_factory):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed")
    from test_browser import free_port, start_app, stop_app

    log = tmp_path_factory.mktemp("security_log") / "server.log"
    port = free_port()
    proc = start_app(warehouse, port, log)
    yield f"http://127.0.0.1:{port}", log
    stop_app(proc)


def _inert(p, requests: list[str]) -> None:
    main = p.locator('[data-testid="stMain"]')
    assert main.locator('a[href*="evil"]').count() == 0
    assert main.locator('img[src*="evil"]').count() == 0
    assert p.locator('a[href*="evil"], img[src*="evil"], script:has-text("alert")').count() == 0
    assert not [r for r in requests if "evil.example" in r], requests


@browser_only
def test_names_and_evidence_render_as_text_on_the_risk_page(served, browser):
    base, _ = served
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    requests: list[str] = []
    try:
        p = ctx.new_page()
        p.on("request", lambda r: requests.append(r.url))
        browser_login(p, base, "auditor1", "risk")
        p.get_by_role("tab", name="线索清单与核查").click()  # a lazy tab: it runs when chosen
        p.wait_for_selector("text=证据", timeout=60_000)
        p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        box = p.locator('[data-testid="stSelectbox"]').filter(has_text="查看线索详情")
        box.click()
        p.get_by_role("option").filter(has_text="胜利小区").first.click()
        p.wait_for_selector("text=证据", timeout=30_000)
        p.wait_for_timeout(500)
        p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        text = p.inner_text('[data-testid="stMain"]').replace("\u200b", "")
        # shown as written: the file name in the evidence and its caption, the name in the chosen signal's label
        assert LINK in text
        shown = box.evaluate("e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")
        assert NAME in shown, shown
        assert FILE in text  # the source file named in the caption
        for tab in ("台账与计划对照", "身份关联说明", "计划行"):
            p.get_by_role("tab", name=tab).click()
        _inert(p, requests)
    finally:
        ctx.close()


@browser_only
def test_upload_results_render_file_sheet_and_cell_as_text(served, browser, tmp_path):
    import xlsxwriter

    base, _ = served
    sheet = "<b>表 _粗_"  # Excel allows no / * [ ] in a sheet name
    path = tmp_path / "[通知](javascript:alert(1))![x](http:evil.example).xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    head = ["县市", "报告期", "填报日期", "计划年度", "小区名称", "户数", "计划总投资", "形象进度", "累计完成投资", "累计拨付资金", "开工日期"]
    ws.write_row(0, 0, head)
    ws.write_row(1, 0, ["尉犁县", "2025-02", "2025-03-03", "2025", "罗布小区", 80, 160, IMAGE, 90, 60, "2025-01-10"])
    ws.write_row(2, 0, ["尉犁县", "2025-02", "2025-03-03", "2025", "塔河小区", 20, 40, 10, 5, 5, "2025-02-10"])
    wb.close()
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    requests: list[str] = []
    try:
        p = ctx.new_page()
        p.on("request", lambda r: requests.append(r.url))
        browser_login(p, base, "clerk_yl", "upload")
        p.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([str(path)])
        p.wait_for_selector('text=.xlsx', timeout=30_000)
        p.get_by_role("button", name="开始导入").click()
        p.wait_for_selector('h3:has-text("本次导入结果")', timeout=120_000)
        p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
        p.locator('[data-testid="stExpander"] summary').first.click()  # the file's messages
        p.wait_for_timeout(300)
        text = p.inner_text('[data-testid="stMain"]').replace("\u200b", "")
        assert path.name in text and f"工作表「{sheet}」" in text and IMAGE in text
        main = p.locator('[data-testid="stMain"]')
        assert main.locator("b", has_text="表").count() == 0 and main.locator("em", has_text="粗").count() == 0
        _inert(p, requests)
    finally:
        ctx.close()


@browser_only
def test_no_secret_in_the_server_log_during_log_in(served, browser, warehouse):
    base, log = served
    ctx = browser.new_context(locale="zh-CN")
    try:
        p = ctx.new_page()
        browser_login(p, base, "leader1", password="Wrong-In-Browser-77", expect_ok=False)
        p.wait_for_selector('[data-testid="stAlert"]', timeout=30_000)
        browser_login(p, base, "leader1")
        p.get_by_role("button", name="退出登录").click()
        p.get_by_role("button", name="登录", exact=True).wait_for(timeout=30_000)
    finally:
        ctx.close()
    text = log.read_text(errors="replace")
    assert "page progress" in text  # the log is the server's (it was written during the log-in)
    for secret in (PASSWORD, "Wrong-In-Browser-77", "$argon2id$"):
        assert secret not in text
    dump = store_dump(warehouse)
    assert PASSWORD not in dump and "Wrong-In-Browser-77" not in dump and "leader1" in dump
