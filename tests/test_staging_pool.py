"""Staging a batch with a helper process gives exactly what staging it here gives, and a
helper that fails never costs a file."""

from __future__ import annotations

import shutil
import sys

import pytest
import workbooks as W
from conftest import TODAY
from test_ingest import _bad_files, counts

from pipelines import staging_pool
from pipelines.ingest import ingest_paths
from pipelines.validation import _Deferred, defer_module


@pytest.fixture
def batch(tmp_path, small_set):
    d = tmp_path / "batch"
    shutil.copytree(small_set, d)
    _bad_files(d)
    return sorted(p for p in d.iterdir() if p.suffix in (".xlsx", ".xls", ".csv"))


def _comparable(outcomes):
    out = []
    for o in outcomes:
        if o[0] == "ok":
            st = o[1]
            out.append(("ok", st.layout.kind, st.layout.sheet_name, st.data, st.raw_rows, st.findings,
                        st.fill_date, st.report_month, st.county_code, st.layout.notes))
        else:
            out.append(o)
    return out


def _stage(monkeypatch, batch, min_files, args=None):
    monkeypatch.setattr(staging_pool, "MIN_FILES", min_files)
    monkeypatch.setattr(staging_pool, "CHUNK_FILES", 2)
    if args is not None:
        monkeypatch.setattr(staging_pool, "HELPER_ARGS", args)
    prepared = []
    outcomes = staging_pool.stage_all(batch, prepare=lambda: prepared.append(True))
    assert prepared == [True]
    return _comparable(outcomes)


def test_helper_stages_what_this_process_stages(monkeypatch, batch):
    alone = _stage(monkeypatch, batch, min_files=10**9)
    shared = _stage(monkeypatch, batch, min_files=1)
    assert len(alone) == len(batch) and {o[0] for o in alone} == {"ok", "read_error"}
    assert shared == alone


@pytest.mark.parametrize("script", [
    "import os; os._exit(3)",  # dies at once
    # takes a chunk and dies before sending it back
    "import os, sys; from multiprocessing.connection import Connection; c = Connection(int(sys.argv[1]));"
    " c.send(('ready',)); c.recv(); os._exit(3)",
])
def test_a_helper_that_dies_costs_no_file(monkeypatch, batch, script):
    alone = _stage(monkeypatch, batch, min_files=10**9)
    assert _stage(monkeypatch, batch, min_files=1, args=["-c", script]) == alone


def test_ingest_with_a_helper_loads_the_same_rows(monkeypatch, small_set, small_db, tmp_path):
    monkeypatch.setattr(staging_pool, "MIN_FILES", 1)
    monkeypatch.setattr(staging_pool, "CHUNK_FILES", 1)
    db = tmp_path / "w.duckdb"
    results = ingest_paths([small_set], db_path=db, today=TODAY)
    assert [r.status for r in results] == ["accepted"] * 8
    assert counts(db) == counts(small_db)


def test_a_deferred_module_is_the_real_one_on_first_use():
    name = "email.mime.audio"  # standard library, not imported by anything here
    sys.modules.pop(name, None)
    defer_module(name)
    stand_in = sys.modules[name]
    assert isinstance(stand_in, _Deferred)
    from email.mime import audio  # what `from scipy import stats` does with the stand-in

    assert audio is stand_in
    assert audio.MIMEAudio.__name__ == "MIMEAudio"  # first use imports the real module
    assert sys.modules[name] is not stand_in and sys.modules[name].MIMEAudio is audio.MIMEAudio
