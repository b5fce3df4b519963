"""The prefecture's ten reporting units and the resolution of county names written in files.

``counties.csv`` holds the real prefecture. A warehouse may hold more units than that (the
generated prefectures of ``renovation demo --scale N``, in ``staging.counties``): a process that
loads into it adopts them first (:func:`use_units`), so that the configuration stays the real one.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from pipelines.settings import config_path

__all__ = ["County", "load_counties", "units", "use_units", "resolve_county", "county_name", "county_in_name",
           "prefecture_of", "prefecture_name", "home_prefecture"]

COUNTIES_CSV = config_path("counties.csv")
PREFECTURES_CSV = config_path("prefectures.csv")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class County:
    code: str
    name: str
    aliases: tuple[str, ...]
    lat: float
    lon: float


@cache
def load_counties() -> tuple[County, ...]:
    """The units in the order of counties.csv (the official order, used in every export)."""
    with COUNTIES_CSV.open(encoding="utf-8") as f:
        return tuple(
            County(
                code=r["code"],
                name=r["name"],
                aliases=tuple(a for a in r["aliases"].split("|") if a),
                lat=float(r["seat_lat"]),
                lon=float(r["seat_lon"]),
            )
            for r in csv.DictReader(f)
        )


def prefecture_of(code: str) -> str:
    """The prefecture of a county code: its first four digits (GB/T 2260: 652822 → 6528). The
    warehouse holds it once, in ``staging.counties.prefecture_code``, written with each unit's row by
    this function (``pipelines.warehouse``: ``init_schema``, ``add_units``, and the upgrade of a
    warehouse from before the column); the marts that rank or total by prefecture
    (warehouse/marts/progress_county.sql, bulletin_counties.sql, and bulletin_prefecture.sql through
    bulletin_counties) and the reads (``pipelines.read.filters.units``, ``pipelines.read.progress``)
    take that column, as does the dashboard's 州 select. Python derives it elsewhere only for the
    configuration's own units (``home_prefecture``)."""
    return str(code)[:4]


def home_prefecture() -> str:
    """The deployment's own prefecture: that of counties.csv (巴州, 6528)."""
    return prefecture_of(load_counties()[0].code)


@cache
def _prefecture_names() -> dict[str, str]:
    with PREFECTURES_CSV.open(encoding="utf-8") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f)}


def prefecture_name(code: str) -> str:
    """The display name of a prefecture code (prefectures.csv: 6528 → 巴州); a code it does not
    list (a generated prefecture of ``renovation demo --scale N``) is shown as 州 9002."""
    return _prefecture_names().get(code) or f"州 {code}"


_EXTRA: tuple[County, ...] = ()


def units() -> tuple[County, ...]:
    """The units this process knows: counties.csv, then those adopted from the warehouse."""
    return load_counties() + _EXTRA


def use_units(rows) -> None:
    """Adopt the units of a warehouse (rows of code, name, aliases joined by '|', lat, lon) that
    counties.csv does not hold."""
    global _EXTRA
    known = {c.code for c in load_counties()}
    extra = tuple(County(code, name, tuple(a for a in (aliases or "").split("|") if a), lat, lon)
                  for code, name, aliases, lat, lon in rows if code not in known)
    if extra != _EXTRA:
        _EXTRA = extra
        _lookup.cache_clear()
        resolve_county.cache_clear()


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _SPACE.sub("", text).replace("(", "").replace(")", "")


@cache
def _lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for c in units():
        for name in (c.code, c.name, *c.aliases):
            out[_key(name)] = c.code
    return out


@cache
def resolve_county(text: str | None) -> str | None:
    """The county code for a name, alias or code as written; None when unknown."""
    if text is None:
        return None
    key = _key(str(text))
    if not key:
        return None
    hit = _lookup().get(key)
    if hit is None:
        # "轮台县住建局", "巴州库尔勒市" — a known name inside a longer text, when only one fits
        # (the longest name found wins: 库尔勒经开区 over 库尔勒)
        found = [(len(n), c) for n, c in _lookup().items() if len(n) >= 2 and not n.isdigit() and n in key]
        if found:
            longest = max(found)[0]
            codes = {c for n, c in found if n == longest}
            hit = codes.pop() if len(codes) == 1 else None
    return hit


def county_name(code: str) -> str:
    """The canonical name of a county code."""
    return next(c.name for c in units() if c.code == code)


def county_in_name(text: str | None) -> str | None:
    """The one unit whose name (or an alias of two or more characters) a file name contains, e.g.
    ``轮台县月报2025-03(错误).xlsx`` → 652822; None when none or several do."""
    if not text:
        return None
    key = _key(text)
    hits = [(c.code, _key(n)) for c in units() for n in (c.name, *c.aliases) if len(_key(n)) >= 2 and _key(n) in key]
    # the longest name found wins (库尔勒经开区 over 库尔勒); two different units named: none
    hits = [(code, n) for code, n in hits if not any(n != m and n in m for _, m in hits)]
    codes = {code for code, _ in hits}
    return codes.pop() if len(codes) == 1 else None
