"""``renovation migrate``: copy a warehouse to another backend (an embedded file into a DuckLake, or
back), every table with identical contents, checked after the copy.

Both warehouses are attached to one DuckDB (``source`` read-only, ``target``); the target gets the
schema of this version of the code (``init_schema``), then every table of ``raw``, ``staging``,
``core`` and ``marts`` is copied in one transaction: into the table of the same name when the
schema has it (by column name), else created from the source's. The copy is then compared table
by table (rows as multisets). The Great Expectations results kept beside a warehouse (its Data
Docs) are not copied: the next validation run starts them afresh.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import duckdb

from pipelines.backend import Location, attach, lake_capable, locate
from pipelines.warehouse import SCHEMAS, init_schema, schema_behind, transaction

__all__ = ["TableCopy", "migrate", "compare", "tables_of", "run_migrate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int


def tables_of(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[str]]:
    """``schema.table`` → its columns in order, for every base table of our schemas in an attached database."""
    out: dict[str, list[str]] = {}
    for schema, name, column in con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() where database_name = ? "
            "and schema_name in ? and not internal order by schema_name, table_name, column_index",
            [database, list(SCHEMAS)]).fetchall():
        out.setdefault(f"{schema}.{name}", []).append(column)
    return out


def compare(con: duckdb.DuckDBPyConnection, a: str = "source", b: str = "target") -> list[str]:
    """The differences between two attached warehouses, one Chinese line each (empty: identical).
    Rows are compared as multisets over the columns of each table; a table missing on one side
    counts only when the other side holds rows."""
    out = []
    tables_a, tables_b = tables_of(con, a), tables_of(con, b)
    for table in sorted(tables_a.keys() | tables_b.keys()):
        if table not in tables_a or table not in tables_b:
            present = a if table in tables_a else b
            n = con.execute(f"select count(*) from {present}.{table}").fetchone()[0]
            if n:
                out.append(f"{table}:只在 {present} 中存在({n} 行)")
            continue
        cols_a, cols_b = tables_a[table], tables_b[table]
        if sorted(cols_a) != sorted(cols_b):
            out.append(f"{table}:列不同({', '.join(sorted(set(cols_a) ^ set(cols_b)))})")
            continue
        cols = ", ".join(f'"{c}"' for c in cols_a)
        # one pass over both sides: each distinct row with its count on either side
        n_diff, n_a, n_b = con.execute(
            f"with x as (select {cols}, 1 as side_a, 0 as side_b from {a}.{table} "
            f"union all select {cols}, 0, 1 from {b}.{table}), "
            f"g as (select sum(side_a) as na, sum(side_b) as nb from x group by {cols}) "
            f"select count(*) filter (where na <> nb), coalesce(sum(na), 0), coalesce(sum(nb), 0) from g").fetchone()
        if n_diff or n_a != n_b:
            out.append(f"{table}:{n_a} 行对 {n_b} 行,{n_diff} 种行的数目不同")
    return out


def _filled(con: duckdb.DuckDBPyConnection, database: str, tables: set[str]) -> set[str]:
    """The tables that hold rows, found in one statement (each statement on a DuckLake asks PostgreSQL)."""
    if not tables:
        return set()
    sql = " union all ".join(f"select '{t}', count(*) from {database}.{t}" for t in sorted(tables))
    return {t for t, n in con.execute(sql).fetchall() if n}


def migrate(source: Location | str, target: Location | str, force: bool = False,
            verify: bool = True) -> list[TableCopy]:
    """Copy every table of ``source`` into ``target``; raises ValueError (Chinese message) when the
    target holds data already (unless ``force``: its tables are then replaced) or, with ``verify``,
    the copy differs."""
    src, dst = locate(source), locate(target)
    if str(src) == str(dst):
        raise ValueError("源与目标是同一个数据仓库")
    if not src.exists():
        raise ValueError(f"源数据仓库不存在:{src.display()}")
    remote = tuple({"httpfs"} if any(x.is_lake and x.data_path and "://" in x.data_path for x in (src, dst)) else ())
    con = lake_capable(remote) if src.is_lake or dst.is_lake else duckdb.connect()
    try:
        attach(con, src, "source", read_only=True)
        con.execute("use source")
        behind = schema_behind(con)
        if behind:
            # a warehouse of an earlier version: the copy could not be identical to it (the source is
            # only read here, so it is not upgraded on the way)
            raise ValueError(f"源数据仓库早于当前版本({';'.join(behind)}),复制无法与之一致;"
                             "请用 renovation migrate,它先升级源数据仓库再复制")
        if not dst.is_lake:
            dst.file.parent.mkdir(parents=True, exist_ok=True)
        attach(con, dst, "target")
        con.execute("use target")
        init_schema(con)
        if not force and con.execute("select count(*) from raw.submissions").fetchone()[0]:
            raise ValueError(f"目标数据仓库 {dst.display()} 已有数据;确需覆盖时加 --force")
        copied = []
        with transaction(con):
            existing = set(tables_of(con, "target"))
            filled = _filled(con, "target", existing)  # the county table, or anything when --force
            for table in tables_of(con, "source"):
                if table in existing:
                    if table in filled:
                        con.execute(f"delete from target.{table}")
                    rows = con.execute(f"insert into target.{table} by name select * from source.{table}").fetchone()[0]
                else:
                    rows = con.execute(f"create table target.{table} as select * from source.{table}").fetchone()[0]
                copied.append(TableCopy(table, rows))
            for table in filled - {c.table for c in copied}:  # in this version's schema only: left empty
                con.execute(f"delete from target.{table}")
        differences = compare(con) if verify else []
        if differences:
            raise ValueError("复制后核对不一致:" + ";".join(differences[:5]))
        return copied
    finally:
        con.close()


def run_migrate(source: Location, target: Location, force: bool) -> int:
    """CLI ``renovation migrate``: exit 0 when copied and identical, 1 otherwise (message in Chinese)."""
    try:
        copied = migrate(source, target, force)
    except ValueError as exc:
        print(f"迁移未完成:{exc}", file=sys.stderr)
        return 1
    print(f"已将 {source.display()} 复制到 {target.display()}:{len(copied)} 张表、"
          f"{sum(c.rows for c in copied)} 行,逐表核对内容一致。", file=sys.stderr)
    return 0
