"""Literal-row warehouses for the signal tests: a builder that inserts submissions and staging
rows with sensible defaults, then builds core, the identity links and the signals."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from typing import Any

import duckdb

from backends import on_backend
from pipelines import constants, identity, refresh, signals
from pipelines.warehouse import init_schema, model_tables, run_models

KRL, LT, YL, JKQ = "652801", "652822", "652823", "652871"
D = dt.date.fromisoformat

LEDGER_DEFAULTS = dict(street=None, community=None, address=None, build_year=1995, buildings=4, households=100,
                       area_m2=8000.0, property_owner=None, has_property_mgmt=None, pct_elderly=None,
                       pct_willing=None, renovated_year=None, fill_date=None)
PLAN_DEFAULTS = dict(street=None, community=None, address=None, build_year=1995, buildings=4, households=100,
                     area_m2=8000.0, categories="基础类", content=None, total_invest_wan_yuan=300.0,
                     central_subsidy_wan_yuan=100.0, region_subsidy_wan_yuan=0.0, local_funds_wan_yuan=0.0,
                     resident_funds_wan_yuan=0.0, social_funds_wan_yuan=0.0, utility_funds_wan_yuan=0.0,
                     elevators=0, planned_start_date=None, planned_end_date=None, notice_start_date=None,
                     notice_end_date=None, notice_days_given=15, notice_days=15, fill_date=None)
REPORT_DEFAULTS = dict(project_code=None, households=100, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=100.0,
                       region_subsidy_wan_yuan=None, start_date=None, pct_progress=0.0, invest_done_wan_yuan=0.0,
                       paid_wan_yuan=0.0, finish_date=None, accept_date=None, pct_satisfaction=None,
                       has_property_mgmt=None, elevators=None, remark=None)


class Warehouse:
    """A DuckDB warehouse in memory, filled file by file with literal rows."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        init_schema(self.con)
        self._ids = itertools.count(1)
        self._t0 = dt.datetime(2026, 1, 1)

    def _file(self, kind: str, name: str, fill_date: str | None, report_month: str | None = None) -> int:
        fid = next(self._ids)
        h = hashlib.sha256(f"{fid}|{name}".encode()).hexdigest()
        self.con.execute(
            "insert into raw.submissions values (?, ?, ?, ?, 0, ?, ?, 1, ?, ?, null, 'b1', ?, 0, 0)",
            [fid, h, name, name, kind, {"ledger": "台账", "plan": "计划", "monthly": "月报"}[kind],
             D(fill_date) if fill_date else None, D(report_month + "-01") if report_month else None,
             self._t0 + dt.timedelta(minutes=fid)],
        )
        return fid

    def _insert(self, table: str, fid: int, sheet: str, rows: list[dict[str, Any]]) -> None:
        cols = [r[1] for r in self.con.execute(f"pragma table_info('{table}')").fetchall()]
        for i, row in enumerate(rows):
            values = {"file_id": fid, "sheet_name": sheet, "row_number": i + 3, "is_rejected": False, **row}
            values.setdefault("county_raw", values.get("county_code"))
            self.con.execute(
                f"insert into {table} ({', '.join(values)}) values ({', '.join('?' for _ in values)})",
                list(values.values()),
            )
        del cols

    def ledger(self, county: str, rows: list[dict[str, Any]], fill_date: str = "2020-09-01",
               name: str | None = None) -> int:
        fid = self._file("ledger", name or f"{county}台账.xlsx", fill_date)
        self._insert("staging.ledger_rows", fid, "台账", [{**LEDGER_DEFAULTS, "county_code": county, **r} for r in rows])
        return fid

    def plan(self, county: str, year: int, rows: list[dict[str, Any]], fill_date: str | None = None,
             name: str | None = None) -> int:
        fill = fill_date or f"{year - 1}-10-20"
        fid = self._file("plan", name or f"{county}{year}年计划.xlsx", fill)
        self._insert("staging.plan_rows", fid, "计划",
                     [{**PLAN_DEFAULTS, "county_code": county, "plan_year": year, "fill_date": D(fill), **r} for r in rows])
        return fid

    def report(self, county: str, month: str, rows: list[dict[str, Any]], fill_date: str | None = "auto",
               name: str | None = None) -> int:
        m = D(month + "-01")
        if fill_date == "auto":
            nxt = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=3)
            fill_date = nxt.isoformat()
        fid = self._file("monthly", name or f"{county}月报{month}.xlsx", fill_date, month)
        self._insert("staging.report_rows", fid, "月报",
                     [{**REPORT_DEFAULTS, "county_code": county, "report_month": m,
                       "fill_date": D(fill_date) if fill_date else None, "plan_year": m.year, **r} for r in rows])
        return fid

    def build(self, link: bool = True) -> duckdb.DuckDBPyConnection:
        self.con = on_backend(self.con)  # the literal rows go in in memory; the refresh runs on the backend under test
        # the refresh's steps (pipelines.refresh), links by the linker only when asked
        constants.publish(self.con)
        run_models(self.con, model_tables("core"))
        if link:
            identity.refresh(self.con)
        run_models(self.con, refresh.plain_models())
        signals.refresh(self.con)
        return self.con

    def signals(self, rule: str | None = None) -> list[dict[str, Any]]:
        sql = "select * from marts.signals" + (" where rule = ?" if rule else "") + " order by rule, county_code, period, row_number"
        cur = self.con.execute(sql, [rule] if rule else [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def counts(self, rule: str) -> tuple[int, int]:
        """(assessable, flagged) of a rule in the last run."""
        return self.con.execute(
            "select count_assessable, count_flagged from marts.signal_rule_counts where rule = ?", [rule]
        ).fetchone()
