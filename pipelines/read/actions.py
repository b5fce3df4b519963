"""The dashboard's writes: uploading workbooks, an auditor's verdict or review, publishing scores,
and the action-log entry of every download.

Each takes the session's user (``pipelines.access.auth.SessionUser``), checks its role before
anything is written, and records the action in the action log. Writes to the warehouse go
through the pipelines (``pipelines.ingest``, ``pipelines.signals.verdicts``) and take their turn
at the warehouse like every writer (``pipelines.locking``: 排队中… while another import runs, from
this server or the command line); the cached results are cleared after, so that the next page
view shows the new state. An upload is stored under a name the file system accepts and loaded
under the name the clerk gave it.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from pipelines.access import action_log
from pipelines.access.auth import SessionUser
from pipelines.ingest import SUFFIXES, FileResult, ingest_paths
from pipelines.locking import open_warehouse, writer_lock
from pipelines.read.connection import clear_caches, db_path
from pipelines.reading.files import limits
from pipelines.signals.verdicts import review_verdict, set_verdict
from pipelines.warehouse import transaction

__all__ = ["max_upload_bytes", "accepted_types", "stored_name", "ingest_uploads", "ingest_files", "write_verdict",
           "write_review", "publish_scores", "logged", "record"]

_STATUS = {"accepted": "已入库", "duplicate": "已存在(重复文件)", "rejected": "已拒收"}
# the longest name stored (bytes of UTF-8): file systems take 255
_MAX_NAME_BYTES = 180
_UNSAFE = re.compile(r"[\x00-\x1f/\\\x7f]")


def record(user: SessionUser, action: str, object: str = "", detail: str = "", result: str = "ok") -> None:
    """One action-log row for the session's user."""
    action_log.record(user.user_name, user.role, action, object=object, detail=detail, result=result,
                      county_code=user.county_code, db=db_path())


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


def ingest_uploads(files: list[tuple[str, bytes]], user: SessionUser,
                   on_wait: Callable[[str], None] | None = None) -> list[FileResult]:
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
        return ingest_files(paths, user, names, on_wait)


def ingest_files(paths: list[Path], user: SessionUser, names: dict[str, str] | None = None,
                 on_wait: Callable[[str], None] | None = None) -> list[FileResult]:
    """Load workbooks into the warehouse; one result per file, each in the action log. A clerk's
    upload is bound to its county (rows of another county are rejected)."""
    user.scope.need("upload")
    results: list[FileResult] = []
    try:
        results = ingest_paths(list(paths), db_path=db_path(), names=names, on_wait=on_wait or (lambda m: None),
                               allowed_county=user.county_code)
    except Exception:
        for p in paths:
            record(user, "upload", (names or {}).get(str(p), Path(p).name), "导入失败:数据仓库暂时无法写入", "failed")
        raise
    finally:
        clear_caches()
    for r in results:
        detail = f"{_STATUS.get(r.status, r.status)};入库 {r.rows} 行,隔离 {r.rejected_rows} 行"
        if r.status == "rejected" and r.messages:
            detail += f";{r.messages[0]}"
        record(user, "upload", Path(r.file).name, detail, "failed" if r.status == "rejected" else "ok")
    return results


def _write(what: str, fn: Callable, *args, **kwargs):
    """One write to the warehouse, in its turn (the writer lock) and one transaction."""
    try:
        with writer_lock(db_path(), what=what):
            con = open_warehouse(db_path())
            try:
                with transaction(con):
                    return fn(con, *args, **kwargs)
            finally:
                con.close()
    finally:
        clear_caches()


def write_verdict(user: SessionUser, signal_id: str, verdict: str, note: str | None, what: str = "") -> bool:
    """Record an auditor's verdict under the session's account; returns whether it awaits review (复核).
    Raises ValueError (Chinese) or Forbidden."""
    user.scope.need("verdict")
    try:
        pending = _write("记录核查结论", set_verdict, signal_id, verdict, user.user_name, note, user.display_name)
    except ValueError as exc:
        record(user, "verdict", what or signal_id, f"{verdict}:{exc}", "failed")
        raise
    record(user, "verdict", what or signal_id, f"{verdict}" + ("(高风险,待复核)" if pending else "")
           + (f";说明:{note}" if note else ""))
    return pending


def write_review(user: SessionUser, signal_id: str, agree: bool, note: str | None, what: str = "",
                 expected_act: str | None = None) -> str:
    """A second auditor confirms (``agree``) or rejects the verdict awaiting review, the one the page showed
    (``expected_act``); returns that verdict."""
    user.scope.need("verdict")
    try:
        verdict = _write("记录复核", review_verdict, signal_id, agree, user.user_name, note, user.display_name,
                         expected_act=expected_act)
    except ValueError as exc:
        record(user, "review", what or signal_id, str(exc), "failed")
        raise
    record(user, "review", what or signal_id, f"{'同意' if agree else '不同意'}「{verdict}」" + (f";说明:{note}" if note else ""))
    return verdict


def publish_scores(user: SessionUser, kind: str, year: int, publish: bool = True) -> None:
    """Publish (or withdraw) a year's scores to the county clerks (an admin's setting)."""
    user.scope.need("settings")

    def write(con) -> None:
        con.execute("insert into raw.score_publications values (?, ?, ?, ?, ?)",
                    [kind, int(year), publish, user.user_name, dt.datetime.now()])

    _write("发布得分", write)
    record(user, "publish_scores", f"{year} 年{'年度体检' if kind == 'annual' else '两年评估'}得分",
           "发布给县市填报员" if publish else "撤回发布")


def logged(user: SessionUser, area: str, what: str, filters: str, build: Callable[[], bytes],
           action: str = "export") -> Callable[[], bytes]:
    """The data of a download button: checks the role, then builds the file when it is clicked and
    records the download (what, with which filters) in the action log."""
    user.scope.need(area)

    def data() -> bytes:
        try:
            out = build()
        except Exception:
            record(user, action, what, f"筛选条件:{filters}", "failed")
            raise
        record(user, action, what, f"筛选条件:{filters}")
        return out

    return data
