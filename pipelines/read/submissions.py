"""Submissions for county clerks (县市填报员): accepted files, the import log, reporting status.

Every function takes the session's :class:`Scope` first; a clerk's reads its own county only."""

from __future__ import annotations

import json

import polars as pl

from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, query
from pipelines.read.prefecture import in_prefecture, pref

__all__ = ["submission_history", "ingest_log", "reporting_status", "refused_rows"]


@requires("submissions")
@cached
def submission_history(scope: Scope, year: int | None, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Accepted submissions per unit, kind and period, newest first within a period (rank 1 is current);
    of ``prefecture``'s units when given."""
    unit = scope.unit(unit)
    return query(
        f"""
        select c.county_name, s.kind, s.period, s.file_name, s.fill_date, s.ingested_at, s.row_count,
            r.rejected_row_count, s.submission_rank, s.is_current, s.is_first_submission, s.count_submissions
        from core.submissions as s
        left join staging.counties as c using (county_code)
        left join raw.submissions as r using (file_id)
        where ($unit is null or s.county_code = $unit) and {in_prefecture("s.county_code")}
          and ($year is null or s.period = '' or s.period like cast($year as varchar) || '%')
        order by c.sort_order, s.kind, s.period desc, s.submission_rank
        """,
        {"year": year, "unit": unit, "pref": pref(scope, prefecture)},
    )


def _join_messages(text: str | None) -> str:
    try:
        return ";".join(json.loads(text or "[]"))
    except (TypeError, ValueError):
        return text or ""



@requires("quality")
@cached
def ingest_log(scope: Scope, unit: str | None, limit: int = 200, prefecture: str | None = None) -> pl.DataFrame:
    """Every file handed to ingest (accepted, duplicate, rejected) with its messages, newest first; with
    ``prefecture``: its units' files and those of no known county (refused before the county was read)."""
    unit = scope.unit(unit)
    df = query(
        f"""
        select l.logged_at, l.batch_id, l.file_name, l.status, l.kind, c.county_name,
            strftime(l.report_month, '%Y-%m') as report_month, l.rows, l.rejected_rows, cast(l.messages as varchar) as messages
        from raw.ingest_log as l
        left join staging.counties as c using (county_code)
        where ($unit is null or l.county_code = $unit) and {in_prefecture("l.county_code", True)}
        order by l.logged_at desc, l.seq desc
        limit $limit
        """,
        {"unit": unit, "limit": limit, "pref": pref(scope, prefecture)},
    )
    return df.with_columns(pl.col("messages").map_elements(_join_messages, return_dtype=pl.String))


@requires("submissions")
@cached
def reporting_status(scope: Scope, year: int, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Per unit with a plan in the year and month due by the data clock: arrived, late, missing (of
    ``prefecture``'s units when given)."""
    unit = scope.unit(unit)
    return query(
        f"""
        select county_name, strftime(report_month, '%Y-%m') as report_month, has_report, is_late, first_fill_date,
            due_date, count_submissions, sort_order
        from marts.progress_reporting
        where plan_year = $year and ($unit is null or county_code = $unit) and {in_prefecture()}
        order by sort_order, report_month
        """,
        {"year": year, "unit": unit, "pref": pref(scope, prefecture)},
    )


@requires("submissions")
@cached
def refused_rows(scope: Scope, file_ids: tuple[int, ...]) -> pl.DataFrame:
    """The rows of these files that were refused (quarantined, not loaded): sheet, row, column, the
    cell as read and the reason (a clerk: only files whose loaded rows are all of its county)."""
    return query(
        """
        select s.file_name, i.sheet_name, i.row_number, i.column_name, i.value, i.message
        from raw.row_issues as i
        inner join raw.submissions as s using (file_id)
        where i.severity = 'reject' and i.file_id in (select unnest($ids))
          and ($county is null or i.file_id in (select file_id from core.submissions group by file_id
                                               having count(distinct county_code) = 1 and any_value(county_code) = $county))
        order by i.file_id, i.sheet_name, i.row_number, i.column_name
        """,
        {"ids": list(file_ids), "county": scope.county_code},
    )
