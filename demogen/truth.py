"""The truth of the demo data set: every signal the rules of ``flags.md`` must raise on it.

The rules are evaluated here on the generator's own model, where the true identity of every
plan and report row is known, so the answer does not depend on entity resolution. Planted
cases carry the generator's note as evidence; signals that arise by accident get a computed
one. The result is written in the ``flags.csv`` format.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from demogen.world import (
    COUNTIES, PlanFile, ReportFile, World, mi, month_end, month_label, weekdays, ym,
)

SEVERITY = {
    "DUP_CROSS_YEAR": "high", "DUP_SAME_YEAR": "high", "INFLATED_SCALE": "high", "INFLATED_COST": "medium",
    "NOT_IN_LEDGER": "high", "POST_2000": "low", "NOTICE_SHORT": "low", "FUNDS_IDLE": "high",
    "PAID_EXCEEDS_WORK": "high", "PROGRESS_REGRESSION": "medium", "PROGRESS_JUMP": "low",
    "INVEST_EXCEEDS_PLAN": "medium", "OVERDUE": "medium", "MISSING_REPORT": "medium", "LATE_REPORT": "low",
    "TOTALS_MISMATCH": "low", "RETRO_REVISION": "medium",
}
RULES = tuple(SEVERITY)
HEADER = ("rule", "severity", "county", "plan_year", "period", "community_name", "score", "evidence")


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def current_plan_files(w: World) -> list[PlanFile]:
    best: dict[tuple[str, int], PlanFile] = {}
    for f in w.plan_files:
        k = (f.county, f.year)
        if k not in best or (f.fill_date, f.version) > (best[k].fill_date, best[k].version):
            best[k] = f
    return list(best.values())


def report_groups(w: World) -> dict[tuple[str, int], list[ReportFile]]:
    """Submissions of each county and month, oldest first (by fill date; all resubmitted months have one)."""
    out: dict[tuple[str, int], list[ReportFile]] = {}
    for f in w.report_files:
        out.setdefault((f.county, f.month), []).append(f)
    for fs in out.values():
        fs.sort(key=lambda f: (f.fill_date or date.min, f.version))
    return out


def latest_due_month(w: World) -> int:
    """flags.md, "The data clock": the last month whose deadline (the 5th of the next month) is on or
    before the newest 填报日期 of any file; without any 填报日期, the newest report month."""
    fills = [f.fill_date for f in (*w.ledger_files, *w.plan_files, *w.report_files) if f.fill_date is not None]
    if not fills:
        return max(f.month for f in w.report_files)
    as_of = max(fills)
    m = mi(as_of.year, as_of.month)
    while date(*ym(m + 1), 5) > as_of:
        m -= 1
    return m


def notice_days(p) -> int | None:
    if p.notice_days_given is not None:
        return p.notice_days_given
    if p.notice_start and p.notice_end:
        return weekdays(p.notice_start, p.notice_end)
    return None


def compute_truth(w: World) -> list[dict]:
    out: list[dict] = []
    notes = w.notes

    def emit(rule, county, plan_year, period, name, evidence):
        out.append({"rule": rule, "severity": SEVERITY[rule], "county": county,
                    "plan_year": "" if plan_year is None else str(plan_year), "period": period or "",
                    "community_name": name or "", "score": "1", "evidence": evidence})

    # ---- plan rules (current plans)
    files = current_plan_files(w)
    entries = []  # (plan row, position)
    for f in files:
        for i, p in enumerate(f.rows):
            entries.append((p, (f.year, f.fill_date, COUNTIES.index(f.county), i)))
    by_eid: dict[int, list] = {}
    for p, pos in entries:
        by_eid.setdefault(p.eid, []).append((pos, p))
    flagged_cross: set[int] = set()
    for lst in by_eid.values():
        lst.sort(key=lambda t: t[0])
        first_year = lst[0][1].year
        seen_years: set[int] = set()
        for _, p in lst:
            if p.year > first_year:
                flagged_cross.add(p.pid)
                emit("DUP_CROSS_YEAR", p.county, p.year, "", p.name,
                     notes.get(("DUP_CROSS_YEAR", p.pid), f"{first_year}年计划已列入同一小区,{p.year}年再次申报"))
            if p.year in seen_years:
                emit("DUP_SAME_YEAR", p.county, p.year, "", p.name,
                     notes.get(("DUP_SAME_YEAR", p.pid), f"{p.year}年计划重复列入同一小区"))
            seen_years.add(p.year)
    for p, _ in entries:
        led = w.ledger.get(p.cid) if p.cid is not None else None
        if led is not None and led.renovated_year is not None and led.renovated_year < p.year and p.pid not in flagged_cross:
            emit("DUP_CROSS_YEAR", p.county, p.year, "", p.name,
                 notes.get(("DUP_CROSS_YEAR", p.pid), f"台账标注已于{led.renovated_year}年改造"))
        if led is None:
            emit("NOT_IN_LEDGER", p.county, p.year, "", p.name,
                 notes.get(("NOT_IN_LEDGER", p.pid), "台账中无此小区"))
        else:
            over = []
            for what, a, b, floor in (("户数", p.households, led.households, 5), ("楼栋数", p.buildings, led.buildings, 1),
                                      ("建筑面积", p.area, led.area, 200)):
                if a > b * 1.1 and a - b >= floor:
                    over.append(f"计划{what}{a:g} > 台账{b:g}")
            if over:
                emit("INFLATED_SCALE", p.county, p.year, "", p.name,
                     notes.get(("INFLATED_SCALE", p.pid), ";".join(over)) + f";台账:{led.county} {led.name} {led.build_year}年 {led.buildings}栋")
        if p.build_year > 2000:
            emit("POST_2000", p.county, p.year, "", p.name, notes.get(("POST_2000", p.pid), f"建成年份{p.build_year}年"))
        nd = notice_days(p)
        if nd is None or nd < 14:
            emit("NOTICE_SHORT", p.county, p.year, "", p.name,
                 notes.get(("NOTICE_SHORT", p.pid), "无公示记录" if nd is None else f"公示{nd}个工作日"))
    groups: dict[tuple[int, tuple], list] = {}
    for p, _ in entries:
        groups.setdefault((p.year, p.categories), []).append(p)
    for ps in groups.values():
        m_hh = _median([p.total / p.households for p in ps])
        m_m2 = _median([p.total / p.area for p in ps])
        for p in ps:
            r_hh, r_m2 = p.total / p.households / m_hh, p.total / p.area / m_m2
            if r_hh > 3 or r_m2 > 3:
                emit("INFLATED_COST", p.county, p.year, "", p.name,
                     notes.get(("INFLATED_COST", p.pid), f"户均{p.total / p.households:.2f}万元为中位数{r_hh:.1f}倍,每平方米为中位数{r_m2:.1f}倍"))

    # ---- monthly report rules (current view)
    groups_r = report_groups(w)
    current = {k: fs[-1] for k, fs in groups_r.items()}
    latest = latest_due_month(w)
    series: dict[int, list] = {}
    for (c, m), f in sorted(current.items(), key=lambda kv: kv[0][1]):
        for r in f.rows:
            series.setdefault(r.pid, []).append((m, r, c))
    plans = w.plans
    for pid, lst in series.items():
        p = plans[pid]
        done_rules: set[str] = set()
        idle_run = 0
        prev = None
        for m, r, c in lst:

            def flag(rule, ev, r=r, c=c, m=m, done_rules=done_rules):  # once per project and rule, first month
                if rule not in done_rules:
                    done_rules.add(rule)
                    emit(rule, c, r.plan_year, month_label(m), r.name, notes.get((rule, r.pid), ev))

            if r.households > p.households * 1.1 and r.households - p.households >= 5:
                flag("INFLATED_SCALE", f"月报户数{r.households} > 计划户数{p.households}")
            idle = r.paid > 0 and r.start_date is None and r.progress == 0
            idle_run = idle_run + 1 if idle else 0
            if idle_run >= 3:
                flag("FUNDS_IDLE", f"已拨付{r.paid:.2f}万元,连续3个月未开工")
            if r.paid > r.done + 0.3 * r.total + 1e-9 or r.paid > r.total + 1e-9:
                flag("PAID_EXCEEDS_WORK", f"累计拨付{r.paid:.2f}万元,累计完成投资{r.done:.2f}万元")
            if prev is not None:
                if prev.progress - r.progress > 0.5 + 1e-9 or r.done < prev.done - 1e-9:
                    flag("PROGRESS_REGRESSION", f"形象进度{prev.progress:g}→{r.progress:g},完成投资{prev.done:.2f}→{r.done:.2f}")
                if r.progress - prev.progress > 80 + 1e-9 and r.households >= 200:
                    flag("PROGRESS_JUMP", f"形象进度{prev.progress:g}%→{r.progress:g}%")
            if r.done > r.total * 1.1 + 1e-9:
                flag("INVEST_EXCEEDS_PLAN", f"累计完成投资{r.done:.2f}万元,计划总投资{r.total:.2f}万元")
            prev = r
        if p.central > 0 and mi(p.year, 11) <= latest:  # judged once November is due (the data clock)
            nov = mi(p.year, 11)
            f = current.get((p.county, nov))
            if f is not None:
                r = next((x for x in f.rows if x.pid == pid), None)
                if r is not None and (r.finish_date is None or r.finish_date > date(p.year, 11, 30)):
                    emit("OVERDUE", p.county, p.year, month_label(nov), r.name,
                         notes.get(("OVERDUE", pid), f"有中央补助资金,{p.year}年11月底形象进度{r.progress:g}%未完工"))

    has_plan = {(p.county, p.year) for p in plans.values()}
    for c in COUNTIES:
        for y in sorted({y for cc, y in has_plan if cc == c}):
            for m in range(mi(y, 1), min(mi(y, 12), latest) + 1):
                if (c, m) not in groups_r:
                    emit("MISSING_REPORT", c, None, month_label(m), "", notes.get(("MISSING_REPORT", c, m), f"{month_label(m)}无月报"))
    for (c, m), fs in sorted(groups_r.items(), key=lambda kv: (COUNTIES.index(kv[0][0]), kv[0][1])):
        first = fs[0]
        y, mo = ym(m + 1)
        if first.fill_date is not None and first.fill_date > date(y, mo, 5):
            emit("LATE_REPORT", c, None, month_label(m), "", notes.get(("LATE_REPORT", c, m), f"填报日期{first.fill_date}"))
        cur = fs[-1]
        if cur.totals_error is not None and abs(cur.totals_error[1]) > 0.005:
            emit("TOTALS_MISMATCH", c, None, month_label(m), "", notes.get(("TOTALS_MISMATCH", c, m), "合计行与明细不符"))
        for prev_f, f in zip(fs, fs[1:]):
            if f.fill_date is not None and f.fill_date > month_end(m + 1):
                before = {r.pid: r.values() for r in prev_f.rows}
                for r in f.rows:
                    if before.get(r.pid) != r.values():
                        emit("RETRO_REVISION", c, r.plan_year, month_label(m), r.name,
                             notes.get(("RETRO_REVISION", c, m, r.pid), "逾期重报修改了数值"))
    order = {r: i for i, r in enumerate(RULES)}
    out.sort(key=lambda d: (order[d["rule"]], COUNTIES.index(d["county"]), d["plan_year"], d["period"], d["community_name"]))
    return out


def write_truth(rows: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=HEADER, lineterminator="\r\n")
        wr.writeheader()
        wr.writerows(rows)
