"""scores.csv for every year of the demo set against an independent recomputation.

The recomputation below reads the core tables row by row in plain Python, following
evaluation.md sentence by sentence, and shares no code with the SQL marts or pipelines/scoring.py:
two implementations that agree on 60 county-years are unlikely to share a misreading."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import pytest

from pipelines import scoring

pytestmark = pytest.mark.slow


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


class Recompute:
    """evaluation.md by hand, over the core tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.plans = _rows(con, "select * from core.plan_rows")
        self.link = {r["from_id"]: r["to_id"]
                     for r in _rows(con, "select * from core.identity_links where kind = 'report_plan' and is_match")}
        self.reports = _rows(con, "select * from core.report_rows")
        subs = _rows(con, "select * from core.submissions where kind = 'monthly'")
        self.as_of = latest_due_month(_rows(con, "select * from core.submissions"))
        self.first_fill = {(s["county_code"], s["period"]): s["fill_date"] for s in subs if s["is_first_submission"]}
        self.ledger = _rows(con, "select * from core.ledger_communities")
        self.names = {r["county_code"]: r["county_name"] for r in _rows(con, "select * from staging.counties")}

    def year_end(self, y: int) -> dict[str, dict]:
        state: dict[str, dict] = {}
        for r in self.reports:
            pid = self.link.get(r["report_row_id"])
            if pid and r["report_month"] <= min(dt.date(y, 12, 1), self.as_of):
                if pid not in state or r["report_month"] > state[pid]["report_month"]:
                    state[pid] = r
        return state

    def cutoff(self, y: int) -> dt.date:
        """31 Dec of Y, or the end of the latest due month while Y is in progress."""
        if self.as_of < dt.date(y, 12, 1):
            nxt = dt.date(self.as_of.year + self.as_of.month // 12, self.as_of.month % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date(y, 12, 31)

    def annual(self, c: str, y: int) -> float | None:
        plan = [p for p in self.plans if p["county_code"] == c and p["plan_year"] == y]
        if not plan:
            return None
        state = self.year_end(y)
        r = lambda p: state.get(p["plan_row_id"]) or {}
        on = lambda d, lim: d is not None and d <= lim
        dec31, nov30 = self.cutoff(y), min(dt.date(y, 11, 30), self.cutoff(y))
        points, maxima = [], []

        def add(value, max_points, scale=1):
            if value is not None:
                points.append(max_points * value / scale)
                maxima.append(max_points)

        add(sum(on(r(p).get("start_date"), dec31) or (r(p).get("pct_progress") or 0) > 0 for p in plan) / len(plan), 20)
        subsidised = [p for p in plan if (p["central_subsidy_wan_yuan"] or 0) > 0] or plan
        add(sum(on(r(p).get("finish_date"), nov30) for p in subsidised) / len(subsidised), 20)
        done_inv = sum(r(p).get("invest_done_wan_yuan") or 0 for p in plan)
        planned = sum(p["total_invest_wan_yuan"] or 0 for p in plan)
        add(min(1, done_inv / planned) if planned else None, 15)
        paid = sum(r(p).get("paid_wan_yuan") or 0 for p in plan)
        subsidy = sum((p["central_subsidy_wan_yuan"] or 0) + (p["region_subsidy_wan_yuan"] or 0) for p in plan)
        add(min(1, paid / subsidy) if subsidy else None, 10)
        rated = [p for p in plan if on(r(p).get("accept_date"), dec31) and r(p).get("pct_satisfaction") is not None]
        add(sum(p["households"] * r(p)["pct_satisfaction"] for p in rated) / sum(p["households"] for p in rated)
            if rated else None, 15, 100)
        completed = [p for p in plan if on(r(p).get("finish_date"), dec31)]
        add(sum(p["households"] for p in completed) / sum(p["households"] for p in plan), 5)
        add(sum(bool(r(p).get("has_property_mgmt")) for p in completed) / len(completed) if completed else None, 5)
        add(sum((p["notice_days"] or 0) >= 14 for p in plan) / len(plan), 5)
        months = [m for m in range(1, 13) if dt.date(y, m, 1) <= self.as_of]

        def on_time(m: int) -> bool:
            key = (c, f"{y}-{m:02d}")
            if key not in self.first_fill:
                return False
            due = dt.date(y + 1, 1, 5) if m == 12 else dt.date(y, m + 1, 5)
            return self.first_fill[key] is None or self.first_fill[key] <= due

        add(sum(on_time(m) for m in months) / len(months) if months else None, 5)
        return sum(points) / sum(maxima) * 100

    def biennial(self, c: str, y: int) -> float | None:
        prev, curr = self.annual(c, y - 1), self.annual(c, y)
        if prev is None and curr is None:
            return None
        present = [t for t in (prev, curr) if t is not None]
        mean = sum(present) / len(present)
        t = sum(x["households"] for x in self.ledger if x["county_code"] == c and x["build_year"] <= 2000)
        state = self.year_end(y)
        done = sum(p["households"] for p in self.plans
                   if p["county_code"] == c and p["plan_year"] <= y
                   and (state.get(p["plan_row_id"]) or {}).get("finish_date") is not None
                   and state[p["plan_row_id"]]["finish_date"] <= self.cutoff(y))
        if t == 0:
            return mean
        progress = min(1, done / (t * (y - 2019) / 6))
        return (0.8 * mean + 20 * progress) / 100 * 100


def latest_due_month(submissions: list[dict]) -> dt.date:
    """flags.md, "The data clock", by hand: the last month M whose deadline (the 5th of M+1) is on or
    before the newest 填报日期 of any submission; without any 填报日期, the newest report month."""
    fills = [s["fill_date"] for s in submissions if s["fill_date"] is not None]
    if not fills:
        return max(dt.date.fromisoformat(s["period"] + "-01") for s in submissions if s["kind"] == "monthly")
    as_of = max(fills)
    m = dt.date(as_of.year, as_of.month, 1)
    while True:
        nxt = dt.date(m.year + m.month // 12, m.month % 12 + 1, 1)
        if nxt.replace(day=5) <= as_of:
            return m
        m = dt.date(m.year - (m.month == 1), (m.month - 2) % 12 + 1, 1)


def _csv(db: Path, year: int, kind: str, tmp_path: Path) -> list[dict[str, str]]:
    out = tmp_path / f"{kind}-{year}.csv"
    assert scoring.run_scores(db, year, kind, out) == 0
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))


def test_every_demo_year_matches_the_recomputation(demo_db, tmp_path):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        ref = Recompute(con)
    finally:
        con.close()
    years = sorted({p["plan_year"] for p in ref.plans})
    assert years == [2020, 2021, 2022, 2023, 2024, 2025]
    compared = 0
    for y in years:
        rows = _csv(demo_db, y, "annual", tmp_path)
        got = {r["county"]: float(r["value"]) for r in rows if r["indicator"] == "total"}
        for code, name in ref.names.items():
            want = ref.annual(code, y)
            if want is None:
                assert name not in got
                continue
            assert got[name] == pytest.approx(want, abs=5e-5), (y, name)
            compared += 1
    assert compared == 60
    for y in (2021, 2023, 2025):
        rows = _csv(demo_db, y, "biennial", tmp_path)
        got = {r["county"]: float(r["value"]) for r in rows if r["indicator"] == "total"}
        for code, name in ref.names.items():
            want = ref.biennial(code, y)
            assert (name in got) == (want is not None)
            if want is not None:
                assert got[name] == pytest.approx(want, abs=5e-5), (y, name)


def test_demo_year_in_progress_and_no_data(demo_db, tmp_path):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        as_of = f"{latest_due_month(_rows(con, 'select * from core.submissions')):%Y-%m}"
        labels = {r[0] for r in con.execute(
            "select distinct as_of_label from marts.scores where year = ?", [int(as_of[:4])]).fetchall()}
    finally:
        con.close()
    if as_of.endswith("-12"):
        assert labels == {""}
    else:
        assert labels == {f"截至{as_of}"}
    assert scoring.run_scores(demo_db, 2019, "annual", tmp_path / "x.csv") == 1
