"""The dashboard's connection to the warehouse, and the one caching decorator every query uses.

Values reach SQL as parameters. DuckDB admits no writer while any reader has the file open, and
opening it costs tens of milliseconds (hundreds on a busy machine): so the app's queries share
one read-only connection, which is closed as soon as no query runs and a writer has flagged that
it needs the file (``pipelines.locking.writer_writing``; a watcher thread looks every 50 ms), or
after two idle seconds. A reader thus keeps an import waiting for no longer than the query under
way; while a writer writes, a new query waits for its commit (``reader_wait_seconds`` of
``config/warehouse.toml``). A query result is cached
(``st.cache_data``, bounded by ttl and max_entries) under a key that includes the version of the
file and of its write-ahead log, so a finished import or restore shows at once and one
warehouse's results never serve another. A missing table, a busy or a damaged warehouse raises
:class:`DataUnavailable` with a Chinese message for the page to show.

On a DuckLake (``pipelines.backend``) readers and writers coexist: the read connection stays open,
each statement reads the last committed snapshot, and the version key is the snapshot id.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl
import streamlit as st

from pipelines.backend import LAKE, Location, mask, unreachable, why_unusable
from pipelines.locking import (WarehouseBusy, WarehouseDamaged, WarehouseError, classify, open_warehouse, waits,
                               writer_writing)
from pipelines.warehouse import connect, default_db_path

__all__ = ["DataUnavailable", "TTL", "MAX_ENTRIES", "db_path", "query", "cursor", "cached", "version_key",
           "close_connection", "clear_caches"]

log = logging.getLogger(__name__)

TTL = 600
MAX_ENTRIES = 64
F = TypeVar("F", bound=Callable)


class DataUnavailable(Exception):
    """A table the page needs is missing or the warehouse cannot be read (message in Chinese)."""


def db_path() -> Location:
    """The warehouse the app reads: `RENOVATION_DB` (a file or a DuckLake), else ``warehouse/renovation.duckdb``."""
    return default_db_path()


@st.cache_resource(max_entries=4, show_spinner=False)
def _lake_connection(key: str, _loc: Location) -> duckdb.DuckDBPyConnection:
    """A DuckLake's read connection, kept open: readers and writers coexist on a DuckLake."""
    try:
        return connect(_loc, read_only=True)
    except duckdb.Error as exc:
        log.warning("cannot open %s read-only: %s", _loc.display(), mask(str(exc)))
        raise _lake_unavailable(exc, _loc) from None


def _lake_unavailable(exc: BaseException, loc: Location) -> DataUnavailable:
    why = why_unusable(exc, loc)
    return DataUnavailable(f"暂时无法读取数据仓库:{why}。请稍后刷新页面;若问题持续,请联系系统管理员。")


IDLE_SECONDS = 2.0   # the shared connection is closed after this long without a query
WATCH_SECONDS = 0.05  # how often the watcher looks for a writer


class _Shared:
    """The one read-only connection the app's queries share while no writer wants the file."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.con: duckdb.DuckDBPyConnection | None = None
        self.path: Path | None = None
        self.inode: int | None = None
        self.users = 0
        self.last = 0.0
        self.watcher: threading.Thread | None = None
        self.stopped = False

    def _close(self) -> None:
        if self.con is not None:
            self.con.close()
        self.con = self.path = self.inode = None

    def take(self, path: Path) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the shared connection, once no writer is writing; None when the shared
        connection is still in use on a replaced file (the caller opens one of its own)."""
        wait = waits()["reader_wait_seconds"]
        deadline = time.monotonic() + wait
        while writer_writing(path):
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"数据仓库正在写入,已等待 {wait:.0f} 秒")
            time.sleep(WATCH_SECONDS)
        with self.lock:
            inode = path.stat().st_ino
            if self.con is not None and (self.path != path or self.inode != inode) and self.users == 0:
                self._close()  # another warehouse, or the file was replaced (a restore)
            if self.con is None:
                self.con = open_warehouse(path, read_only=True)
                self.path, self.inode = path, inode
            elif self.path != path or self.inode != inode:
                return None
            self.users += 1
            if self.watcher is None:
                self.watcher = threading.Thread(target=self._watch, daemon=True, name="warehouse-reader-watch")
                self.watcher.start()
            return self.con.cursor()

    def give_back(self) -> None:
        with self.lock:
            self.users -= 1
            self.last = time.monotonic()

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            with self.lock:
                if self.stopped:
                    return
                if self.con is not None and self.users == 0 and (
                        time.monotonic() - self.last > IDLE_SECONDS or writer_writing(self.path)):
                    self._close()

    def close(self) -> None:
        with self.lock:
            if self.users == 0:
                self._close()

    def stop(self) -> None:
        """At interpreter exit: the watcher ends and the connection is closed here, on the main
        thread. A daemon thread still inside DuckDB's close when the interpreter finalizes cannot
        take the GIL back, and the unwinding of its thread through DuckDB aborts the whole process
        (``terminate called without an active exception``, exit status 134)."""
        with self.lock:  # the watcher closes under this lock: a close under way ends first
            self.stopped = True
            self._close()
        if self.watcher is not None and self.watcher is not threading.current_thread():
            self.watcher.join(timeout=1.0)


_SHARED = _Shared()
atexit.register(_SHARED.stop)


class _Reader:
    """A cursor for one query; ``close()`` gives it back (or closes its own connection)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, shared: bool) -> None:
        self._con, self._shared = con, shared

    def __getattr__(self, name):
        return getattr(self._con, name)

    def close(self) -> None:
        if self._con is None:
            return
        self._con.close()
        self._con = None
        if self._shared:
            _SHARED.give_back()


def close_connection() -> None:
    """Close the shared read connection of an embedded file when no query uses it (a DuckLake's
    stays open)."""
    _SHARED.close()


def clear_caches() -> None:
    """Forget cached results (after the warehouse was written)."""
    _VERSION.clear()
    st.cache_data.clear()


def cursor() -> _Reader:
    """A read-only cursor for one query (close it right after): on an embedded file, on the shared
    connection; on a DuckLake, on the kept connection (each statement reads the last snapshot)."""
    loc = db_path()
    if loc.is_lake:
        cur = _lake_connection(loc.key, loc).cursor()
        try:
            cur.execute(f"use {LAKE}")  # a cursor is a connection of its own: the lake is not its default yet
        except duckdb.Error as exc:  # it asks the catalog for the current snapshot
            cur.close()
            if unreachable(exc, loc) is None:
                raise
            log.warning("cannot read %s: %s", loc.display(), mask(str(exc)))
            raise _lake_unavailable(exc, loc) from None
        return _Reader(cur, False)
    path = loc.file
    if not path.exists():
        raise DataUnavailable(f"数据仓库文件不存在:{path}。请先在「数据上报」页上传工作簿,或由管理员运行 `renovation demo`。")
    try:
        shared = _SHARED.take(path)
        if shared is not None:
            return _Reader(shared, True)
        return _Reader(open_warehouse(path, read_only=True), False)
    except WarehouseBusy as exc:
        raise DataUnavailable("数据仓库正在写入(有导入正在提交),请稍后刷新页面。") from exc
    except WarehouseError as exc:  # damaged: the message names the restore command, not an upload
        raise DataUnavailable(str(exc)) from exc
    except FileNotFoundError as exc:
        raise DataUnavailable(f"数据仓库文件不存在:{path}。") from exc


def query(sql: str, params: list | tuple | dict = ()) -> pl.DataFrame:
    """Run one read query with parameters on a connection of its own; a missing table, a busy or
    damaged warehouse becomes :class:`DataUnavailable`."""
    con = cursor()
    try:
        return con.sql(sql, params=params or None).pl()
    except duckdb.CatalogException as exc:
        log.info("missing table: %s", exc)
        raise DataUnavailable("所需数据表尚未生成:数据仓库中还没有导入数据,或尚未完成刷新。") from exc
    except duckdb.BinderException as exc:
        if "not found" not in str(exc):
            raise
        # a column this version reads is missing: the warehouse was left by an earlier version, and
        # only a writer upgrades it (renovation serve does before it starts the dashboard)
        log.warning("warehouse older than the code: %s", exc)
        raise DataUnavailable("数据仓库早于当前版本的程序(缺少新增的列),看板无法读取。请系统管理员用 renovation serve "
                              "启动看板(启动前自动升级并重新计算),或运行任一次导入,然后刷新本页。") from exc
    except duckdb.Error as exc:
        loc = db_path()
        if unreachable(exc, loc) is not None:  # PostgreSQL stopped, the data folder unmounted: it passes
            log.warning("cannot read %s: %s", loc.display(), mask(str(exc)))
            raise _lake_unavailable(exc, loc) from None
        known = classify(exc, loc)
        if isinstance(known, WarehouseDamaged):
            raise DataUnavailable(str(known)) from exc
        raise
    finally:
        con.close()


def _stamp(path: Path) -> str:
    try:
        s = path.stat()
    except OSError:
        return "-"
    return f"{s.st_ino}:{s.st_mtime_ns}:{s.st_size}"


_VERSION: dict[str, tuple[float, str]] = {}
VERSION_TTL = 2.0  # seconds a DuckLake's snapshot id is taken as current


def version_key() -> str:
    """The warehouse and its version, part of every cache key, so that results of one warehouse
    never serve another, nor an older state of the same one (a load by the CLI, a restored
    backup): an embedded file's version and its write-ahead log's; a DuckLake's current snapshot id (asked at most every
    ``VERSION_TTL`` seconds: an import by another server or worker shows that soon)."""
    loc = db_path()
    if not loc.is_lake:  # the file and its write-ahead log (inode, time, size): a commit still in the log, a restore
        path = loc.file
        return f"{path}@{_stamp(path)}|wal@{_stamp(path.with_name(path.name + '.wal'))}"
    now = time.monotonic()
    seen = _VERSION.get(loc.key)
    if seen is not None and now - seen[0] < VERSION_TTL:
        return seen[1]
    try:
        cur = cursor()
        try:
            snapshot = cur.execute(f"select id from {LAKE}.current_snapshot()").fetchone()[0]
        finally:
            cur.close()
    except (DataUnavailable, duckdb.Error):
        return loc.key
    key = f"{loc.key}@{snapshot}"
    _VERSION[loc.key] = (now, key)
    return key


def cached(fn: F) -> F:
    """Cache a query function's result per warehouse version and arguments (``st.cache_data``).

    The cached inner function takes the version key as its first argument; it carries the
    query function's module and name, which Streamlit uses to keep each function's cache apart."""

    def inner(warehouse_version: str, *args, **kwargs):
        return fn(*args, **kwargs)

    inner.__module__, inner.__qualname__, inner.__name__ = fn.__module__, fn.__qualname__, fn.__name__
    inner.__wrapped__ = fn  # the source Streamlit hashes is the query's own
    store = st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)(inner)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return store(version_key(), *args, **kwargs)

    wrapper.clear = store.clear  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
