"""The dashboard's connection to the warehouse, and the one caching decorator every query uses.

Values reach SQL as parameters. A query result is cached (``st.cache_data``, bounded by ttl and
max_entries) under a key that includes the warehouse's version, so a finished import shows at
once and one warehouse's results never serve another. A query on a table that does not exist
raises :class:`DataUnavailable` with a Chinese message for the page to show.
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

from pipelines.warehouse import default_db_path

__all__ = ["DataUnavailable", "TTL", "MAX_ENTRIES", "db_path", "query", "cursor", "cached", "version_key",
           "close_connection", "clear_caches"]

log = logging.getLogger(__name__)

TTL = 600
MAX_ENTRIES = 64
F = TypeVar("F", bound=Callable)


class DataUnavailable(Exception):
    """A table the page needs is missing or the warehouse cannot be opened (message in Chinese)."""


def db_path() -> Path:
    """The warehouse the app reads: `RENOVATION_DB`, else ``warehouse/renovation.duckdb``."""
    return default_db_path().resolve()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    if not Path(path).exists():
        raise DataUnavailable(f"数据仓库文件不存在:{path}。请先在「数据上报」页上传工作簿,或运行 `uv run renovation demo`。")
    try:
        return duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        log.warning("cannot open %s read-only: %s", path, exc)
        raise DataUnavailable("数据仓库正被其他程序写入(例如正在导入数据),请稍后刷新页面。") from exc


def close_connection() -> None:
    """Close the app's read-only connection: DuckDB allows no writer while any connection holds the file."""
    path = str(db_path())
    try:
        if Path(path).exists():
            _connection(path).close()
    except (DataUnavailable, duckdb.Error):
        pass
    _connection.clear()


def clear_caches() -> None:
    """Forget cached results and the connection (after the warehouse was written)."""
    close_connection()
    st.cache_data.clear()


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the app's connection, for the few readers that take a connection (close it after)."""
    return _connection(str(db_path())).cursor()


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


def version_key() -> str:
    """The warehouse file and its modification time: part of every cache key, so that results of one
    warehouse never serve another, nor an older state of the same one (a load by the CLI, say)."""
    path = db_path()
    try:
        return f"{path}@{path.stat().st_mtime_ns}"
    except OSError:
        return str(path)


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
