"""Data quality: validation runs and their results, quarantined rows and file findings, file counts.

The validation results are rendered by the 数据质量 page itself, in Chinese, from
``raw.validation_results`` and ``raw.row_issues`` (not GX's Data Docs): nothing here imports
Great Expectations. Every function takes the session's :class:`Scope` first. A clerk sees its own
county's rows and the validation runs of batches holding its own files only."""

from __future__ import annotations

import polars as pl

from expectations.names import expectation_name
from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, query
from pipelines.reading.headers import fields

__all__ = ["validation_results", "row_issues", "file_counts", "validation_batches", "batch_results",
           "batch_row_issues"]


@requires("quality")
@cached
def validation_results(scope: Scope) -> pl.DataFrame:
    """Every expectation evaluated, per batch and kind, newest first. A clerk: the runs of batches whose
    files are all of its county (a batch of several counties' files counts rows of the others)."""
    return query(
        """
        select validated_at, batch_id, kind, suite_name, expectation, description, column_name, success,
            element_count, unexpected_count
        from raw.validation_results
        where $county is null or batch_id in (
            select batch_id from raw.ingest_log group by batch_id
            having count(*) filter (where county_code is distinct from $county) = 0)
        order by validated_at desc, batch_id, kind, success, expectation
        """,
        {"county": scope.county_code},
    )


@requires("quality")
@cached
def row_issues(scope: Scope, unit: str | None) -> pl.DataFrame:
    """Quarantined rows' reasons and file findings, per file."""
    unit = scope.unit(unit)
    return query(
        """
        select s.file_name, c.county_name, s.kind, i.sheet_name, i.row_number, i.column_name, i.code, i.severity,
            i.value, i.message, i.file_id
        from raw.row_issues as i
        left join raw.submissions as s using (file_id)
        left join (select distinct file_id, county_code from core.submissions) as k using (file_id)
        left join staging.counties as c using (county_code)
        where ($unit is null or k.county_code = $unit)
          -- a clerk: only files all of whose rows are of its county
          and ($county is null or i.file_id in (select file_id from core.submissions group by file_id
                                               having count(distinct county_code) = 1 and any_value(county_code) = $county))
        order by i.file_id desc, i.sheet_name, i.row_number nulls first
        """,
        {"unit": unit, "county": scope.county_code},
    )


@requires("quality")
@cached
def file_counts(scope: Scope, unit: str | None) -> dict:
    """Files handed to the import, each counted once by its content (a file uploaded again is
    the same file): all of them, those loaded, those rejected; and the attempts."""
    return query(
        """
        select
            count(distinct coalesce(file_hash, file_path)) as count_files,
            count(distinct file_hash) filter (where status in ('accepted', 'duplicate')) as count_loaded,
            count(distinct coalesce(file_hash, file_path)) filter (where status = 'rejected') as count_rejected,
            count(*) as count_attempts,
            count(*) filter (where status = 'duplicate') as count_repeated
        from raw.ingest_log
        where $unit is null or county_code = $unit
        """,
        {"unit": scope.unit(unit)},
    ).row(0, named=True)


@requires("quality")
@cached
def validation_batches(scope: Scope) -> pl.DataFrame:
    """One row per validated batch, newest first: when, the kinds, expectations run and failed, files
    (a clerk: the batches whose files are all of its county)."""
    return query(
        """
        with runs as (
            select batch_id, max(validated_at) as validated_at, string_agg(distinct kind, ',' order by kind) as kinds,
                count(*) as count_expectations, count(*) filter (where not success) as count_failed,
                coalesce(sum(unexpected_count), 0) as count_unexpected
            from raw.validation_results
            where $county is null or batch_id in (select batch_id from raw.ingest_log group by batch_id
                 having count(*) filter (where county_code is distinct from $county) = 0)
            group by batch_id
        ),
        files as (
            select batch_id, count(*) as count_files from raw.submissions group by batch_id
        )
        select r.*, coalesce(f.count_files, 0) as count_files
        from runs as r
        left join files as f using (batch_id)
        order by r.validated_at desc, r.batch_id
        """,
        {"county": scope.county_code},
    )


def _field_label(column: str | None) -> str:
    """The Chinese header of a validated column (``households`` → 户数, ``fill_date__day`` → 填报日期)."""
    if not column:
        return ""
    if column == "unreadable_fields":
        return "(所有列)"
    name = column.split("__")[0]
    name = "county" if name == "county_code" else name
    return next((f.header for f in fields() if f.name == name), column)


@requires("quality")
@cached
def batch_results(scope: Scope, batch_id: str) -> pl.DataFrame:
    """The expectations of one batch, kind by kind, failed first, with their Chinese names and fields
    (nothing for a clerk when the batch holds another county's files)."""
    df = query(
        """
        select kind, expectation, description, column_name, success, element_count, unexpected_count
        from raw.validation_results
        where batch_id = $batch and ($county is null or batch_id in (select batch_id from raw.ingest_log group by batch_id
                 having count(*) filter (where county_code is distinct from $county) = 0))
        order by kind, success, expectation, column_name
        """,
        {"batch": batch_id, "county": scope.county_code},
    )
    return df.with_columns(
        pl.col("expectation").map_elements(expectation_name, return_dtype=pl.String).alias("expectation_name"),
        pl.col("column_name").map_elements(_field_label, return_dtype=pl.String, skip_nulls=False).alias("field"),
    )


@requires("quality")
@cached
def batch_row_issues(scope: Scope, batch_id: str, unit: str | None) -> pl.DataFrame:
    """The quarantined rows and findings of the files of one batch."""
    return query(
        """
        select s.file_name, c.county_name, s.kind, i.sheet_name, i.row_number, i.column_name, i.severity,
            i.value, i.message
        from raw.row_issues as i
        inner join raw.submissions as s using (file_id)
        left join (select distinct file_id, county_code from core.submissions) as k using (file_id)
        left join staging.counties as c using (county_code)
        where s.batch_id = $batch and ($unit is null or k.county_code = $unit)
          -- a clerk: only files all of whose rows are of its county
          and ($county is null or i.file_id in (select file_id from core.submissions group by file_id
                                               having count(distinct county_code) = 1 and any_value(county_code) = $county))
        order by s.file_name, i.sheet_name, i.row_number nulls first
        """,
        {"batch": batch_id, "unit": scope.unit(unit), "county": scope.county_code},
    )
