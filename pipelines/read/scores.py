"""Scores for the evaluation staff (评估人员): totals, indicator lines, the prefecture, the what-if split.

Every function takes the session's :class:`Scope` first. A clerk reads its own county's scores
of the years an admin has published (``raw.score_publications``), without ranks, other counties,
the prefecture or the what-if split (all worked out from the other counties)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from pipelines import report
from pipelines.access.scope import Scope, requires
from pipelines.read.connection import DataUnavailable, cached, cursor, db_path, query
from pipelines.read.exports import scores_csv
from pipelines.scoring import read_scores, whatif

__all__ = ["score_years", "score_totals", "score_lines", "prefecture_score", "whatif_subsidy", "scores_csv_bytes",
           "report_bytes", "published"]

# the (kind, year) pairs whose scores a clerk may see: published by an admin, not withdrawn since
_PUBLISHED = """
    (select kind, year from raw.score_publications
     qualify row_number() over (partition by kind, year order by decided_at desc) = 1 and is_published)
"""


@requires("scores")
@cached
def published(scope: Scope, kind: str) -> list[int]:
    """Years of ``kind`` whose scores are published to the county clerks, newest first."""
    df = query(f"select year from {_PUBLISHED} where kind = $k order by year desc", {"k": kind})
    return [int(y) for y in df["year"]]


@requires("scores")
@cached
def score_years(scope: Scope, kind: str) -> list[int]:
    """Years scored for ``annual`` or ``biennial``, newest first (published ones, for a clerk)."""
    df = query(f"""select distinct year from marts.scores
                   where kind = $k and ($county is null or (county_code = $county
                         and (kind, year) in (select kind, year from {_PUBLISHED})))
                   order by year desc""", {"k": kind, "county": scope.county_code})
    return [int(y) for y in df["year"]]


@requires("scores")
@cached
def score_totals(scope: Scope, kind: str) -> pl.DataFrame:
    """Total, grade, rank and change from the year before, per unit and year (a clerk: its own, published, no rank)."""
    df = query(
        f"""
        with totals as (
            select county_code, county_name as county, sort_order, year, points, grade, scheme_version, as_of_label
            from marts.scores
            where kind = $k and indicator = 'total'
              and ($county is null or (county_code = $county and (kind, year) in (select kind, year from {_PUBLISHED})))
        )
        select *,
            rank() over (partition by year order by points desc) as score_rank,
            points - lag(points) over (partition by county_code order by year) as change_from_prev,
            lag(year) over (partition by county_code order by year) = year - 1 as has_prev
        from totals
        order by year desc, score_rank, sort_order
        """,
        {"k": kind, "county": scope.county_code},
    ).with_columns(pl.when(pl.col("has_prev")).then(pl.col("change_from_prev")).alias("change_from_prev")).drop("has_prev")
    if scope.is_county:  # a rank among the counties is worked out from the others' scores
        df = df.with_columns(pl.lit(None, dtype=df["score_rank"].dtype).alias("score_rank"))
    return df


@requires("scores")
@cached
def score_lines(scope: Scope, year: int, kind: str) -> pl.DataFrame:
    """Every indicator line of the year: value, points, maximum and points lost (null when not applicable)."""
    return query(
        f"""
        select county_code, county_name as county, sort_order, indicator, indicator_name as indicator_label, line_order,
            value, points, max_points, is_applicable,
            case when is_applicable and max_points is not null then max_points - coalesce(points, 0) end as points_lost
        from marts.scores
        where year = $y and kind = $k and indicator <> 'total'
          and ($county is null or (county_code = $county and (kind, year) in (select kind, year from {_PUBLISHED})))
        order by sort_order, line_order
        """,
        {"y": year, "k": kind, "county": scope.county_code},
    )


@requires("scores")
@cached
def prefecture_score(scope: Scope, year: int) -> dict:
    """The prefecture scored as one unit for the annual check ({} when not available, and for a clerk)."""
    if scope.is_county:
        return {}
    df = query(
        """select points, grade, count_counties from marts.scores_prefecture
           where year = $y and kind = 'annual' and indicator = 'total'""",
        {"y": year},
    )
    return df.row(0, named=True) if df.height else {}


@requires("scores")
@cached
def whatif_subsidy(scope: Scope, year: int) -> pl.DataFrame:
    """What-if: the performance-linked share of the year's central subsidy split by annual score (pipelines.scoring.whatif);
    empty for a clerk (the split is worked out from every county)."""
    if scope.is_county:
        return pl.DataFrame()
    cur = cursor()
    try:
        return whatif.query(cur, year)
    finally:
        cur.close()


@requires("export_scores")
def scores_csv_bytes(scope: Scope, year: int, kind: str) -> bytes:
    """``scores.csv`` of the year and kind (UTF-8 with BOM), from the mart."""
    cur = cursor()
    try:
        text = scores_csv(read_scores(cur, year, kind))
    finally:
        cur.close()
    return ("\ufeff" + text).encode("utf-8")


@requires("reports")
def report_bytes(scope: Scope, year: int, suffix: str = ".docx") -> bytes:
    """The annual report (``pipelines.report.run_report``, written to a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"report{suffix}"
        code = report.run_report(db_path(), year, out)
        if code != 0 or not out.exists():
            raise DataUnavailable(f"{year} 年没有可生成报告的数据。")
        return out.read_bytes()
