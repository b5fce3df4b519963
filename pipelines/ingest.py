"""Ingest: files → raw (kept whole, hashed) → staging (typed) → validated → refreshed core and marts.

Every file of a batch is read and staged first; each kind is then validated once for the whole
batch (Great Expectations); each file is then written in its own transaction, so a rejected
file leaves nothing behind and never stops the rest of the batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
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

from pipelines import hooks
from pipelines.counties import county_name
from pipelines.headers import KIND_NAMES, fields_for
from pipelines.normalising import STAGING_COLUMNS, STAGING_TABLE, Staged, batch_frame
from pipelines.reading import ReadError, limits
from pipelines.staging_pool import stage_all
from pipelines.validation import _context as gx_context
from pipelines.validation import import_gx, validate_batch
from pipelines.warehouse import connect, refresh

__all__ = ["FileResult", "ingest_paths", "discover", "print_results"]

log = logging.getLogger(__name__)
SUFFIXES = {".xlsx", ".xls", ".xlsm", ".csv"}
# outputs of this system that may lie in a folder of submissions; never submissions themselves
OWN_OUTPUTS = {"truth.csv", "flags.csv", "scores.csv"}
_KIND_ORDER = {"ledger": 0, "plan": 1, "monthly": 2}
_KEY = 1_000_000  # a row's key in a batch: file sequence number × _KEY + row number


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
    batch_id = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    files = discover([Path(p) for p in paths])
    con = connect(db_path)
    try:
        clock = _Clock()
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
        _read_all(to_read, progress, db_path)
        clock.lap("read")
        summaries, batches = _validate(pending, batch_id, db_path, progress, today)
        clock.lap("validate")
        accepted = [p for p in pending if p.result is None]
        accepted.sort(key=lambda p: (_KIND_ORDER[p.staged.layout.kind], p.staged.fill_date or dt.date.max, p.path.name))
        next_id = con.execute("select coalesce(max(file_id), 0) + 1 from raw.submissions").fetchone()[0]
        if progress and accepted:
            print(f"\r写入数据仓库({len(accepted)} 个文件)…" + " " * 20, end="", file=sys.stderr, flush=True)
        _load_all(con, accepted, next_id, batch_id, summaries, batches)
        clock.lap("load")
        for p in pending:
            if p.result.status != "accepted":
                _log(con, p, batch_id)
        if accepted:
            if progress:
                print("\r正在更新汇总表与识别关联 …" + " " * 20, file=sys.stderr, flush=True)
            refresh(con, timings=TIMINGS)
        clock.lap("refresh")
        if progress:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    finally:
        con.close()
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


def _prepare(db_path) -> None:
    """Load what validation and the refresh need (Great Expectations, the suites, the refresh
    steps); runs while a helper process reads the first files."""
    import_gx()
    importlib.import_module("expectations.ingest")
    for name in hooks.STEPS:
        importlib.import_module(name)
    if db_path is not None:
        gx_context(Path(db_path))


def _read_all(items: list[_Pending], progress: bool, db_path) -> None:
    outcomes = stage_all([p.path for p in items], prepare=lambda: _prepare(db_path),
                         progress=(lambda i, n: _progress(progress, "读取", i, n)) if progress else None)
    for p, outcome in zip(items, outcomes):
        _apply(p, outcome)


def _validate(pending: list[_Pending], batch_id: str, db_path, progress: bool,
              today: dt.date) -> tuple[dict[str, list[dict]], dict[str, pl.DataFrame]]:
    """Run each kind's suite once over the batch; quarantine failing rows. Returns the run
    summaries by kind and the batch's rows by kind (one frame, ``row_key`` = seq × 10⁶ + row)."""
    summaries: dict[str, list[dict]] = {}
    batches: dict[str, pl.DataFrame] = {}
    by_kind: dict[str, list[_Pending]] = defaultdict(list)
    for p in pending:
        if p.result is None:
            by_kind[p.staged.layout.kind].append(p)
    for kind, group in by_kind.items():
        if progress:
            print(f"\r校验{KIND_NAMES[kind]}({len(group)} 个文件)…" + " " * 20, end="", file=sys.stderr, flush=True)
        keys = [p.seq * _KEY + rn for p in group for rn in p.staged.data["row_number"]]
        batch = batches[kind] = batch_frame([p.staged for p in group], {"row_key": (keys, pl.Int64)})
        issues, summaries[kind] = validate_batch(kind, batch, batch_id, None if db_path is None else Path(db_path), today)
        by_seq = {p.seq: p for p in group}
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
        for p in group:
            if p.rejected_keys and len(p.rejected_keys) == p.staged.height:
                msgs = [m["message"] for m in p.row_messages]
                p.result = FileResult(
                    p.display, "rejected", kind, rejected_rows=len(p.rejected_keys),
                    messages=[f"{_where(p)}:全部 {len(p.rejected_keys)} 行数据都未通过校验,整份文件拒收"] + msgs[:50]
                    + ([f"……另有 {len(msgs) - 50} 条问题未列出"] if len(msgs) > 50 else []),
                )
    return summaries, batches


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
    return pa.table({"file_id": pa.array(file_ids, pa.int32()), "sheet_name": pa.array(sheets, pa.string()),
                     "row_number": pa.array(numbers, pa.int32()), "row_type": pa.array(types, pa.string()),
                     "cells": pa.array(cells, pa.string())})


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


def _write(con, plans: list[_LoadPlan], summaries: list[list[dict]], batches: dict[str, pl.DataFrame]) -> None:
    """Write the files of ``plans`` in one transaction: all of them or none."""
    con.execute("begin transaction")
    try:
        _insert_rows(con, "raw.submissions", [lp.submission for lp in plans])
        raw_rows = _raw_rows(plans)  # noqa: F841 — read by DuckDB below
        con.execute("insert into raw.source_rows by name select * from raw_rows")
        for kind in _KIND_ORDER:
            of_kind = [lp for lp in plans if lp.kind == kind]
            if of_kind:
                staging = _staging_rows(of_kind, batches[kind])  # noqa: F841 — read by DuckDB below
                con.execute(f"insert into {STAGING_TABLE[kind]} by name select * from staging")
        issues = [i for lp in plans for i in lp.issues]
        if issues:
            _insert_rows(con, "raw.row_issues", issues)
        fresh = [s for summary in summaries for s in summary if not con.execute(
            "select count(*) from raw.validation_results where batch_id = ? and kind = ?", [s["batch_id"], s["kind"]]
        ).fetchone()[0]]
        if fresh:
            _insert_rows(con, "raw.validation_results",
                         [[s[k] for k in ("batch_id", "kind", "suite_name", "expectation", "description", "column_name",
                                          "success", "element_count", "unexpected_count", "validated_at")] for s in fresh])
        _insert_rows(con, "raw.ingest_log", [lp.log_row for lp in plans])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _insert_rows(con, table: str, rows: list) -> None:
    """Insert many rows at once: through an Arrow table, not a statement per row."""
    cols = [c[0] for c in con.execute(f"select * from {table} limit 0").description]
    frame = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    con.register("_rows", frame)
    try:
        con.execute(f"insert into {table} by name select * from _rows")
    finally:
        con.unregister("_rows")


def _load_all(con, accepted: list[_Pending], first_id: int, batch_id: str, summaries: dict[str, list[dict]],
              batches: dict[str, pl.DataFrame]) -> None:
    """Load every accepted file. The whole batch goes in one transaction; should that fail, each
    file is retried in a transaction of its own, so that one bad file cannot stop the others."""
    plans = [_plan_load(p, first_id + i, batch_id) for i, p in enumerate(accepted)]
    try:
        if plans:
            _write(con, plans, [summaries[k] for k in {lp.kind for lp in plans}], batches)
        for lp in plans:
            lp.pending.result = lp.result
        return
    except Exception:
        log.debug("batch load failed; loading file by file", exc_info=True)
    for lp in plans:
        try:
            _write(con, [lp], [summaries[lp.kind]], batches)
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
