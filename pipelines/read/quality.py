"""Data quality: validation runs, quarantined rows and file findings, the Great Expectations Data Docs.

Every function takes the session's :class:`Scope` first. A clerk sees its own county's rows and
the validation runs of batches holding its own files only; the Data Docs (every county's values)
are not for clerks."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, db_path, query

__all__ = ["validation_results", "row_issues", "data_docs_dir"]


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


@requires("data_docs")
def data_docs_dir(scope: Scope) -> Path | None:
    """Where the Great Expectations Data Docs of this warehouse are: the site rendered from the
    ingest and signal runs kept beside the warehouse file (``pipelines.validation``), brought up
    to date here when runs were kept since it was last rendered; None before any run."""
    from pipelines.validation.runner import build_docs, docs_index, docs_stale

    index = build_docs(db_path()) if docs_stale(db_path()) else docs_index(db_path())
    return index.parent if index is not None else None

