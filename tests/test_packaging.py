"""The wheel holds everything the code needs: installed from it alone (no checkout on the path),
`renovation ingest` finds its SQL models and suites and builds the marts; the demo generator
travels as its own package; production code has no import cycle."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

import workbooks as W

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([uv, "build", "--wheel", "-o", str(out)], cwd=ROOT, check=True, capture_output=True)
    (whl,) = out.glob("renovation-*.whl")
    return whl


def test_the_wheel_carries_the_sql_the_suites_the_app_and_the_demo(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sql = {p.relative_to(ROOT).as_posix() for p in (ROOT / "warehouse").rglob("*.sql")}
    assert sql and {f"pipelines/_bundle/{p}" for p in sql} <= names
    for needed in ("pipelines/config/headers.toml", "pipelines/config/thresholds.toml", "pipelines/config/scoring.toml",
                   "pipelines/config/limits.toml", "pipelines/config/counties.csv", "expectations/ingest.py",
                   "expectations/signals.py", "demogen/__init__.py", "pipelines/_bundle/dashboard.py",
                   "pipelines/_bundle/app_pages/progress.py", "pipelines/_bundle/.streamlit/config.toml"):
        assert needed in names, needed
    assert not any(n.endswith(".duckdb") for n in names)


def _effective_option(cwd: Path, name: str) -> str:
    """An option as `streamlit run` started in ``cwd`` sees it (its .streamlit/config.toml read)."""
    code = ("from streamlit import config; config.get_config_options(force_reparse=True); "
            f"print(config.get_option({name!r}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_server_runs_no_full_garbage_collection_after_each_script_run(wheel, tmp_path):
    """Streamlit's default gc.collect(2) after every run walks the whole heap (~0.1 s here) holding the
    GIL: every page switch and filter change waited for it before the browser heard the run had
    ended (issue 12). Off where `renovation serve` starts Streamlit: the checkout and the installed wheel."""
    assert _effective_option(ROOT, "runner.postScriptGC") == "False"
    zipfile.ZipFile(wheel).extractall(tmp_path)
    assert _effective_option(tmp_path / "pipelines" / "_bundle", "runner.postScriptGC") == "False"
    assert _effective_option(tmp_path, "runner.postScriptGC") == "True"  # what it is without our config


@pytest.mark.slow
def test_an_installed_wheel_ingests_without_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    W.ledger(work)
    W.plan(work)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("RENOVATION_DB", None)
    where = subprocess.run([sys.executable, "-c", "import pipelines, expectations; print(pipelines.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), where  # the unpacked wheel, not the checkout
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", str(work)], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    db = work / "warehouse" / "renovation.duckdb"  # the default warehouse, under the working directory
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from core.plan_rows").fetchone()[0] == 3
        assert con.execute("select count(*) from marts.signal_rules").fetchone()[0] == 17
    finally:
        con.close()


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_production_code_does_not_import_the_demo_generator_or_the_tests():
    for path in [*(ROOT / "pipelines").rglob("*.py"), *(ROOT / "expectations").rglob("*.py"), ROOT / "dashboard.py",
                 *(ROOT / "app_pages").glob("*.py")]:
        bad = {m for m in _imports(path) if m.split(".")[0] in ("tests", "benchmarks")}
        # the one door to the demo: the `renovation demo` command
        if path.name != "cli.py":
            bad |= {m for m in _imports(path) if m.split(".")[0] == "demogen"}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
