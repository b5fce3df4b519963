"""The monthly bulletin (月度通报) for leadership: the months it can report, the data's latest month,
the bulletin of a month (``pipelines.report.bulletin``, read from the bulletin marts) and its
printable files. The bulletin ranks every county of a prefecture: a role that may see it (not a
county clerk) sees the whole prefecture."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, cursor, query
from pipelines.report import bulletin as rb
from pipelines.read.clock import settings
from pipelines.tiers import TierSettings, from_settings

__all__ = ["months", "bulletin_month", "bulletin", "bulletin_file"]


@requires("bulletin")
@cached
def months(scope: Scope, year: int, prefecture: str | None = None) -> list[dt.date]:
    """The months of the plan year that a bulletin can report (of ``prefecture`` when given), newest first."""
    df = query("""select distinct report_month from marts.bulletin_prefecture
                  where plan_year = $year and ($pref is null or prefecture_code = $pref)
                  order by report_month desc""",
               {"year": year, "pref": prefecture})
    return df["report_month"].to_list()


@requires("bulletin")
@cached
def bulletin_month(scope: Scope) -> dt.date | None:
    """The month shown unless one is chosen: the data's latest month (``pipelines.report.bulletin.bulletin_month``)."""
    cur = cursor()
    try:
        return rb.bulletin_month(cur)
    finally:
        cur.close()


@requires("bulletin")
@cached
def bulletin(scope: Scope, month: dt.date, prefecture: str | None = None) -> rb.Bulletin | None:
    """The bulletin of a month for a prefecture (the deployment's own when None; a province warehouse
    holds several), None when the marts do not hold it."""
    cur = cursor()
    try:
        return rb.collect(cur, month, prefecture=prefecture)
    finally:
        cur.close()


def tier_settings() -> TierSettings:
    """The lagging tiers' thresholds in force (``marts.settings``: configuration, no county data)."""
    return from_settings(settings())


@requires("bulletin")
def bulletin_file(scope: Scope, b: rb.Bulletin, suffix: str) -> bytes:
    """The bulletin as ``.docx`` or ``.pdf`` (for a download button: called when clicked)."""
    return rb.bulletin_bytes(dataclasses.replace(b, generated_at=dt.datetime.now().replace(microsecond=0)), suffix)
