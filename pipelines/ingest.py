"""Ingest: files → raw (kept whole, hashed) → staging (typed) → validated → refreshed core and marts.

Every file of a batch is read and staged first; each kind is then validated once for the whole
batch (Great Expectations); each file is then written in its own transaction, so a rejected
file leaves nothing behind and never stops the rest of the batch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import time
import json
import logging
import sys
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from pipelines.backend import Location, lake_writer_lock, locate
from pipelines.validation import service as gx_service
from pipelines.counties import county_name
from pipelines.reading.headers import KIND_NAMES, fields_for
from pipelines.reading.staging import STAGING_COLUMNS, STAGING_TABLE, Staged, batch_frame, stage
from pipelines.reading.files import ReadError, limits, read_file
from pipelines.refresh import refresh
from pipelines.warehouse import adopt_units, connect, insert_rows, transaction

__all__ = ["FileResult", "ingest_paths", "discover", "print_results"]

log = logging.getLogger(__name__)
SUFFIXES = {".xlsx", ".xls", ".xlsm", ".csv"}
# outputs of this system that may lie in a folder of submissions; never submissions themselves
OWN_OUTPUTS = {"truth.csv", "flags.csv", "scores.csv"}
_KIND_ORDER = {"ledger": 0, "plan": 1, "monthly": 2}
_KEY = 1_000_000  # a row's key in a batch: file sequence number × _KEY + row number
_VALIDATE = "pipelines.validation.runner:validate_batch"
# from this many files on, GX runs in a service process (its start costs about half a second)
SERVICE_MIN_FILES = 60


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
class _Pending:
    seq: int
    path: Path
    display: str
    size: int
    digest: str
    staged: Staged | None = None
    result: FileResult | None = None
    rejected_keys: set[int] = field(default_factory=set)
    row_messages: list[dict] = field(default_factory=list)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def discover(paths: list[Path]) -> list[Path]:
    """Files as given, and the workbooks found recursively in folders given."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith(("~$", "."))
                        and f.name.lower() not in OWN_OUTPUTS):
                    out.append(f)
        else:
            out.append(p)
    return out


def _where(p: _Pending, row: int | None = None, letter: str | None = None, header: str | None = None) -> str:
    lay = p.staged.layout if p.staged else None
    parts = [f"文件「{p.path.name}」"]
    if lay is not None:
        parts.append(f"工作表「{lay.sheet_name}」")
    if row is not None:
        parts.append(f"第 {row} 行")
    if letter is not None:
        parts.append(f"{letter} 列「{header}」")
    return ",".join(parts)


def ingest_paths(
    paths: list[Path],
    db_path: Path | str | None = None,
    progress: bool = False,
    today: dt.date | None = None,
) -> list[FileResult]:
    """Load files and folders into the warehouse; one result per file, in the order found."""
    today = today or dt.date.today()
    # absolute: validation may run in a service process (and keeps its results beside the warehouse)
    db_path = locate(db_path) if db_path is not None and str(db_path) != ":memory:" else db_path
    batch_id = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    files = discover([Path(p) for p in paths])
    clock = _Clock()
    with contextlib.ExitStack() as stack:
        if isinstance(db_path, Location) and db_path.is_lake:  # writers take turns (pipelines.backend)
            stack.enter_context(lake_writer_lock(db_path))
        # started first, so that GX loads while the files are hashed and read; should they all
        # turn out to be known already, it is closed unused
        service = stack.enter_context(gx_service.serving(enabled=_use_service(len(files))))
        con = connect(db_path)
        stack.callback(con.close)  # before the service closes
        results = _ingest(con, service, files, db_path, batch_id, today, progress, clock)
    clock.lap("close")
    return results


def _ingest(con, service, files: list[Path], db_path, batch_id: str, today: dt.date, progress: bool,
            clock: _Clock) -> list[FileResult]:
    """Hash, read, validate, load and refresh ``files`` (see :func:`ingest_paths`)."""
    adopt_units(con)  # the counties of this warehouse (a scaled demo adds generated prefectures)
    known = dict(con.execute("select file_hash, file_id from raw.submissions").fetchall())
    max_bytes = limits()["max_file_bytes"]
    pending: list[_Pending] = []
    to_read: list[_Pending] = []
    seen: dict[str, int] = {}
    for seq, path in enumerate(files):
        p = _Pending(seq, path, str(path), 0, "")
        pending.append(p)
        try:
            if not path.exists():
                raise ReadError(["文件不存在"])
            p.size = path.stat().st_size
            if p.size > max_bytes:  # refused before it is read into memory
                raise ReadError([f"文件过大({p.size / 2**20:.1f} MiB),上限为 {max_bytes / 2**20:.0f} MiB"])
            p.digest = _sha256(path)
        except ReadError as e:
            p.result = FileResult(p.display, "rejected", None, messages=[f"{_where(p)}:{m}" for m in e.messages])
            continue
        except OSError:
            p.result = FileResult(p.display, "rejected", None, messages=[f"{_where(p)}:文件无法打开"])
            continue
        if p.digest in known or p.digest in seen:
            fid = known.get(p.digest)
            p.result = FileResult(p.display, "duplicate", None, file_id=fid,
                                  messages=[f"{_where(p)}:与已入库的文件内容完全相同,未重复导入"])
            continue
        seen[p.digest] = seq
        to_read.append(p)
    _read_all(to_read, progress)
    clock.lap("read")
    if progress and to_read:
        print("\r校验数据 …" + " " * 40, end="", file=sys.stderr, flush=True)
    batches, validations = _submit_validations(pending, batch_id, db_path, today)
    loaded = service is not None and _load_optimistically(con, pending, batches, validations, batch_id, clock,
                                                          progress)
    if not loaded:
        summaries = _apply_validations(pending, batches, validations)
        clock.lap("validate")
        accepted = _accepted(pending)
        if progress and accepted:
            print(f"\r写入数据仓库({len(accepted)} 个文件)…" + " " * 20, end="", file=sys.stderr, flush=True)
        _load_all(con, accepted, _next_file_id(con), batch_id, summaries, batches)
        clock.lap("load")
        if accepted:
            if progress:
                print("\r正在更新汇总表与识别关联 …" + " " * 20, end="", file=sys.stderr, flush=True)
            with transaction(con):
                refresh(con, timings=TIMINGS)
        clock.lap("refresh")
    for p in pending:
        if p.result.status != "accepted":
            _log(con, p, batch_id)
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return [p.result for p in pending]


# seconds per phase of the last ingest in this process (read, validate, load, refresh and its steps)
TIMINGS: dict[str, float] = {}


class _Clock:
    def __init__(self) -> None:
        TIMINGS.clear()
        self.t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        TIMINGS[name] = TIMINGS.get(name, 0.0) + now - self.t
        self.t = now


def _progress(on: bool, what: str, i: int, n: int) -> None:
    if on and n > 1:
        width = 30
        done = int(width * i / n)
        print(f"\r{what} [{'#' * done}{'.' * (width - done)}] {i}/{n}", end="", file=sys.stderr, flush=True)


def _apply(p: _Pending, outcome: tuple) -> None:
    if outcome[0] == "ok":
        p.staged = outcome[1]
    elif outcome[0] == "read_error":
        p.result = FileResult(p.display, "rejected", outcome[2], messages=[f"{_where(p)}:{m}" for m in outcome[1]])
    else:
        p.result = FileResult(p.display, "rejected", None, messages=[f"{_where(p)}:文件无法读取(格式异常或已损坏)"])


def _use_service(files: int) -> bool:
    """A large batch runs Great Expectations in a service process, which loads GX while the files
    are read here and then validates while the batch is loaded and refreshed. A process that
    has loaded GX already (the dashboard after an upload) validates here."""
    return files >= SERVICE_MIN_FILES and (os.cpu_count() or 1) >= 2 and "great_expectations" not in sys.modules


def _stage_file(path: Path) -> tuple:
    """Read and stage one file: ("ok", staged) | ("read_error", messages, kind) | ("error",)."""
    try:
        layout = read_file(path)
        staged = stage(layout, path.name)
        return ("ok", staged)
    except ReadError as e:
        return ("read_error", e.messages, e.kind)
    except Exception:  # a file we cannot make sense of must not stop the batch
        log.debug("unreadable file %s", path, exc_info=True)
        return ("error",)


def _read_all(items: list[_Pending], progress: bool) -> None:
    for i, p in enumerate(items):
        _progress(progress, "读取", i + 1, len(items))
        _apply(p, _stage_file(p.path))


def _submit_validations(pending: list[_Pending], batch_id: str, db_path,
                        today: dt.date) -> tuple[dict[str, pl.DataFrame], dict[str, object]]:
    """Each kind's rows of the batch as one frame (``row_key`` = seq × 10⁶ + row), and its
    validation: a job of the GX service when one runs, else done here."""
    by_kind: dict[str, list[_Pending]] = defaultdict(list)
    for p in pending:
        if p.result is None:
            by_kind[p.staged.layout.kind].append(p)
    batches: dict[str, pl.DataFrame] = {}
    validations: dict[str, object] = {}
    service = gx_service.active()
    for kind, group in by_kind.items():
        keys = [p.seq * _KEY + rn for p in group for rn in p.staged.data["row_number"]]
        batch = batches[kind] = batch_frame([p.staged for p in group], {"row_key": (keys, pl.Int64)})
        # the cells as written (<field>__text) are for messages, not for the suites: not sent
        args = (kind, batch.select(pl.exclude(r"^.*__text$")), batch_id, db_path, today)
        validations[kind] = (service.submit(_VALIDATE, *args) if service is not None
                             else gx_service.call(_VALIDATE, *args))
    return batches, validations


def _validation_results(validations: dict[str, object]) -> dict[str, tuple[list, list[dict]]]:
    """(issues, summary) by kind, waiting for the service's answers where they are jobs."""
    service = gx_service.active()
    return {kind: service.result(v) if isinstance(v, int) else v for kind, v in validations.items()}


def _apply_validations(pending: list[_Pending], batches: dict[str, pl.DataFrame],
                       validations: dict[str, object]) -> dict[str, list[dict]]:
    """Quarantine the rows that failed, with their messages; reject files none of whose rows
    passed. Returns the run summaries by kind."""
    summaries: dict[str, list[dict]] = {}
    by_seq = {p.seq: p for p in pending}
    for kind, (issues, summaries[kind]) in _validation_results(validations).items():
        batch = batches[kind]
        error_rows: set[tuple[int, str]] = set()
        for issue in issues:
            if issue.expectation == "expect_cells_readable":
                error_rows.add((issue.row_key, issue.field))
        shown = [i for i in issues if i.expectation == "expect_cells_readable" or (i.row_key, i.field) not in error_rows]
        rows = {r["row_key"]: r for r in batch.filter(pl.col("row_key").is_in({i.row_key for i in shown})).iter_rows(named=True)}
        for issue in sorted(issues, key=lambda i: (i.row_key, i.field)):
            seq, row_number = divmod(issue.row_key, _KEY)
            p = by_seq[seq]
            p.rejected_keys.add(row_number)
            # a cell that could not be read also reads as empty: say it once
            if issue.expectation != "expect_cells_readable" and (issue.row_key, issue.field) in error_rows:
                continue
            p.row_messages.append(_row_message(p, rows[issue.row_key], row_number, issue))
        for p in pending:
            if p.result is None and p.staged.layout.kind == kind and p.rejected_keys and len(p.rejected_keys) == p.staged.height:
                msgs = [m["message"] for m in p.row_messages]
                p.result = FileResult(
                    p.display, "rejected", kind, rejected_rows=len(p.rejected_keys),
                    messages=[f"{_where(p)}:全部 {len(p.rejected_keys)} 行数据都未通过校验,整份文件拒收"] + msgs[:50]
                    + ([f"……另有 {len(msgs) - 50} 条问题未列出"] if len(msgs) > 50 else []),
                )
    return summaries


def _accepted(pending: list[_Pending]) -> list[_Pending]:
    """The files to load, in load order: ledgers, plans, reports; older fill dates first."""
    accepted = [p for p in pending if p.result is None]
    accepted.sort(key=lambda p: (_KIND_ORDER[p.staged.layout.kind], p.staged.fill_date or dt.date.max, p.path.name))
    return accepted


def _next_file_id(con) -> int:
    return con.execute("select coalesce(max(file_id), 0) + 1 from raw.submissions").fetchone()[0]


def _load_optimistically(con, pending: list[_Pending], batches: dict[str, pl.DataFrame],
                         validations: dict[str, object], batch_id: str, clock: _Clock, progress: bool = False) -> bool:
    """Load and refresh the batch while the GX service validates it, as if no row will fail;
    commit if none did. Returns False (having changed nothing) when a row failed or the load
    did not go through: the caller then loads the batch with its verdicts.

    The refresh waits for the verdicts before its signals step, so that no signal suite is ever
    run, and kept in the Data Docs, on rows that failed validation."""
    accepted = _accepted(pending)
    if not accepted:
        return False

    def verdicts_clean() -> bool:
        validations.update(_validation_results(validations))  # answered: the caller may need them again
        if any(issues for issues, _ in validations.values()):
            return False
        clock.lap("validate_wait")  # what is left of validation once the load and marts are done
        return True

    first_id = _next_file_id(con)
    plans = [_plan_load(p, first_id + i, batch_id) for i, p in enumerate(accepted)]
    con.execute("begin transaction")
    try:
        if progress:
            print(f"\r写入数据仓库并更新汇总表({len(accepted)} 个文件,同时校验)…" + " " * 10, end="",
                  file=sys.stderr, flush=True)
        _write(con, plans, batches)
        clock.lap("load")
        clean = refresh(con, await_verdicts=verdicts_clean, timings=TIMINGS)
        clock.lap("refresh")
        if clean:
            _insert_summaries(con, [summary for _, summary in validations.values()])
            con.execute("commit")
            clock.lap("commit")
    except Exception:
        log.debug("optimistic load failed; loading with verdicts", exc_info=True)
        clean = False
    if not clean:
        with contextlib.suppress(Exception):  # a failed commit has ended the transaction already
            con.execute("rollback")
        if progress:
            print("\r有数据行未通过校验,按校验结论重新写入 …" + " " * 30, file=sys.stderr, flush=True)
        return False
    for lp in plans:
        lp.pending.result = lp.result
    return True


def _row_message(p: _Pending, row: dict, row_number: int, issue) -> dict:
    col = p.staged.columns.get(issue.field)
    name = "county_code" if issue.field == "county" else issue.field
    text = row.get(f"{name}__text")
    reason = issue.description
    if issue.expectation == "expect_cells_readable" and row.get(f"{name}__error") is not None:
        reason = f"{row[f'{name}__error']}"
    header = col.header if col else next((f.header for f in fields_for(p.staged.layout.kind) if f.name == issue.field), issue.field)
    letter = col.letter if col else "?"
    shown = f",实际为「{text}」" if text not in (None, "") else ""
    return {
        "row_number": row_number, "field": issue.field, "column_name": header, "value": text,
        "code": issue.expectation, "message": f"{_where(p, row_number, letter, header)}:{reason}{shown}",
    }


@dataclass
class _LoadPlan:
    """Everything one accepted file writes, ready to insert (its staging rows are in the batch frame)."""

    pending: _Pending
    file_id: int
    result: FileResult
    submission: list
    kind: str
    issues: list[tuple]
    log_row: list


def _plan_load(p: _Pending, file_id: int, batch_id: str) -> _LoadPlan:
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
        f"{_where(p)}:{n}" for n in lay.notes
    ]
    result = FileResult(
        p.display, "accepted", kind, rows=rows_loaded, rejected_rows=len(rejected), messages=messages,
        county=county_name(st.county_code) if st.county_code else None, period=period,
        fill_date=st.fill_date.isoformat() if st.fill_date else None, file_id=file_id,
    )
    submission = [file_id, p.digest, p.path.name, str(p.path), p.size, kind, lay.sheet_name, lay.header_row,
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
    rejected = [lp.pending.seq * _KEY + rn for lp in plans for rn in lp.pending.rejected_keys]
    seq = pl.col("row_key") // _KEY
    frame = (
        batch.filter(seq.is_in(list(ids)))
        .with_columns(file_id=seq.replace_strict(ids, return_dtype=pl.Int32),
                      sheet_name=seq.replace_strict(sheets, return_dtype=pl.String),
                      is_rejected=pl.col("row_key").is_in(rejected))
        .sort("file_id", "row_key")
    )
    cols = ["file_id", "sheet_name", "row_number", "is_rejected", *STAGING_COLUMNS[plans[0].kind].keys()]
    return frame.select(cols).to_arrow()


def _write(con, plans: list[_LoadPlan], batches: dict[str, pl.DataFrame]) -> None:
    """Insert the files of ``plans`` (in the caller's transaction)."""
    insert_rows(con, "raw.submissions", [lp.submission for lp in plans])
    raw_rows = _raw_rows(plans)  # noqa: F841 — read by DuckDB below
    con.execute("insert into raw.source_rows by name select * from raw_rows")
    for kind in _KIND_ORDER:
        of_kind = [lp for lp in plans if lp.kind == kind]
        if of_kind:
            staging = _staging_rows(of_kind, batches[kind])  # noqa: F841 — read by DuckDB below
            con.execute(f"insert into {STAGING_TABLE[kind]} by name select * from staging")
    issues = [i for lp in plans for i in lp.issues]
    if issues:
        insert_rows(con, "raw.row_issues", issues)
    insert_rows(con, "raw.ingest_log", [lp.log_row for lp in plans])


def _insert_summaries(con, summaries: list[list[dict]]) -> None:
    """The batch's validation runs (once per batch and kind)."""
    fresh = [s for summary in summaries for s in summary if not con.execute(
        "select count(*) from raw.validation_results where batch_id = ? and kind = ?", [s["batch_id"], s["kind"]]
    ).fetchone()[0]]
    if fresh:
        insert_rows(con, "raw.validation_results",
                     [[s[k] for k in ("batch_id", "kind", "suite_name", "expectation", "description", "column_name",
                                      "success", "element_count", "unexpected_count", "validated_at")] for s in fresh])


def _write_files(con, plans: list[_LoadPlan], summaries: list[list[dict]], batches: dict[str, pl.DataFrame]) -> None:
    """Write the files of ``plans`` and their validation runs in one transaction: all or none."""
    con.execute("begin transaction")
    try:
        _write(con, plans, batches)
        _insert_summaries(con, summaries)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _load_all(con, accepted: list[_Pending], first_id: int, batch_id: str, summaries: dict[str, list[dict]],
              batches: dict[str, pl.DataFrame]) -> None:
    """Load every accepted file. The whole batch goes in one transaction; should that fail, each
    file is retried in a transaction of its own, so that one bad file cannot stop the others."""
    plans = [_plan_load(p, first_id + i, batch_id) for i, p in enumerate(accepted)]
    try:
        if plans:
            _write_files(con, plans, [summaries[k] for k in {lp.kind for lp in plans}], batches)
        for lp in plans:
            lp.pending.result = lp.result
        return
    except Exception:
        log.debug("batch load failed; loading file by file", exc_info=True)
    for lp in plans:
        try:
            _write_files(con, [lp], [summaries[lp.kind]], batches)
            lp.pending.result = lp.result
        except Exception:
            log.debug("load failed for %s", lp.pending.path, exc_info=True)
            lp.pending.result = FileResult(lp.pending.display, "rejected", lp.kind,
                                           messages=[f"{_where(lp.pending)}:写入数据仓库失败,整份文件未入库"])


def _plan_period(st: Staged) -> str | None:
    years = sorted({y for y in st.data["plan_year"] if y is not None})
    return "、".join(str(y) for y in years) or None


def _log_row(seq, batch_id, p: _Pending, r: FileResult, county_code, month, fill_date) -> list:
    return [batch_id, seq, p.display, p.path.name, p.digest or None, r.status, r.kind, county_code, month, fill_date,
            r.file_id, r.rows, r.rejected_rows, json.dumps(r.messages, ensure_ascii=False), dt.datetime.now()]


def _log(con, p: _Pending, batch_id: str) -> None:
    st = p.staged
    con.execute("begin transaction")
    try:
        con.execute("insert into raw.ingest_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _log_row(p.seq, batch_id, p, p.result, st.county_code if st else None,
                             st.report_month if st else None, st.fill_date if st else None))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        log.warning("could not log %s", p.path, exc_info=True)


_STATUS = {"accepted": "已入库", "duplicate": "已存在(重复文件)", "rejected": "已拒收"}


def print_results(results: list[FileResult], as_json: bool = False, summary_only: bool = False) -> None:
    """One line per file (cli.md): JSON objects on stdout, or Chinese lines on stderr."""
    if as_json:
        for r in results:
            print(json.dumps(r.as_json(), ensure_ascii=False), flush=True)
        return
    if not summary_only:
        for r in results:
            what = []
            if r.kind:
                what.append(KIND_NAMES[r.kind])
            if r.county:
                what.append(r.county)
            if r.period:
                what.append(r.period)
            if r.status == "accepted":
                what.append(f"{r.rows} 行")
                if r.rejected_rows:
                    what.append(f"{r.rejected_rows} 行未通过校验")
            head = f"{_STATUS[r.status]} {r.file}" + (f"({','.join(what)})" if what else "")
            print(head, file=sys.stderr)
            if r.status != "duplicate":
                for m in r.messages:
                    print(f"    {m}", file=sys.stderr)
    counts = {s: sum(r.status == s for r in results) for s in _STATUS}
    print(
        f"共 {len(results)} 个文件:已入库 {counts['accepted']},重复 {counts['duplicate']},拒收 {counts['rejected']};"
        f"入库数据行 {sum(r.rows for r in results)},未通过校验的行 {sum(r.rejected_rows for r in results)}",
        file=sys.stderr,
    )
