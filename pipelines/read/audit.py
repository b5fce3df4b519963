"""Signals for the audit bureau (州审计局): the list, the risk ranking, a signal's rows, rules, coverage, verdicts.

Every function takes the session's :class:`Scope` first. The list, evidence and verdicts are the
``signals`` area (auditors, admins); leadership reads only :func:`signal_counts` (per county and
rule, no list or evidence)."""

from __future__ import annotations

import polars as pl

from pipelines.access.scope import Scope, requires
from pipelines.read.connection import cached, query
from pipelines.read.prefecture import in_prefecture, pref

__all__ = ["signals", "risk_ranking", "signal_detail", "signal_rules", "signal_coverage", "verdict_summary", "risk_counties",
           "signal_thresholds", "signal_counts", "verdict_history", "DETAIL_LABELS"]

_COMPARE_FIELDS = (("name", "小区名称"), ("address", "地址"), ("build_year", "建成年份"), ("buildings", "楼栋数"),
                   ("households", "户数"), ("area_m2", "建筑面积(m²)"))

#: Chinese headings of the drill-down tables (the page renames with them)
DETAIL_LABELS = {
    "county_name": "县市", "plan_year": "计划年度", "name": "小区名称", "address": "地址", "build_year": "建成年份",
    "buildings": "楼栋数", "households": "户数", "area_m2": "建筑面积(m²)", "categories": "改造类别",
    "total_invest_wan_yuan": "计划总投资(万元)", "central_subsidy_wan_yuan": "中央补助(万元)", "notice_days": "公示天数",
    "renovated_year": "已改造年度", "file_name": "文件", "sheet_name": "工作表", "row_number": "行",
    "link_score": "匹配度", "link_fields": "匹配依据", "link_method": "匹配方法", "report_month": "报告期",
    "start_date": "开工日期", "pct_progress": "形象进度(%)", "invest_done_wan_yuan": "累计完成投资(万元)",
    "paid_wan_yuan": "累计拨付(万元)", "finish_date": "完工日期", "submission_rank": "版本(1=现行)",
    "fill_date": "填报日期", "match_score": "匹配度", "matched_fields": "匹配依据", "method": "方法",
}


@requires("signals")
@cached
def signals(scope: Scope, year: int | None, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Signals of the year (plan year, or the period's year for unit-level signals) with their verdict status
    (of ``prefecture``'s units when given)."""
    unit = scope.unit(unit)
    # the verdict in force, carried over to the same finding after a resubmission (marts.verdict_current)
    return query(
        f"""
        select s.signal_id, s.rule, r.label as rule_label, s.class, s.severity,
            w.value as severity_weight,
            s.county_code, s.county_name, s.plan_year, s.period, s.community_name, s.score, s.evidence,
            s.file_name, s.sheet_name, s.row_number, s.plan_row_id, s.entity_id, s.central_subsidy_wan_yuan,
            coalesce(v.status, '待核查') as verdict, v.status_text, v.verdict_in_force, v.verdict_note, v.decided_by,
            v.decided_at, v.reviewed_by, v.proposed_verdict, v.proposed_by, v.proposed_by_user, v.proposed_at,
            v.proposed_act_id
        from marts.signals as s
        left join marts.signal_rules as r using (rule)
        -- the severity weights of the risk ranking (thresholds.toml, published to marts.settings)
        left join marts.settings as w on w.key = 'severity_weights.' || s.severity
        left join marts.verdict_current as v using (signal_id)
        where ($unit is null or s.county_code = $unit) and {in_prefecture("s.county_code")}
          and ($year is null or s.plan_year = $year or (s.plan_year is null and s.period like cast($year as varchar) || '-%'))
        order by severity_weight desc, s.score desc, s.county_code, s.community_name
        """,
        {"year": year, "unit": unit, "pref": pref(scope, prefecture)},
    )


@requires("signals")
@cached
def risk_ranking(scope: Scope, year: int | None, unit: str | None, prefecture: str | None = None) -> pl.DataFrame:
    """Communities ranked by risk (``marts.risk_communities``: severity points × money factor × coincidence
    factor, signals cleared by the auditors left out), for plan rows of the year when one is given.
    ``risk_rank`` counts 1…n within the year, unit and prefecture asked for (equal scores share a rank);
    ``prefecture_rank`` is the mart's rank over every year and unit."""
    unit = scope.unit(unit)
    return query(
        f"""
        select rank() over (order by risk_rank) as risk_rank, risk_rank as prefecture_rank, county_name, community_name, array_to_string(plan_years, '、') as plan_years,
            count_signals, count_high, count_medium, count_low, classes,
            -- the rules in Chinese, as the auditors know them
            coalesce((select string_agg(coalesce(r.label, t.code), '、')
                      from unnest(string_split(rules, '、')) as t(code)
                      left join marts.signal_rules as r on r.rule = t.code), rules) as rules,
            severity_points, central_subsidy_wan_yuan, money_factor, coincidence_factor, risk_score
        from marts.risk_communities
        where ($unit is null or county_code = $unit) and {in_prefecture()}
          and ($year is null or list_contains(plan_years, $year))
        order by risk_rank, county_name, community_name
        """,
        {"year": year, "unit": unit, "pref": pref(scope, prefecture)},
    )


@requires("signals")
@cached
def signal_detail(scope: Scope, signal_id: str) -> dict:
    """A signal with the ledger, plan and report rows behind it and how they were linked."""
    sig = query("select * from marts.signals where signal_id = $id", {"id": signal_id})
    if sig.is_empty():
        return {}
    s = sig.row(0, named=True)
    ids = list(s["row_ids"] or [])
    if s["plan_row_id"]:
        ids.append(s["plan_row_id"])
    out: dict = {"signal": s}
    # the plan rows behind it and those of the same community; the ledger community, the score and
    # the explanation all from the one identity engine (core.identity_links / core.identity_entities)
    plan_ids = ids
    if s["entity_id"]:
        plan_ids = ids + query("select plan_row_id from core.identity_entities where entity_id = $e",
                               {"e": s["entity_id"]})["plan_row_id"].to_list()
    out["plan"] = query(
        """
        select p.plan_row_id, p.county_name, p.plan_year, p.name, p.address, p.build_year, p.buildings, p.households,
            p.area_m2, p.categories, p.total_invest_wan_yuan, p.central_subsidy_wan_yuan, p.notice_days,
            p.file_name, p.sheet_name, p.row_number,
            case when l.is_match then l.to_id end as community_id, l.score as link_score,
            l.explanation as link_fields, l.method as link_method
        from core.plan_rows as p
        left join (select * from core.identity_links where kind = 'plan_ledger' and from_id in (select unnest($ids))) as l
            on l.from_id = p.plan_row_id
        where p.plan_row_id in (select unnest($ids))
        order by p.plan_year, p.county_name, p.file_name, p.row_number
        """,
        {"ids": plan_ids},
    )
    ledger_ids = [i for i in out["plan"]["community_id"].to_list() if i] + ids
    out["ledger"] = query(
        """
        select community_id, county_name, name, address, build_year, buildings, households, area_m2,
            renovated_year, file_name, sheet_name, row_number
        from core.ledger_communities where community_id in (select unnest($ids))
        order by county_name, name
        """,
        {"ids": ledger_ids},
    )
    # the rows named and those linked to them (one report row has one best plan row): the set is
    # found first, then each table is read for it alone (an OR over the join read both whole)
    out["reports"] = query(
        """
        with wanted as (
            select unnest($ids) as id
            union all
            select from_id from core.identity_links where kind = 'report_plan' and is_match and to_id in (select unnest($ids))
        )
        select strftime(r.report_month, '%Y-%m') as report_month, r.county_name, r.plan_year, r.name, r.households,
            r.start_date, r.pct_progress, r.invest_done_wan_yuan, r.paid_wan_yuan, r.finish_date,
            r.submission_rank, r.fill_date, r.file_name, r.sheet_name, r.row_number,
            k.score as link_score, k.explanation as link_fields
        from core.report_rows_history as r
        left join (select * from core.identity_links where kind = 'report_plan' and from_id in (select id from wanted)) as k
            on k.from_id = r.report_row_id
        where r.report_row_id in (select id from wanted)
        order by r.report_month, r.submission_rank
        """,
        {"ids": ids},
    )
    out["compare"] = _compare(out["plan"], out["ledger"], s["plan_row_id"])
    if s["entity_id"]:
        out["entity"] = query(
            """
            select e.plan_row_id, e.entity_id, e.matched_row_id, coalesce(l.score, 1.0) as match_score,
                coalesce(l.explanation, '') as matched_fields, e.method
            from core.identity_entities as e
            left join (select * from core.identity_links
                       where link_id in (select link_id from core.identity_entities where entity_id = $e)) as l using (link_id)
            where e.entity_id = $e
            """, {"e": s["entity_id"]})
    return out


def _compare(plan: pl.DataFrame, ledger: pl.DataFrame, plan_row_id: str | None) -> pl.DataFrame:
    """The flagged plan row beside the ledger community it was linked to, field by field, with the difference."""
    rows = plan.filter(pl.col("plan_row_id") == plan_row_id) if plan_row_id else plan.head(0)
    if rows.is_empty():
        return pl.DataFrame(schema={"字段": pl.String, "台账": pl.String, "计划": pl.String, "差异": pl.String})
    p = rows.row(0, named=True)
    match = ledger.filter(pl.col("community_id") == p["community_id"]) if p["community_id"] else ledger.head(0)
    led = match.row(0, named=True) if match.height else {}
    def show(col: str, v) -> str:
        if v is None:
            return "—"
        if col == "build_year" or not isinstance(v, (int, float)):
            return str(v)
        return f"{v:,.1f}" if col == "area_m2" else f"{v:,}"

    out = []
    for col, label in _COMPARE_FIELDS:
        a, b = led.get(col), p.get(col)
        diff = ""
        if a is not None and b is not None and a == b:
            diff = "一致"
        elif col == "build_year" and a is not None and b is not None:
            diff = f"{b - a:+d} 年"
        elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and a:
            diff = f"{b - a:+,.0f}({(b - a) / a:+.0%})"
        elif a is not None and b is not None:
            diff = "不同"
        elif a is None and not led:
            diff = "台账无匹配"
        out.append({"字段": label, "台账": show(col, a), "计划": show(col, b), "差异": diff})
    return pl.DataFrame(out)



@requires("signals")
@cached
def signal_rules(scope: Scope) -> pl.DataFrame:
    """The rules in force: code, class, severity, label, description with thresholds."""
    return query("select * from marts.signal_rules order by sort_order")


@requires("signals")
@cached
def signal_coverage(scope: Scope) -> pl.DataFrame:
    """Per rule: units it could assess, could not assess and flagged, with the share warning of the signals work."""
    return query(
        """
        select rule, label as rule_label, unit, count_assessable, count_not_assessable, count_flagged,
            round(100.0 * count_assessable / nullif(count_assessable + count_not_assessable, 0), 1) as pct_assessable,
            round(100.0 * pct_flagged, 1) as pct_flagged, is_warning, warning
        from marts.coverage_signals
        order by sort_order
        """
    )


@requires("signals")
@cached
def verdict_summary(scope: Scope) -> pl.DataFrame:
    """Per rule: signals confirmed, cleared and open, and the share of decided ones that held up."""
    return query(
        """
        select label as rule_label, count_signals, count_confirmed, count_cleared, count_more_info, count_pending,
            count_open,
            round(100.0 * pct_confirmed_of_decided, 1) as pct_confirmed_of_decided
        from marts.verdict_rule_summary
        where count_signals > 0
        order by sort_order
        """
    )


@requires("signals")
@cached
def risk_counties(scope: Scope, prefecture: str | None = None) -> pl.DataFrame:
    """Units ranked by risk over all current signals not cleared (all years); of ``prefecture`` when given,
    ranked 1…n among them (the mart's rank is over every unit; equal scores share a rank)."""
    return query(
        f"""
        select rank() over (order by risk_rank) as risk_rank, county_name, count_signals, count_high, count_medium, count_low, count_communities,
            classes, severity_points, central_subsidy_wan_yuan, money_factor, coincidence_factor, risk_score
        from marts.risk_counties
        where {in_prefecture()}
        order by risk_rank, sort_order
        """,
        {"pref": pref(scope, prefecture)},
    )


@requires("signals")
@cached
def signal_thresholds(scope: Scope) -> pl.DataFrame:
    """The thresholds the signals were computed with, and their version."""
    return query("select key, rule, name, value, version from marts.signal_thresholds order by key")


@requires("signal_counts")
@cached
def signal_counts(scope: Scope, year: int | None, prefecture: str | None = None) -> pl.DataFrame:
    """Signals per county and rule of the year (current signals; counts only, no list or evidence), of
    ``prefecture``'s units when given."""
    return query(
        f"""
        select s.county_name, r.label as rule_label, s.severity, count(*) as count_signals,
            count(*) filter (where coalesce(v.verdict_in_force, '') not in ('已确认', '已排除')) as count_open,
            any_value(c.sort_order) as sort_order, any_value(r.sort_order) as rule_order
        from marts.signals as s
        left join marts.signal_rules as r using (rule)
        left join marts.verdict_current as v using (signal_id)
        left join staging.counties as c on c.county_code = s.county_code
        where ($year is null or s.plan_year = $year or (s.plan_year is null and s.period like cast($year as varchar) || '-%'))
          and {in_prefecture("s.county_code")}
        group by s.county_name, r.label, s.severity
        order by sort_order, rule_order
        """,
        {"year": year, "pref": pref(scope, prefecture)},
    )


@requires("signals")
@cached
def verdict_history(scope: Scope, signal_ids: tuple[str, ...]) -> pl.DataFrame:
    """Every act on the signals (verdicts and reviews, earlier versions of the file included), in order:
    who, when, from, to, note (``marts.verdict_history``)."""
    return query(
        """
        select signal_id, act_seq, decided_at, decided_by_label, act_label, from_status, to_status, note,
            is_carried_over
        from marts.verdict_history
        where signal_id in (select unnest($ids))
        order by signal_id, act_seq
        """,
        {"ids": list(signal_ids)},
    )
