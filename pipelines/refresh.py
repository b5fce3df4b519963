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
one transaction, so that the warehouse holds either all of it or none. A completed refresh is
recorded in ``marts.refresh_state`` (how many raw files it covered, a hash of each configuration
file it read); :func:`stale_reasons` compares that record with the warehouse and the
configuration as they are now, so that no export serves results older than either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable

import duckdb

from pipelines import constants, faults, identity
from pipelines import incremental as incr
from pipelines.scoring import store as scores
from pipelines.signals import engine as signals
from pipelines.settings import CONFIG_DIR
from pipelines.warehouse import model_tables, run_models, schema_behind, table_exists

__all__ = ["STEPS", "refresh", "plain_models", "stale_reasons", "raw_ahead", "settings_fingerprint"]

log = logging.getLogger(__name__)

STEPS = ("settings", "core", "links", "marts", "verdicts", "signals", "scores")


def plain_models() -> tuple[str, ...]:
    """The models of the marts step: every intermediate and marts model but those the signals and
    scores steps build."""
    later = set(signals.MODELS) | set(scores.MODELS)
    return tuple(t for t in model_tables("intermediate", "marts") if t not in later)


def refresh(con: duckdb.DuckDBPyConnection, await_verdicts: Callable[[], bool] | None = None,
            timings: dict[str, float] | None = None, only: tuple[str, ...] = STEPS,
            incremental: bool = False) -> bool:
    """Run the steps in order, in the caller's transaction. ``await_verdicts`` answers whether
    every row of the batch being loaded passed validation; when it answers False the refresh
    stops there and returns False (the caller rolls back). ``only`` runs a subset of the steps,
    still in their order (``renovation flags`` after a change of the configuration: settings,
    marts, signals). ``incremental`` (an import's refresh): when the files loaded since the last
    refresh are one county's monthly reports and nothing else changed, recompute what they can
    change for that county only (pipelines.incremental; the result equals the full refresh's).
    Returns True when every step ran."""
    timings = timings if timings is not None else {}
    full = set(only) >= set(STEPS)
    # RENOVATION_FULL_REFRESH=1: every import refreshes in full (to compare, or should a doubt arise)
    incremental = incremental and full and not os.environ.get("RENOVATION_FULL_REFRESH")
    scope = incr.decide(con, _last_state(con), settings_fingerprint()) if incremental else None
    timings["refresh.incremental"] = float(scope is not None)
    steps: dict[str, Callable[[], object]] = {
        "settings": lambda: None if scope else constants.publish(con),
        "core": lambda: run_models(con, model_tables("core")),
        "links": lambda: identity.refresh_reports(con, scope.county) if scope else identity.refresh(con),
        "marts": lambda: run_models(con, plain_models()),
        "verdicts": await_verdicts or (lambda: True),
        "signals": lambda: signals.refresh(con, timings),
        "scores": lambda: scores.refresh(con),
    }
    token = incr.install(scope)
    try:
        for name in (s for s in STEPS if s in only):
            t = time.perf_counter()
            outcome = steps[name]()
            timings[f"refresh.{name}"] = time.perf_counter() - t
            if name == "verdicts" and outcome is False:
                log.info("refresh stopped: rows of the batch failed validation")
                return False
            faults.reached(f"refresh.{name}")
    finally:
        incr.uninstall(token)
        if scope is not None:
            scope.close(con)
            timings["refresh.scoped_to_end"] = float(scope.active)  # not cut short by the clock
    if full:  # a partial refresh leaves other layers as they were: not recorded
        _record(con)
    return True


# configuration the refresh does not read (header aliases; waits for the warehouse): a change needs none
_READING_ONLY = frozenset({"headers.toml", "warehouse.toml"})


def settings_fingerprint() -> dict[str, str]:
    """SHA-256 of each configuration file the refresh may read (thresholds, scoring scheme, …)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(CONFIG_DIR.iterdir())
            if p.is_file() and p.suffix in (".toml", ".csv") and p.name not in _READING_ONLY}


def _raw_files(con: duckdb.DuckDBPyConnection) -> tuple[int, int | None]:
    return con.execute("select count(*), max(file_id) from raw.submissions").fetchone()


def _record(con: duckdb.DuckDBPyConnection) -> None:
    files, last = _raw_files(con)
    con.execute("insert into marts.refresh_state values (?, ?, ?, ?)",
                [dt.datetime.now(), files, last, json.dumps(settings_fingerprint(), sort_keys=True)])


def _last_state(con: duckdb.DuckDBPyConnection) -> tuple | None:
    if not table_exists(con, "marts.refresh_state"):
        return None
    return con.execute("select raw_files, last_file_id, settings from marts.refresh_state "
                       "order by refreshed_at desc limit 1").fetchone()


def _legacy_current(con: duckdb.DuckDBPyConnection) -> bool:
    """A warehouse made before refreshes were recorded: current when the signals were computed
    after the last file was loaded."""
    if not (table_exists(con, "marts.signal_rule_counts") and table_exists(con, "core.submissions")):
        return False
    computed, ingested = con.execute("select (select max(computed_at) from marts.signal_rule_counts), "
                                     "(select max(ingested_at) from raw.submissions)").fetchone()
    return computed is not None and ingested is not None and computed >= ingested


def raw_ahead(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether raw holds files the derived layers were not refreshed with."""
    files, last = _raw_files(con)
    state = _last_state(con)
    if state is None:
        return bool(files) and not _legacy_current(con)
    return (files, last) != (state[0], state[1])


def stale_reasons(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Why the derived layers do not reflect raw and the configuration as they are now (Chinese;
    empty when they do)."""
    if not table_exists(con, "raw.submissions"):
        return []
    reasons = schema_behind(con)  # a warehouse of an earlier version: opening it for the refresh upgrades it
    files, last = _raw_files(con)
    state = _last_state(con)
    if state is None:
        if not files or _legacy_current(con):  # made by an older version: the settings used are unknown
            return reasons
        return [*reasons, f"汇总结果早于原始层(原始层有 {files} 个文件,没有刷新记录)"]
    if (files, last) != (state[0], state[1]):
        reasons.append(f"原始层现有 {files} 个文件,汇总结果只包含最近一次刷新时的 {state[0]} 个")
    recorded = json.loads(state[2])
    changed = sorted(n for n, h in settings_fingerprint().items() if recorded.get(n) != h)
    changed += sorted(n for n in recorded if n not in settings_fingerprint())
    if changed:
        reasons.append(f"配置文件 {'、'.join(changed)} 在最近一次刷新之后已修改(阈值或评分方案可能已变)")
    return reasons
