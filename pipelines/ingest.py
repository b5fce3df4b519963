"""Ingest: files → raw (kept whole, hashed) → staging (typed) → validated → refreshed core and marts.

Every file of a batch is read and staged first; each kind is then validated once for the whole
batch (Great Expectations); the accepted files are then written, and every derived layer
refreshed, in one transaction: a crash (``kill -9``, a full disk) at any point leaves the
warehouse as it was, and the re-run loads the files. Should the transaction fail, the files are
loaded in parts, so that one file that breaks the refresh cannot stop the rest of the batch.
Imports take turns at the warehouse (``pipelines.locking``).
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
from collections.abc import Callable
from pathlib import Path

import polars as pl

from pipelines.backend import Location, locate
from pipelines.validation import service as gx_service
from pipelines.reading import county_scope
from pipelines.reading.headers import KIND_NAMES, fields_for
from pipelines.reading.staging import batch_frame, stage
from pipelines.reading.files import ReadError, limits, read_file
from pipelines import faults
from pipelines.loading import (KEY, KIND_ORDER, TIMINGS, FileResult, Pending, insert_summaries, load_all, log_all,
                               next_file_id, plan_load, where, write)
from pipelines.locking import open_warehouse, writer_lock
from pipelines.refresh import raw_ahead, refresh
from pipelines.warehouse import adopt_units, table_exists

__all__ = ["FileResult", "TIMINGS", "ingest_paths", "discover", "print_results"]

log = logging.getLogger(__name__)
# .et: WPS 表格's own suffix; read by its content (an Excel workbook inside loads, anything else is refused with
# what to do: save it as .xlsx), never skipped unseen when a folder is imported
SUFFIXES = {".xlsx", ".xls", ".xlsm", ".et", ".csv"}
# outputs of this system that may lie in a folder of submissions; never submissions themselves
OWN_OUTPUTS = {"truth.csv", "flags.csv", "scores.csv"}
_VALIDATE = "pipelines.validation.runner:validate_batch"
# from this many files on, GX runs in a service process (its start costs about half a second)
SERVICE_MIN_FILES = 60


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


def ingest_paths(
    paths: list[Path],
    db_path: Path | str | None = None,
    progress: bool = False,
    today: dt.date | None = None,
    names: dict[str, str] | None = None,
    on_wait: Callable[[str], None] | None = None,
    label: str | None = None,
    allowed_county: str | None = None,
) -> list[FileResult]:
    """Load files and folders into the warehouse; one result per file, in the order found.

    ``names`` gives the name a file was submitted under, by path (an upload is stored under a
    name the file system accepts); ``on_wait`` is told, in Chinese, when the import waits for
    another writer (排队中…); ``label`` starts the batch id (``demo`` for the demo data);
    ``allowed_county`` binds a clerk's upload to its county (rows of another county are rejected).
    Imports take turns (:func:`pipelines.locking.writer_lock`); each commits raw, staging, core
    and marts in one transaction, so that a crash at any point leaves all of it or none."""
    today = today or dt.date.today()
    # absolute: validation may run in a service process (and keeps its results beside the warehouse)
    if str(db_path) != ":memory:":  # a DuckLake stays a Location; a file, its resolved path
        loc = locate(db_path)
        db_path = loc if loc.is_lake else loc.file
    batch_id = f"{label + '-' if label else ''}{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    files = discover([Path(p) for p in paths])
    tell = on_wait or (lambda message: print(message, file=sys.stderr, flush=True))
    clock = _Clock()
    with writer_lock(db_path, what=f"导入 {len(files)} 个文件", on_wait=tell), contextlib.ExitStack() as stack:
        # started first, so that GX loads while the files are hashed and read; should they all
        # turn out to be known already, it is closed unused
        service = stack.enter_context(gx_service.serving(enabled=_use_service(len(files))))
        results = _ingest(stack, service, files, names or {}, db_path, batch_id, today, progress, clock, tell,
                          allowed_county)
    clock.lap("close")
    return results


def _known(db_path, tell) -> tuple[dict[str, int], dict[int, tuple], bool]:
    """The warehouse's files by hash; those of them that an earlier, interrupted import left
    in raw without the derived layers (an older version of this code could), with their kind
    and rows; and whether raw is ahead of the derived layers. The connection is closed again:
    readers may use the warehouse while the files are read."""
    if db_path == ":memory:" or not locate(db_path).exists():
        return {}, {}, False
    # read-only: the dashboard's readers may go on reading while the files are read here (a DuckLake
    # has readers and writers at once, and a new one is created by its first writer)
    con = open_warehouse(db_path, read_only=not isinstance(db_path, Location), on_wait=tell)
    try:
        if not table_exists(con, "raw.submissions"):
            return {}, {}, False
        adopt_units(con)  # the counties of this warehouse (a scaled demo adds generated prefectures)
        known = dict(con.execute("select file_hash, file_id from raw.submissions").fetchall())
        behind = raw_ahead(con)
        incomplete = {}
        if behind:
            incomplete = {r[0]: r[1:] for r in con.execute(
                "select file_id, kind, row_count, rejected_row_count from raw.submissions "
                "where file_id not in (select file_id from core.submissions)").fetchall()}
        return known, incomplete, behind
    finally:
        con.close()


def _ingest(stack: contextlib.ExitStack, service, files: list[Path], names: dict[str, str], db_path,
            batch_id: str, today: dt.date, progress: bool, clock: _Clock,
            tell: Callable[[str], None], allowed_county: str | None = None) -> list[FileResult]:
    """Hash, read, validate, load and refresh ``files`` (see :func:`ingest_paths`)."""
    known, incomplete, behind = _known(db_path, tell)
    max_bytes = limits()["max_file_bytes"]
    pending: list[Pending] = []
    to_read: list[Pending] = []
    seen: dict[str, Pending] = {}
    copies: list[tuple[Pending, Pending]] = []
    completing: list[Pending] = []
    for seq, path in enumerate(files):
        p = Pending(seq, path, names.get(str(path), str(path)), 0, "", name=Path(names.get(str(path), path.name)).name)
        pending.append(p)
        try:
            if not path.exists():
                raise ReadError(["文件不存在"])
            p.size = path.stat().st_size
            if p.size > max_bytes:  # refused before it is read into memory
                raise ReadError([f"文件过大({p.size / 2**20:.1f} MiB),上限为 {max_bytes / 2**20:.0f} MiB"])
            p.digest = _sha256(path)
        except ReadError as e:
            p.result = FileResult(p.display, "rejected", None, messages=[f"{where(p)}:{m}" for m in e.messages])
            continue
        except OSError:
            p.result = FileResult(p.display, "rejected", None, messages=[f"{where(p)}:文件无法打开"])
            continue
        if p.digest in seen:  # a copy within the batch ends as its first copy does (below)
            copies.append((p, seen[p.digest]))
            p.result = FileResult(p.display, "duplicate", None)
            continue
        seen[p.digest] = p
        if p.digest in known:
            fid = known[p.digest]
            p.result = FileResult(p.display, "duplicate", None, file_id=fid,
                                  messages=[f"{where(p)}:与已入库的文件内容完全相同,未重复导入"])
            if fid in incomplete:
                completing.append(p)
            continue
        to_read.append(p)
    faults.reached("hashed")
    _read_all(to_read, progress, today)
    _bind_county(to_read, allowed_county)
    clock.lap("read")
    faults.reached("read")
    if progress and to_read:
        print("\r校验数据 …" + " " * 40, end="", file=sys.stderr, flush=True)
    batches, validations = _submit_validations(pending, batch_id, db_path, today)
    con = open_warehouse(db_path, on_wait=tell)
    stack.callback(con.close)  # before the service closes
    loaded = service is not None and _load_optimistically(con, pending, batches, validations, batch_id, clock,
                                                          progress)
    if not loaded:
        summaries = _apply_validations(pending, batches, validations)
        clock.lap("validate")
        faults.reached("validated")
        accepted = _accepted(pending)
        if progress and accepted:
            print(f"\r写入数据仓库并更新汇总表({len(accepted)} 个文件)…" + " " * 20, end="", file=sys.stderr, flush=True)
        load_all(con, accepted, next_file_id(con), batch_id, summaries, batches, behind,
                 lake=db_path if isinstance(db_path, Location) else None)
        clock.lap("load")
    _complete(con, completing, incomplete)
    for p, first in copies:
        p.result = _copy_result(p, first)
    log_all(con, [p for p in pending if p.result.status != "accepted"], batch_id, allowed_county)
    faults.reached("logged")
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return [p.result for p in pending]


def _complete(con, completing: list[Pending], incomplete: dict[int, tuple]) -> None:
    """Files an interrupted import had left in raw only: now in the derived layers too (the
    refresh of this import rebuilt them), they are reported as loaded, not as duplicates."""
    if not completing:
        return
    in_core = {r[0] for r in con.execute("select distinct file_id from core.submissions").fetchall()}
    for p in completing:
        fid = p.result.file_id
        kind, rows, rejected = incomplete[fid]
        if fid in in_core and not raw_ahead(con):
            p.result = FileResult(p.display, "accepted", kind, rows=rows, rejected_rows=rejected, file_id=fid,
                                  messages=[f"{where(p)}:此文件此前的导入未完成(只写入了原始层),本次已补全入库"])
        else:
            p.result = FileResult(p.display, "rejected", kind, file_id=fid, messages=[
                f"{where(p)}:此文件此前的导入未完成(只写入了原始层),本次仍未能更新汇总表;"
                "请运行 renovation check 并联系系统管理员"])


def _copy_result(p: Pending, first: Pending) -> FileResult:
    """A second copy of a file in the same batch: a duplicate of a loaded first copy; rejected,
    with the same reasons, when the first copy was rejected."""
    r = first.result
    same = f"与同批文件「{first.name}」内容完全相同"
    if r.status == "rejected":
        own = [m.replace(f"文件「{first.name}」", f"文件「{p.name}」", 1) for m in r.messages]
        return FileResult(p.display, "rejected", r.kind, rejected_rows=r.rejected_rows,
                          messages=[f"{where(p)}:{same},同样拒收"] + own)
    return FileResult(p.display, "duplicate", r.kind, file_id=r.file_id,
                      messages=[f"{where(p)}:{same},未重复导入"])


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


def _apply(p: Pending, outcome: tuple) -> None:
    if outcome[0] == "ok":
        p.staged = outcome[1]
    elif outcome[0] == "read_error":
        p.result = FileResult(p.display, "rejected", outcome[2], messages=[f"{where(p)}:{m}" for m in outcome[1]])
    else:
        p.result = FileResult(p.display, "rejected", None, messages=[f"{where(p)}:文件无法读取(格式异常或已损坏)"])


def _use_service(files: int) -> bool:
    """A large batch runs Great Expectations in a service process, which loads GX while the files
    are read here and then validates while the batch is loaded and refreshed. A process that
    has loaded GX already (the dashboard after an upload) validates here."""
    return files >= SERVICE_MIN_FILES and (os.cpu_count() or 1) >= 2 and "great_expectations" not in sys.modules


def _stage_file(path: Path, name: str | None = None, today: dt.date | None = None) -> tuple:
    """Read and stage one file: ("ok", staged) | ("read_error", messages, kind) | ("error",)."""
    try:
        layout = read_file(path)
        staged = stage(layout, name or path.name, today)
        return ("ok", staged)
    except ReadError as e:
        return ("read_error", e.messages, e.kind)
    except Exception:  # a file we cannot make sense of must not stop the batch
        log.debug("unreadable file %s", path, exc_info=True)
        return ("error",)


def _read_all(items: list[Pending], progress: bool, today: dt.date | None = None) -> None:
    for i, p in enumerate(items):
        _progress(progress, "读取", i + 1, len(items))
        _apply(p, _stage_file(p.path, p.name, today))


def _bind_county(items: list[Pending], county: str | None) -> None:
    """A clerk's upload is bound to its county (access.md): rows of another county are rejected."""
    for p in (items if county else []):
        if p.result is None and p.staged is not None:
            keys, msgs, whole = county_scope.foreign_rows(p.staged, county, lambda *a, p=p: where(p, *a))
            if whole:
                p.result = FileResult(p.display, "rejected", p.staged.layout.kind, rejected_rows=len(keys), messages=[
                    f"{where(p)}:{whole}"] + [m["message"] for m in msgs[:50]])
            p.rejected_keys.update(keys)
            p.row_messages.extend(msgs)


def _submit_validations(pending: list[Pending], batch_id: str, db_path,
                        today: dt.date) -> tuple[dict[str, pl.DataFrame], dict[str, object]]:
    """Each kind's rows of the batch as one frame (``row_key`` = seq × 10⁶ + row), and its
    validation: a job of the GX service when one runs, else done here."""
    by_kind: dict[str, list[Pending]] = defaultdict(list)
    for p in pending:
        if p.result is None:
            by_kind[p.staged.layout.kind].append(p)
    batches: dict[str, pl.DataFrame] = {}
    validations: dict[str, object] = {}
    service = gx_service.active()
    for kind, group in by_kind.items():
        keys = [p.seq * KEY + rn for p in group for rn in p.staged.data["row_number"]]
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


def _apply_validations(pending: list[Pending], batches: dict[str, pl.DataFrame],
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
            seq, row_number = divmod(issue.row_key, KEY)
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
                    messages=[f"{where(p)}:全部 {len(p.rejected_keys)} 行数据都未通过校验,整份文件拒收"] + msgs[:50]
                    + ([f"……另有 {len(msgs) - 50} 条问题未列出"] if len(msgs) > 50 else []),
                )
    return summaries


def _accepted(pending: list[Pending]) -> list[Pending]:
    """The files to load, in load order: ledgers, plans, reports; older fill dates first."""
    accepted = [p for p in pending if p.result is None]
    accepted.sort(key=lambda p: (KIND_ORDER[p.staged.layout.kind], p.staged.fill_date or dt.date.max, p.path.name))
    return accepted


def _load_optimistically(con, pending: list[Pending], batches: dict[str, pl.DataFrame],
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
        clock.lap("refresh")  # the refresh's steps so far (core, links, marts): not the wait
        validations.update(_validation_results(validations))  # answered: the caller may need them again
        if any(issues for issues, _ in validations.values()):
            return False
        clock.lap("validate_wait")  # what is left of validation once the load and marts are done
        return True

    first_id = next_file_id(con)
    plans = [plan_load(p, first_id + i, batch_id) for i, p in enumerate(accepted)]
    con.execute("begin transaction")
    try:
        if progress:
            print(f"\r写入数据仓库并更新汇总表({len(accepted)} 个文件,同时校验)…" + " " * 10, end="",
                  file=sys.stderr, flush=True)
        write(con, plans, batches)
        clock.lap("load")
        faults.reached("written")
        clean = refresh(con, await_verdicts=verdicts_clean, timings=TIMINGS, incremental=True)
        clock.lap("refresh")
        if clean:
            insert_summaries(con, [summary for _, summary in validations.values()])
            faults.reached("refreshed")
            con.execute("commit")
            clock.lap("commit")
            faults.reached("committed")
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


def _row_message(p: Pending, row: dict, row_number: int, issue) -> dict:
    col = p.staged.columns.get(issue.field)
    name = "county_code" if issue.field == "county" else issue.field
    text = row.get(f"{name}__text")
    reason = issue.description
    if issue.expectation == "expect_cells_readable" and row.get(f"{name}__error") is not None:
        reason = f"{row[f'{name}__error']}"
    header = col.header if col else next((f.header for f in fields_for(p.staged.layout.kind) if f.name == issue.field), issue.field)
    shown = f",实际为「{text}」" if text not in (None, "") else ""
    place = where(p, row_number, col.letter, header) if col else f"{where(p, row_number)},{_not_a_column(p, issue.field, header)}"
    return {
        "row_number": row_number, "field": issue.field, "column_name": header, "value": text,
        "code": issue.expectation, "message": f"{place}:{reason}{shown}",
    }


def _not_a_column(p: Pending, field: str, header: str) -> str:
    """Where a row's value that no column holds came from: a title line above the header row
    (填报日期:…, the report month in the title), or the file name (the report month)."""
    lay = p.staged.layout
    if field == "report_month" and lay.report_month_source == "file name":
        return f"「{header}」(表中没有此列,取自文件名)"
    line = next((t for t in lay.title_lines if header in t), None)
    return f"「{header}」(表中没有此列,取自表头上方的标题行" + (f"「{line}」" if line else "") + ")"


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
