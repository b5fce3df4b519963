"""What the annual report prints, read from the marts (scores, indicators, signals) and the raw
load log; nothing is scored here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from pipelines import scoring
from pipelines.clock import read_clock
from pipelines.scoring import Inputs, Scheme, Score, whatif
from pipelines.warehouse import table_exists

__all__ = ["ReportData", "collect"]


@dataclass
class ReportData:
    """Everything the report prints, read from the warehouse."""

    year: int
    scheme: Scheme
    generated_at: datetime
    as_of_month: str  # YYYY-MM of the data clock's latest due month, '' when none
    as_of_label: str  # 截至YYYY-MM when the year is still in progress
    annual: list[Score]
    previous: dict[str, Score]  # county_code → last year's annual score
    biennial: list[Score]
    prefecture: Score | None
    prefecture_previous: Score | None
    inputs: dict[str, Inputs]  # county_code → this year's inputs
    counties: list[tuple[str, str]]  # (code, name) in counties.csv order
    trajectory: list[tuple[int, float, float]]  # (year, completed households to date, even path to goal)
    signals: list[tuple] | None  # open signals (None: the signal module has produced no results)
    signal_summary: list[tuple]
    quality: list[tuple]
    quality_issues: list[tuple]
    whatif: list[tuple] = field(default_factory=list)
    as_of_date: str = ""  # the data clock's as-of date (newest 填报日期 received), '' when none

    def name(self, code: str) -> str:
        return dict(self.counties).get(code, code)


def _all(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _open_signals(con: duckdb.DuckDBPyConnection, year: int) -> tuple[list[tuple] | None, list[tuple]]:
    """Signals of the year not yet settled by an auditor: no 已确认 or 已排除 in force in ``marts.verdict_current``
    (a high-severity one only once a second auditor confirmed it; carried over to the same finding in a
    resubmitted file), as the dashboard shows it."""
    if not table_exists(con, "marts.signals") or not con.execute("select count(*) from marts.signals").fetchone()[0]:
        return None, []
    base = """
        with open_signals as (
            select s.* replace (coalesce(r.label || '(' || s.rule || ')', s.rule) as rule),
                   w.value as weight
            from marts.signals as s
            inner join marts.verdict_current as v using (signal_id)
            left join marts.signal_rules as r on r.rule = s.rule
            left join marts.settings as w on w.key = 'severity_weights.' || s.severity
            where coalesce(v.verdict_in_force, '') not in ('已确认', '已排除')
              and (s.plan_year = $year or (s.plan_year is null and s.period like $prefix))
        )
    """
    params = {"year": year, "prefix": f"{year:04d}-%"}
    rows = _all(con, base + """
        select county_name, community_name, rule, severity, evidence, central_subsidy_wan_yuan, period
        from open_signals
        order by weight desc, score desc, county_code, community_name
        limit 30""", params)
    summary = _all(con, base + """
        select rule, any_value(class), any_value(severity), count(*), count(distinct county_code),
               sum(coalesce(central_subsidy_wan_yuan, 0))
        from open_signals group by rule order by max(weight) desc, count(*) desc""", params)
    return rows, summary


def _quality(con: duckdb.DuckDBPyConnection, year: int) -> tuple[list[tuple], list[tuple]]:
    """The year's submissions per county: files by outcome, rows loaded and quarantined, issues.

    A file belongs to the year of its period (report month, plan year), else of its fill date."""
    if not table_exists(con, "raw.ingest_log"):
        return [], []
    files = """
        with periods as (
            select file_id, any_value(period) as period from core.submissions group by file_id
        ),
        files as (
            select l.*,
                coalesce(year(l.report_month),
                         case when l.kind = 'plan' then try_cast(p.period as integer) end,
                         year(l.fill_date)) as data_year
            from raw.ingest_log as l
            left join periods as p using (file_id)
        )
    """
    per_county = _all(con, files + """
        select coalesce(c.county_name, '(县市未识别)') as county,
               count(*) filter (where f.status = 'accepted'),
               count(*) filter (where f.status = 'duplicate'),
               count(*) filter (where f.status = 'rejected'),
               coalesce(sum(f.rows) filter (where f.status = 'accepted'), 0),
               coalesce(sum(f.rejected_rows) filter (where f.status = 'accepted'), 0)
        from files as f
        left join staging.counties as c using (county_code)
        where f.data_year = $year
        group by all
        order by min(coalesce(c.sort_order, 99))""", {"year": year})
    issues = []
    if table_exists(con, "raw.row_issues"):
        issues = _all(con, files + """
            select i.code, i.severity, count(*), count(distinct i.file_id)
            from raw.row_issues as i
            inner join (select distinct file_id from files where data_year = $year and file_id is not null) as f
                using (file_id)
            group by all
            order by count(*) desc
            limit 15""", {"year": year})
    return per_county, issues


def collect(con: duckdb.DuckDBPyConnection, year: int, scheme: Scheme | None = None,
            now: datetime | None = None) -> ReportData:
    """Read what the report of ``year`` needs from the warehouse."""
    scheme = scheme or scoring.load_scheme()
    annual = scoring.scores_for(con, year, "annual", scheme)
    previous = {s.county_code: s for s in scoring.scores_for(con, year - 1, "annual", scheme)}
    biennial = scoring.scores_for(con, year, "biennial", scheme) if year >= scheme.biennial_first_year else []
    inputs_all = scoring.read_inputs(con)
    inputs = {i.county_code: i for i in inputs_all if i.score_year == year}
    pref_inp = scoring.prefecture_inputs(inputs_all, year)
    prev_inp = scoring.prefecture_inputs(inputs_all, year - 1)
    # the prefecture as one unit: from marts.scores_prefecture, computed only when the mart is empty
    mart_filled = table_exists(con, "marts.scores_prefecture") and bool(
        con.execute("select count(*) from marts.scores_prefecture").fetchone()[0])
    if mart_filled:
        prefecture = scoring.read_prefecture(con, year)
        prefecture_previous = scoring.read_prefecture(con, year - 1)
    else:
        prefecture = scoring.annual_score(pref_inp, scheme)
        prefecture_previous = scoring.annual_score(prev_inp, scheme)
    # the data clock: the latest due month (every county scored as of it) and the as-of date
    clock = read_clock(con)
    as_of = f"{clock.latest_due_month:%Y-%m}" if clock.latest_due_month else ""
    as_of_date = f"{clock.as_of_date:%Y-%m-%d}" if clock.as_of_date else ""
    label = next((i.as_of_label for i in inputs.values() if i.as_of_label), "")
    counties = _all(con, "select county_code, county_name from staging.counties order by sort_order")
    trajectory = []
    by_year: dict[int, list[Inputs]] = {}
    for i in inputs_all:
        by_year.setdefault(i.score_year, []).append(i)
    for y in sorted(by_year):
        if y > year:
            continue
        done = sum(i.sum_households_completed_to_date for i in by_year[y])
        t = sum(i.sum_ledger_households_old for i in by_year[y])
        path = t * max(0, y - scheme.base_year) / scheme.horizon_years
        trajectory.append((y, float(done), float(min(path, t))))
    signals, summary = _open_signals(con, year)
    quality, issues = _quality(con, year)
    whatif_rows = []
    if table_exists(con, "marts.whatif_subsidy"):
        whatif_rows = _all(con, """
            select county_name, central_subsidy_wan_yuan, base_share_wan_yuan, score, share_wan_yuan,
                   change_wan_yuan
            from marts.whatif_subsidy where year = $year and pool = $pool order by sort_order""",
            {"year": year, "pool": whatif.ALL})  # the whole warehouse's pool: the mart holds each prefecture's too
    return ReportData(
        year=year, scheme=scheme, generated_at=(now or datetime.now()).replace(microsecond=0),
        as_of_month=as_of, as_of_label=label, annual=annual, previous=previous, biennial=biennial,
        prefecture=prefecture, prefecture_previous=prefecture_previous, inputs=inputs,
        counties=counties, trajectory=trajectory, signals=signals, signal_summary=summary,
        quality=quality, quality_issues=issues, whatif=whatif_rows, as_of_date=as_of_date,
    )

