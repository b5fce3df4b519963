"""Auditors' verdicts on signals, kept append-only in ``raw.verdicts`` under the stable ``signal_id``.

A verdict (已确认 / 已排除 / 需补充材料, with a note) is given under an auditor's account; there is
no free-text name. A 已确认 or 已排除 on a high-severity signal is a proposal until a second
auditor confirms it (复核); until then the signal shows 待复核 (``marts.verdict_current``). A
review confirms or rejects the latest verdict when it awaits review; the proposer cannot review
their own. Every act is a new row: the history (``marts.verdict_history``) is never rewritten.
Who may act is decided by the access layer (``pipelines.read.actions``), which passes the account.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import duckdb

from pipelines.signals.engine import run_downstream_models

__all__ = ["VERDICTS", "NEEDS_REVIEW", "set_verdict", "review_verdict"]

VERDICTS = ("已确认", "已排除", "需补充材料")
#: verdicts that need a second auditor on a high-severity signal
NEEDS_REVIEW = ("已确认", "已排除")


def _act_id() -> str:
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


def _signal(con: duckdb.DuckDBPyConnection, signal_id: str) -> tuple[str, str | None]:
    row = con.execute(
        "select rule, severity from marts.signals where signal_id = ?"
        " union all select rule, null from raw.signal_keys where signal_id = ? limit 1",
        [signal_id, signal_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"找不到风险线索 {signal_id}")
    return row[0], row[1]


def _name(user_name: str) -> str:
    if not user_name or not str(user_name).strip():
        raise ValueError("核查结论须以登录的审计人员账号给出")
    return str(user_name).strip()


def set_verdict(con: duckdb.DuckDBPyConnection, signal_id: str, verdict: str, user_name: str,
                note: str | None = None, display_name: str | None = None, decided_at: dt.datetime | None = None) -> bool:
    """Record a verdict under the account ``user_name``; returns whether it awaits review (复核)."""
    if verdict not in VERDICTS:
        raise ValueError(f"核查结论须为 {'/'.join(VERDICTS)} 之一,而不是「{verdict}」")
    user = _name(user_name)
    rule, severity = _signal(con, signal_id)
    needs_review = severity == "high" and verdict in NEEDS_REVIEW
    con.execute(
        """insert into raw.verdicts (signal_id, verdict, note, decided_by, decided_at, rule, act_id, act,
               decided_by_display, severity, needs_review)
           values (?, ?, ?, ?, ?, ?, ?, 'verdict', ?, ?, ?)""",
        [signal_id, verdict, (note or "").strip() or None, user, decided_at or dt.datetime.now(), rule, _act_id(),
         display_name or user, severity, needs_review],
    )
    run_downstream_models(con)
    return needs_review


def review_verdict(con: duckdb.DuckDBPyConnection, signal_id: str, agree: bool, user_name: str,
                   note: str | None = None, display_name: str | None = None, decided_at: dt.datetime | None = None,
                   expected_act: str | None = None) -> str:
    """Confirm (``agree``) or reject the verdict awaiting review on the signal; returns that verdict.

    ``expected_act`` is the proposal the reviewer was shown (``marts.verdict_current.proposed_act_id``):
    should another auditor have replaced it meanwhile, the review is refused rather than applied to a
    verdict the reviewer never saw."""
    user = _name(user_name)
    rule, severity = _signal(con, signal_id)
    pending = con.execute(
        """select act_id, verdict, decided_by, decided_by_label from marts.verdict_history
           where signal_id = ? and is_pending and act = 'verdict'
           qualify act_seq = max(act_seq) over ()""", [signal_id]).fetchone()
    latest_pending = con.execute("select is_pending from marts.verdict_current where signal_id = ?", [signal_id]).fetchone()
    if pending is None or not (latest_pending and latest_pending[0]):
        raise ValueError("这条线索已没有待复核的结论(可能已由其他审计人员复核或更改),请查看最新的核查记录")
    act_id, verdict, proposer, proposer_label = pending
    if expected_act is not None and act_id != expected_act:
        raise ValueError(f"这条线索待复核的结论已有变动,现为 {proposer_label or proposer} 提出的「{verdict}」;"
                         "未记录复核,请查看后重新复核")
    if proposer == user:
        raise ValueError("复核须由另一名审计人员进行,不能复核自己提出的结论")
    con.execute(
        """insert into raw.verdicts (signal_id, verdict, note, decided_by, decided_at, rule, act_id, act,
               decided_by_display, severity, needs_review, review_of, review_outcome)
           values (?, ?, ?, ?, ?, ?, ?, 'review', ?, ?, false, ?, ?)""",
        [signal_id, verdict, (note or "").strip() or None, user, decided_at or dt.datetime.now(), rule, _act_id(),
         display_name or user, severity, act_id, "confirm" if agree else "reject"],
    )
    run_downstream_models(con)
    return verdict

