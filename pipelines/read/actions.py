"""The dashboard's writes: uploading workbooks and recording an auditor's verdict.

Each goes through the pipelines (``pipelines.ingest``, ``pipelines.signals.verdicts``); the
app's read-only connection is closed first (DuckDB admits no writer while it is open) and the
cached results are cleared after, so that the next page view shows the new state.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from pipelines.backend import lake_writer_lock
from pipelines.ingest import FileResult, ingest_paths
from pipelines.read.connection import clear_caches, close_connection, db_path
from pipelines.reading.files import limits
from pipelines.signals.verdicts import set_verdict
from pipelines.warehouse import connect

__all__ = ["max_upload_bytes", "ingest_files", "write_verdict"]


def max_upload_bytes() -> int:
    """Upload size limit per file (``limits.toml`` max_file_bytes)."""
    return int(limits()["max_file_bytes"])


def ingest_files(paths: list[Path]) -> list[FileResult]:
    """Load uploaded workbooks into the warehouse; one result per file."""
    close_connection()
    try:
        return ingest_paths(list(paths), db_path=db_path())
    finally:
        clear_caches()


def write_verdict(signal_id: str, verdict: str, decided_by: str, note: str | None) -> None:
    """Record an auditor's verdict (raises ValueError with a Chinese message)."""
    close_connection()
    loc = db_path()
    try:
        with lake_writer_lock(loc) if loc.is_lake else contextlib.nullcontext():
            _write_verdict(loc, signal_id, verdict, decided_by, note)
    finally:
        clear_caches()


def _write_verdict(loc, signal_id: str, verdict: str, decided_by: str, note: str | None) -> None:
    con = connect(loc)
    try:
        con.execute("begin transaction")
        set_verdict(con, signal_id, verdict, decided_by, note or None)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
