"""The warehouse contract: every model states its grain; keys, relationships and arithmetic hold."""

from __future__ import annotations

import pytest

from backends import open_db
from pipelines.warehouse import models

pytestmark = pytest.mark.warehouse


def test_every_table_states_what_one_row_is():
    for m in models():
        assert m.description.startswith("One row per"), f"{m.table}: {m.description!r}"


# outputs that every later model may read: the published configuration and the data clock, built
# before any intermediate (the settings step and the first models of the marts step)
REFERENCE_MARTS = {"marts.settings", "marts.signal_thresholds", "marts.signal_rules", "marts.data_clock",
                   "marts.data_clock_months", "marts.data_clock_counties"}


def test_layers_only_read_earlier_layers():
    order = {"raw": 0, "staging": 1, "core": 2, "intermediate": 3, "marts": 4}
    for m in models():
        for ref in m.refs():
            if ref in REFERENCE_MARTS:
                continue
            assert order[ref.split(".")[0]] <= order[m.schema], f"{m.table} reads {ref}"


@pytest.fixture(scope="module")
def con(small_db):
    c = open_db(small_db)
    yield c
    c.close()


@pytest.mark.parametrize(
    ("table", "key"),
    [("core.ledger_communities", "community_id"), ("core.plan_rows", "plan_row_id"),
     ("core.report_rows", "report_row_id"), ("core.report_rows_history", "report_row_id"),
     ("core.identity_links", "link_id"), ("core.identity_entities", "plan_row_id")],
)
def test_keys_are_unique_and_not_null(con, table, key):
    n, distinct, nulls = con.execute(f"select count(*), count(distinct {key}), count(*) - count({key}) from {table}").fetchone()
    assert n > 0 and n == distinct and nulls == 0


def test_no_constraint_duckLake_lacks():
    # DuckLake has no PRIMARY KEY, UNIQUE or CHECK: the keys are declared on "-- key:" lines, kept by
    # the writers and the models, and checked on either backend (tests/test_models.py)
    for m in models():
        sql = m.sql.lower()
        assert "primary key" not in sql and " unique" not in sql and "check (" not in sql, m.table


def test_one_row_per_file_content(con):
    n, hashes, ids = con.execute("select count(*), count(distinct file_hash), count(distinct file_id) "
                                 "from raw.submissions").fetchone()
    assert n == hashes == ids > 0


def test_links_point_at_existing_rows(con):
    for kind, source, target in (("plan_ledger", "core.plan_rows p on p.plan_row_id", "core.ledger_communities t on t.community_id"),
                                 ("report_plan", "core.report_rows_history p on p.report_row_id", "core.plan_rows t on t.plan_row_id"),
                                 ("plan_plan", "core.plan_rows p on p.plan_row_id", "core.plan_rows t on t.plan_row_id")):
        dangling = con.execute(
            f"select count(*) from core.identity_links l left join {source} = l.from_id left join {target} = l.to_id "
            f"where l.kind = ? and (p is null or (l.to_id is not null and t is null))", [kind]).fetchone()[0]
        assert dangling == 0, kind
    # one plan_ledger link per current plan row, one report_plan link per report row
    assert con.execute("select count(*) from core.identity_links where kind = 'plan_ledger'").fetchone() == \
        con.execute("select count(*) from core.plan_rows").fetchone()
    assert con.execute("select count(*) from core.identity_links where kind = 'report_plan'").fetchone() == \
        con.execute("select count(*) from core.report_rows_history").fetchone()


def test_one_current_submission_per_county_kind_and_period(con):
    assert con.execute("select count(*) from (select kind, county_code, period from core.submissions where is_current "
                       "group by all having count(*) > 1)").fetchone()[0] == 0


def test_accepted_values(con):
    assert {r[0] for r in con.execute("select distinct kind from raw.submissions").fetchall()} <= {"ledger", "plan", "monthly"}
    assert con.execute("select count(*) from core.report_rows where pct_progress not between 0 and 100").fetchone()[0] == 0
    assert con.execute("select count(*) from core.plan_rows where households < 1 or area_m2 <= 0").fetchone()[0] == 0


def test_marts_hold_outputs_and_intermediates_have_their_own_schema():
    # every marts table is read by a page, an export, the CLI or the report; the rule models and the
    # indicator tables are intermediates, the append-only signal keys are raw state
    from pipelines.settings import ROOT

    readers = "\n".join(p.read_text(encoding="utf-8") for p in [
        *(ROOT / "pipelines" / "read").glob("*.py"), *(ROOT / "pipelines" / "report").glob("*.py"),
        *(ROOT / "pipelines" / "signals").glob("*.py"), *(ROOT / "pipelines" / "scoring").glob("*.py"),
        ROOT / "pipelines" / "clock.py", ROOT / "pipelines" / "constants.py", ROOT / "pipelines" / "charts.py"])
    sql_readers = "\n".join(m.sql for m in models() if m.schema == "marts")
    for m in models():
        if m.schema == "marts":
            assert m.table in readers or m.table in sql_readers, f"{m.table} is read by nothing outside SQL intermediates"
        if m.name.startswith("signal_") and not m.is_ddl:
            assert m.schema == "intermediate", m.table
    assert "raw.signal_keys" in {m.table for m in models()}


def test_asof_joins_stay_asof_inside_the_refresh_transaction(small_db, tmp_path):
    # the marts of an import are built in its transaction, from tables rebuilt in it; DuckDB then
    # underestimated their size and ran the ASOF joins of the progress marts as nested loops
    # (quadratic: 2 minutes instead of 0.6 s at ten prefectures)
    from backends import copy_of
    from pipelines.refresh import refresh
    from pipelines.warehouse import connect

    con = connect(copy_of(small_db, tmp_path))
    try:
        con.execute("begin transaction")
        refresh(con, only=("settings", "core", "links"))
        con.execute("create or replace table marts.data_clock as " + next(m.sql for m in models() if m.table == "marts.data_clock"))
        sql = next(m.sql for m in models() if m.table == "marts.progress_monthly")
        plan = "\n".join(r[1] for r in con.execute("explain " + sql).fetchall())
        con.execute("rollback")
    finally:
        con.close()
    assert "ASOF_JOIN" in plan and "NESTED_LOOP_JOIN" not in plan
