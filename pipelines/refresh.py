"""The refresh: rebuild every derived table from raw and staging, as one explicit list of steps.

    settings  every number of pipelines/config/*.toml into ``marts.settings`` (pipelines.constants),
              which the SQL models read
    core      SQL models of ``warehouse/core`` (the current view of submissions, plan and report rows)
    links     the identity engine (pipelines/identity): core.identity_links (plan rows to ledger
              communities, report rows to plan rows, plan rows to plan rows) and core.identity_entities
    marts     SQL models of ``warehouse/intermediate`` and ``warehouse/marts`` that no later step builds (the data clock, progress,
              indicators)
    verdicts  wait for the batch's validation verdicts (an import's rows may still be validated
              by the GX service); stop here when a row failed
    signals   every rule of flags.md into ``marts.signals``, with coverage, risk and verdicts
    scores    the annual check and biennial evaluation into ``marts.scores``

The refresh runs in the caller's transaction: an import writes raw and staging and refreshes in
one transaction, so that the warehouse holds either all of it or none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import duckdb

from pipelines import constants, identity
from pipelines.scoring import store as scores
from pipelines.signals import engine as signals
from pipelines.warehouse import model_tables, run_models

__all__ = ["STEPS", "refresh", "plain_models"]

log = logging.getLogger(__name__)

STEPS = ("settings", "core", "links", "marts", "verdicts", "signals", "scores")


def plain_models() -> tuple[str, ...]:
    """The models of the marts step: every intermediate and marts model but those the signals and
    scores steps build."""
    later = set(signals.MODELS) | set(scores.MODELS)
    return tuple(t for t in model_tables("intermediate", "marts") if t not in later)


def refresh(con: duckdb.DuckDBPyConnection, await_verdicts: Callable[[], bool] | None = None,
            timings: dict[str, float] | None = None, only: tuple[str, ...] = STEPS) -> bool:
    """Run the steps in order, in the caller's transaction. ``await_verdicts`` answers whether
    every row of the batch being loaded passed validation; when it answers False the refresh
    stops there and returns False (the caller rolls back). ``only`` runs a subset of the steps,
    still in their order (``renovation flags`` after a change of the configuration: settings,
    marts, signals). Returns True when every step ran."""
    timings = timings if timings is not None else {}
    steps: dict[str, Callable[[], object]] = {
        "settings": lambda: constants.publish(con),
        "core": lambda: run_models(con, model_tables("core")),
        "links": lambda: identity.refresh(con),
        "marts": lambda: run_models(con, plain_models()),
        "verdicts": await_verdicts or (lambda: True),
        "signals": lambda: signals.refresh(con),
        "scores": lambda: scores.refresh(con),
    }
    for name in (s for s in STEPS if s in only):
        t = time.perf_counter()
        outcome = steps[name]()
        timings[f"refresh.{name}"] = time.perf_counter() - t
        if name == "verdicts" and outcome is False:
            log.info("refresh stopped: rows of the batch failed validation")
            return False
    return True
