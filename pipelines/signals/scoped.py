"""The signals step of an incremental refresh (pipelines.incremental): one county's signals recomputed.

When the refresh is scoped to county C up to the signals step (the data clock did not move, every
model kept its columns), the rule models have been rebuilt for C only, and:

- ``intermediate.signal_plan_checks`` is as it was (kept: it reads ledgers, plans and plan links
  only), so the plan suite's findings (``gx:signals_plan/…``, of every county) are those in
  ``marts.signals`` already; the plan suite is not run;
- every expectation of the report suite judges one row of ``intermediate.signal_report_checks`` on
  its own columns, and only C's rows of that table changed: the suite runs on C's rows as they are
  now (its findings are C's report findings) and on C's rows as they were before the rule models
  were rebuilt (:func:`report_slice`), and the suite's counts (rows, missing, unexpected, units
  assessable) move by the difference (:func:`move_suite_results`, :func:`move_gx_counts`);
- the SQL rules' units are rows of C in their models (each scoped to C), so C's SQL signals are
  recomputed and every other county's stay;
- ``marts.signals`` loses C's signals but the plan suite's and gets C's new ones (the same query as
  the full run, restricted to C); new ids go to ``raw.signal_keys``.

Only C's slice is validated and kept for the Data Docs on such a run. The tables the step writes
are not made anew from their DDL (that rewrites them whole); when one's columns differ from its DDL
(another version of the code), the step runs in full (:func:`scope_of` answers None).
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from pipelines.incremental import Scope
from pipelines.warehouse import MODEL_POLICY, models

__all__ = ["REPORT_TABLE", "scope_of", "report_slice", "move_suite_results", "move_gx_counts"]

REPORT_TABLE = "intermediate.signal_report_checks"
_DDL_TABLE = re.compile(r"create\s+table\s+if\s+not\s+exists\s+([a-z_]+)\.([a-z_]+)", re.IGNORECASE)


def scope_of(con: duckdb.DuckDBPyConnection, written: tuple[str, ...], rules: int) -> Scope | None:
    """The incremental refresh's scope when the signals step may be scoped: active, every table of
    ``written`` with the columns of its DDL, and the counts of ``rules`` rules recorded."""
    scope = MODEL_POLICY.get()
    if not isinstance(scope, Scope) or not scope.active:
        return None
    for m in models():
        if m.table not in written:
            continue
        temp = "_ddl_" + m.name
        con.execute(f"drop table if exists {temp}")
        con.execute(_DDL_TABLE.sub(f"create temp table {temp}", m.sql, count=1))
        want = con.execute(f"select * from {temp} limit 0").description
        have = con.execute(f"select * from {m.table} limit 0").description
        con.execute(f"drop table {temp}")
        if [(d[0], d[1]) for d in want] != [(d[0], d[1]) for d in have]:
            return None
    if con.execute("select count(distinct rule) from marts.signal_rule_counts").fetchone()[0] != rules:
        return None
    return scope


def report_slice(con: duckdb.DuckDBPyConnection, county: str):
    """The county's rows of the report checks, as an Arrow table."""
    return con.execute(f"select * from {REPORT_TABLE} where county_code = ?", [county]).fetch_arrow_table()


def _suite_key(r) -> tuple:
    return r[0], r[1], r[4]  # suite, expectation, column


def move_suite_results(con: duckdb.DuckDBPyConnection, before: list[tuple], after: list[tuple], now: dt.datetime) -> None:
    """``marts.signal_suite_results`` of the suites run on the county's slice moved by the difference
    between the slice after and before (counts of rows, missing and unexpected values add up over rows;
    without ``mostly`` an expectation holds when it met no unexpected value)."""
    old = {_suite_key(r): r for r in before}
    for r in after:
        o = old.get(_suite_key(r))
        d = [(r[i] or 0) - ((o[i] or 0) if o else 0) for i in (7, 8, 9)]
        con.execute(
            """update marts.signal_suite_results
               set element_count = element_count + ?, missing_count = missing_count + ?,
                   unexpected_count = unexpected_count + ?, success = unexpected_count + ? = 0, validated_at = ?
               where suite_name = ? and expectation = ? and column_name is not distinct from ?""",
            [d[0], d[1], d[2], d[2], now, *_suite_key(r)])
    for key, o in old.items():  # a slice that is empty now (not validated): its rows are gone
        if not any(_suite_key(r) == key for r in after):
            con.execute(
                """update marts.signal_suite_results
                   set element_count = element_count - ?, missing_count = missing_count - ?,
                       unexpected_count = unexpected_count - ?, success = unexpected_count - ? = 0, validated_at = ?
                   where suite_name = ? and expectation = ? and column_name is not distinct from ?""",
                [o[7] or 0, o[8] or 0, o[9] or 0, o[9] or 0, now, *key])


def move_gx_counts(recorded: dict[str, tuple], before: dict, after: dict) -> dict[str, tuple[int, int]]:
    """Each GX rule's (units assessable, units not assessable): as recorded (``rule -> (assessable,
    not assessable)``), moved by the difference between the county's slice after and before."""
    out = {}
    for rule, (assessable, not_assessable) in recorded.items():
        for counts, sign in ((after, 1), (before, -1)):
            c = counts.get(rule)
            if c:
                assessable += sign * c["assessable"]
                not_assessable += sign * (c["rows"] - c["assessable"])
        out[rule] = (assessable, not_assessable)
    return out
