"""Scores for the evaluation staff (评估人员): totals, indicator lines, the prefecture, the what-if split."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from pipelines import report
from pipelines.read.connection import DataUnavailable, cached, cursor, db_path, query
from pipelines.read.exports import scores_csv
from pipelines.scoring import read_scores, whatif

__all__ = ["score_years", "score_totals", "score_lines", "prefecture_score", "whatif_subsidy", "scores_csv_bytes",
           "report_bytes"]


@cached
def score_years(kind: str) -> list[int]:
    """Years scored for ``annual`` or ``biennial``, newest first."""
    df = query("select distinct year from marts.scores where kind = $k order by year desc", {"k": kind})
    return [int(y) for y in df["year"]]


@cached
def score_totals(kind: str) -> pl.DataFrame:
    """Total, grade, rank and change from the year before, per unit and year."""
    return query(
        """
        with totals as (
            select county_code, county_name as county, sort_order, year, points, grade, scheme_version, as_of_label
            from marts.scores
            where kind = $k and indicator = 'total'
        )
        select *,
            rank() over (partition by year order by points desc) as score_rank,
            points - lag(points) over (partition by county_code order by year) as change_from_prev,
            lag(year) over (partition by county_code order by year) = year - 1 as has_prev
        from totals
        order by year desc, score_rank, sort_order
        """,
        {"k": kind},
    ).with_columns(pl.when(pl.col("has_prev")).then(pl.col("change_from_prev")).alias("change_from_prev")).drop("has_prev")


@cached
def score_lines(year: int, kind: str) -> pl.DataFrame:
    """Every indicator line of the year: value, points, maximum and points lost (null when not applicable)."""
    return query(
        """
        select county_code, county_name as county, sort_order, indicator, indicator_name as indicator_label, line_order,
            value, points, max_points, is_applicable,
            case when is_applicable and max_points is not null then max_points - coalesce(points, 0) end as points_lost
        from marts.scores
        where year = $y and kind = $k and indicator <> 'total'
        order by sort_order, line_order
        """,
        {"y": year, "k": kind},
    )


@cached
def prefecture_score(year: int) -> dict:
    """The prefecture scored as one unit for the annual check ({} when not available)."""
    df = query(
        """select points, grade, count_counties from marts.scores_prefecture
           where year = $y and kind = 'annual' and indicator = 'total'""",
        {"y": year},
    )
    return df.row(0, named=True) if df.height else {}


@cached
def whatif_subsidy(year: int) -> pl.DataFrame:
    """What-if: the performance-linked share of the year's central subsidy split by annual score (pipelines.scoring.whatif)."""
    cur = cursor()
    try:
        return whatif.query(cur, year)
    finally:
        cur.close()


def scores_csv_bytes(year: int, kind: str) -> bytes:
    """``scores.csv`` of the year and kind (UTF-8 with BOM), from the mart."""
    cur = cursor()
    try:
        text = scores_csv(read_scores(cur, year, kind))
    finally:
        cur.close()
    return ("\ufeff" + text).encode("utf-8")


def report_bytes(year: int, suffix: str = ".docx") -> bytes:
    """The annual report (``pipelines.report.run_report``, written to a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"report{suffix}"
        code = report.run_report(db_path(), year, out)
        if code != 0 or not out.exists():
            raise DataUnavailable(f"{year} 年没有可生成报告的数据。")
        return out.read_bytes()
