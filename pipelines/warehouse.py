"""The DuckDB warehouse: connection, schema creation and the refresh of derived layers.

SQL that shapes the warehouse lives in ``warehouse/<schema>/<table>.sql``; its first line says
what one row is, a ``-- key: …`` line states its key (``(one row)`` for a one-row table, ``(none: …)``
with the reason when there is none). A file that starts with ``create`` is DDL for a table written by the pipelines (raw, staging, link tables); a file
that starts with ``select`` or ``with`` is a model, materialised as ``<schema>.<table>`` by the
refresh (``pipelines.refresh``), in dependency order.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from pipelines.backend import Location, is_conflict, locate, open_lake
from pipelines.counties import load_counties, prefecture_of, use_units
from pipelines.settings import WAREHOUSE_DIR

__all__ = ["connect", "table_exists", "column_names", "default_db_path", "init_schema", "insert_rows", "run_models", "model_tables",
           "models", "Model", "MODEL_POLICY", "transaction", "add_units", "adopt_units", "schema_behind", "define_macros", "WAREHOUSE_DIR"]

log = logging.getLogger(__name__)

SCHEMAS = ("raw", "staging", "core", "intermediate", "marts")
_TRAILING_COMMENT = re.compile(r"\s--[^\n]*")
_REF = re.compile(r"\b(raw|staging|core|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")


def default_db_path() -> Location:
    """`RENOVATION_DB` (with `RENOVATION_DATA_PATH` for a DuckLake), else ``warehouse/renovation.duckdb`` (cli.md)."""
    return locate()


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


def connect(path: Location | str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating its schema when writable): the embedded file, or the DuckLake
    attached and in use (``pipelines.backend``), so that the same SQL runs on both."""
    loc = locate(path)
    if loc.is_lake:
        con = open_lake(loc, read_only=read_only)
    else:
        if not read_only:
            loc.file.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(loc.file), read_only=read_only)
    # an ASOF join whose left side DuckDB estimates below the threshold runs as a nested loop; the
    # estimate of a table rebuilt in the open transaction (every model of a refresh) is far too low,
    # and the refresh of an import of ten prefectures spent 2 minutes in two such loops (0.6 s as ASOF)
    con.execute("set asof_loop_join_threshold = 0")
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
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?", [schema, name]
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


def init_schema(con: duckdb.DuckDBPyConnection, attempts: int = 5) -> None:
    """Create schemas, pipeline-written tables and the county table; idempotent. One transaction
    (one DuckLake snapshot); run again when another process created the same tables meanwhile."""
    _upgrade_verdicts(con)
    for attempt in range(attempts):
        try:
            with transaction(con):
                _create_schema(con)
            return
        except duckdb.Error as exc:
            if attempt == attempts - 1 or not is_conflict(exc):
                raise
            log.info("schema created by another process meanwhile; checking again")


def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    # one look at the catalog first: on a DuckLake every statement asks PostgreSQL
    columns = con.execute("select schema_name, table_name, column_name from duckdb_columns() "
                          "where database_name = current_database()").fetchall()
    existing = {f"{s}.{t}" for s, t, _ in columns}
    missing = [m for m in models() if m.is_ddl and m.table not in existing]
    if missing:
        for schema in SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        for m in missing:
            con.execute(m.sql)
    if "staging.counties" in existing:
        _upgrade_counties(con, {c for s, t, c in columns if (s, t) == ("staging", "counties")})
    if con.execute("select count(*) from staging.counties").fetchone()[0] == 0:
        rows = [
            (c.code, c.name, "|".join(c.aliases), c.lat, c.lon, i, prefecture_of(c.code))
            for i, c in enumerate(load_counties())
        ]
        insert_rows(con, "staging.counties", rows)
    _move_from_marts(con, {t.split(".")[1] for t in existing if t.startswith("marts.")})


def add_units(con: duckdb.DuckDBPyConnection, rows) -> int:
    """Add reporting units beyond counties.csv to ``staging.counties`` (rows of code, name, aliases
    (a sequence), lat, lon), after those it holds; returns how many were new. The generated
    prefectures of ``renovation demo --scale`` come in this way, not into the configuration."""
    known = {r[0] for r in con.execute("select county_code from staging.counties").fetchall()}
    start = con.execute("select coalesce(max(sort_order), -1) + 1 from staging.counties").fetchone()[0]
    new = [(code, name, "|".join(aliases), lat, lon) for code, name, aliases, lat, lon in rows if code not in known]
    insert_rows(con, "staging.counties", [(*r, start + i, prefecture_of(r[0])) for i, r in enumerate(new)])
    return len(new)


def adopt_units(con: duckdb.DuckDBPyConnection) -> None:
    """Make the warehouse's units the ones this process resolves county names against."""
    use_units(con.execute("select county_code, county_name, aliases, seat_lat, seat_lon from staging.counties "
                          "order by sort_order").fetchall())


def _move_from_marts(con: duckdb.DuckDBPyConnection, in_marts: set[str]) -> None:
    """A warehouse made before intermediates had their own schema: the append-only signal keys move
    to raw (kept whole: verdicts follow findings through them); the intermediates left in marts go
    (the refresh rebuilds them in their schema). ``in_marts``: the tables of marts."""
    if "signal_keys" in in_marts:
        con.execute("insert into raw.signal_keys by name select * from marts.signal_keys as old "
                    "where not exists (select 1 from raw.signal_keys as k where k.signal_id = old.signal_id)")
        con.execute("drop table marts.signal_keys")
    for m in models():
        if m.schema == "intermediate" and m.name in in_marts:
            con.execute(f"drop table marts.{m.name}")


def _upgrade_counties(con: duckdb.DuckDBPyConnection, cols: set[str]) -> None:
    """A warehouse from before ``staging.counties.prefecture_code`` (``cols``: the table's columns):
    the column is added (last, as declared) and written from each unit's code, in the caller's transaction."""
    if "prefecture_code" in cols:
        return
    con.execute("alter table staging.counties add column prefecture_code varchar")
    codes = [r[0] for r in con.execute("select county_code from staging.counties").fetchall()]
    con.execute("update staging.counties as c set prefecture_code = f.prefecture_code "
                "from (select unnest($codes) as county_code, unnest($prefs) as prefecture_code) as f "
                "where f.county_code = c.county_code", {"codes": codes, "prefs": [prefecture_of(c) for c in codes]})


# columns that readers of this version of the code use and that a warehouse of an earlier version lacks:
# (table, column, what it is in Chinese). A refresh (every import, and serve before the dashboard starts)
# adds them: staging.counties is upgraded when opened for writing, the marts are rebuilt.
REQUIRED_COLUMNS = (
    ("staging.counties", "prefecture_code", "县市表(staging.counties)缺少所属州一列"),
    ("marts.verdict_current", "proposed_act_id", "核查结论表(marts.verdict_current)缺少待复核结论的编号"),
    ("marts.verdict_current", "last_act_id", "核查结论表(marts.verdict_current)缺少最近一次核查记录的编号"),
    ("marts.whatif_subsidy", "pool", "资金分配模拟表(marts.whatif_subsidy)缺少各州的资金池"),  # remade: scoring.whatif
)


def schema_behind(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Why the warehouse's tables are older than this version of the code in a way its readers
    notice (Chinese; empty when they are not): a refresh upgrades them (:func:`init_schema`, the models)."""
    if not table_exists(con, "staging.counties"):
        return []
    present = {(f"{s}.{t}", c) for s, t, c in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema || '.' || table_name in ?",
        [[t for t, _, _ in REQUIRED_COLUMNS]]).fetchall()}
    tables = {t for t, _ in present}
    # a table not made yet (a warehouse before its first refresh) lacks nothing
    return [f"数据仓库早于当前版本:{what}" for t, c, what in REQUIRED_COLUMNS
            if (t in tables or t == "staging.counties") and (t, c) not in present]


def column_names(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns ``schema.table`` has in the current catalog (none when it does not exist)."""
    schema, _, name = table.partition(".")
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?", [schema, name]).fetchall()}


def _upgrade_verdicts(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse from before accounts (issue 11) has ``raw.verdicts`` with a check on the old verdict
    names and without the act columns: its rows move, as written, into the table of today."""
    cols = column_names(con, "raw.verdicts")
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


# the incremental refresh of an import (pipelines.incremental.Scope) while one runs: it builds the
# models it may for one county (``build`` answers True) and leaves the others to run_models
MODEL_POLICY: ContextVar = ContextVar("MODEL_POLICY", default=None)


def model_tables(*schemas: str) -> tuple[str, ...]:
    """The models (not DDL tables) of the given schemas, as ``schema.name``."""
    return tuple(m.table for m in models() if m.schema in schemas and not m.is_ddl)


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The SQL macros of ``warehouse/macros`` (one rule each, e.g. the progress index), as temporary
    macros of this connection: the models that use them are built on it."""
    for path in sorted((WAREHOUSE_DIR / "macros").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def run_models(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> list[str]:
    """Materialise the named models (``schema.name``), in dependency order; returns the tables built."""
    wanted = set(tables)
    selected = [m for m in models() if not m.is_ddl and m.table in wanted]
    missing = wanted - {m.table for m in selected}
    if missing:
        raise ValueError(f"no such models: {sorted(missing)}")
    built = []
    policy = MODEL_POLICY.get()
    define_macros(con)
    for m in _ordered(selected):
        t = time.perf_counter()
        if policy is None or not policy.build(con, m):
            con.execute(f"create or replace table {m.table} as {m.sql}")
        built.append(m.table)
        log.debug("model %s: %.3f s", m.table, time.perf_counter() - t)
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
