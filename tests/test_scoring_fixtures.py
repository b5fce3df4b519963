"""A tiny warehouse with literal rows for the scoring and report tests (hand-worked numbers in
tests/test_scoring.py). Imported by the test modules; it holds no tests itself."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from backends import on_backend
from pipelines import constants
from pipelines.warehouse import init_schema, model_tables, models, run_models

LUNTAI, YULI, RUOQIANG = "652822", "652823", "652824"  # 轮台县, 尉犁县, 若羌县

SCORING_MODELS = ("marts.data_clock", "marts.data_clock_months", "intermediate.indicator_rows", "intermediate.indicator_months",
                  "intermediate.score_inputs")


@dataclass
class Builder:
    """Literal rows into raw.submissions and staging.*, then core models, links and our marts."""

    con: duckdb.DuckDBPyConnection = field(default_factory=duckdb.connect)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _links: list[tuple[tuple[int, int], tuple[int, int] | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        init_schema(self.con)

    def submission(self, kind: str, fill: date | None, month: date | None = None) -> int:
        file_id = next(self._ids)
        self.con.execute(
            "insert into raw.submissions values (?, ?, ?, ?, 1, ?, ?, 1, ?, ?, '', 'b1', ?, 1, 0)",
            [file_id, f"hash{file_id}", f"file{file_id}.xlsx", f"/in/file{file_id}.xlsx", kind,
             {"ledger": "台账", "plan": "计划", "monthly": "月报"}[kind], fill, month,
             datetime(2026, 1, 1, 0, 0, file_id % 60)],
        )
        return file_id

    def ledger(self, file_id: int, row: int, county: str, name: str, build_year: int, households: int) -> None:
        self.con.execute(
            "insert into staging.ledger_rows (file_id, sheet_name, row_number, is_rejected, county_code, name, "
            "build_year, buildings, households, area_m2) values (?, '台账', ?, false, ?, ?, ?, 3, ?, 5000)",
            [file_id, row, county, name, build_year, households],
        )

    def plan(self, file_id: int, row: int, county: str, year: int, name: str, households: int,
             total: float, central: float, region: float, notice_days: int | None) -> None:
        self.con.execute(
            "insert into staging.plan_rows (file_id, sheet_name, row_number, is_rejected, county_code, plan_year, "
            "name, build_year, buildings, households, area_m2, categories, total_invest_wan_yuan, "
            "central_subsidy_wan_yuan, region_subsidy_wan_yuan, notice_days) "
            "values (?, '计划', ?, false, ?, ?, ?, 1995, 3, ?, 5000, '基础类', ?, ?, ?, ?)",
            [file_id, row, county, year, name, households, total, central, region, notice_days],
        )

    def report(self, file_id: int, row: int, county: str, month: date, name: str, *,
               plan: tuple[int, int] | None, start: date | None = None, progress: float | None = 0,
               invest: float | None = 0, paid: float | None = 0, finish: date | None = None,
               accept: date | None = None, satisfaction: float | None = None,
               prop: bool | None = None, plan_year: int = 2021) -> None:
        self.con.execute(
            "insert into staging.report_rows (file_id, sheet_name, row_number, is_rejected, county_code, "
            "report_month, plan_year, name, start_date, pct_progress, invest_done_wan_yuan, paid_wan_yuan, "
            "finish_date, accept_date, pct_satisfaction, has_property_mgmt) "
            "values (?, '月报', ?, false, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [file_id, row, county, month, plan_year, name, start, progress, invest, paid, finish, accept,
             satisfaction, prop],
        )
        self._links.append(((file_id, row), plan))

    def build(self) -> duckdb.DuckDBPyConnection:
        self.con = on_backend(self.con)  # the literal rows go in in memory; the models run on the backend under test
        run_models(self.con, model_tables("core"))
        for (rf, rr), plan in self._links:
            rid = self.con.execute(
                "select report_row_id from core.report_rows_history where file_id = ? and row_number = ?", [rf, rr]
            ).fetchone()[0]
            pid = None
            if plan is not None:
                pid = self.con.execute(
                    "select plan_row_id from core.plan_rows where file_id = ? and row_number = ?", list(plan)
                ).fetchone()[0]
            self.con.execute(
                "insert into core.identity_links values (md5('report_plan|' || ?), 'report_plan', ?, ?, ?, 1.0, [], '', "
                "'rules', 1, ?)", [rid, rid, pid, pid is not None, pid or f"k{rf}-{rr}"])
        build_scoring_marts(self.con)
        return self.con


def build_scoring_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The settings, the data clock and our marts (the other marts are not under test here), in
    dependency order."""
    constants.publish(con)
    by_table = {m.table: m for m in models()}
    for table in SCORING_MODELS:
        con.execute(f"create or replace table {table} as {by_table[table].sql}")


def d(y: int, m: int, day: int = 1) -> date:
    return date(y, m, day)


def example_warehouse() -> duckdb.DuckDBPyConnection:
    """The hand-worked example of tests/test_scoring.py (numbers worked there).

    轮台县 2021: plan rows p1..p4 (p4 a duplicate entry without any report), monthly reports for
    every month but July (March late, May first filed on the 5th then revised, December without a
    fill date), and a January 2022 report in which p3 finishes.
    尉犁县 2021: one plan row without subsidy (disbursement, satisfaction, property not
    applicable), only a December report; 2022: one plan row, a January report.
    若羌县 2020: one plan row, no report at all; none in 2021.
    The newest 填报日期 is 2022-02-05, so January 2022 is the latest due month: 2022 is in progress.
    """
    b = Builder()
    # ledgers: T(轮台县) = 400 + 600 = 1000 (the 2005 estate is not old); T(若羌县) = 120; 尉犁县 none
    lf = b.submission("ledger", d(2020, 9, 1))
    b.ledger(lf, 2, LUNTAI, "团结小区", 1995, 400)
    b.ledger(lf, 3, LUNTAI, "幸福小区", 2000, 600)
    b.ledger(lf, 4, LUNTAI, "新区小区", 2005, 300)
    rf = b.submission("ledger", d(2020, 9, 2))
    b.ledger(rf, 2, RUOQIANG, "胜利小区", 1990, 120)

    pf = b.submission("plan", d(2020, 10, 20))
    p1, p2, p3 = (pf, 2), (pf, 3), (pf, 4)  # p4 (pf, 5) never gets a report
    b.plan(pf, 2, LUNTAI, 2021, "团结小区", 100, 200, 50, 30, 15)
    b.plan(pf, 3, LUNTAI, 2021, "幸福小区", 200, 300, 0, 20, 14)
    b.plan(pf, 4, LUNTAI, 2021, "雪莲花园", 50, 100, 20, 0, 10)
    b.plan(pf, 5, LUNTAI, 2021, "幸福小区", 150, 100, 10, 0, None)

    qf = b.submission("plan", d(2020, 10, 25))
    q1 = (qf, 2)
    b.plan(qf, 2, YULI, 2021, "光明小区", 80, 100, 0, 0, 20)
    qf2 = b.submission("plan", d(2021, 10, 25))
    q2 = (qf2, 2)
    b.plan(qf2, 2, YULI, 2022, "东风小区", 40, 80, 10, 0, 14)

    rpf = b.submission("plan", d(2019, 10, 25))
    b.plan(rpf, 2, RUOQIANG, 2020, "胜利小区", 60, 50, 0, 10, 14)

    # 轮台县 monthly reports of 2021: first fill dates (month 7 never arrives)
    fills = {1: d(2021, 2, 3), 2: d(2021, 3, 5), 3: d(2021, 4, 6), 4: d(2021, 5, 1), 5: d(2021, 6, 5),
             6: d(2021, 7, 2), 8: d(2021, 9, 5), 9: d(2021, 10, 1), 10: d(2021, 11, 4), 11: d(2021, 12, 5),
             12: None}
    for m, fill in fills.items():
        f = b.submission("monthly", fill, d(2021, m))
        # p1 in every file; its December row is R(p1)
        done = m >= 10
        b.report(f, 4, LUNTAI, d(2021, m), "团结小区", plan=p1, start=d(2021, 4, 1) if m >= 4 else None,
                 progress=min(100, m * 10), invest=180 if m == 12 else m * 10, paid=70 if m == 12 else 0,
                 finish=d(2021, 10, 15) if done else None, accept=d(2021, 11, 20) if m >= 11 else None,
                 satisfaction=90 if m >= 11 else None, prop=True if m == 12 else None)
        if m == 5:
            # revised May report, filed late: it becomes current, the first submission counts for timeliness
            f2 = b.submission("monthly", d(2021, 7, 20), d(2021, 5))
            b.report(f2, 4, LUNTAI, d(2021, 5), "团结小区", plan=p1, start=d(2021, 4, 1), progress=50, invest=50)
        if m == 12:
            b.report(f, 5, LUNTAI, d(2021, 12), "幸福小区", plan=p2, start=d(2021, 5, 1), progress=100,
                     invest=330, paid=20, finish=d(2021, 12, 10), accept=d(2021, 12, 20), satisfaction=80,
                     prop=False)
            b.report(f, 6, LUNTAI, d(2021, 12), "雪莲花园", plan=p3, start=None, progress=30, invest=40, paid=10)
            # a report row that matches no plan row changes nothing
            b.report(f, 7, LUNTAI, d(2021, 12), "无名小区", plan=None, start=d(2021, 3, 1), progress=100,
                     invest=999, paid=999, finish=d(2021, 6, 1))
    # filled on 5 February 2022, the newest 填报日期 of all: the data clock's as-of date, on which
    # January 2022 becomes due (its deadline is the 5th of February)
    f = b.submission("monthly", d(2022, 2, 5), d(2022, 1))
    b.report(f, 4, LUNTAI, d(2022, 1), "雪莲花园", plan=p3, start=d(2022, 1, 3), progress=100, invest=100,
             paid=20, finish=d(2022, 1, 10), plan_year=2021)

    # 尉犁县: one December report of 2021, filled on the 5th of January (on time)
    f = b.submission("monthly", d(2022, 1, 5), d(2021, 12))
    b.report(f, 2, YULI, d(2021, 12), "光明小区", plan=q1, start=d(2021, 3, 1), progress=60, invest=100, paid=0)
    f = b.submission("monthly", d(2022, 2, 3), d(2022, 1))
    # the January report names a completion date in March: not yet happened as of 2022-01
    b.report(f, 2, YULI, d(2022, 1), "东风小区", plan=q2, start=d(2022, 1, 10), progress=5, invest=8, paid=2,
             finish=d(2022, 3, 1), plan_year=2022)
    return b.build()
