"""The access store: accounts, log-in attempts and the action log, in a small SQLite file.

Why not the DuckDB warehouse: (1) a restore of the warehouse (``renovation restore``) must not
roll back the action log — the restore itself is an entry of it — nor bring back a disabled
account or an old password; (2) a DuckDB file admits one writing process, and the dashboard
must log people in and record their actions while an import from the command line holds the
warehouse; SQLite lets several processes append (WAL, busy timeout). The tables are append-only
(triggers refuse UPDATE and DELETE); their DDL lives in ``warehouse/access/<table>.sql``.

Where: ``RENOVATION_ACCESS_DB``, else beside the warehouse file as ``<name>.access.sqlite``
(``renovation.duckdb`` → ``renovation.access.sqlite``), else ``warehouse/access.sqlite`` for a
DuckLake warehouse. Back it up with the warehouse (``sqlite3 FILE ".backup COPY"``).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from pipelines.settings import DATA_DIR, WAREHOUSE_DIR

__all__ = ["store_path", "connect", "transaction"]

DDL_DIR = WAREHOUSE_DIR / "access"
TABLES = ("accounts", "login_attempts", "action_log")
_ready: set[str] = set()


def store_path(db: str | Path | None = None) -> Path:
    """The access store of the warehouse ``db`` (default: the warehouse in force)."""
    given = os.environ.get("RENOVATION_ACCESS_DB", "").strip()
    if given:
        return Path(given).resolve()
    if db is None:
        db = os.environ.get("RENOVATION_DB") or DATA_DIR / "renovation.duckdb"
    text = str(db)
    if text.startswith("ducklake:") or text == ":memory:":
        return (DATA_DIR / "access.sqlite").resolve()
    p = Path(text).resolve()
    return p.with_name(p.stem + ".access.sqlite")


def connect(db: str | Path | None = None) -> sqlite3.Connection:
    """Open the access store (creating it and its tables the first time); autocommit mode."""
    path = store_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("pragma busy_timeout = 10000")
    key = str(path)
    if key not in _ready or not path.exists():
        con.execute("pragma journal_mode = wal")
        for table in TABLES:
            con.executescript((DDL_DIR / f"{table}.sql").read_text(encoding="utf-8"))
        _ready.add(key)
    return con


@contextmanager
def transaction(db: str | Path | None = None) -> Iterator[sqlite3.Connection]:
    """A connection in one write transaction (taken at once: BEGIN IMMEDIATE), closed after."""
    con = connect(db)
    try:
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    finally:
        con.close()
