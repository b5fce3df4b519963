"""Several processes on one DuckLake at once: two dashboard readers query while two import jobs
write. No file is lost or loaded twice, and every read sees a committed state, whole: each
file with all its rows, the core layer refreshed for every file in raw.

The readers are processes of their own that read through the dashboard's read side
(``pipelines.read``: its connection, snapshot-keyed cache and query functions), as the app's
servers do; the writers are ``renovation ingest`` processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbooks as W
from backends import copy_of, env, open_db

pytestmark = pytest.mark.ducklake

ROOT = Path(__file__).resolve().parent.parent

READER = r"""
import json, sys, time
from pathlib import Path
from pipelines.read.connection import query
from pipelines.read import submissions
from pipelines.access.scope import Scope

stop = Path(sys.argv[1])
CHECK = '''
select
    (select count(*) from raw.submissions) as files,
    (select count(distinct file_id) from core.submissions) as files_in_core,
    (select count(*) from raw.submissions s where s.kind = 'monthly' and s.row_count + s.rejected_row_count
        <> (select count(*) from staging.report_rows r where r.file_id = s.file_id)) as files_not_whole,
    (select count(*) from raw.submissions s where not exists
        (select 1 from raw.source_rows r where r.file_id = s.file_id)) as files_without_source_rows,
    (select count(*) from core.report_rows) as report_rows
'''
while True:
    last = stop.exists()
    row = query(CHECK).row(0, named=True)
    history = submissions.submission_history(Scope("admin"), 2021, None)  # a query of the upload page, cached by snapshot
    row["history_rows"] = history.height
    print(json.dumps(row), flush=True)
    if last:
        break
    time.sleep(0.05)
"""


def _reader(loc, stop: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", READER, str(stop)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, **env(loc)))


def _writer(loc, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", "--db", str(loc), "--json", str(folder)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_readers_and_two_writers(small_db, tmp_path):
    lake = copy_of(small_db, tmp_path)
    con = open_db(lake)
    start_files, start_rows = con.execute("select (select count(*) from raw.submissions), "
                                          "(select count(*) from core.report_rows)").fetchone()
    con.close()
    a, b = tmp_path / "job_a", tmp_path / "job_b"
    a.mkdir()
    b.mkdir()
    for m in (7, 8, 9):
        W.monthly(a, m)
    for m in (11, 12):
        W.monthly(b, m)
    shared = W.monthly(a, 10)
    shutil.copy(shared, b / shared.name)  # the same file handed to both jobs: loaded once

    stop = tmp_path / "stop"
    readers = [_reader(lake, stop) for _ in range(2)]
    time.sleep(1.0)
    writers = [_writer(lake, a), _writer(lake, b)]
    outs = [w.communicate(timeout=600) for w in writers]
    stop.touch()
    reads = [r.communicate(timeout=120) for r in readers]

    for w, (out, err) in zip(writers, outs):
        assert w.returncode == 0, err
    results = [json.loads(line) for out, _ in outs for line in out.splitlines()]
    by_status = {}
    for r in results:
        by_status.setdefault(r["status"], []).append(r["file"].rsplit("/", 1)[-1])
    # six distinct files: each accepted once; the shared one accepted by one job, a duplicate for the other
    assert sorted(by_status["accepted"]) == sorted(p.name for p in [*a.iterdir(), *b.iterdir()] if p != b / shared.name)
    assert by_status["duplicate"] == [shared.name]

    con = open_db(lake)
    files, ids, hashes = con.execute("select count(*), count(distinct file_id), count(distinct file_hash) "
                                     "from raw.submissions").fetchone()
    final_rows = con.execute("select count(*) from core.report_rows").fetchone()[0]
    con.close()
    assert files == ids == hashes == start_files + 6  # no file lost, none twice, no id taken twice

    for r, (out, err) in zip(readers, reads):
        assert r.returncode == 0, err
        seen = [json.loads(line) for line in out.splitlines()]
        assert len(seen) >= 3
        for s in seen:  # every read: a committed state, whole
            assert s["files"] == s["files_in_core"], s
            assert s["files_not_whole"] == 0 and s["files_without_source_rows"] == 0, s
        counts = [s["files"] for s in seen]
        assert counts == sorted(counts)  # snapshots only move forward
        assert counts[0] == start_files and counts[-1] == start_files + 6  # the last read sees both imports
        assert seen[-1]["report_rows"] == final_rows > start_rows
