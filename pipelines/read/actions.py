"""The dashboard's writes: uploading workbooks, an auditor's verdict or review, publishing scores,
and the action-log entry of every download.

Each takes the session's user (``pipelines.access.auth.SessionUser``), checks its role before
anything is written, and records the action in the action log. Writes to the warehouse go
through the pipelines (``pipelines.ingest``, ``pipelines.signals.verdicts``); the app's read-only
connection is closed first (DuckDB admits no writer while it is open) and the cached results are
cleared after, so that the next page view shows the new state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pipelines.access import action_log
from pipelines.access.auth import SessionUser
from pipelines.ingest import FileResult, ingest_paths
from pipelines.read.connection import clear_caches, close_connection, db_path
from pipelines.reading.files import limits
from pipelines.signals.verdicts import review_verdict, set_verdict
from pipelines.warehouse import connect, transaction

__all__ = ["max_upload_bytes", "ingest_files", "write_verdict", "write_review", "publish_scores", "logged",
           "record"]

_STATUS = {"accepted": "已入库", "duplicate": "已存在(重复文件)", "rejected": "已拒收"}


def record(user: SessionUser, action: str, object: str = "", detail: str = "", result: str = "ok") -> None:
    """One action-log row for the session's user."""
    action_log.record(user.user_name, user.role, action, object=object, detail=detail, result=result,
                      county_code=user.county_code, db=db_path())


def max_upload_bytes() -> int:
    """Upload size limit per file (``limits.toml`` max_file_bytes)."""
    return int(limits()["max_file_bytes"])


def ingest_files(paths: list[Path], user: SessionUser) -> list[FileResult]:
    """Load uploaded workbooks into the warehouse; one result per file, each in the action log. A
    clerk's upload is bound to its county (rows of another county are rejected)."""
    user.scope.need("upload")
    close_connection()
    results: list[FileResult] = []
    try:
        results = ingest_paths(list(paths), db_path=db_path(), allowed_county=user.county_code)
    except Exception:
        for p in paths:
            record(user, "upload", Path(p).name, "导入失败:数据仓库暂时无法写入", "failed")
        raise
    finally:
        clear_caches()
    for r in results:
        detail = f"{_STATUS.get(r.status, r.status)};入库 {r.rows} 行,隔离 {r.rejected_rows} 行"
        if r.status == "rejected" and r.messages:
            detail += f";{r.messages[0]}"
        record(user, "upload", Path(r.file).name, detail, "failed" if r.status == "rejected" else "ok")
    return results


def _write(fn: Callable, *args, **kwargs):
    close_connection()
    try:
        con = connect(db_path())
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
        pending = _write(set_verdict, signal_id, verdict, user.user_name, note, user.display_name)
    except ValueError as exc:
        record(user, "verdict", what or signal_id, f"{verdict}:{exc}", "failed")
        raise
    record(user, "verdict", what or signal_id, f"{verdict}" + ("(高风险,待复核)" if pending else "")
           + (f";说明:{note}" if note else ""))
    return pending


def write_review(user: SessionUser, signal_id: str, agree: bool, note: str | None, what: str = "") -> str:
    """A second auditor confirms (``agree``) or rejects the verdict awaiting review; returns that verdict."""
    user.scope.need("verdict")
    try:
        verdict = _write(review_verdict, signal_id, agree, user.user_name, note, user.display_name)
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

    _write(write)
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
