"""Python steps that build mart tables after the SQL marts (signals, scores).

Each entry names a module with a ``refresh(con)`` function. They run inside the refresh
transaction of :func:`pipelines.warehouse.refresh`, in this order. A module may name, in
``REBUILDS``, the prefixes of the marts models its ``refresh`` rebuilds itself; the SQL marts
step of the refresh leaves those out rather than build them twice.
"""

from __future__ import annotations

import importlib

import duckdb

STEPS: tuple[str, ...] = ("pipelines.signals", "pipelines.scoring")


def rebuilt_models() -> tuple[str, ...]:
    """Name prefixes of the marts models that some step rebuilds after the SQL marts step."""
    out: list[str] = []
    for name in STEPS:
        out += getattr(importlib.import_module(name), "REBUILDS", ())
    return tuple(out)


def run_step(name: str, con: duckdb.DuckDBPyConnection) -> None:
    importlib.import_module(name).refresh(con)


def after_marts(con: duckdb.DuckDBPyConnection) -> None:
    for name in STEPS:
        run_step(name, con)
