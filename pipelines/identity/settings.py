"""The identity engine's configuration: thresholds and levels (thresholds.toml ``[identity]``) and
the vocabulary of names (names.toml: estate and kind words, towns, abbreviations)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.settings import config_path

__all__ = ["Settings", "Vocabulary", "Abbreviation", "load_settings", "vocabulary", "THRESHOLDS_TOML", "NAMES_TOML"]

THRESHOLDS_TOML = config_path("thresholds.toml")
NAMES_TOML = config_path("names.toml")


@dataclass(frozen=True)
class Settings:
    method: str = "rules"
    name_min: float = 0.85
    name_strict: float = 0.95
    build_year_tolerance: int = 5
    size_ratio_min: float = 0.5
    address_support: float = 0.75
    cross_county_size_ratio: float = 0.8
    cross_county_address: float = 0.95
    area_rounding_m2: float = 1.0
    money_rounding_wan_yuan: float = 0.005
    block_max: int = 2000
    name_levels: dict[str, float] = field(default_factory=lambda: {
        "exact": 1.0, "normalised": 0.97, "homophone": 0.9, "slip": 0.85, "unit_kind": 0.9})
    address_levels: dict[str, float] = field(default_factory=lambda: {
        "same": 1.0, "same_number": 0.95, "same_road": 0.8, "near_number": 0.75, "far_number": 0.5,
        "near_number_gap": 2})
    plan_ledger: dict[str, float] = field(default_factory=lambda: {
        "name": 0.6, "address": 0.25, "address_unknown": 0.6, "build_year": 0.15, "size": 0.04,
        "same_phase": 0.05, "as_written": 0.05})
    report_plan: dict[str, float] = field(default_factory=lambda: {
        "name": 0.5, "total_invest": 0.35, "households": 0.15, "near": 0.5, "far": 0.25, "other": 0.1})
    plan_plan: dict[str, float] = field(default_factory=lambda: {"name": 0.7, "address": 0.3})

    def __hash__(self) -> int:  # dict fields: hash by the scalars (settings are not mutated)
        return hash((self.method, self.name_min, self.name_strict, self.build_year_tolerance))


def load_settings(path: Path = THRESHOLDS_TOML) -> Settings:
    """``[identity]`` of thresholds.toml; a key the file leaves out keeps its default."""
    with path.open("rb") as f:
        cfg: dict[str, Any] = tomllib.load(f).get("identity", {})
    base = Settings()
    values: dict[str, Any] = {}
    for name in Settings.__dataclass_fields__:
        if name not in cfg:
            continue
        default = getattr(base, name)
        values[name] = {**default, **cfg[name]} if isinstance(default, dict) else cfg[name]
    return Settings(**values)


@dataclass(frozen=True)
class Abbreviation:
    full: str
    forms: tuple[str, ...]
    kind: str
    source: str
    not_before: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    estate_words: tuple[str, ...]
    kind_words: tuple[str, ...]
    distinguishing: frozenset[str]
    original_marks: tuple[str, ...]
    project_words: tuple[str, ...]
    prefecture_names: tuple[str, ...]
    county_names: tuple[str, ...]      # names and aliases of counties.csv, with and without 县/市
    town_names: tuple[str, ...]        # with 镇/乡
    abbreviations: tuple[Abbreviation, ...]


def _without_suffix(name: str, suffixes: str) -> str | None:
    return name[:-1] if len(name) >= 3 and name[-1] in suffixes else None


@cache
def vocabulary(path: Path = NAMES_TOML) -> Vocabulary:
    from pipelines.counties import load_counties

    with path.open("rb") as f:
        cfg = tomllib.load(f)
    counties: set[str] = set()
    for c in load_counties():
        for n in (c.name, *c.aliases):
            if len(n) >= 2:
                counties.add(n)
                short = _without_suffix(n, "县市")
                if short:
                    counties.add(short)
    # with 镇/乡 only: a bare town name is often a word of a community's name (团结镇 / 团结小区)
    towns = {n for names in cfg.get("towns", {}).values() for n in names}
    abbreviations = tuple(
        Abbreviation(full=a["full"], forms=tuple(a["forms"]), kind=a.get("kind", ""), source=a["source"],
                     not_before=tuple(a.get("not_before", ())), not_after=tuple(a.get("not_after", ())))
        for a in cfg.get("abbreviations", ())
    )
    missing = [a.full for a in abbreviations if not a.source.strip()]
    if missing:
        raise ValueError(f"names.toml: abbreviations without a source: {missing}")
    return Vocabulary(
        estate_words=tuple(cfg["estate_words"]),
        kind_words=tuple(sorted(cfg["kind_words"], key=len, reverse=True)),
        distinguishing=frozenset(cfg["distinguishing"]),
        original_marks=tuple(cfg["original_marks"]),
        project_words=tuple(sorted(cfg.get("project_words", ()), key=len, reverse=True)),
        prefecture_names=tuple(sorted(cfg["prefecture_names"], key=len, reverse=True)),
        county_names=tuple(sorted(counties, key=len, reverse=True)),
        town_names=tuple(sorted(towns - counties, key=len, reverse=True)),
        abbreviations=abbreviations,
    )
