"""Every SQL model states its key, and the key holds; every signal model exposes the columns the
signals step reads; the "first flagged report per project" rule lives in one shared model."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from backends import open_db
from pipelines import signals
from pipelines.signals import RULES, engine
from pipelines.warehouse import WAREHOUSE_DIR, connect, models

# what the signals step reads from every SQL rule's units (pipelines/signals/engine.py)
COMMON = ("signal_id", "rule", "is_assessable", "is_flagged", "county_code", "county_name", "plan_year", "period",
          "community_name", "score", "evidence", "file_name", "sheet_name", "row_number", "row_ids", "plan_row_id",
          "project_key")
KEYED = [m for m in models() if m.key_columns is not None]


def test_every_model_states_its_key():
    for m in models():
        assert m.key, f"{m.table}: no '-- key:' line"
        if m.key_columns is None:
            assert re.match(r"\(none: .{10,}\)", m.key), f"{m.table}: a table without a key says why"


@pytest.fixture(scope="module")
def demo(demo_db, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """A copy of the demo warehouse with two verdicts and a score publication (so that those tables have rows)."""
    path = tmp_path_factory.mktemp("models") / "demo.duckdb"
    shutil.copy(demo_db, path)
    con = connect(path)
    ids = [r[0] for r in con.execute("select signal_id from marts.signals order by signal_id limit 2").fetchall()]
    con.execute("begin transaction")
    signals.set_verdict(con, ids[0], "已确认", "zhangsan", display_name="审计局 张三")
    signals.set_verdict(con, ids[1], "已排除", "lisi", display_name="审计局 李四")
    if con.execute("select is_pending from marts.verdict_current where signal_id = ?", [ids[0]]).fetchone()[0]:
        signals.review_verdict(con, ids[0], True, "lisi")  # a review row too
    con.execute("insert into raw.score_publications values ('annual', 2024, true, 'admin', now())")
    con.execute("commit")
    yield con
    con.close()


@pytest.mark.slow
@pytest.mark.parametrize("model", KEYED, ids=[m.table for m in KEYED])
def test_the_declared_key_is_not_null_and_unique_on_the_demo(demo, model):
    n = demo.execute(f"select count(*) from {model.table}").fetchone()[0]
    if model.key_columns == ():
        assert n == 1, f"{model.table} has {n} rows, not one"
        return
    assert n > 0, f"{model.table} is empty on the demo: its key is not checked"
    cols = ", ".join(model.key_columns)
    nulls = " or ".join(f"{c} is null" for c in model.key_columns)
    distinct, with_null = demo.execute(
        f"select count(distinct ({cols})), count(*) filter (where {nulls}) from {model.table}").fetchone()
    assert with_null == 0, f"{model.table}: {with_null} rows with a null in ({cols})"
    assert distinct == n, f"{model.table}: ({cols}) is not unique ({distinct} of {n})"


@pytest.mark.warehouse
@pytest.mark.parametrize("model", KEYED, ids=[m.table for m in KEYED])
def test_the_declared_key_holds_on_the_small_warehouse(small_db, model):
    # kept by the writers and the models, not by constraints (DuckLake has none): checked on both backends
    con = open_db(small_db)
    try:
        n = con.execute(f"select count(*) from {model.table}").fetchone()[0]
        if model.key_columns == ():
            assert n == 1
            return
        cols = ", ".join(model.key_columns)
        nulls = " or ".join(f"{c} is null" for c in model.key_columns)
        distinct, with_null = con.execute(
            f"select count(distinct ({cols})), count(*) filter (where {nulls}) from {model.table}").fetchone()
    finally:
        con.close()
    assert with_null == 0 and distinct == n, model.table


def _columns(con, relation: str) -> set[str]:
    return {d[0] for d in con.execute(f"select * from {relation} limit 0").description}


@pytest.mark.warehouse
@pytest.mark.parametrize("rule", [r for r, e in RULES if e == "sql"])
def test_every_signal_model_exposes_the_common_columns(small_db, rule):
    con = open_db(small_db)
    try:
        missing = set(COMMON) - _columns(con, engine.unit_table(rule))
        model = _columns(con, f"intermediate.signal_{rule.lower()}")
    finally:
        con.close()
    assert not missing, f"{rule}: {sorted(missing)}"
    # a rule that judges a project month by month evaluates every report row the same way
    if rule in engine.FIRST_FLAGGED_RULES:
        assert set(COMMON) - {"is_flagged"} | {"is_hit", "report_seq", "report_row_id"} <= model


def _first_flagged_sql() -> str:
    return (WAREHOUSE_DIR / "intermediate" / "signal_first_flagged.sql").read_text(encoding="utf-8")


def test_the_first_flagged_report_per_project_is_chosen_in_one_model():
    # the window once copied into six signal models
    window = re.compile(r"min\(report_seq\)\s+filter\s*\(where is_hit\)")
    holders = [p.name for p in WAREHOUSE_DIR.glob("*/signal_*.sql") if window.search(p.read_text(encoding="utf-8"))]
    assert holders == ["signal_first_flagged.sql"]
    # …over exactly the models of the rules the engine reads from it (and the report side of INFLATED_SCALE)
    refs = set(re.findall(r"from intermediate\.(signal_\w+)", _first_flagged_sql()))
    assert refs == {f"signal_{r.lower()}" for r in engine.FIRST_FLAGGED_RULES} | {"signal_inflated_scale_reports"}

