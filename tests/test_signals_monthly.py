"""The monthly-report and money rules of flags.md on a hand-made warehouse: each with a positive
and a near-miss just under its threshold; expected signals listed in full."""

from __future__ import annotations

import json

import pytest

from signals_fixtures import KRL, LT, Warehouse

pytestmark = pytest.mark.warehouse

# project → plan row (households, total invest, central subsidy)
PROJECTS = {
    "幸福小区": dict(households=100, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=100.0),
    "团结小区": dict(households=200, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=100.0),
    "光明小区": dict(households=150, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=100.0),
    "胜利小区": dict(households=150, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=100.0),
    "建设局大院": dict(households=300, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=100.0),
    "和平小区": dict(households=199, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=0.0),
    "友谊小区": dict(households=100, total_invest_wan_yuan=300.0, central_subsidy_wan_yuan=100.0),
}
STARTED = "2021-01-15"


def _months(n: int) -> list[str]:
    return [f"2021-{m:02d}" for m in range(1, n + 1)]


def _row(name: str, month: str) -> dict:
    """The report row of a project in a month: a steady project unless a case below says otherwise."""
    m = int(month[5:])
    p = PROJECTS[name]
    r = dict(name=name, households=p["households"], total_invest_wan_yuan=p["total_invest_wan_yuan"],
             central_subsidy_wan_yuan=p["central_subsidy_wan_yuan"], start_date=STARTED,
             pct_progress=min(100.0, 8.0 * m), invest_done_wan_yuan=20.0 * m, paid_wan_yuan=18.0 * m,
             finish_date=None)
    if name == "幸福小区" and m <= 3:        # FUNDS_IDLE: paid, not started, 0% for Jan–Mar → flag 2021-03
        r.update(start_date=None, pct_progress=0.0, invest_done_wan_yuan=0.0, paid_wan_yuan=50.0)
    if name == "友谊小区" and m <= 2:        # near miss: idle only for Jan–Feb, started in March
        r.update(start_date=None, pct_progress=0.0, invest_done_wan_yuan=0.0, paid_wan_yuan=50.0)
    # PROGRESS_JUMP: 团结 10 → 90.5 (+80.5, 200 households) → flag 2021-04; near misses: 建设局 10 → 90
    # (+80, not more) and 和平 10 → 95 (+85, but 199 households)
    jump = {"团结小区": 90.5, "建设局大院": 90.0, "和平小区": 95.0}
    if name in jump:
        r.update(pct_progress=[2.0, 5.0, 10.0, jump[name]][m - 1] if m <= 4 else min(100.0, jump[name] + m))
    if name == "团结小区":
        if m == 2:                            # PAID_EXCEEDS_WORK: 131 > 40 + 30% × 300 = 130 → flag 2021-02
            r.update(paid_wan_yuan=131.0)
        if m == 5:                            # INFLATED_SCALE (report): 221 > 200 × 1.1 and +21 ≥ 5
            r.update(households=221)
    if name == "建设局大院":
        if m == 2:                            # near miss PAID_EXCEEDS_WORK: 130 = 40 + 90, not more
            r.update(paid_wan_yuan=130.0)
        if m == 5:                            # near miss INFLATED_SCALE (report): 330 = 300 × 1.1
            r.update(households=330)
    if name in ("光明小区", "胜利小区"):
        # PROGRESS_REGRESSION: 光明 40 (May) → 39.4 (July; June is missing) is −0.6 → flag 2021-07;
        # near miss 胜利 40 → 39.5 is −0.5, not more
        if m == 7:
            r.update(pct_progress=39.4 if name == "光明小区" else 39.5)
        # INVEST_EXCEEDS_PLAN: 光明 330.5 > 300 × 1.1 → flag 2021-08; near miss 胜利 330 = 300 × 1.1
        if m >= 8:
            r.update(invest_done_wan_yuan=330.5 if name == "光明小区" else 330.0, paid_wan_yuan=200.0)
    if m == 11:                               # OVERDUE: unfinished in November with central subsidy
        if name in ("胜利小区", "友谊小区"):
            r.update(finish_date="2021-11-30", pct_progress=100.0)  # finished on the deadline: no signal
        if name == "光明小区":
            r.update(finish_date="2021-12-01", pct_progress=100.0)  # finished after it: signal
    return r


@pytest.fixture(scope="module")
def w() -> Warehouse:
    w = Warehouse()
    w.ledger(KRL, [dict(name=n, households=p["households"]) for n, p in PROJECTS.items()])
    w.plan(KRL, 2021, [dict(name=n, **p) for n, p in PROJECTS.items()])
    w.ledger(LT, [dict(name="团结小区")])
    w.plan(LT, 2021, [dict(name="团结小区")])
    for month in _months(11):
        if month == "2021-06":                # MISSING_REPORT for 库尔勒市 2021-06
            continue
        fill = {"2021-02": "2021-03-05",      # on the 5th: on time
                "2021-03": "2021-04-06",      # LATE_REPORT: after the 5th
                # on its deadline: the newest 填报日期, on which November becomes due (data clock)
                "2021-11": "2021-12-05"}.get(month, "auto")
        w.report(KRL, month, [_row(n, month) for n in PROJECTS], fill_date=fill)
    # 2021-04 resubmitted on 31 May (the end of M+1: not after) with a change → no RETRO_REVISION
    w.report(KRL, "2021-04", [{**_row(n, "2021-04"), **({"paid_wan_yuan": 99.0} if n == "幸福小区" else {})}
                              for n in PROJECTS], fill_date="2021-05-31", name="库尔勒月报2021-04(重报).xlsx")
    # 2021-05 resubmitted on 1 July (after the end of June) with one row changed → RETRO_REVISION for 友谊小区 2021-05 only
    w.report(KRL, "2021-05", [{**_row(n, "2021-05"), **({"invest_done_wan_yuan": 111.0} if n == "友谊小区" else {})}
                              for n in PROJECTS], fill_date="2021-07-01", name="库尔勒月报2021-05(重报).xlsx")
    # 轮台县 reports only January and February of 2021 (the latest month received from any county is 2021-11)
    for month in ("2021-01", "2021-02"):
        w.report(LT, month, [dict(name="团结小区", start_date=STARTED, pct_progress=10.0, invest_done_wan_yuan=30.0,
                                  paid_wan_yuan=30.0)])
    # a 合计 row 2% off in the current September file, 0.4% off in October (under the 0.5% tolerance)
    sep = w.con.execute("select file_id from raw.submissions where file_name like ?", [f"{KRL}月报2021-09%"]).fetchone()[0]
    oct_ = w.con.execute("select file_id from raw.submissions where file_name like ?", [f"{KRL}月报2021-10%"]).fetchone()[0]
    for fid, total, data_sum in ((sep, 1428.0, 1400.0), (oct_, 1405.6, 1400.0)):
        w.con.execute("insert into raw.source_rows values (?, '月报', 20, 'totals', '{}')", [fid])
        w.con.execute(
            "insert into raw.row_issues values (?, '月报', 20, '累计完成投资(万元)', 'invest_done_wan_yuan', "
            "'TOTALS_MISMATCH', 'finding', ?, 'x', ?)",
            [fid, str(total), json.dumps({"column": "累计完成投资(万元)", "totals_value": total, "data_sum": data_sum})],
        )
    w.build()
    return w


def _flagged(w: Warehouse, rule: str) -> list[tuple]:
    return sorted((s["county_code"], s["period"], s["community_name"]) for s in w.signals(rule))


@pytest.mark.parametrize("rule, expected", [
    ("FUNDS_IDLE", [(KRL, "2021-03", "幸福小区")]),
    ("PAID_EXCEEDS_WORK", [(KRL, "2021-02", "团结小区")]),
    ("PROGRESS_JUMP", [(KRL, "2021-04", "团结小区")]),
    ("INVEST_EXCEEDS_PLAN", [(KRL, "2021-08", "光明小区")]),
    ("OVERDUE", [(KRL, "2021-11", "光明小区"), (KRL, "2021-11", "团结小区"), (KRL, "2021-11", "幸福小区"),
                 (KRL, "2021-11", "建设局大院")]),
    ("LATE_REPORT", [(KRL, "2021-03", None)]),
    ("TOTALS_MISMATCH", [(KRL, "2021-09", None)]),
    ("RETRO_REVISION", [(KRL, "2021-05", "友谊小区")]),
])
def test_rule_positive_and_near_miss(w, rule, expected):
    assert _flagged(w, rule) == sorted(expected)


def test_progress_regression(w):
    # 光明 40 → 39.4 from May to July (June missing) → flagged; 胜利 40 → 39.5 is not more than 0.5
    assert _flagged(w, "PROGRESS_REGRESSION") == [(KRL, "2021-07", "光明小区")]


def test_inflated_scale_from_reports(w):
    # 221 > 200 × 1.1 → flagged at May; 330 = 300 × 1.1 → not
    assert [(s["community_name"], s["period"]) for s in w.signals("INFLATED_SCALE")] == [("团结小区", "2021-05")]
    (s,) = w.signals("INFLATED_SCALE")
    assert s["evidence"].startswith("月报户数 221 > 计划户数 200(+10%)")


def test_missing_report(w):
    # 库尔勒市: June of 2021; 轮台县: March to November (9 months) — up to the latest due month of the data
    # clock: the newest 填报日期 is 2021-12-05 (库尔勒市's November report), November's deadline
    flagged = _flagged(w, "MISSING_REPORT")
    assert [p for c, p, _ in flagged if c == KRL] == ["2021-06"]
    assert [p for c, p, _ in flagged if c == LT] == [f"2021-{m:02d}" for m in range(3, 12)]
    assert all(s["plan_year"] is None and s["community_name"] is None for s in w.signals("MISSING_REPORT"))


def test_evidence_names_numbers_and_rows(w):
    (s,) = w.signals("PAID_EXCEEDS_WORK")
    # 131 > 40 + 30% × 300 = 130
    assert s["evidence"].startswith("累计拨付 131.00 万元 > 累计完成投资 40.00 万元 + 30% × 计划总投资 300.00 万元 = 130.00 万元")
    assert (s["file_name"], s["row_number"]) == (f"{KRL}月报2021-02.xlsx", 4)
    (s,) = w.signals("RETRO_REVISION")
    assert "累计完成投资 100.0→111.0" in s["evidence"] and "2021-07-01" in s["evidence"]
    (s,) = w.signals("LATE_REPORT")
    assert "2021-04-06" in s["evidence"] and "迟 1 天" in s["evidence"]


def test_late_report_coverage_counts_reports_without_fill_date_as_not_assessable():
    w = Warehouse()
    w.plan(KRL, 2021, [dict(name="幸福小区")])
    w.report(KRL, "2021-01", [dict(name="幸福小区")], fill_date=None)
    w.report(KRL, "2021-02", [dict(name="幸福小区")], fill_date="2021-03-09")
    w.build()
    assert w.counts("LATE_REPORT") == (1, 1)
    row = w.con.execute("select count_not_assessable from marts.signal_rule_counts where rule = 'LATE_REPORT'").fetchone()
    assert row == (1,)


def test_thresholds_come_from_config(w, monkeypatch):
    """Changing thresholds.toml changes the signals: PAID_EXCEEDS_WORK at 30% → 29% catches 建设局大院 too."""
    from pipelines import signals
    from pipelines.signals import engine

    cfg = signals.load_config()
    changed = {**cfg, "rules": {**cfg["rules"], "PAID_EXCEEDS_WORK": {**cfg["rules"]["PAID_EXCEEDS_WORK"], "pct_of_plan": 0.29}}}
    monkeypatch.setattr(engine, "load_config", lambda *a, **k: changed)
    signals.refresh(w.con)
    try:
        assert sorted(s["community_name"] for s in w.signals("PAID_EXCEEDS_WORK")) == ["团结小区", "建设局大院"]
    finally:
        monkeypatch.undo()
        signals.refresh(w.con)
    assert [s["community_name"] for s in w.signals("PAID_EXCEEDS_WORK")] == ["团结小区"]
