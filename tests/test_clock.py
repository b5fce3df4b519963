"""The data clock (flags.md, "The data clock"; evaluation.md, Terms) with hand-worked dates.

Three units (库尔勒市, 轮台县, 尉犁县) each plan one project for 2021 and report every month from
January to October, each report filled on the 5th of the next month (on time, on the deadline).
The newest 填报日期 is then 2021-11-05, October's deadline: October is the latest due month.
"""

from __future__ import annotations

import pytest
from signals_fixtures import KRL, LT, YL, Warehouse

from pipelines import scoring
from pipelines.clock import read_clock

UNITS = (KRL, LT, YL)


def _month_row(m: int) -> dict:
    """The project's cumulative state at the end of month m of 2021 (started in March, done in October)."""
    return dict(name="团结小区", start_date="2021-03-01" if m >= 3 else None, pct_progress=min(100.0, 10.0 * m),
                invest_done_wan_yuan=min(300.0, 30.0 * m), paid_wan_yuan=min(100.0, 10.0 * m),
                finish_date="2021-10-20" if m >= 10 else None)


def _next_fifth(m: int) -> str:
    return f"2021-{m + 1:02d}-05" if m < 12 else "2022-01-05"


def build(last_month: int = 10, early: dict[str, str] | None = None, extra_plan_fill: str | None = None,
          fill_dates: bool = True) -> Warehouse:
    """Reports January to ``last_month`` from every unit (filled on the 5th of the next month); ``early``
    adds one unit's November report filled on the given date; ``extra_plan_fill`` adds a 2022 plan of
    库尔勒市 filled then; without ``fill_dates`` no submission carries a 填报日期."""
    w = Warehouse()
    for c in UNITS:
        w.ledger(c, [dict(name="团结小区")])
        w.plan(c, 2021, [dict(name="团结小区")])
        for m in range(1, last_month + 1):
            w.report(c, f"2021-{m:02d}", [_month_row(m)], fill_date=_next_fifth(m))
    for c, fill in (early or {}).items():
        w.report(c, "2021-11", [_month_row(11)], fill_date=fill)
    if extra_plan_fill:
        w.plan(KRL, 2022, [dict(name="幸福小区")], fill_date=extra_plan_fill)
    if not fill_dates:
        w.con.execute("update raw.submissions set fill_date = null")
        for t in ("ledger_rows", "plan_rows", "report_rows"):
            w.con.execute(f"update staging.{t} set fill_date = null")
    w.build()
    scoring.refresh(w.con)
    return w


def missing(w: Warehouse) -> list[tuple[str, str]]:
    return sorted((s["county_code"], s["period"]) for s in w.signals("MISSING_REPORT"))


def labels(w: Warehouse, year: int = 2021) -> set[str]:
    return {r[0] for r in w.con.execute(
        "select distinct as_of_label from marts.scores where year = ? and kind = 'annual'", [year]).fetchall()}


def totals(w: Warehouse, year: int = 2021) -> dict[str, float]:
    return dict(w.con.execute(
        "select county_code, value from marts.scores where year = ? and kind = 'annual' and indicator = 'total'",
        [year]).fetchall())


def lines(w: Warehouse, county: str, year: int = 2021) -> dict[str, float | None]:
    return dict(w.con.execute(
        "select indicator, value from marts.scores where county_code = ? and year = ? and kind = 'annual'",
        [county, year]).fetchall())


@pytest.fixture(scope="module")
def on_time() -> Warehouse:
    return build()


@pytest.fixture(scope="module")
def early() -> Warehouse:
    # 库尔勒市 hands in its November report on 28 November, a week before its deadline (5 December)
    return build(early={KRL: "2021-11-28"})


def test_the_clock_is_the_newest_fill_date_and_its_latest_due_month(on_time, early):
    c = read_clock(on_time.con)
    assert (str(c.as_of_date), str(c.latest_due_month), c.report_due_day) == ("2021-11-05", "2021-10-01", 5)
    # the early report moves the as-of date to 11-28, but November is due only on 12-05
    c = read_clock(early.con)
    assert (str(c.as_of_date), str(c.latest_due_month), str(c.latest_report_month)) == (
        "2021-11-28", "2021-10-01", "2021-11-01")


def test_an_early_report_makes_no_other_unit_missing(on_time, early):
    # the old clock (the latest month received from any unit) made 轮台县 and 尉犁县 miss November
    assert missing(on_time) == [] and missing(early) == []


def test_an_early_report_changes_neither_the_label_nor_any_score(on_time, early):
    # as of October, 2021 is still in progress: every unit labelled 截至2021-10, not 截至2021-11
    assert labels(on_time) == labels(early) == {"截至2021-10"}
    assert totals(early) == pytest.approx(totals(on_time))
    # the reporting indicator counts January–October (10 months, all on time) for every unit
    for c in UNITS:
        n = early.con.execute("select count_months_due, count_months_ontime from intermediate.score_inputs "
                              "where county_code = ? and score_year = 2021", [c]).fetchone()
        assert n == (10, 10)
    # and 库尔勒市's own November row is not R(p) yet: its October state is
    r = early.con.execute("select report_month from intermediate.indicator_rows where score_year = 2021 and county_code = ?",
                          [KRL]).fetchone()[0]
    assert str(r) == "2021-10-01"


def test_the_page_marts_see_every_unit_at_the_same_month(on_time, early):
    for w in (on_time, early):
        months = {r[0] for r in w.con.execute("select distinct as_of_month from marts.progress_county").fetchall()}
        assert {str(m) for m in months} == {"2021-10-01"}
        due = w.con.execute("select count(*), count(*) filter (where not has_report) from marts.progress_reporting "
                            "where plan_year = 2021").fetchone()
        assert due == (30, 0)  # 3 units × 10 months due, none missing
    newest = dict(early.con.execute("select county_name, strftime(latest_report_month, '%Y-%m') "
                                    "from marts.data_clock_counties where county_code in (?, ?, ?)", list(UNITS)).fetchall())
    assert newest == {"库尔勒市": "2021-11", "轮台县": "2021-10", "尉犁县": "2021-10"}


def test_once_the_deadline_has_passed_the_others_are_missing():
    # a submission of any kind filled on 6 December (after November's deadline) moves the clock on:
    # now 轮台县 and 尉犁县 miss November, the year is labelled 截至2021-11 and November counts
    w = build(early={KRL: "2021-11-28"}, extra_plan_fill="2021-12-06")
    assert str(read_clock(w.con).latest_due_month) == "2021-11-01"
    assert missing(w) == [(LT, "2021-11"), (YL, "2021-11")]
    assert labels(w) == {"截至2021-11"}
    assert lines(w, LT)["reporting_rate"] == pytest.approx(10 / 11)
    assert lines(w, KRL)["reporting_rate"] == pytest.approx(1.0)


def test_the_latest_due_month_may_be_later_than_any_month_received():
    # reports only up to September, but a plan filed on 10 November: October is due (deadline 11-05)
    # although no unit has sent it, so every unit misses October
    w = build(last_month=9, extra_plan_fill="2021-11-10")
    c = read_clock(w.con)
    assert (str(c.latest_due_month), str(c.latest_report_month)) == ("2021-10-01", "2021-09-01")
    assert missing(w) == [(KRL, "2021-10"), (LT, "2021-10"), (YL, "2021-10")]
    assert labels(w) == {"截至2021-10"}
    # 9 of the 10 months due arrived on time
    assert lines(w, LT)["reporting_rate"] == pytest.approx(9 / 10)
    # the progress marts are as of October too: the September state carries on
    months = {str(r[0]) for r in w.con.execute(
        "select distinct as_of_month from marts.progress_county where plan_year = 2021").fetchall()}
    assert months == {"2021-10-01"}


def test_without_any_fill_date_the_latest_report_month_received_is_due():
    # no 填报日期 anywhere: the latest due month is the latest report month received (November,
    # 库尔勒市's), so the two units without a November report miss it
    w = build(early={KRL: "2021-11-28"}, fill_dates=False)
    c = read_clock(w.con)
    assert c.as_of_date is None and str(c.latest_due_month) == "2021-11-01"
    assert missing(w) == [(LT, "2021-11"), (YL, "2021-11")]
    assert labels(w) == {"截至2021-11"}
    # a report without a fill date counts as on time; 10 of 11 months arrived
    assert lines(w, LT)["reporting_rate"] == pytest.approx(10 / 11)
    assert "无填报日期" in read_clock(w.con).text()


def test_the_due_months_agree_with_the_deadlines(early):
    # every month is due exactly when its deadline is on or before the as-of date (the two ways the
    # clock states the rule)
    rows = early.con.execute("select m.report_month, m.due_date, m.is_due, c.as_of_date "
                             "from marts.data_clock_months as m cross join marts.data_clock as c").fetchall()
    assert rows and all(is_due == (due <= as_of) for _, due, is_due, as_of in rows)


def test_the_report_and_the_cli_exports_state_the_clock(early, tmp_path, capsys):
    from pipelines import report
    from pipelines.signals import flags

    path = tmp_path / "w.duckdb"
    early.con.execute(f"attach '{path}' as f")  # a test-local path
    early.con.execute("copy from database memory to f")
    early.con.execute("detach f")
    out = tmp_path / "flags.csv"
    assert flags.run_flags(path, out) == 0
    note = flags.thresholds_path(out).read_text(encoding="utf-8-sig")
    assert "数据截至 2021-11-28" in note and "应报至 2021-10" in note
    assert scoring.run_scores(path, 2021, "annual", tmp_path / "scores.csv") == 0
    assert "截至2021-10" in capsys.readouterr().err
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        data = report.collect(con, 2021)
    finally:
        con.close()
    assert (data.as_of_month, data.as_of_date, data.as_of_label) == ("2021-10", "2021-11-28", "截至2021-10")


@pytest.mark.parametrize(("later_fill", "flagged"), [(None, False), ("2021-12-06", True)])
def test_overdue_judges_a_november_report_once_november_is_due(later_fill, flagged):
    # 库尔勒市's November report, handed in on 28 November, shows its subsidised project unfinished;
    # it may still finish by the 30th and resubmit until 5 December: OVERDUE waits for the deadline
    w = Warehouse()
    w.ledger(KRL, [dict(name="团结小区")])
    w.plan(KRL, 2021, [dict(name="团结小区", central_subsidy_wan_yuan=100.0)])
    for m in range(1, 12):
        w.report(KRL, f"2021-{m:02d}", [dict(name="团结小区", start_date="2021-03-01", pct_progress=8.0 * m)],
                 fill_date="2021-11-28" if m == 11 else _next_fifth(m))
    if later_fill:
        w.plan(KRL, 2022, [dict(name="幸福小区")], fill_date=later_fill)
    w.build()
    assessable, hits = w.counts("OVERDUE")
    assert (assessable, hits) == ((1, 1) if flagged else (0, 0))
    assert [s["period"] for s in w.signals("OVERDUE")] == (["2021-11"] if flagged else [])
