"""The global filters: plan years, the reporting units, the data clock's latest due month (scoped: a
clerk's session sees its own county only)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, query

__all__ = ["years", "as_of_month", "default_year", "units"]


@requires("progress")
@cached
def years(scope: Scope) -> list[int]:
    """Plan years present (of the scope's county, for a clerk), newest first."""
    df = query("""select distinct plan_year from core.plan_rows
                  where plan_year is not null and ($county is null or county_code = $county)
                  order by plan_year desc""", {"county": scope.county_code})
    return [int(y) for y in df["plan_year"]]


@requires("progress")
@cached
def as_of_month(scope: Scope) -> dt.date | None:
    """The latest due month of the data clock (``marts.data_clock``): the month every page is as of (the
    same for every role: the clock is the prefecture's, not a county's row)."""
    df = query("select latest_due_month as m from marts.data_clock")
    return df["m"][0] if df.height else None


@requires("progress")
def default_year(scope: Scope) -> int | None:
    """The plan year of the latest due month when it has a plan, else the newest plan year."""
    ys = years(scope)
    if not ys:
        return None
    m = as_of_month(scope)
    return m.year if m is not None and m.year in ys else ys[0]


@requires("progress")
@cached
def units(scope: Scope, prefecture: str | None = None) -> pl.DataFrame:
    """The reporting units in official order (code, prefecture, name, seat coordinates): the clerk's
    own only; those of ``prefecture`` only when given. A unit's prefecture is as ``staging.counties``
    holds it (its code's first four digits, GB/T 2260, written by ``pipelines.counties.prefecture_of``)."""
    return query(
        """select county_code, prefecture_code, county_name, seat_lat, seat_lon, sort_order
           from staging.counties
           where ($county is null or county_code = $county) and ($pref is null or prefecture_code = $pref)
           order by sort_order""",
        {"county": scope.county_code, "pref": prefecture},
    )
