"""Fault injection (issue 9, Proof): an import killed with SIGKILL at every fault point of
``pipelines.faults`` (small imports validated in-process, large ones through the GX service),
killed after random delays, a GX service that dies, concurrent command-line imports, a full
disk, a damaged warehouse. After each: no file in raw that is not fully in core and marts
(``renovation check``), the re-run completes, and every table equals a clean run's.

Each import runs as ``renovation ingest`` in a subprocess (tests/fault_runner.py), into a copy of
the small warehouse, with a batch that has loadable files, a late resubmission adding a project
row, a row that fails validation, an unreadable file and a copy of it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbooks as W
from pipelines import operations
from pipelines.faults import POINTS
from conftest import tmpfs
from warehouse_snapshot import differences, snapshot

ROOT = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).resolve().parent / "fault_runner.py"


def run(db: Path, paths: list[Path], fault: str | None = None, service: bool = False, wait: bool = True,
        timeout: float = 300) -> subprocess.Popen | subprocess.CompletedProcess:
    env = dict(os.environ, FAULT_TEST_SERVICE="1" if service else "0", PYTHONPATH=str(ROOT))
    env.pop("RENOVATION_FAULT", None)
    if fault:
        env["RENOVATION_FAULT"] = fault
    cmd = [sys.executable, str(RUNNER), "ingest", "--db", str(db), *map(str, paths)]
    if not wait:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fault_batch")
    for m in (7, 8, 9):
        W.monthly(d, m)
    rows = W.monthly_rows(6) + [["轮台县", 2021, "LT-2021-04", "团结北小区", 180, 500, 0, "2021-05-01", 10, 10, 0, "", "", ""]]
    W.monthly(d, 6, fill="2021年9月20日", name="轮台县月报2021-06(补报).xlsx", rows=rows)
    bad = W.monthly_rows(10)
    bad[0][4] = "二百六十"  # one row fails validation, the file loads with the others
    W.monthly(d, 10, rows=bad)
    (d / "损坏.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    (d / "损坏(副本).xlsx").write_bytes(b"PK\x03\x04 not a zip")
    return d


@pytest.fixture(scope="module")
def clean(batch, small_db, tmp_path_factory) -> dict:
    """The warehouse after an uninterrupted import of the batch (the same for both paths)."""
    db = tmp_path_factory.mktemp("fault_clean") / "w.duckdb"
    shutil.copy(small_db, db)
    proc = run(db, [batch])
    assert proc.returncode == 1, proc.stderr  # the unreadable files are rejected
    served = tmp_path_factory.mktemp("fault_clean_served") / "w.duckdb"
    shutil.copy(small_db, served)
    assert run(served, [batch], service=True).returncode == 1
    expected = snapshot(db, attempts=False)
    assert not differences(snapshot(served, attempts=False), expected)
    return expected


def assert_whole(db: Path, before: dict, clean: dict) -> None:
    """No file half in: raw, core and marts agree, and the warehouse is the one before the
    import or the one after it. (The import log's lines for the files not loaded are written
    just after the commit: a crash in between loses only them, and the re-run writes them.)"""
    assert operations.problems(db) == ([], False)
    now = snapshot(db, attempts=False)
    data = [t for t in differences(now, clean) if t != "raw.ingest_log"]
    assert not differences(now, before) or not data, (differences(now, before), data)


def rerun_completes(db: Path, batch: Path, clean: dict, service: bool = False) -> None:
    proc = run(db, [batch], service=service)
    assert proc.returncode == 1, proc.stderr
    assert "renovation restore" not in proc.stderr and "Traceback" not in proc.stderr
    got = snapshot(db, attempts=False)
    assert not differences(got, clean), differences(got, clean)


SMALL_POINTS = [p for p in POINTS if p != "service.job"]
LARGE_POINTS = ["read", "written", "refresh.core", "refresh.verdicts", "refresh.signals", "refreshed", "committed",
                "logged"]


@pytest.mark.parametrize("point", SMALL_POINTS)
def test_kill_at_each_point_of_a_small_import(point, batch, clean, small_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    before = snapshot(db, attempts=False)
    proc = run(db, [batch], fault=point)
    assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-2000:])
    assert_whole(db, before, clean)
    rerun_completes(db, batch, clean)


@pytest.mark.parametrize("point", LARGE_POINTS)
def test_kill_at_each_point_of_an_import_validated_by_the_gx_service(point, batch, clean, small_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    before = snapshot(db, attempts=False)
    proc = run(db, [batch], fault=point, service=True)
    assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-2000:])
    assert_whole(db, before, clean)
    rerun_completes(db, batch, clean, service=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_after_a_random_delay(seed, batch, clean, small_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    before = snapshot(db, attempts=False)
    delay = random.Random(seed).uniform(1.0, 9.0)
    proc = run(db, [batch], service=seed == 2, wait=False)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # the import and its GX service, as a crash would
    proc.wait()
    assert_whole(db, before, clean)
    rerun_completes(db, batch, clean)


def test_a_gx_service_that_dies_on_its_first_job(batch, clean, small_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    proc = run(db, [batch], fault="service.job", service=True)
    assert proc.returncode == 1, proc.stderr  # completed in the import's own process
    got = snapshot(db, attempts=False)
    assert not differences(got, clean), differences(got, clean)


def test_concurrent_command_line_imports_all_load_in_turn(batch, small_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    files = sorted(p for p in batch.iterdir() if "损坏" not in p.name)
    groups = [files[0:2], files[2:4], files[4:]]
    procs = [run(db, g, wait=False) for g in groups]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-1500:] for o in outs]
    assert sum("排队中" in err for _, err in outs) >= 1
    assert operations.problems(db) == ([], False)
    # the same imports one after the other, in the order they took the warehouse, give the same tables
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    order = [r[0] for r in con.execute("select file_name from raw.submissions where file_id > 8 order by file_id").fetchall()]
    con.close()
    firsts = sorted(range(3), key=lambda i: min(order.index(f.name) for f in groups[i]))
    seq = tmp_path / "seq.duckdb"
    shutil.copy(small_db, seq)
    for i in firsts:
        assert run(seq, groups[i]).returncode == 0
    assert not differences(snapshot(db, attempts=False), snapshot(seq, attempts=False))


def test_a_damaged_warehouse_is_refused_then_restored_and_the_import_completes(batch, clean, small_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    backup = tmp_path / "backup.duckdb"
    assert run_cli("backup", "--db", str(db), str(backup)).returncode == 0
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size // 2)
    proc = run(db, [batch])
    assert proc.returncode == 1 and "已损坏" in proc.stderr and "renovation restore" in proc.stderr
    check = run_cli("check", "--db", str(db))
    assert check.returncode == 1 and "renovation restore" in check.stderr
    assert run_cli("restore", "--db", str(db), str(backup), "--force").returncode == 0
    rerun_completes(db, batch, clean)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def small_disk(tmp_path):
    """A 48 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    yield from tmpfs(tmp_path / "disk", "48m")


def test_a_full_disk_fails_the_import_whole_and_the_rerun_completes(batch, clean, small_db, small_disk):
    db = small_disk / "w.duckdb"
    shutil.copy(small_db, db)
    before = snapshot(db, attempts=False)
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    with filler.open("wb") as f:  # leave about 64 KiB: less than the import writes
        f.write(b"\0" * max(0, free - 64 * 1024))
    proc = run(db, [batch])
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "磁盘" in proc.stderr, proc.stderr[-2000:]
    filler.unlink()
    assert_whole(db, before, clean)
    rerun_completes(db, batch, clean)
