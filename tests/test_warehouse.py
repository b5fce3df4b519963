"""The warehouse contract: every model states its grain; keys, relationships and arithmetic hold."""

from __future__ import annotations

import pytest

from backends import open_db
from pipelines.warehouse import models

pytestmark = pytest.mark.warehouse


def test_every_table_states_what_one_row_is():
    for m in models():
        assert m.description.startswith("One row per"), f"{m.table}: {m.description!r}"


def test_layers_only_read_earlier_layers():
    order = {"raw": 0, "staging": 1, "core": 2, "marts": 3}
    for m in models():
        for ref in m.refs():
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
     ("core.link_plan_ledger", "plan_row_id"), ("core.link_report_plan", "report_row_id")],
)
def test_keys_are_unique_and_not_null(con, table, key):
    n, distinct, nulls = con.execute(f"select count(*), count(distinct {key}), count(*) - count({key}) from {table}").fetchone()
    assert n > 0 and n == distinct and nulls == 0


DECLARED = [(m.table, key) for m in models() for key in m.keys]


def test_the_written_tables_declare_their_keys():
    # DuckLake has no PRIMARY KEY or UNIQUE: the keys are declared as "-- key:" comments instead
    assert {t for t, _ in DECLARED} >= {"raw.submissions", "raw.source_rows", "raw.ingest_log", "staging.plan_rows",
                                        "staging.report_rows", "staging.ledger_rows", "staging.counties",
                                        "core.link_plan_ledger", "core.link_report_plan", "marts.signals"}
    assert ("raw.submissions", ("file_hash",)) in DECLARED
    for m in models():
        assert "primary key" not in m.sql.lower() and " unique" not in m.sql.lower(), m.table


@pytest.mark.parametrize(("table", "key"), DECLARED, ids=[f"{t}:{'+'.join(k)}" for t, k in DECLARED])
def test_declared_keys_hold(con, table, key):
    cols = ", ".join(key)
    dup = con.execute(f"select count(*) from (select {cols} from {table} group by all having count(*) > 1)").fetchone()[0]
    nulls = con.execute(f"select count(*) from {table} where " + " or ".join(f"{c} is null" for c in key)).fetchone()[0]
    assert dup == 0 and nulls == 0


def test_links_point_at_existing_rows(con):
    assert con.execute("select count(*) from core.link_plan_ledger l left join core.ledger_communities c using (community_id) "
                       "where l.community_id is not null and c.community_id is null").fetchone()[0] == 0
    assert con.execute("select count(*) from core.link_report_plan l left join core.plan_rows p using (plan_row_id) "
                       "where l.plan_row_id is not null and p.plan_row_id is null").fetchone()[0] == 0


def test_one_current_submission_per_county_kind_and_period(con):
    assert con.execute("select count(*) from (select kind, county_code, period from core.submissions where is_current "
                       "group by all having count(*) > 1)").fetchone()[0] == 0


def test_accepted_values(con):
    assert {r[0] for r in con.execute("select distinct kind from raw.submissions").fetchall()} <= {"ledger", "plan", "monthly"}
    assert con.execute("select count(*) from core.report_rows where pct_progress not between 0 and 100").fetchone()[0] == 0
    assert con.execute("select count(*) from core.plan_rows where households < 1 or area_m2 <= 0").fetchone()[0] == 0
