"""Shared fixtures: a small warehouse built once per run from the hand-made workbooks."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import tempfile  # noqa: E402

# a dashboard running on this machine (``renovation serve``) keeps a warm validation service; the
# suite never talks to it (the tests of the warm service start their own)
os.environ["RENOVATION_GX_SOCKET"] = tempfile.mkdtemp(prefix="renovation-test-gx-")

import workbooks as W  # noqa: E402
from backends import BACKEND, LAKE, copy_of, new_location  # noqa: E402

from pipelines.backend import Location  # noqa: E402

# Dates in the test workbooks lie in 2020–2021; "today" is fixed so that the tests do not age.
TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="session")
def small_set(tmp_path_factory) -> Path:
    """A ledger, a plan and six monthly reports of 轮台县, 2021."""
    d = tmp_path_factory.mktemp("small_set")
    W.ledger(d)
    W.plan(d)
    for m in range(1, 7):
        W.monthly(d, m)
    return d


@pytest.fixture(scope="session")
def small_db(small_set, tmp_path_factory) -> Location:
    from pipelines.ingest import ingest_paths

    db = new_location(tmp_path_factory.mktemp("small_db"))
    results = ingest_paths([small_set], db_path=db, today=TODAY)
    assert [r.status for r in results] == ["accepted"] * 8, [r.messages for r in results]
    return db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo warehouse (`renovation demo`, seed 2021), built once per run; read it, do not write."""
    from demogen import generate
    from pipelines.ingest import ingest_paths

    root = tmp_path_factory.mktemp("demo")
    files = generate(root / "files", seed=2021)
    db = root / "demo.duckdb"
    ingest_paths(files, db_path=db)
    return db


@pytest.fixture
def db_copy(small_db, tmp_path) -> Location:
    """A private copy of the small warehouse, for tests that write."""
    return copy_of(small_db, tmp_path)


def pytest_report_header(config):
    return f"warehouse backend: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    # on DuckLake, the warehouse tests run; the others (parsing, the browser …) are the embedded run's
    if LAKE:
        skip = pytest.mark.skip(reason="DuckLake run: only the warehouse tests")
        for item in items:
            if "warehouse" not in item.keywords and "ducklake" not in item.keywords:
                item.add_marker(skip)
    else:
        skip = pytest.mark.skip(reason="needs RENOVATION_TEST_BACKEND=ducklake (a PostgreSQL server)")
        for item in items:
            if "ducklake" in item.keywords:
                item.add_marker(skip)
    # browser tests need Debian's chromium; outside CI they are skipped when it is absent
    if Path("/usr/bin/chromium").exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="需要 /usr/bin/chromium(apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per browser-test module (tests/test_browser.py says which and how)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def tmpfs(path: Path, size: str):
    """Mount a tmpfs of ``size`` at ``path`` (made here) for the duration of a fixture (root only;
    the test is skipped where mounting is not allowed)."""
    import subprocess

    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root and CAP_SYS_ADMIN needed): {proc.stderr.strip()}")
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def q(db, sql: str, params=None) -> list[tuple]:
    """Rows of ``sql`` on the embedded warehouse file ``db``, read-only (the tests' one reader)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def server(warehouse):
    """The dashboard served on a free port against the module's ``warehouse``; its address."""
    from test_browser import free_port, start_app, stop_app

    port = free_port()
    proc = start_app(warehouse, port)
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)
