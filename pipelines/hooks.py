"""Python steps that build mart tables after the SQL marts (signals, scores).

Each entry names a module with a ``refresh(con)`` function. They run inside the refresh
transaction of :func:`pipelines.warehouse.refresh`, in this order.
"""

from __future__ import annotations

import importlib

import duckdb

STEPS: tuple[str, ...] = ("pipelines.signals", "pipelines.scoring")


def run_step(name: str, con: duckdb.DuckDBPyConnection) -> None:
    importlib.import_module(name).refresh(con)


def after_marts(con: duckdb.DuckDBPyConnection) -> None:
    for name in STEPS:
        run_step(name, con)
