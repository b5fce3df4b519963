"""The incremental refresh of an import: what a county's monthly report changes, recomputed for that
county only; the rest of the refresh as in full.

An import that loads only monthly reports of one county C, into a warehouse whose last refresh
covered every earlier file with the configuration as it is now, changes C's report rows and
nothing of the ledgers, the plans or another county's reports. Then (:func:`decide`):

- ``settings`` is skipped (the configuration is unchanged: ``marts.settings`` is as it was);
- ``core.ledger_communities``, ``core.plan_rows`` and ``intermediate.signal_plan_checks`` are kept
  (they read ledgers, plans and plan links only; :data:`KEPT`);
- the links step recomputes the report → plan links of C's report rows only (they are blocked by
  county and plan year: ``pipelines.identity.links.link_reports_to_plans``); plan → ledger and plan ↔
  plan links and the entities are kept;
- the models of :data:`SCOPED` are rebuilt for C: C's rows deleted, the model run on C's slice of
  the tables named in its entry (temporary copies holding C's rows) and its rows of C inserted.
  Each is county-local: a row of county C is made from rows of C and from tables that hold no
  county's data (settings, thresholds, the data clock, links of C's rows), so another county's rows
  are unchanged and C's rows equal a full run's. ``bulletin_counties`` is county-local but for its
  ranks among the counties of its prefecture in each month: C's rows are rebuilt so, then the ranks of the whole table
  are set anew by :data:`RANKS` (a window over a few columns; only the rows whose rank moved are
  written: C's, and those of the counties C passed or fell behind, in that month and the next);
- the signals step recomputes C's signals only (:mod:`pipelines.signals.scoped`: the report suite
  runs on C's rows, the plan suite not at all, its table being kept) and the scores step C's scores
  and formulas only (:func:`pipelines.scoring.store.refresh`; a county's score is made from its own
  inputs), the prefecture line and the what-if split from every county's rows (small);
- every other model is computed in full, because it compares, ranks or pools counties or reads
  every county: the data clock (below), ``bulletin_prefecture``
  (prefecture sums), ``progress_county`` (ranks within each prefecture and plan year), ``progress_projection`` (the
  latest month of any county), ``risk_communities`` and ``risk_counties`` (shares of the largest
  subsidy at stake, ranks; a community can span counties), ``coverage_signals`` and
  ``verdict_rule_summary`` (per rule over every county), ``verdict_current`` and ``verdict_history``
  (verdicts carried between signal ids: not scoped without a test of verdicts across counties),
  and ``data_clock_counties`` (one row per county: not worth a slice);
  the cross-county duplicates and INFLATED_COST's prefecture medians in ``signal_plan_checks`` are
  kept (their inputs are unchanged). Each such model with a key of columns is written by its
  changes only (:meth:`Scope._write_changes`: its rows that differ go, by key, and the new ones
  come in), so that a county's report writes a few rows of it, not the whole table, to the WAL
  and the checkpoint; the result is the full run's by construction.

The data clock is prefecture-wide: ``marts.data_clock`` and ``marts.data_clock_months`` are rebuilt
in full, and when either differs from what it was before the import every model after it runs
in full (a report that moves the clock changes every county's due months). A model whose
columns differ from its table's (a new version of the code) also ends the scoped run. The test
``tests/test_incremental.py`` imports a sequence of single files both ways and compares every table.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field

import duckdb

from pipelines.warehouse import MODEL_POLICY, Model, table_exists

__all__ = ["Scope", "decide", "SCOPED", "RANKS", "KEPT", "CLOCK"]

log = logging.getLogger(__name__)

_SEQUENCE = ("intermediate.signal_report_sequence",)
_PLANS = ("core.plan_rows", "core.ledger_communities")
_LINKS = "core.identity_links"
# model -> the tables it reads whose slice of the county it is run on (every row of a model of
# these is one county's; the county of a report row is its plan row's: links are blocked by county)
SCOPED: dict[str, tuple[str, ...]] = {
    # a county's files ranked among its own of the same kind and period
    "core.submissions": ("staging.ledger_rows", "staging.plan_rows", "staging.report_rows"),
    "core.report_rows_history": ("staging.report_rows", "core.submissions"),
    "core.report_rows": ("core.report_rows_history",),
    # one row per report row; windows over the project (a plan row of the county, or U:county:…)
    "intermediate.signal_report_sequence": ("core.report_rows", _LINKS),
    "intermediate.signal_funds_idle": _SEQUENCE,
    "intermediate.signal_inflated_scale_reports": _SEQUENCE,
    "intermediate.signal_invest_exceeds_plan": _SEQUENCE,
    "intermediate.signal_paid_exceeds_work": _SEQUENCE,
    "intermediate.signal_progress_jump": _SEQUENCE,
    "intermediate.signal_progress_regression": _SEQUENCE,
    "intermediate.signal_overdue": _SEQUENCE,
    "intermediate.signal_first_flagged": tuple(f"intermediate.signal_{r}" for r in (
        "funds_idle", "inflated_scale_reports", "invest_exceeds_plan", "paid_exceeds_work", "progress_jump",
        "progress_regression")),
    "intermediate.signal_report_checks": ("intermediate.signal_first_flagged", *_SEQUENCE),
    "intermediate.signal_retro_revision": ("core.report_rows_history", _LINKS),
    # plan rows × score years; the years span every county's plans: plan rows are not sliced
    "intermediate.indicator_rows": ("core.report_rows", _LINKS),
    # plan rows × due months of their plan years, per county
    "marts.progress_monthly": ("core.report_rows", "core.plan_rows", _LINKS),
    "marts.progress_trajectory": ("core.report_rows", *_PLANS, _LINKS),
    # county × plan year × due month: the county's plan rows on their pace (the months are the clock's)
    "marts.bulletin_schedule": ("marts.progress_monthly", "core.plan_rows"),
    # one row per plan row: its latest linked report (the report's plan row is of its county)
    "marts.progress_projects": ("core.plan_rows", "core.report_rows", _LINKS),
    # county × due month: the county's submissions (and plan years); the months are the clock's
    "intermediate.indicator_months": ("core.submissions",),  # score years span every county: not sliced
    "marts.progress_reporting": ("core.plan_rows", "core.submissions"),
    "intermediate.signal_missing_report": ("core.plan_rows", "core.submissions"),
    "intermediate.signal_late_report": ("core.submissions",),
    "intermediate.signal_totals_mismatch": ("core.submissions",),  # one row per current file of the county
    # county × score year: the county's indicator rows and months and its ledger; the score years are
    # every county's (indicator_rows is not sliced), the county itself is (staging.counties sliced)
    "intermediate.score_inputs": ("staging.counties", "intermediate.indicator_months", "core.ledger_communities"),
    # county × plan year × due month: county-local but for the rank among the counties of the month
    # (and the previous month's rank), which RANKS recomputes over the whole table afterwards
    "marts.bulletin_counties": ("marts.progress_monthly", "marts.bulletin_schedule"),
}
# models of SCOPED whose rows hold ranks across counties: the statement that sets them anew over the whole
# table once the county's rows are in (it writes only the rows whose ranks changed: the county's, and
# those of the counties its index passed). It orders by the model's own column (bulletin_counties.progress_index,
# unrounded, as the model ranks), so that the index is computed in one place.
RANKS: dict[str, str] = {
    "marts.bulletin_counties": """
        update marts.bulletin_counties as t
        set progress_rank = n.progress_rank, prev_progress_rank = n.prev_progress_rank,
            rank_change = n.prev_progress_rank - n.progress_rank
        from (
            select county_code, plan_year, report_month, progress_rank,
                   lag(progress_rank) over (partition by county_code, plan_year order by report_month) as prev_progress_rank
            from (
                select county_code, plan_year, report_month,
                       rank() over (partition by prefecture_code, plan_year, report_month
                                    order by progress_index desc) as progress_rank
                from marts.bulletin_counties
            )
        ) as n
        where t.county_code = n.county_code and t.plan_year = n.plan_year and t.report_month = n.report_month
          and (t.progress_rank is distinct from n.progress_rank or t.prev_progress_rank is distinct from n.prev_progress_rank)
    """,
}
# tables without a county column, and the rows of them that are the county's: the links of its report rows
# (every model that slices the links joins them to its slice of the report rows on ``from_id``; the links
# of the county's report rows are the links step's own for an incremental refresh)
_SLICE_WHERE = {_LINKS: "kind = 'report_plan' and from_id in (select report_row_id from core.report_rows_history "
                        "where county_code = $county union all select report_row_id from core.report_rows "
                        "where county_code = $county)"}
# models a report-only import leaves as they are (they read ledgers, plans and plan links only)
KEPT = ("core.ledger_communities", "core.plan_rows", "intermediate.signal_plan_checks")
# prefecture-wide: rebuilt in full, compared with their rows before the import
CLOCK = ("marts.data_clock", "marts.data_clock_months")
_REF = re.compile(r"\b(raw|staging|core|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")


@dataclass
class Scope:
    """An import's refresh limited to one county (see the module's docstring)."""
    county: str
    clock: dict[str, list] = field(default_factory=dict)
    active: bool = True
    slices: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)

    def build(self, con: duckdb.DuckDBPyConnection, m: Model) -> bool:
        """Build ``m`` for the county when it may be (True), else leave it to the full run (False)."""
        if not self.active:
            return False
        if m.table in KEPT:
            return True
        if m.table in CLOCK:
            con.execute(f"create or replace table {m.table} as {m.sql}")
            if _rows(con, m.table) != self.clock.get(m.table):
                log.info("incremental refresh: %s moved; the rest runs in full", m.table)
                self.active = False
            return True
        if m.table not in SCOPED:
            self._forget(con, m.table)
            return self._write_changes(con, m)
        sql = _REF.sub(lambda x: self._slice(con, x.group(0)) if x.group(0) in SCOPED[m.table] else x.group(0), m.sql)
        if not _same_columns(con, m.table, sql):  # another version of the model: made anew, in full from here on
            log.info("incremental refresh: %s has new columns; the rest runs in full", m.table)
            self.active = False
            return False
        con.execute(f"delete from {m.table} where county_code = ?", [self.county])
        con.execute(f"insert into {m.table} select * from ({sql}) where county_code = ?", [self.county])
        if m.table in RANKS:
            con.execute(RANKS[m.table])
        self._forget(con, m.table)
        return True

    def _write_changes(self, con: duckdb.DuckDBPyConnection, m: Model) -> bool:
        """Run ``m`` in full and write only the rows that differ from its table's, by its key: a table
        rewritten whole is written whole to the WAL and the next checkpoint, where a county's report
        changes a few of its rows (its own, and the ranks it moved). False (made anew by the caller)
        for a model without a key of columns or whose columns differ from its table's."""
        keys = m.key_columns
        if not keys or not _same_columns(con, m.table, m.sql):
            return False
        con.execute(f"create or replace temp table _new_rows as {m.sql}")
        # the rows that are no longer as they were (changed or gone) go, by key; then the new rows whose
        # key is not there (changed or new) come in: keys are unique and not null (tests/test_models.py).
        # A row is compared whole, as a struct (nulls equal, as in EXCEPT ALL), with the new row of its key:
        # a join on the key, several times faster than EXCEPT ALL over every column of both tables
        match = " and ".join(f"o.{k} = t.{k}" for k in keys)
        con.execute(f"create or replace temp table _old_rows as select {', '.join(f't.{k}' for k in keys)} "
                    f"from {m.table} as t anti join _new_rows as o on {match} and t is not distinct from o")
        con.execute(f"delete from {m.table} as t where exists (select 1 from _old_rows as o where {match})")
        con.execute(f"insert into {m.table} select * from _new_rows as o where not exists "
                    f"(select 1 from {m.table} as t where {match})")
        con.execute("drop table _new_rows")
        con.execute("drop table _old_rows")
        return True

    def _slice(self, con: duckdb.DuckDBPyConnection, table: str) -> str:
        name = "_slice_" + table.replace(".", "__")
        if table not in self.slices:
            where = _SLICE_WHERE.get(table, "county_code = $county")
            con.execute(f"create or replace temp table {name} as select * from {table} where {where}",
                        {"county": self.county})
            self.slices.add(table)
        return name

    def _forget(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        if table in self.slices:
            con.execute(f"drop table if exists _slice_{table.replace('.', '__')}")
            self.slices.discard(table)

    def close(self, con: duckdb.DuckDBPyConnection) -> None:
        for table in list(self.slices):
            self._forget(con, table)


def _same_columns(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> bool:
    """Whether the model makes the columns its table has (names and types, in order)."""
    have = [(d[0], str(d[1])) for d in con.execute(f"select * from {table} limit 0").description]
    return have == [(d[0], str(d[1])) for d in con.execute(f"select * from ({sql}) limit 0").description]


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list:
    return con.execute(f"select * from {table} order by all").fetchall()


def decide(con: duckdb.DuckDBPyConnection, state: tuple | None, fingerprint: dict[str, str]) -> Scope | None:
    """The scope of the refresh about to run in ``con``'s transaction, or None for a full one.
    ``state``: the last recorded refresh (raw files, last file id, settings JSON)."""
    if state is None or json.loads(state[2]) != fingerprint:
        return None
    if not all(table_exists(con, t) for t in (*SCOPED, *KEPT, *CLOCK, "core.identity_links")):
        return None
    files, last = state[0], state[1]
    new = con.execute("select count(*), count(*) filter (where kind <> 'monthly'), min(file_id), "
                      "(select count(*) from raw.submissions where file_id <= ?) "
                      "from raw.submissions where file_id > ?", [last, last]).fetchone()
    if not new[0] or new[1] or new[3] != files:  # nothing new, a ledger or plan, or raw not as recorded
        return None
    counties = con.execute("select distinct county_code from staging.report_rows where file_id > ? and not is_rejected",
                           [last]).fetchall()
    if len(counties) != 1 or counties[0][0] is None:
        return None
    scope = Scope(counties[0][0])
    scope.clock = {t: _rows(con, t) for t in CLOCK}
    return scope


def install(scope: Scope | None):
    """Make ``run_models`` consult the scope (a token for :func:`uninstall`)."""
    return MODEL_POLICY.set(scope)


def uninstall(token) -> None:
    MODEL_POLICY.reset(token)
