"""The global filters: plan years, the reporting units, the data clock's latest due month."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.read.connection import cached, query

__all__ = ["years", "as_of_month", "default_year", "units"]


@cached
def years() -> list[int]:
    """Plan years present, newest first."""
    df = query("select distinct plan_year from core.plan_rows where plan_year is not null order by plan_year desc")
    return [int(y) for y in df["plan_year"]]


@cached
def as_of_month() -> dt.date | None:
    """The latest due month of the data clock (``marts.data_clock``): the month every page is as of."""
    df = query("select latest_due_month as m from marts.data_clock")
    return df["m"][0] if df.height else None


def default_year() -> int | None:
    """The plan year of the latest due month when it has a plan, else the newest plan year."""
    ys = years()
    if not ys:
        return None
    m = as_of_month()
    return m.year if m is not None and m.year in ys else ys[0]


@cached
def units() -> pl.DataFrame:
    """The ten reporting units in official order (code, name, seat coordinates)."""
    return query(
        "select county_code, county_name, seat_lat, seat_lon, sort_order from staging.counties order by sort_order"
    )
