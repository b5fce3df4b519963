"""Data quality: validation runs and their results, quarantined rows and file findings, file counts.

The validation results are rendered by the 数据质量 page itself, in Chinese, from
``raw.validation_results`` and ``raw.row_issues`` (not GX's Data Docs): nothing here imports
Great Expectations. Every function takes the session's :class:`Scope` first. A clerk sees its own
county's rows and the validation runs of batches holding its own files only."""

from __future__ import annotations

import polars as pl

from expectations.names import EXPECTATION_NAMES, issue_name
from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, query
from pipelines.read.prefecture import in_prefecture, pref
from pipelines.reading.headers import fields

__all__ = ["validation_results", "row_issues", "file_counts", "validation_batches", "batch_results",
           "batch_row_issues"]


@requires("quality")
@cached
def validation_results(scope: Scope, prefecture: str | None = None) -> pl.DataFrame:
    """Every expectation evaluated, per batch and kind, newest first. A clerk: the runs of batches whose
    files are all of its county (a batch of several counties' files counts rows of the others). With
    ``prefecture``: the batches holding a file of its units or of no known county."""
    return _chinese(query(
        f"""
        select validated_at, batch_id, kind, suite_name, expectation, description, column_name, success,
            element_count, unexpected_count
        from raw.validation_results
        where ($county is null or batch_id in (
            select batch_id from raw.ingest_log group by batch_id
            having count(*) filter (where county_code is distinct from $county) = 0))
            -- a province warehouse: the batches holding a file of the prefecture's units (or of no known county)
            and ($pref is null or batch_id in (select batch_id from raw.ingest_log where {in_prefecture("county_code", True)}))
        order by validated_at desc, batch_id, kind, success, expectation
        """,
        {"county": scope.county_code, "pref": pref(scope, prefecture)},
    ))


def _chinese(df: pl.DataFrame) -> pl.DataFrame:
    """Expectations and fields by their Chinese names (an expectation without one: its Chinese description)."""
    return df.with_columns(
        pl.struct("expectation", "description").map_elements(
            lambda r: EXPECTATION_NAMES.get(r["expectation"] or "") or r["description"] or "其他校验",
            return_dtype=pl.String).alias("expectation_name"),
        pl.col("column_name").map_elements(_field_label, return_dtype=pl.String, skip_nulls=False).alias("field"),
    )


#: every staged row (refused ones included) with its county, kind, period and name: a refused row
#: is found again in a later accepted submission of the same county, kind and period by its name
_STAGED_ROWS = """
    select file_id, sheet_name, row_number, is_rejected, county_code, 'ledger' as kind, '' as period, name
    from staging.ledger_rows
    union all
    select file_id, sheet_name, row_number, is_rejected, county_code, 'plan', cast(plan_year as varchar), name
    from staging.plan_rows
    union all
    select file_id, sheet_name, row_number, is_rejected, county_code, 'monthly', strftime(report_month, '%Y-%m'), name
    from staging.report_rows
"""


def _named(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col("code").map_elements(issue_name, return_dtype=pl.String).alias("issue"))


@requires("quality")
@cached
def row_issues(scope: Scope, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Quarantined rows' reasons and file findings, per file, with the county of the row (of the file
    when the finding is about the whole file), the issue's Chinese name, and whether a refused row was
    corrected: the same community accepted in a later submission of the same county, kind and period.
    With ``prefecture``: its units' rows, and those of no known county (a file refused before its county
    was read)."""
    unit = scope.unit(unit)
    df = query(
        f"""
        with staged as ({_STAGED_ROWS}),
        file_county as (
            select file_id, any_value(county_code) as county_code, count(distinct county_code) as count_counties
            from staged where county_code is not null and not is_rejected group by file_id
        ),
        issues as (
            select i.*, s.file_name, s.kind, r.name as row_name, r.period,
                -- the file's county (its accepted rows'); a file refused row by row: the row's county
                coalesce(case when f.count_counties = 1 then f.county_code end,
                         case when f.file_id is null then r.county_code end) as county_code
            from raw.row_issues as i
            left join raw.submissions as s using (file_id)
            left join staged as r on r.file_id = i.file_id and r.sheet_name = i.sheet_name and r.row_number = i.row_number
            left join file_county as f on f.file_id = i.file_id
        )
        select i.file_name, c.county_name, i.kind, i.sheet_name, i.row_number, i.column_name, i.code, i.severity,
            i.value, i.message, i.file_id,
            i.severity = 'reject' and exists (
                select 1 from staged as later
                where later.file_id > i.file_id and not later.is_rejected and later.kind = i.kind
                  and later.county_code = i.county_code and later.period = i.period and later.name = i.row_name
            ) as is_corrected
        from issues as i
        left join staging.counties as c using (county_code)
        where ($unit is null or i.county_code = $unit)
          -- a clerk: only its county's rows, and findings about files all of whose rows are of its county
          and ($county is null or i.county_code = $county)
          and {in_prefecture("i.county_code", True)}
        order by i.file_id desc, i.sheet_name, i.row_number nulls first
        """,
        {"unit": unit, "county": scope.county_code, "pref": pref(scope, prefecture)},
    )
    return _named(df)


@requires("quality")
@cached
def file_counts(scope: Scope, unit: str | None, prefecture: str | None = None) -> dict:
    """Files handed to the import, each counted once by its content (a file uploaded again is
    the same file): all of them, those loaded, those rejected; and the attempts (with ``prefecture``:
    of its units and of no known county)."""
    return query(
        f"""
        select
            count(distinct coalesce(file_hash, file_path)) as count_files,
            count(distinct file_hash) filter (where status in ('accepted', 'duplicate')) as count_loaded,
            count(distinct coalesce(file_hash, file_path)) filter (where status = 'rejected') as count_rejected,
            count(*) as count_attempts,
            count(*) filter (where status = 'duplicate') as count_repeated
        from raw.ingest_log
        where ($unit is null or county_code = $unit) and {in_prefecture("county_code", True)}
        """,
        {"unit": scope.unit(unit), "pref": pref(scope, prefecture)},
    ).row(0, named=True)


@requires("quality")
@cached
def validation_batches(scope: Scope, prefecture: str | None = None) -> pl.DataFrame:
    """One row per validated batch, newest first: when, the kinds, expectations run and failed, files
    (a clerk: the batches whose files are all of its county; with ``prefecture``: those holding a file of
    its units or of no known county)."""
    return query(
        f"""
        with runs as (
            select batch_id, max(validated_at) as validated_at, string_agg(distinct kind, ',' order by kind) as kinds,
                count(*) as count_expectations, count(*) filter (where not success) as count_failed,
                coalesce(sum(unexpected_count), 0) as count_unexpected
            from raw.validation_results
            where ($county is null or batch_id in (select batch_id from raw.ingest_log group by batch_id
                 having count(*) filter (where county_code is distinct from $county) = 0))
              -- a province warehouse: the batches holding a file of the prefecture's units (or of no known county)
              and ($pref is null or batch_id in (select batch_id from raw.ingest_log where {in_prefecture("county_code", True)}))
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
        {"county": scope.county_code, "pref": pref(scope, prefecture)},
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
    return _chinese(df)


@requires("quality")
@cached
def batch_row_issues(scope: Scope, batch_id: str, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """The quarantined rows and findings of the files of one batch (with ``prefecture``: of its units' files
    and of files of no known county)."""
    return query(
        f"""
        select s.file_name, c.county_name, s.kind, i.sheet_name, i.row_number, i.column_name, i.severity,
            i.value, i.message
        from raw.row_issues as i
        inner join raw.submissions as s using (file_id)
        left join (select distinct file_id, county_code from core.submissions) as k using (file_id)
        left join staging.counties as c using (county_code)
        where s.batch_id = $batch and ($unit is null or k.county_code = $unit) and {in_prefecture("k.county_code", True)}
          -- a clerk: only files all of whose rows are of its county
          and ($county is null or i.file_id in (select file_id from core.submissions group by file_id
                                               having count(distinct county_code) = 1 and any_value(county_code) = $county))
        order by s.file_name, i.sheet_name, i.row_number nulls first
        """,
        {"batch": batch_id, "unit": scope.unit(unit), "county": scope.county_code, "pref": pref(scope, prefecture)},
    )
