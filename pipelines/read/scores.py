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
from pipelines.read import filters
from pipelines.read.exports import scores_csv
from pipelines.read.prefecture import in_prefecture, pref
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
def score_totals(scope: Scope, kind: str, prefecture: str | None = None) -> pl.DataFrame:
    """Total, grade, rank and change from the year before, per unit and year (a clerk: its own, published, no rank);
    of ``prefecture``'s units when given, ranked 1…n among them."""
    df = query(
        f"""
        with totals as (
            select county_code, county_name as county, sort_order, year, points, grade, scheme_version, as_of_label
            from marts.scores
            where kind = $k and indicator = 'total'
              and ($county is null or (county_code = $county and (kind, year) in (select kind, year from {_PUBLISHED})))
              and {in_prefecture()}
        )
        select *,
            -- equal scores share a rank: compared to the sixth decimal (not the last bit of a float)
            rank() over (partition by year order by round(points, 6) desc) as score_rank,
            points - lag(points) over (partition by county_code order by year) as change_from_prev,
            lag(year) over (partition by county_code order by year) = year - 1 as has_prev
        from totals
        order by year desc, score_rank, sort_order
        """,
        {"k": kind, "county": scope.county_code, "pref": pref(scope, prefecture)},
    ).with_columns(pl.when(pl.col("has_prev")).then(pl.col("change_from_prev")).alias("change_from_prev")).drop("has_prev")
    df = _deciding_decimals(df)
    if scope.is_county:  # a rank among the counties is worked out from the others' scores
        df = df.with_columns(pl.lit(None, dtype=df["score_rank"].dtype).alias("score_rank"), pl.lit("").alias("rank_text"))
    return df


def _deciding_decimals(df: pl.DataFrame) -> pl.DataFrame:
    """``points_text``: the total with the decimals that decide the ranking of its year (two, more where
    two different totals would print alike); ``rank_text``: the rank, 并列 where totals are equal."""
    texts, ranks = [], []
    for (year,), part in df.group_by("year", maintain_order=True):
        distinct = sorted({round(p, 6) for p in part["points"].to_list()})
        decimals = 2
        while decimals < 6 and len({round(p, decimals) for p in distinct}) < len(distinct):
            decimals += 1
        tied = part.group_by("score_rank").len().filter(pl.col("len") > 1)["score_rank"].to_list()
        texts += [f"{p:.{decimals}f}" for p in part["points"].to_list()]
        ranks += [f"{r}(并列)" if r in tied else str(r) for r in part["score_rank"].to_list()]
    order = df.with_row_index("_i").group_by("year", maintain_order=True).agg("_i").explode("_i")["_i"].to_list()
    by_row = dict(zip(order, zip(texts, ranks)))
    return df.with_columns(pl.Series("points_text", [by_row[i][0] for i in range(df.height)], dtype=pl.String),
                           pl.Series("rank_text", [by_row[i][1] for i in range(df.height)], dtype=pl.String))


@requires("scores")
@cached
def score_lines(scope: Scope, year: int, kind: str, prefecture: str | None = None) -> pl.DataFrame:
    """Every indicator line of the year: value, points, maximum and points lost (null when not applicable),
    with its numerator, denominator and formula in Chinese (``marts.score_formulas``); of ``prefecture``'s
    units when given."""
    has_formulas = query("""select count(*) as n from information_schema.tables
                            where table_schema = 'marts' and table_name = 'score_formulas'""")["n"][0] > 0
    formulas = ("f.numerator, f.denominator, f.numerator_label, f.denominator_label, f.unit, f.formula" if has_formulas else
                "null::double as numerator, null::double as denominator, '' as numerator_label, '' as denominator_label, "
                "'' as unit, '' as formula")
    join = ("left join marts.score_formulas as f on f.county_code = s.county_code and f.year = s.year "
            "and f.kind = s.kind and f.indicator = s.indicator") if has_formulas else ""
    return query(
        f"""
        select s.county_code, s.county_name as county, s.sort_order, s.indicator, s.indicator_name as indicator_label,
            s.line_order, s.value, s.points, s.max_points, s.is_applicable,
            case when s.is_applicable and s.max_points is not null then s.max_points - coalesce(s.points, 0) end as points_lost,
            {formulas}
        from marts.scores as s
        {join}
        where s.year = $y and s.kind = $k and s.indicator <> 'total'
          and ($county is null or (s.county_code = $county and (s.kind, s.year) in (select kind, year from {_PUBLISHED})))
          and {in_prefecture("s.county_code")}
        order by s.sort_order, s.line_order
        """,
        {"y": year, "k": kind, "county": scope.county_code, "pref": pref(scope, prefecture)},
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
def whatif_subsidy(scope: Scope, year: int, prefecture: str | None = None) -> pl.DataFrame:
    """What-if: the performance-linked share of the year's central subsidy split by annual score (pipelines.scoring.whatif);
    empty for a clerk (the split is worked out from every county). The mart's pool of ``prefecture`` (its units,
    the money theirs) when given, else the whole warehouse's: read as split at the refresh, nothing recomputed."""
    if scope.is_county:
        return pl.DataFrame()
    cur = cursor()
    try:
        df = whatif.query(cur, year, prefecture or whatif.ALL)
    finally:
        cur.close()
    return df.drop("county_code")


@requires("export_scores")
def scores_csv_bytes(scope: Scope, year: int, kind: str, prefecture: str | None = None) -> bytes:
    """``scores.csv`` of the year and kind (UTF-8 with BOM), from the mart; of ``prefecture``'s units when given."""
    prefecture = pref(scope, prefecture)
    cur = cursor()
    try:
        rows = read_scores(cur, year, kind)
    finally:
        cur.close()
    if prefecture is not None:
        units = set(filters.units(scope, prefecture)["county_code"])
        rows = [r for r in rows if r.county_code in units]
    text = scores_csv(rows)
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
