"""Auditors' verdicts on signals, kept append-only in ``raw.verdicts`` under the stable ``signal_id``."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.signals.engine import run_downstream_models

__all__ = ["VERDICTS", "set_verdict"]

VERDICTS = ("已核实", "已排除", "待核查")


def set_verdict(con: duckdb.DuckDBPyConnection, signal_id: str, verdict: str, decided_by: str,
                note: str | None = None, decided_at: dt.datetime | None = None) -> None:
    """Record an auditor's verdict on a signal (已核实 / 已排除 / 待核查); the latest one is in force."""
    if verdict not in VERDICTS:
        raise ValueError(f"核查结论须为 {'/'.join(VERDICTS)} 之一,而不是「{verdict}」")
    if not decided_by or not str(decided_by).strip():
        raise ValueError("须注明核查人")
    rows = con.execute(
        "select rule from marts.signals where signal_id = ? union all select rule from raw.signal_keys where signal_id = ?",
        [signal_id, signal_id],
    ).fetchall()
    if not rows:
        raise ValueError(f"找不到风险线索 {signal_id}")
    con.execute(
        "insert into raw.verdicts (signal_id, verdict, note, decided_by, decided_at, rule) values (?, ?, ?, ?, ?, ?)",
        [signal_id, verdict, note, str(decided_by).strip(), decided_at or dt.datetime.now(), rows[0][0]],
    )
    run_downstream_models(con)
