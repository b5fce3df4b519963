"""Writing a batch into the warehouse: what each accepted file writes (raw submission, source rows,
staging rows, row issues, log row), and the one transaction that writes them together with the
refresh of every derived layer (``pipelines.refresh``): all of it or none.

Should that transaction fail, the files are written in halves, recursively, each part with its
refresh in a transaction of its own, so that a file whose rows break the refresh cannot stop the
rest of the batch; when the refresh fails even without a new file, nothing is written. A file
that is not written is reported rejected with a message that says the fault is not the file's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from pipelines import faults
from pipelines.backend import Location, unreachable
from pipelines.counties import county_in_name, county_name
from pipelines.reading.staging import STAGING_COLUMNS, STAGING_TABLE, Staged
from pipelines.refresh import refresh
from pipelines.warehouse import insert_rows, transaction

__all__ = ["FileResult", "Pending", "TIMINGS", "KEY", "KIND_ORDER", "where", "next_file_id", "plan_load", "write",
           "insert_summaries", "load_all", "log_all"]

log = logging.getLogger(__name__)

KIND_ORDER = {"ledger": 0, "plan": 1, "monthly": 2}
KEY = 1_000_000  # a row's key in a batch: file sequence number × KEY + row number

@dataclass
class FileResult:
    file: str
    status: str                     # accepted | duplicate | rejected
    kind: str | None
    rows: int = 0
    rejected_rows: int = 0
    messages: list[str] = field(default_factory=list)
    county: str | None = None       # canonical county name, when known
    period: str | None = None       # report month YYYY-MM or plan year
    fill_date: str | None = None
    file_id: int | None = None

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Pending:
    seq: int
    path: Path
    display: str
    size: int
    digest: str
    staged: Staged | None = None
    result: FileResult | None = None
    rejected_keys: set[int] = field(default_factory=set)
    row_messages: list[dict] = field(default_factory=list)
    name: str = ""                  # the file's name as submitted (an upload is stored under another)



def where(p: Pending, row: int | None = None, letter: str | None = None, header: str | None = None) -> str:
    lay = p.staged.layout if p.staged else None
    parts = [f"文件「{p.name or p.path.name}」"]
    if lay is not None:
        parts.append(f"工作表「{lay.sheet_name}」")
    if row is not None:
        parts.append(f"第 {row} 行")
    if letter is not None:
        parts.append(f"{letter} 列「{header}」")
    return ",".join(parts)



# seconds per phase of the last ingest in this process (read, validate, load, refresh and its steps)
TIMINGS: dict[str, float] = {}



def next_file_id(con) -> int:
    return con.execute("select coalesce(max(file_id), 0) + 1 from raw.submissions").fetchone()[0]



@dataclass
class _LoadPlan:
    """Everything one accepted file writes, ready to insert (its staging rows are in the batch frame)."""

    pending: Pending
    file_id: int
    result: FileResult
    submission: list
    kind: str
    issues: list[tuple]
    log_row: list


def plan_load(p: Pending, file_id: int, batch_id: str) -> _LoadPlan:
    st = p.staged
    lay = st.layout
    kind = lay.kind
    rejected = p.rejected_keys
    now = dt.datetime.now()
    issues = [
        (file_id, lay.sheet_name, m["row_number"], m["column_name"], m["field"], m["code"], "reject", m["value"], m["message"], None)
        for m in p.row_messages
    ] + [
        (file_id, lay.sheet_name, f["row_number"], f["column_name"], f["field"], f["code"], "finding", f["value"],
         f["message"], json.dumps(f["details"], ensure_ascii=False))
        for f in st.findings
    ]
    rows_loaded = st.height - len(rejected)
    period = (
        st.report_month.strftime("%Y-%m") if kind == "monthly" and st.report_month
        else _plan_period(st) if kind == "plan" else None
    )
    messages = [m["message"] for m in p.row_messages] + [f["message"] for f in st.findings] + [
        f"{where(p)}:{n}" for n in lay.notes
    ]
    result = FileResult(
        p.display, "accepted", kind, rows=rows_loaded, rejected_rows=len(rejected), messages=messages,
        county=county_name(st.county_code) if st.county_code else None, period=period,
        fill_date=st.fill_date.isoformat() if st.fill_date else None, file_id=file_id,
    )
    submission = [file_id, p.digest, p.name, p.display, p.size, kind, lay.sheet_name, lay.header_row,
                  st.fill_date, st.report_month, " | ".join(lay.title_lines) or None, batch_id, now, rows_loaded,
                  len(rejected)]
    return _LoadPlan(p, file_id, result, submission, kind, issues,
                     _log_row(p.seq, batch_id, p, result, st.county_code, st.report_month, st.fill_date))


def _raw_rows(plans: list[_LoadPlan]) -> pa.Table:
    """raw.source_rows of the files of ``plans``: every row as read, with file, sheet and row."""
    file_ids, sheets, numbers, types, cells = [], [], [], [], []
    for lp in plans:
        rows = lp.pending.staged.raw_rows
        file_ids += [lp.file_id] * len(rows)
        sheets += [lp.pending.staged.layout.sheet_name] * len(rows)
        for rn, row_type, text in rows:
            numbers.append(rn)
            types.append(row_type)
            cells.append(text)
    return pl.DataFrame({"file_id": file_ids, "sheet_name": sheets, "row_number": numbers, "row_type": types,
                         "cells": cells},
                        schema={"file_id": pl.Int32, "sheet_name": pl.String, "row_number": pl.Int32,
                                "row_type": pl.String, "cells": pl.String}).to_arrow()


def _staging_rows(plans: list[_LoadPlan], batch: pl.DataFrame) -> pa.Table:
    """The staging rows of the files of ``plans`` (one kind), cut from the batch frame, in file order."""
    ids = {lp.pending.seq: lp.file_id for lp in plans}
    sheets = {lp.pending.seq: lp.pending.staged.layout.sheet_name for lp in plans}
    rejected = [lp.pending.seq * KEY + rn for lp in plans for rn in lp.pending.rejected_keys]
    seq = pl.col("row_key") // KEY
    frame = (
        batch.filter(seq.is_in(list(ids)))
        .with_columns(file_id=seq.replace_strict(ids, return_dtype=pl.Int32),
                      sheet_name=seq.replace_strict(sheets, return_dtype=pl.String),
                      is_rejected=pl.col("row_key").is_in(rejected))
        .sort("file_id", "row_key")
    )
    cols = ["file_id", "sheet_name", "row_number", "is_rejected", *STAGING_COLUMNS[plans[0].kind].keys()]
    return frame.select(cols).to_arrow()


def write(con, plans: list[_LoadPlan], batches: dict[str, pl.DataFrame]) -> None:
    """Insert the files of ``plans`` (in the caller's transaction)."""
    insert_rows(con, "raw.submissions", [lp.submission for lp in plans])
    raw_rows = _raw_rows(plans)  # noqa: F841 — read by DuckDB below
    con.execute("insert into raw.source_rows by name select * from raw_rows")
    for kind in KIND_ORDER:
        of_kind = [lp for lp in plans if lp.kind == kind]
        if of_kind:
            staging = _staging_rows(of_kind, batches[kind])  # noqa: F841 — read by DuckDB below
            con.execute(f"insert into {STAGING_TABLE[kind]} by name select * from staging")
    issues = [i for lp in plans for i in lp.issues]
    if issues:
        insert_rows(con, "raw.row_issues", issues)
    insert_rows(con, "raw.ingest_log", [lp.log_row for lp in plans])


def insert_summaries(con, summaries: list[list[dict]]) -> None:
    """The batch's validation runs (once per batch and kind)."""
    fresh = [s for summary in summaries for s in summary if not con.execute(
        "select count(*) from raw.validation_results where batch_id = ? and kind = ?", [s["batch_id"], s["kind"]]
    ).fetchone()[0]]
    if fresh:
        insert_rows(con, "raw.validation_results",
                     [[s[k] for k in ("batch_id", "kind", "suite_name", "expectation", "description", "column_name",
                                      "success", "element_count", "unexpected_count", "validated_at")] for s in fresh])


def _commit(con, plans: list[_LoadPlan], summaries: dict[str, list[dict]], batches: dict[str, pl.DataFrame]) -> None:
    """Write the files of ``plans``, their validation runs, and the refresh of every derived layer
    in one transaction: all of it or none (a crash before the commit leaves no trace)."""
    con.execute("begin transaction")
    try:
        if plans:
            write(con, plans, batches)
            faults.reached("written")
        refresh(con, timings=TIMINGS, incremental=True)
        insert_summaries(con, [summaries[k] for k in {lp.kind for lp in plans}])
        faults.reached("refreshed")
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(Exception):  # a failed commit has ended the transaction already
            con.execute("rollback")
        raise
    faults.reached("committed")
    for lp in plans:
        lp.pending.result = lp.result


def _refresh_fails(con) -> bool:
    """Whether the refresh fails on the warehouse as it is, without the batch (rolled back)."""
    con.execute("begin transaction")
    try:
        refresh(con)
        return False
    except Exception:
        log.info("the refresh fails without any new file", exc_info=True)
        return True
    finally:
        with contextlib.suppress(Exception):
            con.execute("rollback")


_NOT_LOADED = ("写入数据仓库或更新汇总表时出错,整份文件未入库(数据仓库未改变);"
               "这不是文件内容的问题,请把文件交给系统管理员(详情见服务器日志)")
_DISK_FULL = "数据仓库所在的磁盘已满,整份文件未入库(数据仓库未改变);请系统管理员清理磁盘后重新导入"


def _disk_full(exc: BaseException | None) -> bool:
    while exc is not None:
        if "No space left on device" in str(exc) or getattr(exc, "errno", None) == 28:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def load_all(con, accepted: list[Pending], first_id: int, batch_id: str, summaries: dict[str, list[dict]],
              batches: dict[str, pl.DataFrame], behind: bool = False, lake: Location | None = None) -> None:
    """Load every accepted file with the refresh, in one transaction. Should it fail, the
    files are loaded in halves, recursively, each part with its refresh in a transaction of
    its own, so that a file whose rows break the refresh cannot stop the others; when the
    refresh fails without any new file, nothing is loaded. ``behind``: raw is ahead of the
    derived layers (an interrupted import of an older version), so refresh even with no file.
    ``lake``: the DuckLake written to, whose catalog or data folder may fail under the load."""
    plans = [plan_load(p, first_id + i, batch_id) for i, p in enumerate(accepted)]
    if not plans and not behind:
        return
    try:
        _commit(con, plans, summaries, batches)
        return
    except Exception as exc:
        log.info("batch load failed; loading in parts", exc_info=True)
        full = _disk_full(exc)
        gone = unreachable(exc, lake)
    if not plans:
        return
    if gone is not None:  # the catalog or the data folder failed: no part would fare better
        for lp in plans:
            lp.pending.result = _failed(lp, f"整份文件未入库(数据仓库未改变):{gone};请系统管理员处理后重新导入")
        return
    if full:  # no part would fare better (and DuckDB has given up on the database until reopened)
        for lp in plans:
            lp.pending.result = _failed(lp, _DISK_FULL)
        return
    if _refresh_fails(con):
        for lp in plans:
            lp.pending.result = _failed(lp)
        return
    _load_parts(con, plans, summaries, batches)


def _load_parts(con, plans: list[_LoadPlan], summaries, batches) -> None:
    if len(plans) > 1:
        half = len(plans) // 2
        for part in (plans[:half], plans[half:]):
            try:
                _commit(con, part, summaries, batches)
            except Exception:
                log.debug("part load failed", exc_info=True)
                _load_parts(con, part, summaries, batches)
        return
    [lp] = plans
    try:
        _commit(con, [lp], summaries, batches)
    except Exception:
        log.info("load failed for %s", lp.pending.path, exc_info=True)
        lp.pending.result = _failed(lp)


def _failed(lp: _LoadPlan, why: str = _NOT_LOADED) -> FileResult:
    return FileResult(lp.pending.display, "rejected", lp.kind, messages=[f"{where(lp.pending)}:{why}"])


def _plan_period(st: Staged) -> str | None:
    years = sorted({y for y in st.data["plan_year"] if y is not None})
    return "、".join(str(y) for y in years) or None


def _log_row(seq, batch_id, p: Pending, r: FileResult, county_code, month, fill_date) -> list:
    return [batch_id, seq, p.display, p.name, p.digest or None, r.status, r.kind, county_code, month, fill_date,
            r.file_id, r.rows, r.rejected_rows, json.dumps(r.messages, ensure_ascii=False), dt.datetime.now()]


def log_all(con, items: list[Pending], batch_id: str, uploader_county: str | None = None) -> None:
    """The files not loaded (duplicates, rejections) in raw.ingest_log, in one transaction. A file
    whose rows tell no county is logged under the county of the clerk who uploaded it, else under the
    county its name names, so that a county's rejected files are listed under the county filter."""
    if not items:
        return
    rows = []
    for p in items:
        st = p.staged
        county = (st.county_code if st else None) or uploader_county or county_in_name(p.name or p.display)
        rows.append(_log_row(p.seq, batch_id, p, p.result, county,
                             st.report_month if st else None, st.fill_date if st else None))
    try:
        with transaction(con):
            insert_rows(con, "raw.ingest_log", rows)
    except Exception:
        log.info("could not log %d files", len(rows), exc_info=True)
