"""A warehouse written before intermediates had their own schema opens with its signal keys kept
(moved to raw, where append-only state lives) and no intermediates left in marts."""

from __future__ import annotations

import duckdb

from pipelines.warehouse import connect, model_tables


def test_old_layout_moves_signal_keys_to_raw_and_drops_marts_intermediates(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.execute("""create table marts.signal_keys (signal_id varchar, rule varchar, county_code varchar,
                   plan_year integer, period varchar, community_name varchar, first_seen_at timestamp)""")
    con.execute("insert into marts.signal_keys values ('s1', 'NOT_IN_LEDGER', '652822', 2021, null, '团结小区', now())")
    con.execute("create table marts.signal_plan_checks as select 1 as x")
    con.close()

    con = connect(db)
    try:
        assert con.execute("select signal_id, rule, community_name from raw.signal_keys").fetchall() == [
            ("s1", "NOT_IN_LEDGER", "团结小区")]
        marts = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        assert "signal_keys" not in marts and "signal_plan_checks" not in marts
    finally:
        con.close()
    assert "intermediate.signal_plan_checks" in model_tables("intermediate")
