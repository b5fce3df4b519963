"""The prefecture's ten reporting units and the resolution of county names written in files."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from pipelines.settings import config_path

__all__ = ["County", "load_counties", "resolve_county", "county_name"]

COUNTIES_CSV = config_path("counties.csv")
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


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _SPACE.sub("", text).replace("(", "").replace(")", "")


@cache
def _lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for c in load_counties():
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
    return next(c.name for c in load_counties() if c.code == code)


def county_in_name(text: str | None) -> str | None:
    """The one county whose name (or an alias of two or more characters) a file name contains, e.g.
    ``轮台县月报2025-03(错误).xlsx`` → 652822; None when none or several do."""
    if not text:
        return None
    key = _key(text)
    hits = [(c.code, _key(n)) for c in load_counties() for n in (c.name, *c.aliases) if len(_key(n)) >= 2 and _key(n) in key]
    # the longest name found wins (库尔勒经开区 over 库尔勒) unless it lies inside none of the others' and they differ
    hits = [(code, n) for code, n in hits if not any(n != m and n in m for _, m in hits)]
    codes = {code for code, _ in hits}
    return codes.pop() if len(codes) == 1 else None
