"""Province and national scale for the demo: N prefectures' worth of workbooks.

Copy 1 is the demo prefecture itself (巴州, the units of ``pipelines/config/counties.csv``).
Copies 2..N are generated prefectures: each is a world of its own (seed + copy number), whose
ten units get invented names and codes, so that every county of every copy is distinct:

* names: a two-character stem, unique over all copies and unlike any configured name or alias,
  with the suffix of the unit it stands for (市, 县, 回族自治县, 经济技术开发区); the stem is the
  short name (alias), as 轮台 is for 轮台县;
* codes: ``9`` + the copy number (3 digits) + the unit's number (2 digits), a range no real
  administrative code uses.

The generated units are the demo's own data, not configuration: they are returned (and written
to ``units.csv`` beside the workbooks) for the caller to register in the warehouse it loads
(``pipelines.warehouse.add_units``); ``counties.csv`` keeps the real prefecture only.

The generator (world, render, truth) is reused unchanged: a copy's world is built with the demo's
county names, then renamed, and rendered with the renamed units in place of the module constants
that name them.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import logging
import os
import random
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from demogen import generate, render, truth, world

__all__ = ["Unit", "units_for", "generate_scaled", "write_units"]

log = logging.getLogger(__name__)

# characters of the invented stems: common in place names, none a direction or number word that
# the name comparison treats as distinguishing
_CHARS = ("安宝昌成川丰福广海禾华嘉建江金康乐利临龙宁沛庆瑞山盛泰天文祥鑫信兴阳永裕远云长振正"
          "恒茂松柏清源泉林岚涛鸿通达吉顺德仁义礼智")
_SUFFIX = {"库尔勒市": "市", "焉耆回族自治县": "回族自治县", "库尔勒经济技术开发区": "经济技术开发区"}
_SEAT = {"652801": (41.726, 86.175), "652822": (41.777, 84.252), "652823": (41.344, 86.261),
         "652824": (39.017, 88.168), "652825": (38.147, 85.529), "652826": (42.059, 86.574),
         "652827": (42.323, 86.384), "652828": (42.284, 86.876), "652829": (41.980, 86.632),
         "652871": (41.760, 86.230)}


@dataclasses.dataclass(frozen=True)
class Unit:
    """A reporting unit of a generated prefecture (the columns of counties.csv)."""

    code: str
    name: str
    aliases: tuple[str, ...]
    seat_lat: float
    seat_lon: float
    copy: int           # the prefecture copy it belongs to (2..N)
    stands_for: str     # the demo unit whose world it carries


def _stems() -> list[str]:
    """Every two-character stem, in a fixed shuffled order, none clashing with a configured unit."""
    from pipelines.counties import load_counties

    taken = [t for c in load_counties() for t in (c.name, *c.aliases)]
    stems = [a + b for a in _CHARS for b in _CHARS if a != b]
    random.Random("scale-stems").shuffle(stems)
    return [s for s in stems if not any(s in t or t in s for t in taken)]


def units_for(copy: int) -> list[Unit]:
    """The ten units of generated prefecture ``copy`` (2 or more), in the demo's unit order."""
    if copy < 2:
        raise ValueError("copy 1 is the demo prefecture itself")
    stems = _stems()
    need = (copy - 1) * len(world.COUNTIES)
    if need > len(stems):
        raise ValueError(f"at most {len(stems) // len(world.COUNTIES) + 1} prefectures can be generated")
    out = []
    for i, county in enumerate(world.COUNTIES):
        stem = stems[(copy - 2) * len(world.COUNTIES) + i]
        suffix = _SUFFIX.get(county, "县")
        aliases = (stem,) + ((f"{stem}县",) if suffix == "回族自治县" else (f"{stem}经开区",) if suffix.endswith("开发区") else ())
        lat, lon = _SEAT[world.CODES[county]]
        out.append(Unit(f"9{copy:03d}{i + 1:02d}", stem + suffix, aliases, lat, lon, copy, county))
    return out


def _rename(obj, names: dict[str, str], codes: dict[str, str], seen: set[int]):
    """``obj`` with every county name (whole strings, and inside texts) and every project-code
    prefix replaced; dataclasses are changed in place, containers rebuilt."""
    if isinstance(obj, str):
        if obj in names:
            return names[obj]
        for old, new in codes.items():
            if obj.startswith(old + "-"):
                return new + obj[len(old):]
        for old in sorted(names, key=len, reverse=True):
            if old in obj:
                obj = obj.replace(old, names[old])
        return obj
    if isinstance(obj, dict):
        return {_rename(k, names, codes, seen): _rename(v, names, codes, seen) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rename(v, names, codes, seen) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_rename(v, names, codes, seen) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if id(obj) in seen:
            return obj
        seen.add(id(obj))
        for f in dataclasses.fields(obj):
            setattr(obj, f.name, _rename(getattr(obj, f.name), names, codes, seen))
        return obj
    return obj


@contextlib.contextmanager
def _as_units(units: list[Unit]) -> Iterator[None]:
    """Render and compute truth with ``units`` in place of the demo's unit names."""
    names = tuple(u.name for u in units)
    patches = [(render, "COUNTIES", names), (truth, "COUNTIES", names),
               (render, "SHORT", {u.name: u.name for u in units}),
               (render, "COUNTY_WRITTEN", {u.name: (u.name, *u.aliases[1:]) for u in units})]
    saved = [(mod, attr, getattr(mod, attr)) for mod, attr, _ in patches]
    try:
        for mod, attr, value in patches:
            setattr(mod, attr, value)
        yield
    finally:
        for mod, attr, value in saved:
            setattr(mod, attr, value)


def _copy(out_dir: Path, copy: int, seed: int, last_month: str) -> list[Path]:
    """Write generated prefecture ``copy`` under ``out_dir``; returns its workbook paths."""
    units = units_for(copy)
    w = world.build_world(seed + copy - 1, last_month)
    _rename(w, {u.stands_for: u.name for u in units}, {world.CODES[u.stands_for]: u.code for u in units}, set())
    out_dir.mkdir(parents=True, exist_ok=True)
    with _as_units(units):
        paths = render.render_all(w, out_dir)
        truth.write_truth(truth.compute_truth(w), out_dir / "truth.csv")
    return paths


def write_units(units: list[Unit], path: Path) -> None:
    """The generated units in the columns of counties.csv (and the copy they belong to)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(("code", "name", "aliases", "seat_lat", "seat_lon", "prefecture_copy"))
        for u in units:
            out.writerow((u.code, u.name, "|".join(u.aliases), u.seat_lat, u.seat_lon, u.copy))


def generate_scaled(out_dir: Path, scale: int, seed: int = 2021, last_month: str = "2025-10",
                    workers: int | None = None) -> tuple[list[Path], list[Unit]]:
    """Write ``scale`` prefectures' worth of workbooks under ``out_dir`` (``州001`` is the demo
    prefecture, ``州002``… generated ones, each with its ``truth.csv``); returns the workbook
    paths and the generated units (also written to ``out_dir/units.csv``)."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = generate(out_dir / "州001", seed=seed, last_month=last_month)
    units = [u for k in range(2, scale + 1) for u in units_for(k)]
    jobs = [(out_dir / f"州{k:03d}", k, seed, last_month) for k in range(2, scale + 1)]
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for got in pool.map(_copy_job, jobs):
                paths += got
    else:
        for job in jobs:
            paths += _copy_job(job)
    write_units(units, out_dir / "units.csv")
    log.info("%d 个州的演示数据:%d 个文件,用时 %.1f 秒", scale, len(paths), time.perf_counter() - t0)
    return paths, units


def _copy_job(job: tuple) -> list[Path]:
    return _copy(*job)
