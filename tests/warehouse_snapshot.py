"""The contents of a warehouse, for comparing two runs: every table of raw, staging, core and
marts, rows sorted, without the columns that record when or in which batch a run happened."""

from __future__ import annotations

from pathlib import Path

import duckdb

# columns that hold when or where a run happened, not what it found
RUN_COLUMNS = {"batch_id", "ingested_at", "validated_at", "computed_at", "first_seen_at", "file_path", "path", "seq",
               "logged_at", "refreshed_at"}


def snapshot(db: Path | str, attempts: bool = True) -> dict[str, list]:
    """Every table's rows. With ``attempts=False`` the import log keeps only what was loaded or
    rejected, once each: a run that was cut short and run again logs its files again (the log
    records every attempt; the data must not differ)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema in ('raw', 'staging', 'core', 'intermediate', 'marts') order by all").fetchall()
        for schema, table in tables:
            cols = [c for c, t in con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position", [schema, table]).fetchall()
                if c not in RUN_COLUMNS and not t.startswith("TIMESTAMP")]
            select = ", ".join(f'"{c}"' for c in cols)
            sql = f"select {select} from {schema}.{table}"
            if not attempts and f"{schema}.{table}" == "raw.ingest_log":
                sql = f"select distinct {select} from {schema}.{table} where status <> 'duplicate'"
            if f"{schema}.{table}" == "marts.refresh_state":
                sql = f"select distinct {select} from {schema}.{table} where raw_files = (select count(*) from raw.submissions)"
            out[f"{schema}.{table}"] = con.execute(f"{sql} order by all").fetchall()
        return out
    finally:
        con.close()


def differences(a: dict[str, list], b: dict[str, list]) -> list[str]:
    """The tables whose rows differ (for an assertion message)."""
    return sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))
