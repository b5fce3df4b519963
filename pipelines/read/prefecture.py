"""The prefecture filter every read shares: in a province warehouse (units of several prefectures) a page
reads the units of the prefecture chosen in the sidebar; with one prefecture (or for a clerk) it is None.

A unit's prefecture is as ``staging.counties.prefecture_code`` holds it. The marts read have no
prefecture column: their units are those of the prefecture's rows of staging.counties. The fragment
takes the value as the ``$pref`` parameter; only the column name is written into the SQL."""

from __future__ import annotations

from pipelines.access.scope import Scope

__all__ = ["in_prefecture", "pref"]


def in_prefecture(column: str = "county_code", keep_unknown: bool = False) -> str:
    """SQL: ``column`` is a unit of ``$pref`` (true when ``$pref`` is null). ``keep_unknown``: a row with no
    county (a file refused before its county was known) is kept too, for the admins to see."""
    unknown = f" or {column} is null" if keep_unknown else ""
    return (f"($pref is null{unknown} or {column} in "
            "(select county_code from staging.counties where prefecture_code = $pref))")


def pref(scope: Scope, prefecture: str | None) -> str | None:
    """The prefecture a read is limited to: a clerk's scope reads its own county, whatever the prefecture."""
    return None if scope.is_county else prefecture
