"""The demo data set: a realistic, deterministic prefecture of ledgers, plans and monthly reports.

``generate`` draws the world from a seed (:mod:`demogen.world`), writes it as the
county workbooks (:mod:`demogen.render`) and writes ``truth.csv``, every signal the
rules of ``flags.md`` must raise on it (:mod:`demogen.truth`). The same seed gives
byte-identical files; nothing depends on the clock.
"""

from __future__ import annotations

import logging
import pathlib
import time

from demogen.render import render_all
from demogen.truth import compute_truth, write_truth
from demogen.world import build_world

__all__ = ["generate"]

log = logging.getLogger(__name__)


def _remove_stale(out_dir: pathlib.Path) -> None:
    """Workbooks of an earlier run (another seed) in our own folders would mix with this one."""
    from demogen.world import COUNTIES

    for county in COUNTIES:
        for kind in ("台账", "计划", "月报"):
            d = out_dir / county / kind
            if d.is_dir():
                for p in d.rglob("*"):
                    if p.is_file() and p.suffix in (".xlsx", ".xls", ".csv"):
                        p.unlink()


def generate(out_dir: pathlib.Path, seed: int = 2021, last_month: str = "2025-10") -> list[pathlib.Path]:
    """Write the demo workbooks and ``truth.csv`` into ``out_dir``; return the workbook paths."""
    t0 = time.perf_counter()
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale(out_dir)
    world = build_world(seed, last_month)
    paths = render_all(world, out_dir)
    write_truth(compute_truth(world), out_dir / "truth.csv")
    log.info("演示数据:%d 个文件,用时 %.1f 秒", len(paths), time.perf_counter() - t0)
    return paths
