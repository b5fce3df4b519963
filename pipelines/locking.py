"""Taking turns at the warehouse: one writer at a time, readers for no longer than a query.

DuckDB lets one process open a file read-write, or any number open it read-only, never both;
a second open fails at once instead of waiting. So:

- every writer (an import from the command line or the dashboard, a verdict, a backup, a
  restore, a refresh before an export) first takes :func:`writer_lock`, an exclusive ``flock``
  on ``<warehouse>.lock`` beside the file. Writers queue there, across processes and across the
  dashboard's session threads (each acquisition opens the file anew, and ``flock`` locks of
  separate opens exclude each other even within one process). The kernel drops the lock when
  its holder dies, ``kill -9`` included. The holder writes what it is doing into the file, so
  that the one waiting can say what it waits for (排队中…).
- a writer that opens the file read-write (:func:`open_warehouse`) first flags it, with a second
  ``flock`` on ``<warehouse>.writing`` held until its writer lock is released
  (:func:`writer_writing` tells readers): the dashboard's readers then start no new query (they
  wait for the commit) and let go of their connection as soon as the query under way is done,
  so that a stream of page views cannot keep an import out.
- :func:`open_warehouse` opens the file, waiting while another process (or thread) holds it in
  the conflicting mode: a writer waits for readers to finish their query, a reader for a writer
  to commit. It tells a damaged file (:class:`WarehouseDamaged`, with the restore command) from
  a busy one (:class:`WarehouseBusy`, after the wait in ``config/warehouse.toml``).

On a DuckLake (``pipelines.backend``) readers never block writers and there is no file to lock:
:func:`writer_lock` takes the catalog's PostgreSQL advisory lock instead
(:func:`pipelines.backend.lake_writer_lock`, across processes and machines), and the flags for
readers are not needed.

``fcntl.flock`` is used directly: the ``filelock`` package shares one lock object per path
within a process, so two sessions of the dashboard would both "hold" it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb

from pipelines import faults
from pipelines.backend import Location, lake_writer_lock, locate, mask, unreachable, why_unusable
from pipelines.settings import load_toml

__all__ = ["UNUSABLE", "WarehouseError", "WarehouseBusy", "WarehouseDamaged", "waits", "lock_path", "writer_lock",
           "writer_active", "writer_writing", "claim_writing", "open_warehouse", "restore_advice", "classify"]

log = logging.getLogger(__name__)

_POLL = 0.05


class WarehouseError(Exception):
    """The warehouse cannot be used now; the message is Chinese and says what to do."""


class WarehouseBusy(WarehouseError):
    """Another writer (or a reader, for a writer) held the warehouse longer than the wait."""


class WarehouseDamaged(WarehouseError):
    """The file is not a readable DuckDB database (truncated, overwritten, corrupt)."""


def _lake(db) -> Location | None:
    """The DuckLake ``db`` names, or None for a file (or memory)."""
    if isinstance(db, Location):
        return db if db.is_lake else None
    text = str(db)
    return locate(text) if text.startswith("ducklake:") else None


def waits() -> dict[str, float]:
    """The waits of ``config/warehouse.toml``: writer_wait_seconds, reader_wait_seconds."""
    return {k: float(v) for k, v in load_toml("warehouse.toml").items()}


def lock_path(db: Path | str) -> Path:
    db = Path(db)
    return db.with_name(db.name + ".lock")


def restore_advice(db: Path | str) -> str:
    return (f"请由系统管理员用最近的备份恢复:renovation restore 备份文件 --db {db} --force"
            "(被替换的文件会保留),恢复后运行 renovation check 检查。")


_HELD = threading.local()


def _held() -> set[str]:
    if not hasattr(_HELD, "paths"):
        _HELD.paths = set()
        _HELD.writing = {}
    return _HELD.paths


def _writing_path(db: Path | str) -> Path:
    db = Path(db).resolve()
    return db.with_name(db.name + ".writing")


def claim_writing(db: Path | str) -> None:
    """Flag that the holder of the writer lock now needs the file itself (until it releases the
    lock): readers start no new query and let go of their connection."""
    if str(db) == ":memory:" or _lake(db):
        return
    key = str(lock_path(Path(db).resolve()))
    if key not in _held() or key in _HELD.writing:
        return
    f = open(_writing_path(db), "a+b")
    fcntl.flock(f, fcntl.LOCK_EX)  # only readers' brief tests compete: the writer lock is ours
    _HELD.writing[key] = f


def _release_writing(key: str) -> None:
    f = _HELD.writing.pop(key, None)
    if f is not None:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


def _locked_by_other(path: Path) -> bool:
    """Whether some process holds an exclusive ``flock`` on ``path`` (False when there is no such file)."""
    try:
        with open(path, "rb") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
    except FileNotFoundError:
        return False
    return False


def writer_writing(db: Path | str) -> bool:
    """Whether a writer has flagged that it needs the file now (:func:`claim_writing`)."""
    if _lake(db):
        return False
    return _locked_by_other(_writing_path(db))


def _holder(path: Path) -> str:
    """What the current holder of the lock said it is doing (for the waiting one's message)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "另一项写入"
    what = info.get("what") or "另一项写入"
    since = info.get("since", "")[11:19]
    return f"{what}(进程 {info.get('pid', '?')},开始于 {since})" if since else what


@contextmanager
def writer_lock(db: Path | str, what: str = "写入数据仓库", wait: float | None = None,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block; wait for it at most ``wait`` seconds
    (default: writer_wait_seconds), calling ``on_wait`` with a Chinese 排队中 message once
    when the wait begins. Raises :class:`WarehouseBusy` when the wait runs out. Re-entrant
    within a thread."""
    if str(db) == ":memory:":
        yield
        return
    lake = _lake(db)
    if lake:
        key = "lake:" + lake.key
        if key in _held():
            yield
            return
        wait = waits()["writer_wait_seconds"] if wait is None else wait
        told = []

        def waiting(seconds: float) -> None:
            if not told and on_wait is not None:
                on_wait(f"排队中…另一个写入任务正在进行,完成后自动开始(最长等待 {wait:.0f} 秒)。")
            told.append(seconds)

        with ExitStack() as stack:
            try:
                stack.enter_context(lake_writer_lock(lake, wait=wait, on_wait=waiting))
            except TimeoutError:
                raise WarehouseBusy(f"数据仓库正忙:另一个写入任务尚未完成,已等待 {wait:.0f} 秒;"
                                    "本次操作未做任何改动,请稍后重试。") from None
            except duckdb.Error as exc:  # the catalog cannot be reached: nothing was done
                raise _unusable(lake, exc) from None
            _held().add(key)
            try:
                faults.reached("locked")
                yield
            finally:
                _held().discard(key)
        return
    path = lock_path(Path(db).resolve())
    key = str(path)
    if key in _held():
        yield
        return
    wait = waits()["writer_wait_seconds"] if wait is None else wait
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(f"数据仓库正忙:{_holder(path)}尚未完成,已等待 {wait:.0f} 秒;"
                                        "本次操作未做任何改动,请稍后重试。") from None
                if not told and on_wait is not None:
                    on_wait(f"排队中…{_holder(path)}正在进行,完成后自动开始(最长等待 {wait:.0f} 秒)。")
                told = True
                time.sleep(_POLL)
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "what": what, "since": dt.datetime.now().isoformat()},
                           ensure_ascii=False))
        f.flush()
        _held().add(key)
        faults.reached("locked")
        try:
            yield
        finally:
            _release_writing(key)
            _held().discard(key)
            fcntl.flock(f, fcntl.LOCK_UN)
    finally:
        f.close()


def writer_active(db: Path | str) -> bool:
    """Whether some writer holds the warehouse's lock now (a DuckLake: not asked, readers do not wait)."""
    if _lake(db):
        return False
    path = lock_path(Path(db).resolve())
    if str(path) in _held():
        return True
    return _locked_by_other(path)


def _is_conflict(exc: duckdb.Error) -> bool:
    """A lock held by another process, or a connection of the other mode in this one."""
    text = str(exc)
    return any(t in text for t in ("Could not set lock", "Conflicting lock", "different configuration",
                                   "Unique file handle conflict"))


def _not_damage(exc: duckdb.Error) -> str | None:
    text = str(exc)
    if "Permission denied" in text:
        return "没有读写该文件的权限"
    if "No space left" in text:
        return "磁盘空间已满"
    if "No such file or directory" in text:
        return "文件或其所在目录不存在"
    return None


_DAMAGE = ("Could not read enough bytes", "Corrupt", "checksum", "not a valid DuckDB database", "Failed to read",
           "block", "Serialization Error", "INTERNAL Error")


def classify(exc: duckdb.Error, db: Path | str) -> WarehouseError | None:
    """The Chinese error for a DuckDB error raised by a query on the warehouse, when it says the
    file is damaged (read past its end, a bad checksum) or held by another program; else None."""
    if isinstance(db, Location):
        db = db.display()  # no password in a message
    text = str(exc)
    if _is_conflict(exc):
        return WarehouseBusy(f"数据仓库 {db} 正被其他程序写入,请稍后重试。")
    if isinstance(exc, (duckdb.IOException, duckdb.SerializationException, duckdb.InternalException)) and any(
            d in text for d in _DAMAGE):
        log.info("warehouse %s damaged: %s", db, exc)
        return WarehouseDamaged(f"数据仓库文件 {db} 已损坏或不完整,读取时出错。" + restore_advice(db))
    return None


UNUSABLE = "无法使用数据仓库"  # how a message on a DuckLake that cannot be reached begins (not damage: no restore)


def _unusable(lake: Location, exc: BaseException) -> WarehouseError:
    """The Chinese error for a DuckLake whose catalog or data folder cannot be used (no password in it)."""
    log.info("cannot open warehouse %s: %s", lake.display(), mask(str(exc)))
    why = why_unusable(exc, lake)
    return WarehouseError(f"{UNUSABLE} {lake.display()}:{why}。本次操作未做任何改动,请处理后重试或联系管理员。")


def open_warehouse(db: Path | str, read_only: bool = False, wait: float | None = None,
                   on_wait: Callable[[str], None] | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (read-write: creating its schema, see :func:`pipelines.warehouse.connect`),
    waiting while it is held in the conflicting mode. Raises :class:`WarehouseBusy` after the
    wait (default: writer_wait_seconds, reader_wait_seconds for a reader), :class:`WarehouseDamaged`
    when the file cannot be read as a database, :class:`WarehouseError` for other failures."""
    from pipelines.warehouse import connect

    lake = _lake(db)
    if lake:
        try:
            return connect(lake, read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:  # the catalog or the data path unreachable
            raise _unusable(lake, exc) from None
        except duckdb.Error as exc:  # e.g. a data path other than the one the catalog names
            if unreachable(exc, lake) is None:
                raise
            raise _unusable(lake, exc) from None
    if wait is None:
        wait = waits()["reader_wait_seconds" if read_only else "writer_wait_seconds"]
    if not read_only:
        claim_writing(db)
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            return connect(db, read_only=read_only)
        except duckdb.Error as exc:
            if _is_conflict(exc):
                if time.monotonic() >= deadline:
                    who = "导入正在写入" if read_only else "其他程序正在读取或写入"
                    raise WarehouseBusy(f"数据仓库 {db} 正忙({who}),已等待 {wait:.0f} 秒,请稍后重试。") from None
                if not told and on_wait is not None:
                    on_wait("等待数据仓库空闲(其他程序正在读取或写入)…")
                told = True
                time.sleep(_POLL)
                continue
            log.info("cannot open warehouse %s: %s", db, exc)
            reason = _not_damage(exc)
            if reason is not None:
                raise WarehouseError(f"无法打开数据仓库 {db}:{reason}。") from None
            raise WarehouseDamaged(f"数据仓库文件 {db} 已损坏或不完整,无法读取,本次操作未做任何改动。"
                                   + restore_advice(db)) from None
