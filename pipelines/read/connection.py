"""The dashboard's connection to the warehouse, and the one caching decorator every query uses.

Values reach SQL as parameters. Each query opens the warehouse read-only, runs and closes it
again (:func:`query`), so that a reader never keeps an import waiting longer than one query
(DuckDB admits no writer while any reader has the file open); while an import commits, a query
waits for it (``reader_wait_seconds`` of ``config/warehouse.toml``). Opening costs tens of
milliseconds, which the cache pays only once per warehouse version: a query result is cached
(``st.cache_data``, bounded by ttl and max_entries) under a key that includes the version of the
file and of its write-ahead log, so a finished import or restore shows at once and one
warehouse's results never serve another. A missing table, a busy or a damaged warehouse raises
:class:`DataUnavailable` with a Chinese message for the page to show.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl
import streamlit as st

from pipelines.locking import WarehouseBusy, WarehouseDamaged, WarehouseError, classify, open_warehouse
from pipelines.warehouse import default_db_path

__all__ = ["DataUnavailable", "TTL", "MAX_ENTRIES", "db_path", "query", "cursor", "cached", "version_key",
           "close_connection", "clear_caches"]

log = logging.getLogger(__name__)

TTL = 600
MAX_ENTRIES = 64
F = TypeVar("F", bound=Callable)


class DataUnavailable(Exception):
    """A table the page needs is missing or the warehouse cannot be read (message in Chinese)."""


def db_path() -> Path:
    """The warehouse the app reads: `RENOVATION_DB`, else ``warehouse/renovation.duckdb``."""
    return default_db_path().resolve()


def close_connection() -> None:
    """Nothing to close: no connection outlives its query (kept for the callers of old)."""


def clear_caches() -> None:
    """Forget cached results (after the warehouse was written)."""
    st.cache_data.clear()


def cursor() -> duckdb.DuckDBPyConnection:
    """A read-only connection of its own, for the few readers that take a connection: close it
    right after the query."""
    path = db_path()
    if not path.exists():
        raise DataUnavailable(f"数据仓库文件不存在:{path}。请先在「数据上报」页上传工作簿,或由管理员运行 `renovation demo`。")
    try:
        return open_warehouse(path, read_only=True)
    except WarehouseBusy as exc:
        raise DataUnavailable("数据仓库正在写入(有导入正在提交),请稍后刷新页面。") from exc
    except WarehouseError as exc:  # damaged: the message names the restore command, not an upload
        raise DataUnavailable(str(exc)) from exc


def query(sql: str, params: list | tuple | dict = ()) -> pl.DataFrame:
    """Run one read query with parameters on a connection of its own; a missing table, a busy or
    damaged warehouse becomes :class:`DataUnavailable`."""
    con = cursor()
    try:
        return con.sql(sql, params=params or None).pl()
    except duckdb.CatalogException as exc:
        log.info("missing table: %s", exc)
        raise DataUnavailable("所需数据表尚未生成:数据仓库中还没有导入数据,或尚未完成刷新。") from exc
    except duckdb.Error as exc:
        known = classify(exc, db_path())
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


def version_key() -> str:
    """The warehouse file and the version of it and of its write-ahead log (inode, time, size):
    part of every cache key, so that results of one warehouse never serve another, nor an older
    state of the same one (a load by the CLI, a commit still in the log, a restored backup)."""
    path = db_path()
    return f"{path}@{_stamp(path)}|wal@{_stamp(path.with_name(path.name + '.wal'))}"


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
