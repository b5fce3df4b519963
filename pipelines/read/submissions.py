"""Submissions for county clerks (县市填报员): accepted files, the import log, reporting status.

Every function takes the session's :class:`Scope` first; a clerk's reads its own county only."""

from __future__ import annotations

import json

import polars as pl

from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, query

__all__ = ["submission_history", "ingest_log", "reporting_status"]


@requires("submissions")
@cached
def submission_history(scope: Scope, year: int | None, unit: str | None) -> pl.DataFrame:
    """Accepted submissions per unit, kind and period, newest first within a period (rank 1 is current)."""
    unit = scope.unit(unit)
    return query(
        """
        select c.county_name, s.kind, s.period, s.file_name, s.fill_date, s.ingested_at, s.row_count,
            r.rejected_row_count, s.submission_rank, s.is_current, s.is_first_submission, s.count_submissions
        from core.submissions as s
        left join staging.counties as c using (county_code)
        left join raw.submissions as r using (file_id)
        where ($unit is null or s.county_code = $unit)
          and ($year is null or s.period = '' or s.period like cast($year as varchar) || '%')
        order by c.sort_order, s.kind, s.period desc, s.submission_rank
        """,
        {"year": year, "unit": unit},
    )


def _join_messages(text: str | None) -> str:
    try:
        return ";".join(json.loads(text or "[]"))
    except (TypeError, ValueError):
        return text or ""



@requires("quality")
@cached
def ingest_log(scope: Scope, unit: str | None, limit: int = 200) -> pl.DataFrame:
    """Every file handed to ingest (accepted, duplicate, rejected) with its messages, newest first."""
    unit = scope.unit(unit)
    df = query(
        """
        select l.logged_at, l.batch_id, l.file_name, l.status, l.kind, c.county_name,
            strftime(l.report_month, '%Y-%m') as report_month, l.rows, l.rejected_rows, cast(l.messages as varchar) as messages
        from raw.ingest_log as l
        left join staging.counties as c using (county_code)
        where $unit is null or l.county_code = $unit
        order by l.logged_at desc, l.seq desc
        limit $limit
        """,
        {"unit": unit, "limit": limit},
    )
    return df.with_columns(pl.col("messages").map_elements(_join_messages, return_dtype=pl.String))


@requires("submissions")
@cached
def reporting_status(scope: Scope, year: int, unit: str | None) -> pl.DataFrame:
    """Per unit with a plan in the year and month due by the data clock: arrived, late, missing."""
    unit = scope.unit(unit)
    return query(
        """
        select county_name, strftime(report_month, '%Y-%m') as report_month, has_report, is_late, first_fill_date,
            due_date, count_submissions, sort_order
        from marts.progress_reporting
        where plan_year = $year and ($unit is null or county_code = $unit)
        order by sort_order, report_month
        """,
        {"year": year, "unit": unit},
    )
