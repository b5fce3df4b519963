"""The dashboard's connection to the warehouse, and the one caching decorator every query uses.

Values reach SQL as parameters. A query result is cached (``st.cache_data``, bounded by ttl and
max_entries) under a key that includes the warehouse's version, so a finished import shows at
once and one warehouse's results never serve another. A query on a table that does not exist
raises :class:`DataUnavailable` with a Chinese message for the page to show.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb
import polars as pl
import streamlit as st

from pipelines.backend import LAKE, Location, mask
from pipelines.warehouse import connect, default_db_path

__all__ = ["DataUnavailable", "TTL", "MAX_ENTRIES", "db_path", "query", "cursor", "cached", "version_key",
           "close_connection", "clear_caches"]

log = logging.getLogger(__name__)

TTL = 600
MAX_ENTRIES = 64
F = TypeVar("F", bound=Callable)


class DataUnavailable(Exception):
    """A table the page needs is missing or the warehouse cannot be opened (message in Chinese)."""


def db_path() -> Location:
    """The warehouse the app reads: `RENOVATION_DB` (a file or a DuckLake), else ``warehouse/renovation.duckdb``."""
    return default_db_path()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(key: str, _loc: Location) -> duckdb.DuckDBPyConnection:
    if not _loc.exists():
        raise DataUnavailable(f"数据仓库文件不存在:{key}。请先在「数据上报」页上传工作簿,或运行 `uv run renovation demo`。")
    try:
        return connect(_loc, read_only=True)
    except duckdb.Error as exc:
        log.warning("cannot open %s read-only: %s", _loc.display(), mask(str(exc)))
        if _loc.is_lake:
            raise DataUnavailable("无法连接数据仓库(DuckLake 目录库或数据目录不可用),请稍后刷新页面或联系管理员。") from exc
        raise DataUnavailable("数据仓库正被其他程序写入(例如正在导入数据),请稍后刷新页面。") from exc


def close_connection() -> None:
    """Close the app's read-only connection to an embedded file: DuckDB allows no writer while any
    connection holds the file. A DuckLake's connection stays open (readers and writers coexist)."""
    loc = db_path()
    if loc.is_lake:
        return
    try:
        if loc.exists():
            _connection(loc.key, loc).close()
    except (DataUnavailable, duckdb.Error):
        pass
    _connection.clear()


def clear_caches() -> None:
    """Forget cached results and the connection (after the warehouse was written)."""
    close_connection()
    _VERSION.clear()
    st.cache_data.clear()


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the app's connection, for the few readers that take a connection (close it after).
    Each statement reads the last committed state (on a DuckLake: the last snapshot)."""
    loc = db_path()
    cur = _connection(loc.key, loc).cursor()
    if loc.is_lake:
        cur.execute(f"use {LAKE}")  # a cursor is a connection of its own: the lake is not its default yet
    return cur


def query(sql: str, params: list | tuple | dict = ()) -> pl.DataFrame:
    """Run one read query with parameters; a missing table becomes :class:`DataUnavailable`."""
    cur = cursor()
    try:
        return cur.sql(sql, params=params or None).pl()
    except duckdb.CatalogException as exc:
        log.info("missing table: %s", exc)
        raise DataUnavailable("所需数据表尚未生成:数据仓库中还没有导入数据,或尚未完成刷新。") from exc
    finally:
        cur.close()


_VERSION: dict[str, tuple[float, str]] = {}
VERSION_TTL = 2.0  # seconds a DuckLake's snapshot id is taken as current


def version_key() -> str:
    """The warehouse and its version, part of every cache key, so that results of one warehouse
    never serve another, nor an older state of the same one (a load by the CLI, say): an embedded
    file's modification time; a DuckLake's current snapshot id (asked at most every
    ``VERSION_TTL`` seconds: an import by another server or worker shows that soon)."""
    loc = db_path()
    if not loc.is_lake:
        try:
            return f"{loc.file}@{loc.file.stat().st_mtime_ns}"
        except OSError:
            return str(loc.file)
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
