"""The dashboard's writes: uploading workbooks and recording an auditor's verdict.

Each goes through the pipelines (``pipelines.ingest``, ``pipelines.signals.verdicts``) and takes
its turn at the warehouse like every writer (``pipelines.locking``: 排队中… while another import
runs, from this server or the command line); the cached results are cleared after, so that the
next page view shows the new state. An upload is stored under a name the file system accepts
and loaded under the name the clerk gave it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from pipelines.ingest import SUFFIXES, FileResult, ingest_paths
from pipelines.locking import open_warehouse, writer_lock
from pipelines.read.connection import clear_caches, db_path
from pipelines.reading.files import limits
from pipelines.signals.verdicts import set_verdict
from pipelines.warehouse import transaction

__all__ = ["max_upload_bytes", "accepted_types", "stored_name", "ingest_uploads", "ingest_files", "write_verdict"]

# the longest name stored (bytes of UTF-8): file systems take 255
_MAX_NAME_BYTES = 180
_UNSAFE = re.compile(r"[\x00-\x1f/\\\x7f]")


def max_upload_bytes() -> int:
    """Upload size limit per file (``limits.toml`` max_file_bytes)."""
    return int(limits()["max_file_bytes"])


def accepted_types() -> list[str]:
    """What the upload's file dialog offers: the workbook suffixes and their MIME types. With a
    MIME type in the list Streamlit leaves the check to the browser, and a file sent past it
    (an ``.exe``, say) reaches the ingest, which rejects it in Chinese, instead of failing the
    page with Streamlit's English error."""
    return sorted(SUFFIXES) + ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               "application/vnd.ms-excel", "text/csv"]


def stored_name(name: str) -> str:
    """A name the file system accepts for an upload called ``name``: no path, no control
    characters, at most 180 bytes, the suffix kept (it tells the reader the format)."""
    name = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip() or "upload"
    if name in (".", ".."):
        name = "upload"
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix.encode()) > 16:
        stem, suffix = name, ""
    tail = f".{suffix}" if suffix else ""
    while len((stem + tail).encode()) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem or "upload") + tail


def ingest_uploads(files: list[tuple[str, bytes]], on_wait: Callable[[str], None] | None = None) -> list[FileResult]:
    """Load uploaded workbooks (name as given, content); one result per file, in order."""
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        paths, names = [], {}
        for i, (name, data) in enumerate(files):
            # one folder per file keeps the submitted name even when two uploads share it
            d = Path(tmp) / f"{i:03d}"
            d.mkdir()
            p = d / stored_name(name)
            p.write_bytes(data)
            paths.append(p)
            names[str(p)] = name
        return ingest_files(paths, names, on_wait)


def ingest_files(paths: list[Path], names: dict[str, str] | None = None,
                 on_wait: Callable[[str], None] | None = None) -> list[FileResult]:
    """Load workbooks into the warehouse; one result per file."""
    try:
        return ingest_paths(list(paths), db_path=db_path(), names=names, on_wait=on_wait or (lambda m: None))
    finally:
        clear_caches()


def write_verdict(signal_id: str, verdict: str, decided_by: str, note: str | None) -> None:
    """Record an auditor's verdict (raises ValueError with a Chinese message)."""
    try:
        with writer_lock(db_path(), what="记录核查结论"):
            con = open_warehouse(db_path())
            try:
                with transaction(con):
                    set_verdict(con, signal_id, verdict, decided_by, note or None)
            finally:
                con.close()
    finally:
        clear_caches()
