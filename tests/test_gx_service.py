"""A large batch validated by the GX service process (and loaded while it validates) ends in
exactly the warehouse an ingest that validates in-process makes — with clean files, with rows
that fail, and with a service that dies."""

from __future__ import annotations

import os
import shutil
import sys

import duckdb
import pytest
import workbooks as W
from conftest import TODAY

from pipelines import ingest
from pipelines.validation import service as gx_service
from pipelines.ingest import TIMINGS, ingest_paths
from pipelines.validation.runner import _Deferred, defer_module

# columns that hold when or where a run happened, not what it found
_RUN_COLUMNS = {"batch_id", "ingested_at", "validated_at", "computed_at", "first_seen_at", "file_path", "path"}


def snapshot(db) -> dict[str, list]:
    """Every table of every layer, rows sorted, without the columns that record the run."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema in ('raw', 'staging', 'core', 'marts') order by all").fetchall()
        for schema, table in tables:
            cols = [c for c, t in con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position", [schema, table]).fetchall()
                if c not in _RUN_COLUMNS and not t.startswith("TIMESTAMP")]
            select = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{table}"] = con.execute(f"select {select} from {schema}.{table} order by all").fetchall()
        return out
    finally:
        con.close()


def _messages(results):
    return [(r.file.rsplit("/", 1)[-1], r.status, r.rows, r.rejected_rows, r.messages) for r in results]


def _ingest(batch, db, monkeypatch, service: bool, args=None):
    monkeypatch.setattr(ingest, "_use_service", lambda files: service)
    if args is not None:
        monkeypatch.setattr(gx_service, "SERVICE_ARGS", args)
    return ingest_paths([batch], db_path=db, today=TODAY)


@pytest.fixture
def clean_batch(tmp_path, small_set):
    d = tmp_path / "clean"
    shutil.copytree(small_set, d)
    return d


@pytest.fixture
def messy_batch(clean_batch):
    rows = W.monthly_rows(7)
    rows[0][4] = "二百六十"  # 户数 not a number: the row fails validation
    W.monthly(clean_batch, 7, rows=rows)
    return clean_batch


def test_clean_batch_is_loaded_while_validated_and_equals_the_in_process_ingest(tmp_path, clean_batch, monkeypatch):
    alone = _ingest(clean_batch, tmp_path / "alone.duckdb", monkeypatch, service=False)
    served = _ingest(clean_batch, tmp_path / "served.duckdb", monkeypatch, service=True)
    assert "validate_wait" in TIMINGS  # loaded and refreshed while the service validated
    assert [r.status for r in served] == ["accepted"] * 8
    assert _messages(served) == _messages(alone)
    assert snapshot(tmp_path / "served.duckdb") == snapshot(tmp_path / "alone.duckdb")


def test_rows_that_fail_send_the_batch_back_to_be_loaded_with_its_verdicts(tmp_path, messy_batch, monkeypatch):
    alone = _ingest(messy_batch, tmp_path / "alone.duckdb", monkeypatch, service=False)
    served = _ingest(messy_batch, tmp_path / "served.duckdb", monkeypatch, service=True)
    assert "validate_wait" not in TIMINGS and "validate" in TIMINGS
    assert any(r.rejected_rows == 1 for r in served)
    assert _messages(served) == _messages(alone)
    assert snapshot(tmp_path / "served.duckdb") == snapshot(tmp_path / "alone.duckdb")
    # the signal suites ran once per warehouse (each keeps its own runs), on the rows that were kept:
    # none on the rolled-back load
    from pipelines.validation.runner import _gx_dir

    for db in ("alone.duckdb", "served.duckdb"):
        runs = list((_gx_dir(tmp_path / db) / "gx" / "uncommitted" / "validations" / "signals_plan").rglob("*.json"))
        assert len(runs) == 1, db


@pytest.mark.parametrize("script", [
    "import os; os._exit(3)",  # dies at once
    # takes a job and dies before answering it
    "import os, sys; from multiprocessing.connection import Connection; c = Connection(int(sys.argv[1])); "
    "c.recv(); os._exit(3)",
])
def test_a_service_that_dies_costs_nothing(tmp_path, messy_batch, monkeypatch, script):
    alone = _ingest(messy_batch, tmp_path / "alone.duckdb", monkeypatch, service=False)
    served = _ingest(messy_batch, tmp_path / "served.duckdb", monkeypatch, service=True, args=["-c", script])
    assert _messages(served) == _messages(alone)
    assert snapshot(tmp_path / "served.duckdb") == snapshot(tmp_path / "alone.duckdb")


def test_a_validation_that_fails_in_the_service_stops_the_ingest_and_loads_nothing(tmp_path, clean_batch, monkeypatch):
    monkeypatch.setattr(ingest, "_VALIDATE", "math:sqrt")  # raises TypeError in the service
    db = tmp_path / "served.duckdb"
    with pytest.raises(gx_service.GXServiceError, match="TypeError") as raised:
        _ingest(clean_batch, db, monkeypatch, service=True)
    assert "Traceback" not in str(raised.value) and "Traceback" in raised.value.detail  # what a user may see
    assert duckdb.connect(str(db), read_only=True).execute("select count(*) from raw.submissions").fetchone() == (0,)


def test_only_a_large_batch_in_a_process_without_gx_uses_the_service(monkeypatch):
    monkeypatch.delitem(sys.modules, "great_expectations", raising=False)
    assert ingest._use_service(ingest.SERVICE_MIN_FILES) == ((os.cpu_count() or 1) >= 2)
    assert not ingest._use_service(ingest.SERVICE_MIN_FILES - 1)
    monkeypatch.setitem(sys.modules, "great_expectations", object())
    assert not ingest._use_service(10 * ingest.SERVICE_MIN_FILES)


def test_a_job_that_raises_in_the_service_raises_here():
    with gx_service.serving() as service:
        assert service is not None and gx_service.active() is service
        assert gx_service.call("math:hypot", 3, 4) == 5
        with pytest.raises(gx_service.GXServiceError, match="ValueError"):
            gx_service.call("math:sqrt", -1)
        job = service.submit("math:sqrt", -1)
        for _ in range(2):  # asked again, the same answer (not a wait for one that never comes)
            with pytest.raises(gx_service.GXServiceError, match="ValueError"):
                service.result(job)
    assert gx_service.active() is None and service.proc.returncode is not None


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
