"""Progress for leadership (州领导小组): the year's plan against its state, by unit and month; the five-year goal.

Every function takes the session's :class:`Scope` first; a clerk's scope reads its own county only
(no other county's rows, no prefecture totals or ranks)."""

from __future__ import annotations

from functools import cache

import polars as pl

from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, query
from pipelines.read.prefecture import in_prefecture
from pipelines.read.prefecture import pref as _pref
from pipelines.settings import config_path

__all__ = ["progress_summary", "progress_by_month", "progress_ranking", "trajectory", "projection", "reference_comparison", "projects"]

REFERENCE_CSV = config_path("reference_national_progress.csv")

_RATES = """
    round(100.0 * count_started_communities / nullif(count_plan_communities, 0), 1) as pct_started_communities,
    round(100.0 * count_completed_communities / nullif(count_plan_communities, 0), 1) as pct_completed_communities,
    round(100.0 * started_households / nullif(plan_households, 0), 1) as pct_started_households,
    round(100.0 * completed_households / nullif(plan_households, 0), 1) as pct_completed_households,
    round(100.0 * invest_done_wan_yuan / nullif(plan_invest_wan_yuan, 0), 1) as pct_invest_done,
    round(100.0 * paid_wan_yuan / nullif(plan_subsidy_wan_yuan, 0), 1) as pct_paid_of_subsidy,
    round(100.0 * paid_wan_yuan / nullif(plan_invest_wan_yuan, 0), 1) as pct_paid_of_plan
"""

# a province warehouse holds several prefectures: reads take the chosen one (pipelines.read.prefecture)
_IN_PREFECTURE = in_prefecture()


_SUMS = """
    cast(sum(count_plan_communities) as bigint) as count_plan_communities,
    cast(sum(plan_households) as bigint) as plan_households,
    sum(plan_invest_wan_yuan) as plan_invest_wan_yuan,
    sum(plan_subsidy_wan_yuan) as plan_subsidy_wan_yuan,
    cast(sum(count_started_communities) as bigint) as count_started_communities,
    cast(sum(started_households) as bigint) as started_households,
    cast(sum(count_completed_communities) as bigint) as count_completed_communities,
    cast(sum(completed_households) as bigint) as completed_households,
    sum(invest_done_wan_yuan) as invest_done_wan_yuan,
    sum(paid_wan_yuan) as paid_wan_yuan
"""


@requires("progress")
@cached
def progress_summary(scope: Scope, year: int, unit: str | None, prefecture: str | None = None) -> dict:
    """Plan and state of the year's plan at its as-of month (the data clock's latest due month, at most
    December), for the prefecture (``prefecture``, or every unit when None) or one unit ({} when no plan)."""
    unit = scope.unit(unit)
    df = query(
        f"""
        with sums as (
            select max(as_of_month) as as_of_month, {_SUMS}
            from marts.progress_county
            where plan_year = $year and ($unit is null or county_code = $unit)
              and ($pref is null or prefecture_code = $pref)
        )
        select *, {_RATES} from sums
        """,
        {"year": year, "unit": unit, "pref": _pref(scope, prefecture)},
    )
    row = df.row(0, named=True)
    return row if row["count_plan_communities"] else {}


@requires("progress")
@cached
def progress_by_month(scope: Scope, year: int, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Month by month: cumulative started/completed against the plan and its scheduled starts."""
    unit = scope.unit(unit)
    return query(
        f"""
        with sums as (
            select report_month, {_SUMS},
                cast(sum(count_due_start_communities) as bigint) as count_due_start_communities,
                cast(sum(count_due_completion_communities) as bigint) as count_due_completion_communities
            from marts.progress_monthly
            where plan_year = $year and ($unit is null or county_code = $unit) and {_IN_PREFECTURE}
            group by report_month
        )
        select *, {_RATES} from sums order by report_month
        """,
        {"year": year, "unit": unit, "pref": _pref(scope, prefecture)},
    )


@requires("progress")
@cached
def progress_ranking(scope: Scope, year: int, prefecture: str | None = None) -> pl.DataFrame:
    """Every unit with a plan in the year (of ``prefecture`` when given: ranks and prefecture rates are
    within a prefecture): rates, rank, lagging flag, seat coordinates, and the plan's
    pace and lagging tier at the as-of month (marts.bulletin_counties). A clerk
    gets its own row without what is worked out from the other counties (prefecture rates, rank)."""
    if scope.is_county:
        return query(
            """
            select p.* replace (null::double as pct_started_prefecture, null::double as pct_completed_prefecture,
                                null::double as pct_invest_prefecture, null::double as pct_progress_index_prefecture,
                                null::bigint as progress_rank, null::boolean as is_lagging),
                c.seat_lat, c.seat_lon
            from marts.progress_county as p
            left join staging.counties as c using (county_code)
            where p.plan_year = $year and p.county_code = $county
            """,
            {"year": year, "county": scope.county_code},
        )
    return query(
        """
        select p.*, c.seat_lat, c.seat_lon, b.pct_pace_index, b.points_behind_pace, b.tier
        from marts.progress_county as p
        left join staging.counties as c using (county_code)
        left join marts.bulletin_counties as b
            on b.county_code = p.county_code and b.plan_year = p.plan_year and b.report_month = p.as_of_month
        where p.plan_year = $year and ($pref is null or p.prefecture_code = $pref)
        order by p.progress_rank, p.sort_order
        """,
        {"year": year, "pref": prefecture},
    )


@requires("progress")
@cached
def trajectory(scope: Scope, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Households of completed plan rows month by month since the goal's start, the goal and its even path."""
    unit = scope.unit(unit)
    return query(
        f"""
        select report_month,
            cast(sum(completed_households) as bigint) as completed_households,
            cast(sum(target_households) as bigint) as target_households,
            sum(path_households) as path_households
        from marts.progress_trajectory
        where ($unit is null or county_code = $unit) and {_IN_PREFECTURE}
        group by report_month
        order by report_month
        """,
        {"unit": unit, "pref": _pref(scope, prefecture)},
    )


@requires("progress")
@cached
def projection(scope: Scope, unit: str | None, prefecture: str | None = None) -> dict:
    """Completed households, the recent pace (``progress.pace_months``) and the projection to December of
    the goal's end year (``goal_month``)."""
    unit = scope.unit(unit)
    df = query(
        f"""
        select max(as_of_month) as as_of_month, max(goal_month) as goal_month,
            cast(sum(completed_households) as bigint) as completed_households,
            cast(sum(target_households) as bigint) as target_households,
            sum(pace_households_per_month) as pace_households_per_month,
            max(months_to_goal) as months_to_goal,
            cast(sum(projected_households_goal) as bigint) as projected_households_goal
        from marts.progress_projection
        where ($unit is null or county_code = $unit) and {_IN_PREFECTURE}
        """,
        {"unit": unit, "pref": _pref(scope, prefecture)},
    )
    row = df.row(0, named=True)
    if row["as_of_month"] is None:
        return {}
    t = row["target_households"] or 0
    row["pct_completed"] = round(100.0 * row["completed_households"] / t, 1) if t else None
    row["pct_projected_goal"] = round(100.0 * row["projected_households_goal"] / t, 1) if t else None
    return row


@cache
def _reference() -> pl.DataFrame:
    """Published national and Xinjiang start rates (pipelines/config/reference_national_progress.csv)."""
    df = pl.read_csv(REFERENCE_CSV, infer_schema_length=None)
    # the published rate where given; else started / planned communities (derived, marked so)
    return df.filter(pl.col("scope").is_in(["national", "新疆"])).with_columns(
        pl.when(pl.col("start_rate_pct").is_not_null())
        .then(pl.col("start_rate_pct"))
        .otherwise((100.0 * pl.col("started_communities") / pl.col("planned_communities")).round(1))
        .alias("rate"),
        pl.col("start_rate_pct").is_null().alias("is_derived"),
    ).filter(pl.col("rate").is_not_null())



@requires("progress")
def reference_comparison(scope: Scope, year: int, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Start rates (% of the year's planned communities) by month: 巴州 (or the unit), 全国 and 新疆 where published."""
    ours = progress_by_month(scope, year, unit, prefecture)
    ref = _reference().filter(pl.col("year") == year)
    months = sorted(set(ref["month"].to_list()) | {m.month for m in ours["report_month"]} if len(ours) else ref["month"].to_list())
    out = pl.DataFrame({"month": pl.Series(months, dtype=pl.Int64)})
    if len(ours):
        out = out.join(
            ours.select(pl.col("report_month").dt.month().cast(pl.Int64).alias("month"),
                        pl.col("pct_started_communities").alias("prefecture")),
            on="month", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("prefecture"))
    for scope, col in (("national", "national"), ("新疆", "xinjiang")):
        part = ref.filter(pl.col("scope") == scope).group_by("month").agg(
            pl.col("rate").first().alias(col), pl.col("is_derived").first().alias(f"{col}_derived"),
            pl.col("source_url").first().alias(f"{col}_source"))
        out = out.join(part.with_columns(pl.col("month").cast(pl.Int64)), on="month", how="left")
    return out.sort("month")



@requires("progress")
@cached
def projects(scope: Scope, year: int, unit: str) -> pl.DataFrame:
    """A county's projects of the year (the drill-down from a county): plan and latest state
    (``marts.progress_projects``), least advanced first."""
    unit = scope.unit(unit)
    return query(
        """
        select name, households, total_invest_wan_yuan, planned_start_date, planned_end_date, is_started, is_completed,
            pct_progress, invest_done_wan_yuan, pct_invest_done, paid_wan_yuan, start_date, finish_date,
            strftime(latest_report_month, '%Y-%m') as latest_report_month
        from marts.progress_projects
        where plan_year = $year and county_code = $unit
        order by is_completed, coalesce(pct_progress, 0), name
        """,
        {"year": year, "unit": unit},
    )
