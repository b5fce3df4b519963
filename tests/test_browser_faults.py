"""Issue 9 against the real dashboard in headless Chromium: concurrent uploads over real HTTP
sessions queue and all load, the server killed (SIGKILL) inside an upload leaves the warehouse
whole and the re-upload completes, a command-line import while pages are being viewed, an
``.exe`` past the browser's filter, a 120-character name, a damaged warehouse."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbooks as W
from access_helpers import PAGE_ROLE, browser_login, make_users
from pipelines import operations
from test_browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app, wait_idle
from warehouse_snapshot import differences, snapshot

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parent.parent


def new_page(browser, base: str, page: str = "upload"):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    p = ctx.new_page()
    # each session logged in as its own user; uploads are a clerk's, of the files' county (轮台县)
    browser_login(p, base, "clerk_lt" if page == "upload" else PAGE_ROLE.get(page, "admin1"),
                  "" if page == "progress" else page)  # the default page's address is the root
    wait_idle(p, 120_000)
    return p


def choose(p, *files: Path | dict) -> None:
    payload = [str(f) if isinstance(f, Path) else f for f in files]
    p.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(payload)
    name = files[-1].name if isinstance(files[-1], Path) else files[-1]["name"]
    p.wait_for_selector(f"text={name[:6]}", timeout=60_000)  # a long name is shown shortened


def submit(p) -> None:
    p.get_by_role("button", name="开始导入").click()


def result_text(p, timeout: float = 240_000) -> str:
    p.wait_for_selector('h3:has-text("本次导入结果")', timeout=timeout)
    wait_idle(p, timeout)
    return p.inner_text("body")


@pytest.fixture
def db(small_db, tmp_path) -> Path:
    path = tmp_path / "w.duckdb"
    shutil.copy(small_db, path)
    make_users(path)
    return path


def serve(db: Path, fault: str | None = None) -> tuple[subprocess.Popen, str]:
    import os

    port = free_port()
    old = os.environ.get("RENOVATION_FAULT")
    if fault:
        os.environ["RENOVATION_FAULT"] = fault
    try:
        proc = start_app(db, port)
    finally:
        if fault:
            os.environ.pop("RENOVATION_FAULT")
            if old:
                os.environ["RENOVATION_FAULT"] = old
    return proc, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("sessions", [2, 6])
def test_concurrent_uploads_queue_and_every_file_loads(browser, db, tmp_path, sessions):
    # each import stalls two seconds inside its transaction, so that the others must queue
    proc, base = serve(db, fault="refresh.core:sleep=2")
    try:
        files = [W.monthly(tmp_path, 7 + i % 6, fill=f"2021年12月{10 + i}日", name=f"会话{i}月报.xlsx")
                 for i in range(sessions)]
        pages = [new_page(browser, base) for _ in range(sessions)]
        for p, f in zip(pages, files):
            choose(p, f)
        for p in pages:
            submit(p)
        queued = False
        deadline = time.monotonic() + 300
        texts = [None] * sessions
        while None in texts and time.monotonic() < deadline:
            for i, p in enumerate(pages):
                if texts[i] is None:
                    body = p.inner_text("body")
                    queued = queued or "排队中" in body
                    if "本次导入结果" in body and p.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').count():
                        texts[i] = body
            time.sleep(0.2)
        assert None not in texts
        for text in texts:  # each session's own result (the table itself is drawn on a canvas)
            assert "已入库 1 个" in text and "拒收 0 个" in text, text[-800:]
        assert queued, "no session showed 排队中…"
    finally:
        stop_app(proc)
    assert operations.problems(db) == ([], False)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    names = {r[0] for r in con.execute("select file_name from raw.submissions").fetchall()}
    con.close()
    assert {f.name for f in files} <= names


@pytest.mark.parametrize("point", ["written", "refresh.signals", "committed"])
def test_server_killed_inside_an_upload_leaves_the_warehouse_whole_and_the_reupload_completes(
        browser, db, small_db, tmp_path, point):
    good = W.monthly(tmp_path, 7)
    # the same upload, uninterrupted, in a warehouse of its own
    clean_db = tmp_path / "clean.duckdb"
    shutil.copy(small_db, clean_db)
    make_users(clean_db)
    proc, base = serve(clean_db)
    try:
        p = new_page(browser, base)
        choose(p, good)
        submit(p)
        assert "已入库 1 个" in result_text(p)
    finally:
        stop_app(proc)
    clean = snapshot(clean_db, attempts=False)
    before = snapshot(db, attempts=False)

    proc, base = serve(db, fault=point)
    p = new_page(browser, base)
    choose(p, good)
    submit(p)
    assert proc.wait(timeout=240) == -signal.SIGKILL  # the server died inside the upload
    assert operations.problems(db) == ([], False)
    now = snapshot(db, attempts=False)
    assert not differences(now, before) or not differences(now, clean)

    proc, base = serve(db)
    try:
        p = new_page(browser, base)
        choose(p, good)
        submit(p)
        text = result_text(p)
        assert ("已入库 1 个" in text) if point != "committed" else ("重复 1 个" in text)
    finally:
        stop_app(proc)
    assert not differences(snapshot(db, attempts=False), clean)


def test_a_command_line_import_while_pages_are_viewed(browser, db, tmp_path):
    proc, base = serve(db)
    try:
        pages = [new_page(browser, base, name) for name in ("progress", "risk", "upload")]
        before = as_of(pages[0])
        cli = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", "--db", str(db),
                                str(W.monthly(tmp_path, 7, name="命令行导入月报.xlsx"))], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        views = 0
        while cli.poll() is None:  # page views go on while the import runs (a reload is a new session: log in)
            i = views % len(pages)
            path = ("", "risk", "upload")[i]
            browser_login(pages[i], base, ("admin1", "auditor1", "clerk_lt")[i], path)
            wait_idle(pages[i], 120_000)
            views += 1
        err = cli.communicate()[1]
        assert cli.returncode == 0 and "已入库" in err, err
        assert "正忙" not in err and views >= 1
        browser_login(pages[0], base, "admin1")
        wait_idle(pages[0], 120_000)
        assert as_of(pages[0]) != before  # the new report moves the data clock at once
    finally:
        stop_app(proc)


def as_of(p) -> str:
    """The sidebar's 数据截至 line (the data clock: the newest fill date received)."""
    p.get_by_text("数据截至", exact=False).first.wait_for(timeout=60_000)  # the sidebar is drawn after the page
    return next(line for line in p.inner_text("body").splitlines() if "数据截至" in line)


def test_an_exe_and_a_long_name_get_true_chinese_answers(browser, db, tmp_path):
    long_name = "巴音郭楞蒙古自治州轮台县住房和城乡建设局关于报送" + "二〇二一年七月城镇老旧小区改造项目进度月报" * 5 + "的函.xlsx"
    proc, base = serve(db)
    try:
        p = new_page(browser, base)
        # declared as CSV, the .exe gets past the browser's filter (which checks the type or the suffix)
        choose(p, {"name": "setup.exe", "mimeType": "text/csv", "buffer": b"MZ\x90\x00" + b"\0" * 64},
               {"name": long_name, "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": W.monthly(tmp_path, 7).read_bytes()})
        submit(p)
        text = result_text(p)
        assert "Invalid file extension" not in text and "StreamlitAPIException" not in text
        assert "不支持的文件类型" in text and "已入库 1 个" in text and "拒收 1 个" in text
        assert "其他导入" not in text
    finally:
        stop_app(proc)


def test_a_damaged_warehouse_is_named_with_the_restore_command(browser, db):
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size // 3)
    proc, base = serve(db)
    try:
        p = new_page(browser, base, "progress")
        text = p.inner_text("body")
        assert "已损坏" in text and "renovation restore" in text
        assert "正被其他程序写入" not in text and "上传" not in text.split("数据仓库文件")[1][:200]
    finally:
        stop_app(proc)
