"""What every page states: the data clock (``marts.data_clock``, flags.md "The data clock") and the
settings in force (``marts.settings``), for captions that quote the numbers the data was computed with.

The clock is the prefecture's and the same for every role; :func:`county_clock` is per county and
scoped (a clerk's session reads its own row). The settings are configuration, not any county's
data: every role may read them, so they take no scope."""

from __future__ import annotations

import polars as pl

from pipelines.access.scope import Scope, requires
from pipelines.clock import Clock
from pipelines.read.connection import cached, query
from pipelines.read.prefecture import in_prefecture, pref

__all__ = ["data_clock", "county_clock", "settings", "setting", "grades", "grades_text", "clock_caption"]


@requires("progress")
@cached
def data_clock(scope: Scope) -> dict:
    """The as-of date (newest 填报日期 received), the report due day and the latest due month ({} before any data)."""
    df = query("select as_of_date, report_due_day, latest_due_month, latest_report_month, clock_basis from marts.data_clock")
    return df.row(0, named=True) if df.height and df["clock_basis"][0] is not None else {}


@requires("submissions")
@cached
def county_clock(scope: Scope, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Per unit: the newest month it has reported, its newest 填报日期 and how far behind the latest due month it is
    (of ``prefecture``'s units when given)."""
    unit = scope.unit(unit)
    return query(
        f"""
        select county_name, latest_report_month, latest_fill_date, count_months_reported, latest_due_month,
            is_up_to_date, count_months_behind
        from marts.data_clock_counties
        where ($unit is null or county_code = $unit) and {in_prefecture()}
        order by sort_order
        """,
        {"unit": unit, "pref": pref(scope, prefecture)},
    )


@cached
def settings() -> dict[str, float]:
    """Every setting in force at the last refresh, key → value (``marts.settings``)."""
    df = query("select key, value from marts.settings")
    return dict(zip(df["key"].to_list(), df["value"].to_list()))


def setting(key: str) -> float:
    """One setting in force, e.g. ``setting("progress.pace_months")``; KeyError when absent."""
    return settings()[key]


def grades() -> list[tuple[float, str]]:
    """The grade cut-offs in force, (lowest total, grade), best first; the last grade's lowest total is 0."""
    cuts = [(v, k.removeprefix("grades.")) for k, v in settings().items() if k.startswith("grades.")]
    return sorted(cuts, reverse=True)


def grades_text() -> str:
    """The cut-offs in Chinese: 优秀 ≥ 95,良好 ≥ 85,合格 ≥ 75,差 < 75 (by default)."""
    cuts = grades()
    if len(cuts) < 2:
        return ""
    return "".join(f"{g} ≥ {t:g}," for t, g in cuts[:-1]) + f"{cuts[-1][1]} < {cuts[-2][0]:g}"


def clock_caption(clock: dict) -> str:
    """One line in Chinese: the as-of date and the latest due month (the sidebar, the exports)."""
    if not clock:
        return "数据时钟:尚无数据"
    return Clock(clock["as_of_date"], clock["report_due_day"], clock["latest_due_month"],
                 clock["latest_report_month"]).text()
