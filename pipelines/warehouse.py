"""The DuckDB warehouse: connection, schema creation and the refresh of derived layers.

SQL that shapes the warehouse lives in ``warehouse/<schema>/<table>.sql``; its first line says
what one row is, a ``-- key: …`` line states its key (``(one row)`` for a one-row table, ``(none: …)``
with the reason when there is none). A file that starts with ``create`` is DDL for a table written by the pipelines (raw, staging, link tables); a file
that starts with ``select`` or ``with`` is a model, materialised as ``<schema>.<table>`` by the
refresh (``pipelines.refresh``), in dependency order.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from pipelines.counties import load_counties
from pipelines.settings import DATA_DIR, WAREHOUSE_DIR

__all__ = ["connect", "table_exists", "default_db_path", "init_schema", "insert_rows", "run_models", "model_tables",
           "models", "transaction", "WAREHOUSE_DIR"]

log = logging.getLogger(__name__)

SCHEMAS = ("raw", "staging", "core", "intermediate", "marts")
_TRAILING_COMMENT = re.compile(r"\s--[^\n]*")
_REF = re.compile(r"\b(raw|staging|core|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")


def default_db_path() -> Path:
    """`RENOVATION_DB`, else ``warehouse/renovation.duckdb`` (cli.md)."""
    return Path(os.environ.get("RENOVATION_DB") or DATA_DIR / "renovation.duckdb")


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    sql: str
    is_ddl: bool
    description: str
    key: str = ""  # as declared on the ``-- key:`` line

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def key_columns(self) -> tuple[str, ...] | None:
        """The declared key's columns; () for a one-row table; None when the table has no key."""
        if self.key.startswith("(one row)"):
            return ()
        if not self.key or self.key.startswith("(none"):
            return None
        return tuple(c.strip() for c in self.key.split(","))

    def refs(self) -> set[str]:
        code = _TRAILING_COMMENT.sub("", self.sql)
        return {f"{s}.{t}" for s, t in _REF.findall(code)} - {self.table}


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()


@cache
def models() -> tuple[Model, ...]:
    """Every SQL file of the warehouse, schema by schema."""
    out = []
    for schema in SCHEMAS:
        for path in sorted((WAREHOUSE_DIR / schema).glob("*.sql")):
            text = path.read_text(encoding="utf-8")
            first = text.splitlines()[0] if text else ""
            key = next((line.removeprefix("-- key:").strip() for line in text.splitlines()[:5]
                        if line.startswith("-- key:")), "")
            body = _strip_comments(text)
            out.append(
                Model(
                    schema=schema,
                    name=path.stem,
                    sql=body,
                    is_ddl=body.lower().startswith("create"),
                    description=first.removeprefix("--").strip(),
                    key=key,
                )
            )
    return tuple(out)


def _ordered(selected: list[Model]) -> list[Model]:
    """Topological order of models by the tables their SQL names."""
    by_table = {m.table: m for m in selected}
    done: list[Model] = []
    seen: set[str] = set()

    def visit(m: Model, stack: tuple[str, ...] = ()) -> None:
        if m.table in seen:
            return
        if m.table in stack:
            raise ValueError(f"cycle in warehouse models: {' -> '.join(stack + (m.table,))}")
        for ref in sorted(m.refs()):
            if ref in by_table:
                visit(by_table[ref], stack + (m.table,))
        seen.add(m.table)
        done.append(m)

    for m in selected:
        visit(m)
    return done


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating its schema when writable)."""
    path = Path(path) if path is not None else default_db_path()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        try:
            init_schema(con)
        except BaseException:
            con.close()
            raise
    return con


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``schema.name`` exists in the warehouse."""
    schema, name = table.split(".")
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0])


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list) -> None:
    """Insert many rows (tuples in the table's column order) at once, through one Arrow table:
    ``executemany`` runs a statement per row. The table is built by Polars, because pyarrow
    would import pandas to convert Python values (half a second no ingest otherwise needs)."""
    if not rows:
        return
    import polars as pl

    cols = [c[0] for c in con.execute(f"select * from {table} limit 0").description]
    frame = pl.DataFrame({c: [r[i] for r in rows] for i, c in enumerate(cols)}, strict=False,  # noqa: F841
                         infer_schema_length=None).to_arrow()
    con.execute(f"insert into {table} by name select * from frame")  # our own table names


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas, pipeline-written tables and the county table; idempotent."""
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    _upgrade_verdicts(con)
    for m in models():
        if m.is_ddl:
            con.execute(m.sql)
    if con.execute("select count(*) from staging.counties").fetchone()[0] == 0:
        rows = [
            (c.code, c.name, "|".join(c.aliases), c.lat, c.lon, i) for i, c in enumerate(load_counties())
        ]
        con.executemany("insert into staging.counties values (?, ?, ?, ?, ?, ?)", rows)
    _move_from_marts(con)


def _move_from_marts(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse made before intermediates had their own schema: the append-only signal keys move
    to raw (kept whole: verdicts follow findings through them); the intermediates left in marts go
    (the refresh rebuilds them in their schema)."""
    in_marts = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    if "signal_keys" in in_marts:
        con.execute("insert into raw.signal_keys by name select * from marts.signal_keys as old "
                    "where not exists (select 1 from raw.signal_keys as k where k.signal_id = old.signal_id)")
        con.execute("drop table marts.signal_keys")
    for m in models():
        if m.schema == "intermediate" and m.name in in_marts:
            con.execute(f"drop table marts.{m.name}")


def _upgrade_verdicts(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse from before accounts (issue 11) has ``raw.verdicts`` with a check on the old verdict
    names and without the act columns: its rows move, as written, into the table of today."""
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = 'verdicts'"
    ).fetchall()}
    if not cols or "act_id" in cols:
        return
    ddl = next(m.sql for m in models() if m.table == "raw.verdicts")
    with transaction(con):
        con.execute("alter table raw.verdicts rename to verdicts_before_accounts")
        con.execute(ddl)
        con.execute(
            """insert into raw.verdicts (signal_id, verdict, note, decided_by, decided_at, rule, act_id, act, needs_review)
               select signal_id, verdict, note, decided_by, decided_at, rule,
                   'legacy-' || lpad(cast(row_number() over (order by decided_at) as varchar), 8, '0'), 'verdict', false
               from raw.verdicts_before_accounts""")
        con.execute("drop table raw.verdicts_before_accounts")


def model_tables(*schemas: str) -> tuple[str, ...]:
    """The models (not DDL tables) of the given schemas, as ``schema.name``."""
    return tuple(m.table for m in models() if m.schema in schemas and not m.is_ddl)


def run_models(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> list[str]:
    """Materialise the named models (``schema.name``), in dependency order; returns the tables built."""
    wanted = set(tables)
    selected = [m for m in models() if not m.is_ddl and m.table in wanted]
    missing = wanted - {m.table for m in selected}
    if missing:
        raise ValueError(f"no such models: {sorted(missing)}")
    built = []
    for m in _ordered(selected):
        con.execute(f"create or replace table {m.table} as {m.sql}")
        built.append(m.table)
    return built


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
