"""A small warehouse built from literal rows, for the dashboard's tests.

Three units (库尔勒市, 轮台县, 尉犁县), their ledgers, the 2024 plan of 库尔勒市, the 2025 plans of all
three and monthly reports up to 2025-03, with one resubmission, one late report, two missing
reports, one rejected file, validation results and row issues. The figures the tests expect are
worked by hand in ``EXPECTED`` (arithmetic in the comments).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from pipelines import constants
from pipelines.backend import Location, locate
from pipelines.warehouse import connect, model_tables, run_models

KRL, LT, YL = "652801", "652822", "652823"

D = dt.date.fromisoformat

# (file_id, kind, county, period, fill_date, file_name)
FILES = [
    (1, "ledger", KRL, None, "2024-09-01", "库尔勒市台账.xlsx"),
    (2, "ledger", LT, None, "2024-09-02", "轮台县台账.xlsx"),
    (3, "ledger", YL, None, "2024-09-03", "尉犁县台账.xlsx"),
    (4, "plan", KRL, "2024", "2023-10-20", "库尔勒市2024年计划.xlsx"),
    (5, "plan", KRL, "2025", "2024-10-25", "库尔勒市2025年计划.xlsx"),
    (6, "plan", LT, "2025", "2024-10-26", "轮台县2025年计划.xlsx"),
    (7, "plan", YL, "2025", "2024-10-27", "尉犁县2025年计划.xlsx"),
    (8, "monthly", KRL, "2024-12", "2025-01-04", "库尔勒市月报2024-12.xlsx"),
    (9, "monthly", KRL, "2025-01", "2025-02-03", "库尔勒市月报2025-01.xlsx"),
    (10, "monthly", KRL, "2025-02", "2025-03-04", "库尔勒市月报2025-02.xlsx"),
    (11, "monthly", KRL, "2025-03", "2025-04-02", "库尔勒市月报2025-03.xlsx"),
    (12, "monthly", LT, "2025-01", "2025-02-04", "轮台县月报2025-01.xlsx"),
    (13, "monthly", LT, "2025-02", "2025-03-12", "轮台县月报2025-02.xlsx"),  # late: after 5 March
    (14, "monthly", LT, "2025-03", "2025-04-03", "轮台县月报2025-03.xlsx"),
    (15, "monthly", YL, "2025-01", "2025-02-05", "尉犁县月报2025-01.xlsx"),
    (16, "monthly", KRL, "2025-03", "2025-04-08", "库尔勒市月报2025-03(更正).xlsx"),  # resubmission
]

# county, name, build_year, buildings, households, area
LEDGER = [
    (KRL, "幸福小区", 1995, 4, 100, 8000.0),
    (KRL, "团结小区", 1998, 6, 200, 15000.0),
    (KRL, "建设局大院", 1990, 8, 300, 22000.0),
    (KRL, "石化大院", 1999, 5, 120, 9000.0),
    (KRL, "新城小区", 2005, 10, 400, 30000.0),  # built after 2000: not in the 2025 goal
    (LT, "团结小区", 1996, 5, 150, 11000.0),
    (LT, "胜利小区", 1988, 2, 50, 3500.0),
    (LT, "东风小区", 1993, 6, 200, 14000.0),
    (YL, "罗布小区", 1997, 3, 80, 6000.0),
    (YL, "塔河小区", 1992, 1, 20, 1500.0),
]
# goal households (built ≤ 2000): 库尔勒 100+200+300+120 = 720, 轮台 150+50+200 = 400, 尉犁 80+20 = 100; 全州 1220

# file_id, county, plan_year, name, households, invest, central, region, planned start, planned end
PLAN = [
    (4, KRL, 2024, "石化大院", 120, 240.0, 100.0, 20.0, "2024-04-01", "2024-10-31"),
    (5, KRL, 2025, "幸福小区", 100, 200.0, 80.0, 20.0, "2025-02-01", "2025-09-30"),
    (5, KRL, 2025, "团结小区", 200, 400.0, 150.0, 30.0, "2025-03-01", "2025-10-31"),
    (5, KRL, 2025, "建设局大院", 300, 600.0, 0.0, 0.0, "2025-05-01", "2025-11-30"),
    (6, LT, 2025, "团结小区", 150, 300.0, 100.0, 0.0, "2025-03-01", "2025-10-31"),
    (6, LT, 2025, "胜利小区", 50, 100.0, 40.0, 0.0, "2025-04-01", "2025-10-31"),
    (7, YL, 2025, "罗布小区", 80, 160.0, 60.0, 0.0, "2025-01-01", "2025-09-30"),
]

# file_id, plan_year, name, start, pct_progress, invest_done, paid, finish, accept, satisfaction
REPORTS = [
    (8, 2024, "石化大院", "2024-04-10", 100.0, 230.0, 110.0, "2024-10-20", "2024-11-15", 92.0),
    (9, 2025, "幸福小区", "2025-01-15", 20.0, 40.0, 30.0, None, None, None),
    (9, 2025, "团结小区", None, 0.0, 0.0, 0.0, None, None, None),
    (9, 2025, "建设局大院", None, 0.0, 0.0, 0.0, None, None, None),
    (10, 2025, "幸福小区", "2025-01-15", 60.0, 120.0, 60.0, None, None, None),
    (10, 2025, "团结小区", "2025-02-20", 10.0, 40.0, 20.0, None, None, None),
    (10, 2025, "建设局大院", None, 0.0, 0.0, 0.0, None, None, None),
    (11, 2025, "幸福小区", "2025-01-15", 100.0, 190.0, 90.0, "2025-03-25", None, None),
    (11, 2025, "团结小区", "2025-02-20", 40.0, 160.0, 100.0, None, None, None),
    (11, 2025, "建设局大院", None, 0.0, 0.0, 0.0, None, None, None),
    (12, 2025, "团结小区", None, 0.0, 0.0, 0.0, None, None, None),
    (12, 2025, "胜利小区", None, 0.0, 0.0, 0.0, None, None, None),
    (13, 2025, "团结小区", None, 0.0, 0.0, 0.0, None, None, None),
    (13, 2025, "胜利小区", None, 0.0, 0.0, 0.0, None, None, None),
    (14, 2025, "团结小区", "2025-03-20", 5.0, 15.0, 10.0, None, None, None),
    (14, 2025, "胜利小区", None, 0.0, 0.0, 0.0, None, None, None),
    (15, 2025, "罗布小区", "2025-01-10", 30.0, 50.0, 40.0, None, None, None),
    # the resubmitted March report of 库尔勒市 (filled later, so current): 团结小区 45%, 170 万元
    (16, 2025, "幸福小区", "2025-01-15", 100.0, 190.0, 90.0, "2025-03-25", None, None),
    (16, 2025, "团结小区", "2025-02-20", 45.0, 170.0, 100.0, None, None, None),
    (16, 2025, "建设局大院", None, 0.0, 0.0, 0.0, None, None, None),
]

# Hand-worked figures of the 2025 plan at its as-of month 2025-03 (the latest report month).
EXPECTED = {
    "as_of": "2025年3月",
    # 3 + 2 + 1 plan rows
    "plan_communities": 6,
    # 100 + 200 + 300 + 150 + 50 + 80
    "plan_households": 880,
    # started: 库尔勒 幸福, 团结; 轮台 团结; 尉犁 罗布 (its January state carries on) = 4 of 6
    "started_communities": 4,
    "pct_started": 66.7,
    # 100 + 200 + 150 + 80
    "started_households": 530,
    # completed: 库尔勒 幸福小区 (2025-03-25) only
    "completed_communities": 1,
    "completed_households": 100,
    # 200 + 400 + 600 + 300 + 100 + 160
    "plan_invest": 1760.0,
    # 库尔勒 190 + 170 (resubmission) + 0; 轮台 15 + 0; 尉犁 50 (January) = 425
    "invest_done": 425.0,
    # 库尔勒 90 + 100; 轮台 10; 尉犁 40 = 240, of subsidies 280 + 140 + 60 = 480: 50.0%
    "paid": 240.0,
    "pct_paid": 50.0,
    # 240 / 1760 = 13.6% of the planned investment
    "pct_paid_of_plan": 13.6,
    # progress index = mean of start rate, household completion rate, investment rate:
    # 尉犁县 (100 + 0 + 31.25) / 3 = 43.75; 库尔勒市 (66.67 + 16.67 + 30.0) / 3 = 37.78; 轮台县 (50 + 0 + 3.75) / 3 = 17.92;
    # 全州 (66.67 + 100 / 880 = 11.36 + 24.15) / 3 = 34.06. 落后 is the bulletin's rule (issue 12): behind the
    # plan's pace by the yellow line (5 points) or more. In March 轮台县 is 1.8 points behind (19.7 − 17.9):
    # green, like the others (the older rule, 10 points below the prefecture's index, called it lagging)
    "lagging": [],
    "ranking": ["尉犁县", "库尔勒市", "轮台县"],
    "index": [43.8, 37.8, 17.9],
    "index_prefecture": 34.1,
    # goal: 1220 households; completed by 2025-03: 石化大院 120 + 幸福小区 100 = 220;
    # pace over 2024-03..2025-03 = 220 / 12 per month, 9 months to 2025-12: 220 + 165 = 385
    "goal_households": 1220,
    "goal_completed": 220,
    "goal_projected": 385,
    # 轮台县 2025-02 filled 2025-03-12 (late); 尉犁县 2025-02 and 2025-03 missing
    "late": [("轮台县", "2025-02")],
    "missing": [("尉犁县", "2025-02"), ("尉犁县", "2025-03")],
}


def _insert(con, table: str, rows: list[dict]) -> None:
    df = pl.DataFrame(rows, infer_schema_length=None)
    con.register("_rows", df)
    con.execute(f"insert into {table} by name select * from _rows")
    con.unregister("_rows")


def build_warehouse(path: str | Path | Location, *, with_marts: bool = True) -> Location:
    """Write the literal-row warehouse to ``path`` (replacing a file; a DuckLake must be new) and
    build its derived layers."""
    path = locate(path)
    if not path.is_lake and path.file.exists():
        path.file.unlink()
    con = connect(path)
    try:
        county_of = {f[0]: f[2] for f in FILES}
        fill_of = {f[0]: D(f[4]) for f in FILES}
        month_of = {f[0]: D(f[3] + "-01") for f in FILES if f[1] == "monthly"}
        count_of: dict[int, int] = {}
        for r in PLAN:
            count_of[r[0]] = count_of.get(r[0], 0) + 1
        for r in REPORTS:
            count_of[r[0]] = count_of.get(r[0], 0) + 1
        for c in LEDGER:
            fid = {KRL: 1, LT: 2, YL: 3}[c[0]]
            count_of[fid] = count_of.get(fid, 0) + 1
        base = dt.datetime(2025, 4, 10, 9, 0)
        _insert(con, "raw.submissions", [
            dict(file_id=fid, file_hash=f"hash{fid:03d}", file_name=name, file_path=f"/upload/{name}",
                 file_bytes=10_000 + fid, kind=kind, sheet_name={"ledger": "台账", "plan": "计划", "monthly": "月报"}[kind],
                 header_row=3, fill_date=D(fill), report_month=month_of.get(fid), title=name.removesuffix(".xlsx"),
                 batch_id="batch-1" if fid < 16 else "batch-2", ingested_at=base + dt.timedelta(minutes=fid),
                 row_count=count_of[fid], rejected_row_count=0)
            for fid, kind, county, period, fill, name in FILES
        ])
        _insert(con, "staging.ledger_rows", [
            dict(file_id={KRL: 1, LT: 2, YL: 3}[c], sheet_name="台账", row_number=4 + i, is_rejected=False,
                 county_code=c, county_raw=c, name=name, address=f"{name}路{i + 1}号", build_year=year,
                 buildings=b, households=h, area_m2=a, has_property_mgmt=False, fill_date=D("2024-09-01"))
            for i, (c, name, year, b, h, a) in enumerate(LEDGER)
        ])
        _insert(con, "staging.plan_rows", [
            dict(file_id=fid, sheet_name="计划", row_number=4 + i, is_rejected=False, county_code=c, county_raw=c,
                 plan_year=y, name=name, address=f"{name}路", build_year=1995, buildings=4, households=h, area_m2=h * 70.0,
                 categories="基础类", total_invest_wan_yuan=inv, central_subsidy_wan_yuan=cen, region_subsidy_wan_yuan=reg,
                 local_funds_wan_yuan=inv - cen - reg, resident_funds_wan_yuan=0.0, social_funds_wan_yuan=0.0,
                 utility_funds_wan_yuan=0.0, planned_start_date=D(s), planned_end_date=D(e), notice_days=15,
                 fill_date=fill_of[fid])
            for i, (fid, c, y, name, h, inv, cen, reg, s, e) in enumerate(PLAN)
        ])
        plan_hh = {(r[1], r[2], r[3]): (r[4], r[5], r[6], r[7]) for r in PLAN}
        _insert(con, "staging.report_rows", [
            dict(file_id=fid, sheet_name="月报", row_number=4 + i, is_rejected=False, county_code=county_of[fid],
                 county_raw=county_of[fid], report_month=month_of[fid], fill_date=fill_of[fid], plan_year=y, name=name,
                 households=plan_hh[(county_of[fid], y, name)][0], total_invest_wan_yuan=plan_hh[(county_of[fid], y, name)][1],
                 central_subsidy_wan_yuan=plan_hh[(county_of[fid], y, name)][2],
                 region_subsidy_wan_yuan=plan_hh[(county_of[fid], y, name)][3],
                 start_date=D(s) if s else None, pct_progress=p, invest_done_wan_yuan=inv, paid_wan_yuan=paid,
                 finish_date=D(f) if f else None, accept_date=D(a) if a else None, pct_satisfaction=sat,
                 has_property_mgmt=True if f else None)
            for i, (fid, y, name, s, p, inv, paid, f, a, sat) in enumerate(REPORTS)
        ])
        _insert(con, "raw.ingest_log", [
            dict(batch_id="batch-1" if fid < 16 else "batch-2", seq=fid, file_path=f"/upload/{name}", file_name=name,
                 file_hash=f"hash{fid:03d}", status="accepted", kind=kind, county_code=county,
                 report_month=month_of.get(fid), fill_date=D(fill), file_id=fid, rows=count_of[fid], rejected_rows=0,
                 messages="[]", logged_at=base + dt.timedelta(minutes=fid))
            for fid, kind, county, period, fill, name in FILES
        ] + [
            dict(batch_id="batch-2", seq=17, file_path="/upload/轮台县月报2025-03(错误).xlsx",
                 file_name="轮台县月报2025-03(错误).xlsx", file_hash="hash999", status="rejected", kind="monthly",
                 county_code=LT, report_month=D("2025-03-01"), fill_date=None, file_id=None, rows=0, rejected_rows=0,
                 messages='["月报 工作表「月报」缺少必填列:形象进度"]', logged_at=base + dt.timedelta(minutes=17)),
            dict(batch_id="batch-2", seq=18, file_path="/upload/库尔勒市月报2025-01.xlsx",
                 file_name="库尔勒市月报2025-01.xlsx", file_hash="hash009", status="duplicate", kind="monthly",
                 county_code=KRL, report_month=D("2025-01-01"), fill_date=D("2025-02-03"), file_id=9, rows=0,
                 rejected_rows=0, messages='["与已入库文件内容相同,未重复导入"]', logged_at=base + dt.timedelta(minutes=18)),
        ])
        _insert(con, "raw.validation_results", [
            dict(batch_id="batch-1", kind="monthly", suite_name="月报", expectation="ExpectProgressWithinRange",
                 description="形象进度在 0–100 之间", column_name="pct_progress", success=True, element_count=17,
                 unexpected_count=0, validated_at=base),
            dict(batch_id="batch-1", kind="monthly", suite_name="月报", expectation="ExpectPaidWithinPlan",
                 description="累计拨付资金不超过计划总投资", column_name="paid_wan_yuan", success=False, element_count=17,
                 unexpected_count=2, validated_at=base),
            dict(batch_id="batch-1", kind="plan", suite_name="计划", expectation="ExpectPlanHouseholdsWithinLedger",
                 description="计划户数不超过台账户数", column_name="households", success=True, element_count=7,
                 unexpected_count=0, validated_at=base),
        ])
        _insert(con, "raw.row_issues", [
            dict(file_id=13, sheet_name="月报", row_number=9, column_name="累计完成投资", field="invest_done_wan_yuan",
                 code="NOT_A_NUMBER", severity="reject", value="待定",
                 message="轮台县月报2025-02.xlsx 工作表「月报」第9行「累计完成投资」:不是数字(待定)"),
            dict(file_id=11, sheet_name="月报", row_number=None, column_name=None, field=None, code="TOTALS_MISMATCH",
                 severity="finding", value=None, message="库尔勒市月报2025-03.xlsx 合计行与明细之和相差 2.1%"),
        ])
        constants.publish(con)
        run_models(con, model_tables("core"))
        from pipelines import identity

        identity.refresh(con)  # the one identity engine, as in production
        if with_marts:
            from pipelines import refresh as r
            from pipelines.scoring import store as scores
            from pipelines.signals import engine as signals

            run_models(con, r.plain_models())
            signals.refresh(con)
            scores.refresh(con)
        con.execute("checkpoint")
    finally:
        con.close()
    return path


if __name__ == "__main__":  # build one by hand: uv run python -m tests.pages_fixtures /tmp/pages.duckdb
    import sys

    print(build_warehouse(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pages.duckdb"))
