"""The signals step of the refresh: every rule of flags.md on the current data.

One run (:func:`refresh`):

1. the thresholds of ``pipelines/config/thresholds.toml`` go to ``marts.signal_thresholds`` and
   the rules to ``marts.signal_rules``;
2. (the identity engine, :mod:`pipelines.identity`, has already written ``core.identity_links`` and
   ``core.identity_entities``: the links step of the refresh);
3. the rule models (:data:`RULE_MODELS`, ``warehouse/intermediate/signal_*.sql``) are rebuilt with those
   thresholds;
4. the GX suites of ``expectations/signals.py`` validate the derived tables
   (``signal_plan_checks``, ``signal_report_checks``): each unexpected row is a signal of the
   duplicate and inflation rules; the temporal and money rules are SQL models
   (``signal_<rule>.sql``, one row per unit assessed, ``is_flagged``), except those that judge a
   project month by month (:data:`FIRST_FLAGGED_RULES`): their models evaluate every report row
   (``is_hit``) and one shared model, ``signal_first_flagged``, keeps the report that stands for
   each project (:func:`unit_table`);
5. all signals land in ``marts.signals``; the per-rule counts in ``marts.signal_rule_counts``; the
   marts built on them (:data:`DOWNSTREAM_MODELS`) are rebuilt.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import duckdb

from pipelines.backend import location_of
from pipelines.signals import scoped
from pipelines.signals.rules import RULES, describe_rule, load_config, rule_thresholds, threshold_rows
from pipelines.validation import service as gx_service
from pipelines.warehouse import insert_rows, models, run_models

__all__ = ["RULE_MODELS", "DOWNSTREAM_MODELS", "MODELS", "SUITE_TABLES", "FIRST_FLAGGED_RULES", "refresh",
           "run_downstream_models", "unit_table"]

log = logging.getLogger(__name__)

# the ids of the rows behind a GX signal (expressions over the derived table's own columns)
_GX_ROW_IDS = {
    "DUP_SAME_YEAR": "list_filter([first_plan_row_id, plan_row_id], lambda x: x is not null)",
    "DUP_CROSS_YEAR": "list_filter([prior_plan_row_id, community_id, plan_row_id], lambda x: x is not null)",
    "INFLATED_SCALE": "list_filter([community_id, plan_row_id], lambda x: x is not null)",
    "INFLATED_COST": "[plan_row_id]",
    "NOT_IN_LEDGER": "[plan_row_id]",
    "POST_2000": "list_filter([community_id, plan_row_id], lambda x: x is not null)",
    "NOTICE_SHORT": "[plan_row_id]",
}
_UNITS = {"gx_plan": "计划行", "gx_report": "月报项目", "project": "月报项目", "county_month": "县市月份",
          "file": "文件", "revision": "重报项目行"}
_SQL_UNITS = {"FUNDS_IDLE": "project", "PAID_EXCEEDS_WORK": "project", "PROGRESS_REGRESSION": "project",
              "PROGRESS_JUMP": "project", "INVEST_EXCEEDS_PLAN": "project", "OVERDUE": "project",
              "MISSING_REPORT": "county_month", "LATE_REPORT": "county_month", "TOTALS_MISMATCH": "file",
              "RETRO_REVISION": "revision"}
# the tables this step writes whole (made anew from their DDL each run)
WRITTEN_TABLES = ("marts.signal_thresholds", "marts.signal_rules", "marts.signals", "marts.signal_rule_counts",
                  "marts.signal_suite_results")
# the SQL rules that judge a project month by month: each rule's model evaluates every report row,
# and intermediate.signal_first_flagged keeps the one that stands for the project (its first hit)
FIRST_FLAGGED_RULES = ("FUNDS_IDLE", "PAID_EXCEEDS_WORK", "PROGRESS_REGRESSION", "PROGRESS_JUMP", "INVEST_EXCEEDS_PLAN")
# the SQL models this step builds before the suites run (the rule models and the tables they share)
RULE_MODELS = tuple(f"intermediate.{n}" for n in (
    "signal_report_sequence", "signal_plan_checks", "signal_inflated_scale_reports", "signal_first_flagged",
    "signal_report_checks", *(f"signal_{rule.lower()}" for rule, engine in RULES if engine == "sql")))
# ...and those it rebuilds after marts.signals is written (they read the signals and the verdicts)
DOWNSTREAM_MODELS = ("marts.verdict_history", "marts.verdict_current", "marts.verdict_rule_summary",
                     "marts.coverage_signals", "marts.risk_communities", "marts.risk_counties")
# every model the signals step builds (the marts step of the refresh leaves them to it)
MODELS = RULE_MODELS + DOWNSTREAM_MODELS


def _write_config_tables(con: duckdb.DuckDBPyConnection, cfg: dict[str, Any]) -> None:
    rows = threshold_rows(cfg)
    con.execute("delete from marts.signal_thresholds")
    insert_rows(con, "marts.signal_thresholds", rows)  # at once (executemany runs a statement per row)
    con.execute("delete from marts.signal_rules")
    insert_rows(
        con, "marts.signal_rules",
        [(code, cfg["rules"][code]["class"], cfg["rules"][code]["severity"], cfg["rules"][code]["label"], engine,
          describe_rule(code, cfg), i) for i, (code, engine) in enumerate(RULES, 1)],
    )


def run_downstream_models(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the marts that read the signals and the verdicts (after a verdict, say)."""
    run_models(con, DOWNSTREAM_MODELS)


# the derived tables the signal suites validate (expectations/signals.py: SuiteSpec.table)
SUITE_TABLES = ("intermediate.signal_plan_checks", "intermediate.signal_report_checks")


def _run_suites(con: duckdb.DuckDBPyConnection, thresholds: dict[str, dict[str, float]], data_docs: bool = True,
                tables: dict | None = None):
    """Validate the derived tables (or the Arrow ``tables`` given, by table name: only the suites of
    those run); returns (unexpected rows, per-rule counts, suite results, each rule's score and
    evidence columns).

    The tables are read here; the suites run through :func:`pipelines.validation.service.call`, in the
    ingest's GX service when one is running, else in this process."""
    if tables is None:
        tables = {table: con.sql(f"select * from {table}").to_arrow_table() for table in SUITE_TABLES}
    return gx_service.call("pipelines.validation.runner:evaluate_signal_suites", tables, thresholds,
                           location_of(con) if data_docs else None)


def _gx_signals_sql(rule: str, suite: str, table: str, index_column: str, columns: dict[str, tuple[str, str]]) -> str:
    """The signal rows of one GX rule: unexpected ids joined back to their derived table;
    ``columns`` gives each rule's score and evidence columns (from :func:`pipelines.validation.runner.evaluate_signal_suites`)."""
    score_column, evidence_column = columns[f"{rule}|{index_column}"]
    is_report = index_column == "report_row_id"
    return f"""
        select
            md5('{rule}|' || t.{index_column}) as signal_id,
            '{rule}' as rule,
            t.county_code,
            t.county_name,
            t.plan_year,
            {'t.period' if is_report else 'cast(null as varchar)'} as period,
            t.name as community_name,
            coalesce(t.{score_column}, 0.5) as score,
            t.{evidence_column} as evidence,
            t.file_name,
            t.sheet_name,
            t.row_number,
            {'list_filter([t.plan_row_id, t.report_row_id], lambda x: x is not null)' if is_report else _GX_ROW_IDS[rule]} as row_ids,
            t.plan_row_id,
            'gx:{suite}/' || string_agg(distinct h.expectation, '+' order by h.expectation) as engine
        from {table} as t
        inner join gx_hits as h on h.row_id = t.{index_column} and h.rule = '{rule}' and h.suite = '{suite}'
        group by all
    """


def unit_table(rule: str) -> str:
    """Where a SQL rule's units (one row per unit assessed, ``is_assessable``, ``is_flagged``) are: its
    own model, or the shared first-flagged report per project (restricted to the rule)."""
    if rule in FIRST_FLAGGED_RULES:
        return f"(select * from intermediate.signal_first_flagged where rule = '{rule}')"  # our own rule codes
    return f"intermediate.signal_{rule.lower()}"


def _sql_signals(rule: str) -> str:
    model = f"intermediate.signal_{rule.lower()}"
    return f"""
        select signal_id, rule, county_code, county_name, plan_year, period, community_name,
               coalesce(score, 0.5) as score, evidence, file_name, sheet_name, row_number, row_ids, plan_row_id,
               'sql:{model}' as engine
        from {unit_table(rule)}
        where is_flagged
    """


def _recreate_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables this step rewrites whole are made anew from their DDL, so that a warehouse made
    by an older version of the code gets their current columns."""
    for m in models():
        if m.table in WRITTEN_TABLES:
            con.execute(f"drop table if exists {m.table}")
            con.execute(m.sql)


def refresh(con: duckdb.DuckDBPyConnection, timings: dict[str, float] | None = None) -> None:
    """Recompute every signal of flags.md on the current data (the signals step of the refresh).
    Within an incremental refresh (pipelines.incremental) still scoped to county C when the rule
    models are built, only C's signals are recomputed (:mod:`pipelines.signals.scoped`)."""
    lap = _Laps(timings)
    cfg = load_config()
    scope = scoped.scope_of(con, WRITTEN_TABLES, len(RULES))
    if scope is None:
        _recreate_tables(con)
    _write_config_tables(con, cfg)
    before = scoped.report_slice(con, scope.county) if scope is not None else None
    run_models(con, RULE_MODELS)
    lap("signals.models")
    thresholds = rule_thresholds(cfg)
    data_docs = bool(cfg.get("output", {}).get("data_docs", True))
    now = dt.datetime.now()
    if scope is not None and scope.active:
        flagged = _refresh_county(con, scope.county, thresholds, data_docs, before, now, lap)
    else:
        flagged = _refresh_all(con, thresholds, data_docs, now, lap)
    lap("signals.write")
    run_downstream_models(con)
    lap("signals.downstream")
    log.info("signals: %d", sum(flagged.values()))


def _refresh_all(con: duckdb.DuckDBPyConnection, thresholds, data_docs: bool, now: dt.datetime, lap) -> dict[str, int]:
    hits, gx_counts, suite_results, columns = _run_suites(con, thresholds, data_docs)
    lap("signals.suites")
    _hits_table(con, hits)
    parts = []
    for rule, engine in RULES:
        if engine == "gx":
            parts.append(_gx_signals_sql(rule, "signals_plan", "intermediate.signal_plan_checks", "plan_row_id", columns))
            if rule == "INFLATED_SCALE":
                parts.append(_gx_signals_sql(rule, "signals_report", scoped.REPORT_TABLE, "report_row_id", columns))
        else:
            parts.append(_sql_signals(rule))
    con.execute("delete from marts.signals")
    _insert_signals(con, parts, now)
    flagged = dict(con.execute("select rule, count(*) from marts.signals group by rule").fetchall())
    gx = {}
    for rule, engine in RULES:
        if engine == "gx":
            c = gx_counts.get(rule, {"assessable": 0, "rows": 0, "units": {"gx_plan"}})
            gx[rule] = ("、".join(sorted(_UNITS[u] for u in c["units"])), c["assessable"], c["rows"] - c["assessable"])
    _write_counts(con, gx, flagged, now)
    con.execute("delete from marts.signal_suite_results")
    if suite_results:
        insert_rows(con, "marts.signal_suite_results", suite_results)
    return flagged


def _refresh_county(con: duckdb.DuckDBPyConnection, county: str, thresholds, data_docs: bool, before,
                    now: dt.datetime, lap) -> dict[str, int]:
    """The signals of ``county`` recomputed, every other's kept (see :mod:`pipelines.signals.scoped`):
    the report suite on the county's rows before and after, the plan suite not at all."""
    after = scoped.report_slice(con, county)
    was = _run_suites(con, thresholds, False, {scoped.REPORT_TABLE: before}) if before.num_rows else None
    now_ = _run_suites(con, thresholds, data_docs, {scoped.REPORT_TABLE: after}) if after.num_rows else None
    lap("signals.suites")
    _hits_table(con, now_[0] if now_ else [])
    parts = [_sql_signals(rule) for rule, engine in RULES if engine == "sql"]
    if now_:
        parts.append(_gx_signals_sql("INFLATED_SCALE", "signals_report", scoped.REPORT_TABLE, "report_row_id", now_[3]))
    # every signal of the county but the plan suite's (their table is kept: see pipelines.signals.scoped)
    con.execute("delete from marts.signals where county_code = ? and engine not like 'gx:signals_plan/%'", [county])
    _insert_signals(con, parts, now, county)
    flagged = dict(con.execute("select rule, count(*) from marts.signals group by rule").fetchall())
    recorded = {r[0]: r[1:] for r in con.execute(
        "select rule, unit, count_assessable, count_not_assessable from marts.signal_rule_counts").fetchall()}
    moved = scoped.move_gx_counts({rule: recorded[rule][1:] for rule, engine in RULES if engine == "gx"},
                                  was[1] if was else {}, now_[1] if now_ else {})
    _write_counts(con, {rule: (recorded[rule][0], *moved[rule]) for rule in moved}, flagged, now)
    scoped.move_suite_results(con, was[2] if was else [], now_[2] if now_ else [], now)
    return flagged


def _hits_table(con: duckdb.DuckDBPyConnection, hits: list) -> None:
    con.execute("create or replace temp table gx_hits (rule varchar, suite varchar, expectation varchar, row_id varchar)")
    insert_rows(con, "gx_hits", [(h[0], h[1], h[2], str(h[3])) for h in hits])


def _insert_signals(con: duckdb.DuckDBPyConnection, parts: list[str], now: dt.datetime, county: str | None = None) -> None:
    """The signals of ``parts`` (each rule's query) into ``marts.signals``, one per signal id, and the
    ids new to ``raw.signal_keys``; with ``county``, that county's only (ids already in the mart stay)."""
    union = "\nunion all by name\n".join(parts)
    where = "where county_code = $county and signal_id not in (select signal_id from marts.signals)" if county else ""
    con.execute(
        f"""
        insert into marts.signals by name
        with raw_signals as (select * from ({union}) {where}),
        ranked as (
            select *, row_number() over (partition by signal_id order by engine) as dup_rank from raw_signals
        )
        select
            s.signal_id, s.rule, r.class, r.severity, s.county_code,
            coalesce(s.county_name, c.county_name) as county_name,
            s.plan_year, s.period, s.community_name,
            round(greatest(0.0, least(1.0, s.score)), 4) as score,
            s.evidence, s.file_name, s.sheet_name, s.row_number, s.row_ids, s.plan_row_id,
            e.entity_id,
            p.central_subsidy_wan_yuan,
            s.engine,
            $now as computed_at
        from ranked as s
        inner join marts.signal_rules as r using (rule)
        left join staging.counties as c using (county_code)
        left join core.identity_entities as e using (plan_row_id)
        left join core.plan_rows as p using (plan_row_id)
        where s.dup_rank = 1
        """,
        {"now": now, **({"county": county} if county else {})},
    )
    con.execute(
        f"""
        insert into raw.signal_keys
        select signal_id, rule, county_code, plan_year, period, community_name, computed_at
        from marts.signals as s
        where not exists (select 1 from raw.signal_keys as k where k.signal_id = s.signal_id)
        {"and s.county_code = $county" if county else ""}
        """,
        {"county": county} if county else {},
    )


def _write_counts(con: duckdb.DuckDBPyConnection, gx: dict[str, tuple], flagged: dict[str, int], now: dt.datetime) -> None:
    """``marts.signal_rule_counts``: the GX rules' (unit, assessable, not assessable) as given, the SQL
    rules' counted in their unit tables."""
    counts = []
    for rule, engine in RULES:
        if engine == "gx":
            unit, a, na = gx[rule]
            counts.append((rule, unit, a, flagged.get(rule, 0), na, engine, now))
        else:
            a, total = con.execute(
                f"select count(*) filter (where is_assessable), count(*) from {unit_table(rule)}"
            ).fetchone()
            counts.append((rule, _UNITS[_SQL_UNITS[rule]], a, flagged.get(rule, 0), total - a, engine, now))
    con.execute("delete from marts.signal_rule_counts")
    insert_rows(con, "marts.signal_rule_counts", counts)


class _Laps:
    """Adds the time since the previous lap to ``timings[name]`` (when timings are kept)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.t = timings, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[name] = self.timings.get(name, 0.0) + now - self.t
        self.t = now
