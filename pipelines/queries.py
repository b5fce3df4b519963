"""Read-only queries of the warehouse for the dashboard.

The app holds one read-only DuckDB connection per warehouse file (``st.cache_resource``) and
opens a cursor per query; results are cached with ``st.cache_data`` (bounded by ttl and
max_entries). Values reach SQL as parameters. A query on a table that does not exist yet (a
part of the system not built, or a warehouse not refreshed) raises :class:`DataUnavailable`
with a Chinese message for the page to show.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tomllib
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from pipelines.warehouse import ROOT, default_db_path

__all__ = [
    "DataUnavailable", "db_path", "close_connection", "clear_caches", "has_table",
    "years", "default_year", "units", "as_of_month",
    "progress_summary", "progress_by_month", "progress_ranking", "trajectory", "projection",
    "reference_comparison",
    "signals", "signal_detail", "signal_rules", "signal_coverage", "signal_thresholds", "risk_ranking",
    "risk_counties", "verdict_summary",
    "score_years", "score_totals", "score_lines", "scores_csv_bytes", "prefecture_score", "whatif_subsidy",
    "submission_history", "ingest_log", "reporting_status",
    "validation_results", "row_issues", "data_docs_dir", "max_upload_bytes",
    "DETAIL_LABELS", "ingest_files", "write_verdict", "signals_csv_bytes", "signals_xlsx_bytes", "signals_stamp_text",
    "report_bytes",
]

log = logging.getLogger(__name__)

CONFIG = ROOT / "pipelines" / "config"
REFERENCE_CSV = CONFIG / "reference_national_progress.csv"
DATA_DOCS = ROOT / "warehouse" / "gx" / "data_docs"
TTL = 600
MAX_ENTRIES = 64


class DataUnavailable(Exception):
    """A table the page needs is missing or the warehouse cannot be opened (message in Chinese)."""


def db_path() -> Path:
    """The warehouse the app reads: `RENOVATION_DB`, else ``warehouse/renovation.duckdb``."""
    return default_db_path().resolve()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    if not Path(path).exists():
        raise DataUnavailable(f"数据仓库文件不存在:{path}。请先在「数据上报」页上传工作簿,或运行 `uv run renovation demo`。")
    try:
        return duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        log.warning("cannot open %s read-only: %s", path, exc)
        raise DataUnavailable("数据仓库正被其他程序写入(例如正在导入数据),请稍后刷新页面。") from exc


def close_connection() -> None:
    """Close the app's read-only connection: DuckDB allows no writer while any connection holds the file."""
    path = str(db_path())
    try:
        if Path(path).exists():
            _connection(path).close()
    except (DataUnavailable, duckdb.Error):
        pass
    _connection.clear()


def clear_caches() -> None:
    """Forget cached results and the connection (after the warehouse was written)."""
    close_connection()
    st.cache_data.clear()


def _query(sql: str, params: list | tuple | dict = ()) -> pl.DataFrame:
    con = _connection(str(db_path()))
    cur = con.cursor()
    try:
        return cur.sql(sql, params=params or None).pl()
    except duckdb.CatalogException as exc:
        log.info("missing table: %s", exc)
        raise DataUnavailable("所需数据表尚未生成:数据仓库尚未刷新,或这部分功能的数据尚未建成。") from exc
    finally:
        cur.close()


def _key() -> str:
    """Part of every cache key: the warehouse file and its modification time, so that results of one
    warehouse never serve another, nor an older state of the same one (a load by the CLI, say)."""
    path = db_path()
    try:
        return f"{path}@{path.stat().st_mtime_ns}"
    except OSError:
        return str(path)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _tables(key: str) -> frozenset[str]:
    df = _query("select table_schema || '.' || table_name as t from information_schema.tables")
    return frozenset(df["t"].to_list())


def has_table(name: str) -> bool:
    """Whether ``schema.table`` exists in the warehouse."""
    return name in _tables(_key())


def _require(*names: str, what: str) -> None:
    missing = [n for n in names if not has_table(n)]
    if missing:
        raise DataUnavailable(f"{what}的数据尚未生成(缺少 {', '.join(missing)}),相关模块上线并刷新数据后即可显示。")


# --- filters -----------------------------------------------------------------------------------

@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _years(key: str) -> list[int]:
    if not has_table("core.plan_rows"):
        return []
    df = _query("select distinct plan_year from core.plan_rows where plan_year is not null order by plan_year desc")
    return [int(y) for y in df["plan_year"]]


def years() -> list[int]:
    """Plan years present, newest first."""
    return _years(_key())


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _as_of(key: str) -> dt.date | None:
    if not has_table("core.report_rows"):
        return None
    return _query("select max(report_month) as m from core.report_rows")["m"][0]


def as_of_month() -> dt.date | None:
    """The latest report month received from any unit."""
    return _as_of(_key())


def default_year() -> int | None:
    """The plan year of the latest report month when it has a plan, else the newest plan year."""
    ys = years()
    if not ys:
        return None
    m = as_of_month()
    return m.year if m is not None and m.year in ys else ys[0]


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _units(key: str) -> pl.DataFrame:
    return _query(
        "select county_code, county_name, seat_lat, seat_lon, sort_order from staging.counties order by sort_order"
    )


def units() -> pl.DataFrame:
    """The ten reporting units in official order (code, name, seat coordinates)."""
    return _units(_key())


# --- progress (leadership) ---------------------------------------------------------------------

_RATES = """
    round(100.0 * count_started_communities / nullif(count_plan_communities, 0), 1) as pct_started_communities,
    round(100.0 * count_completed_communities / nullif(count_plan_communities, 0), 1) as pct_completed_communities,
    round(100.0 * started_households / nullif(plan_households, 0), 1) as pct_started_households,
    round(100.0 * completed_households / nullif(plan_households, 0), 1) as pct_completed_households,
    round(100.0 * invest_done_wan_yuan / nullif(plan_invest_wan_yuan, 0), 1) as pct_invest_done,
    round(100.0 * paid_wan_yuan / nullif(plan_subsidy_wan_yuan, 0), 1) as pct_paid_of_subsidy,
    round(100.0 * paid_wan_yuan / nullif(plan_invest_wan_yuan, 0), 1) as pct_paid_of_plan
"""

_SUMS = """
    cast(sum(count_plan_communities) as bigint) as count_plan_communities,
    cast(sum(plan_households) as bigint) as plan_households,
    sum(plan_invest_wan_yuan) as plan_invest_wan_yuan,
    sum(plan_subsidy_wan_yuan) as plan_subsidy_wan_yuan,
    cast(sum(count_started_communities) as bigint) as count_started_communities,
    cast(sum(started_households) as bigint) as started_households,
    cast(sum(count_completed_communities) as bigint) as count_completed_communities,
    cast(sum(completed_households) as bigint) as completed_households,
    sum(invest_done_wan_yuan) as invest_done_wan_yuan,
    sum(paid_wan_yuan) as paid_wan_yuan
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _progress_summary(key: str, year: int, unit: str | None) -> dict:
    _require("marts.progress_county", what="进度")
    df = _query(
        f"""
        with sums as (
            select max(as_of_month) as as_of_month, {_SUMS}
            from marts.progress_county
            where plan_year = $year and ($unit is null or county_code = $unit)
        )
        select *, {_RATES} from sums
        """,
        {"year": year, "unit": unit},
    )
    row = df.row(0, named=True)
    return row if row["count_plan_communities"] else {}


def progress_summary(year: int, unit: str | None) -> dict:
    """Plan and state of the year's plan at its as-of month, for the prefecture or one unit ({} when no plan)."""
    return _progress_summary(_key(), year, unit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _progress_by_month(key: str, year: int, unit: str | None) -> pl.DataFrame:
    _require("marts.progress_monthly", what="进度")
    return _query(
        f"""
        with sums as (
            select report_month, {_SUMS},
                cast(sum(count_due_start_communities) as bigint) as count_due_start_communities,
                cast(sum(count_due_completion_communities) as bigint) as count_due_completion_communities
            from marts.progress_monthly
            where plan_year = $year and ($unit is null or county_code = $unit)
            group by report_month
        )
        select *, {_RATES} from sums order by report_month
        """,
        {"year": year, "unit": unit},
    )


def progress_by_month(year: int, unit: str | None) -> pl.DataFrame:
    """Month by month: cumulative started/completed against the plan and its scheduled starts."""
    return _progress_by_month(_key(), year, unit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _progress_ranking(key: str, year: int) -> pl.DataFrame:
    _require("marts.progress_county", what="进度")
    return _query(
        """
        select p.*, c.seat_lat, c.seat_lon
        from marts.progress_county as p
        left join staging.counties as c using (county_code)
        where p.plan_year = $year
        order by p.progress_rank, p.sort_order
        """,
        {"year": year},
    )


def progress_ranking(year: int) -> pl.DataFrame:
    """Every unit with a plan in the year: rates, rank, lagging flag and seat coordinates."""
    return _progress_ranking(_key(), year)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _trajectory(key: str, unit: str | None) -> pl.DataFrame:
    _require("marts.progress_trajectory", what="2025 年目标")
    return _query(
        """
        select report_month,
            cast(sum(completed_households) as bigint) as completed_households,
            cast(sum(target_households) as bigint) as target_households,
            sum(path_households) as path_households
        from marts.progress_trajectory
        where $unit is null or county_code = $unit
        group by report_month
        order by report_month
        """,
        {"unit": unit},
    )


def trajectory(unit: str | None) -> pl.DataFrame:
    """Households of completed plan rows month by month since 2020, the goal and its even path."""
    return _trajectory(_key(), unit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _projection(key: str, unit: str | None) -> dict:
    _require("marts.progress_projection", what="2025 年目标")
    df = _query(
        """
        select max(as_of_month) as as_of_month,
            cast(sum(completed_households) as bigint) as completed_households,
            cast(sum(target_households) as bigint) as target_households,
            sum(pace_households_per_month) as pace_households_per_month,
            max(months_to_goal) as months_to_goal,
            cast(sum(projected_households_2025) as bigint) as projected_households_2025
        from marts.progress_projection
        where $unit is null or county_code = $unit
        """,
        {"unit": unit},
    )
    row = df.row(0, named=True)
    if row["as_of_month"] is None:
        return {}
    t = row["target_households"] or 0
    row["pct_completed"] = round(100.0 * row["completed_households"] / t, 1) if t else None
    row["pct_projected_2025"] = round(100.0 * row["projected_households_2025"] / t, 1) if t else None
    return row


def projection(unit: str | None) -> dict:
    """Completed households, pace of the last 12 months and the projection to December 2025."""
    return _projection(_key(), unit)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _reference() -> pl.DataFrame:
    df = pl.read_csv(REFERENCE_CSV, infer_schema_length=None)
    # the published rate where given; else started / planned communities (derived, marked so)
    return df.filter(pl.col("scope").is_in(["national", "新疆"])).with_columns(
        pl.when(pl.col("start_rate_pct").is_not_null())
        .then(pl.col("start_rate_pct"))
        .otherwise((100.0 * pl.col("started_communities") / pl.col("planned_communities")).round(1))
        .alias("rate"),
        pl.col("start_rate_pct").is_null().alias("is_derived"),
    ).filter(pl.col("rate").is_not_null())


def reference_comparison(year: int, unit: str | None) -> pl.DataFrame:
    """Start rates (% of the year's planned communities) by month: 巴州 (or the unit), 全国 and 新疆 where published."""
    ours = progress_by_month(year, unit)
    ref = _reference().filter(pl.col("year") == year)
    months = sorted(set(ref["month"].to_list()) | {m.month for m in ours["report_month"]} if len(ours) else ref["month"].to_list())
    out = pl.DataFrame({"month": pl.Series(months, dtype=pl.Int64)})
    if len(ours):
        out = out.join(
            ours.select(pl.col("report_month").dt.month().cast(pl.Int64).alias("month"),
                        pl.col("pct_started_communities").alias("prefecture")),
            on="month", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("prefecture"))
    for scope, col in (("national", "national"), ("新疆", "xinjiang")):
        part = ref.filter(pl.col("scope") == scope).group_by("month").agg(
            pl.col("rate").first().alias(col), pl.col("is_derived").first().alias(f"{col}_derived"),
            pl.col("source_url").first().alias(f"{col}_source"))
        out = out.join(part.with_columns(pl.col("month").cast(pl.Int64)), on="month", how="left")
    return out.sort("month")


# --- signals (audit bureau) --------------------------------------------------------------------

@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _signals(key: str, year: int | None, unit: str | None) -> pl.DataFrame:
    _require("marts.signals", what="风险线索")
    # the verdict in force, carried over to the same finding after a resubmission (marts.verdict_current)
    if has_table("marts.verdict_current"):
        verdict_sql = "left join marts.verdict_current as v using (signal_id)"
        verdict_cols = "coalesce(v.verdict, '待核查') as verdict, v.verdict_note, v.decided_at"
    else:
        verdict_sql = ""
        verdict_cols = "'待核查' as verdict, null::varchar as verdict_note, null::timestamp as decided_at"
    rules_join = "left join marts.signal_rules as r using (rule)" if has_table("marts.signal_rules") else ""
    label = "coalesce(r.label, s.rule)" if rules_join else "s.rule"
    return _query(
        f"""
        select s.signal_id, s.rule, {label} as rule_label, s.class, s.severity,
            case s.severity when 'high' then 3 when 'medium' then 2 else 1 end as severity_weight,
            s.county_code, s.county_name, s.plan_year, s.period, s.community_name, s.score, s.evidence,
            s.file_name, s.sheet_name, s.row_number, s.plan_row_id, s.entity_id, s.central_subsidy_wan_yuan,
            {verdict_cols}
        from marts.signals as s
        {rules_join}
        {verdict_sql}
        where ($unit is null or s.county_code = $unit)
          and ($year is null or s.plan_year = $year or (s.plan_year is null and s.period like cast($year as varchar) || '-%'))
        order by severity_weight desc, s.score desc, s.county_code, s.community_name
        """,
        {"year": year, "unit": unit},
    )


def signals(year: int | None, unit: str | None) -> pl.DataFrame:
    """Signals of the year (plan year, or the period's year for unit-level signals) with their verdict in force."""
    return _signals(_key(), year, unit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _risk_ranking(key: str, year: int | None, unit: str | None) -> pl.DataFrame:
    _require("marts.risk_communities", what="小区风险排名")
    return _query(
        """
        select risk_rank, county_name, community_name, array_to_string(plan_years, '、') as plan_years,
            count_signals, count_high, count_medium, count_low, classes,
            -- the rules in Chinese, as the auditors know them
            coalesce((select string_agg(coalesce(r.label, t.code), '、')
                      from unnest(string_split(rules, '、')) as t(code)
                      left join marts.signal_rules as r on r.rule = t.code), rules) as rules,
            severity_points, central_subsidy_wan_yuan, money_factor, coincidence_factor, risk_score
        from marts.risk_communities
        where ($unit is null or county_code = $unit)
          and ($year is null or list_contains(plan_years, $year))
        order by risk_rank, county_name, community_name
        """,
        {"year": year, "unit": unit},
    )


def risk_ranking(year: int | None, unit: str | None) -> pl.DataFrame:
    """Communities ranked by risk (``marts.risk_communities``: severity points × money factor × coincidence
    factor, signals cleared by the auditors left out), for plan rows of the year when one is given."""
    return _risk_ranking(_key(), year, unit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _signal_detail(key: str, signal_id: str) -> dict:
    _require("marts.signals", what="风险线索")
    sig = _query("select * from marts.signals where signal_id = $id", {"id": signal_id})
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
        plan_ids = ids + _query("select plan_row_id from core.identity_entities where entity_id = $e",
                                {"e": s["entity_id"]})["plan_row_id"].to_list()
    out["plan"] = _query(
        """
        select p.plan_row_id, p.county_name, p.plan_year, p.name, p.address, p.build_year, p.buildings, p.households,
            p.area_m2, p.categories, p.total_invest_wan_yuan, p.central_subsidy_wan_yuan, p.notice_days,
            p.file_name, p.sheet_name, p.row_number,
            case when l.is_match then l.to_id end as community_id, l.score as link_score,
            l.explanation as link_fields, l.method as link_method
        from core.plan_rows as p
        left join core.identity_links as l on l.kind = 'plan_ledger' and l.from_id = p.plan_row_id
        where p.plan_row_id in (select unnest($ids))
        order by p.plan_year, p.county_name, p.file_name, p.row_number
        """,
        {"ids": plan_ids},
    )
    ledger_ids = [i for i in out["plan"]["community_id"].to_list() if i] + ids
    out["ledger"] = _query(
        """
        select community_id, county_name, name, address, build_year, buildings, households, area_m2,
            renovated_year, file_name, sheet_name, row_number
        from core.ledger_communities where community_id in (select unnest($ids))
        order by county_name, name
        """,
        {"ids": ledger_ids},
    )
    out["reports"] = _query(
        """
        select strftime(r.report_month, '%Y-%m') as report_month, r.county_name, r.plan_year, r.name, r.households,
            r.start_date, r.pct_progress, r.invest_done_wan_yuan, r.paid_wan_yuan, r.finish_date,
            r.submission_rank, r.fill_date, r.file_name, r.sheet_name, r.row_number,
            k.score as link_score, k.explanation as link_fields
        from core.report_rows_history as r
        left join core.identity_links as k on k.kind = 'report_plan' and k.from_id = r.report_row_id
        where r.report_row_id in (select unnest($ids))
           or (k.is_match and k.to_id in (select unnest($ids)))
        order by r.report_month, r.submission_rank
        """,
        {"ids": ids},
    )
    out["compare"] = _compare(out["plan"], out["ledger"], s["plan_row_id"])
    if s["entity_id"]:
        out["entity"] = _query(
            """
            select e.plan_row_id, e.entity_id, e.matched_row_id, coalesce(l.score, 1.0) as match_score,
                coalesce(l.explanation, '') as matched_fields, e.method
            from core.identity_entities as e
            left join core.identity_links as l using (link_id)
            where e.entity_id = $e
            """, {"e": s["entity_id"]})
    return out


_COMPARE_FIELDS = (("name", "小区名称"), ("address", "地址"), ("build_year", "建成年份"), ("buildings", "楼栋数"),
                   ("households", "户数"), ("area_m2", "建筑面积(m²)"))


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


def signal_detail(signal_id: str) -> dict:
    """A signal with the ledger, plan and report rows behind it and how they were linked."""
    return _signal_detail(_key(), signal_id)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _signal_rules(key: str) -> pl.DataFrame:
    _require("marts.signal_rules", what="风险规则")
    return _query("select * from marts.signal_rules order by sort_order")


def signal_rules() -> pl.DataFrame:
    """The rules in force: code, class, severity, label, description with thresholds."""
    return _signal_rules(_key())


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _signal_coverage(key: str) -> pl.DataFrame:
    if has_table("marts.coverage_signals"):
        return _query(
            """
            select rule, label as rule_label, unit, count_assessable, count_not_assessable, count_flagged,
                round(100.0 * count_assessable / nullif(count_assessable + count_not_assessable, 0), 1) as pct_assessable,
                round(100.0 * pct_flagged, 1) as pct_flagged, is_warning, warning
            from marts.coverage_signals
            order by sort_order
            """
        )
    _require("marts.signal_rule_counts", what="规则覆盖率")
    label = "coalesce(r.label, c.rule)" if has_table("marts.signal_rules") else "c.rule"
    join = "left join marts.signal_rules as r using (rule)" if has_table("marts.signal_rules") else ""
    order = "r.sort_order" if join else "c.rule"
    return _query(
        f"""
        select c.rule, {label} as rule_label, c.unit, c.count_assessable, c.count_not_assessable, c.count_flagged,
            round(100.0 * c.count_assessable / nullif(c.count_assessable + c.count_not_assessable, 0), 1) as pct_assessable,
            round(100.0 * c.count_flagged / nullif(c.count_assessable, 0), 1) as pct_flagged,
            false as is_warning, null::varchar as warning
        from marts.signal_rule_counts as c
        {join}
        order by {order}
        """
    )


def signal_coverage() -> pl.DataFrame:
    """Per rule: units it could assess, could not assess and flagged, with the share warning of the signals work."""
    return _signal_coverage(_key())


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _verdict_summary(key: str) -> pl.DataFrame:
    _require("marts.verdict_rule_summary", what="核查结论汇总")
    return _query(
        """
        select label as rule_label, count_signals, count_confirmed, count_cleared, count_open,
            round(100.0 * pct_confirmed_of_decided, 1) as pct_confirmed_of_decided
        from marts.verdict_rule_summary
        where count_signals > 0
        order by sort_order
        """
    )


def verdict_summary() -> pl.DataFrame:
    """Per rule: signals confirmed, cleared and open, and the share of decided ones that held up."""
    return _verdict_summary(_key())


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _risk_counties(key: str) -> pl.DataFrame:
    _require("marts.risk_counties", what="县市风险排名")
    return _query(
        """
        select risk_rank, county_name, count_signals, count_high, count_medium, count_low, count_communities,
            classes, severity_points, central_subsidy_wan_yuan, money_factor, coincidence_factor, risk_score
        from marts.risk_counties
        order by risk_rank, sort_order
        """
    )


def risk_counties() -> pl.DataFrame:
    """Units ranked by risk over all current signals not cleared (all years)."""
    return _risk_counties(_key())


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _signal_thresholds(key: str) -> pl.DataFrame:
    _require("marts.signal_thresholds", what="阈值")
    return _query("select key, rule, name, value, version from marts.signal_thresholds order by key")


def signal_thresholds() -> pl.DataFrame:
    """The thresholds the signals were computed with, and their version."""
    return _signal_thresholds(_key())


# --- scores (evaluation staff) -----------------------------------------------------------------

@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _score_years(key: str, kind: str) -> list[int]:
    _require("marts.scores", what="年度体检与两年评估得分")
    df = _query("select distinct year from marts.scores where kind = $k order by year desc", {"k": kind})
    return [int(y) for y in df["year"]]


def score_years(kind: str) -> list[int]:
    """Years scored for ``annual`` or ``biennial``, newest first."""
    return _score_years(_key(), kind)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _score_totals(key: str, kind: str) -> pl.DataFrame:
    _require("marts.scores", what="年度体检与两年评估得分")
    return _query(
        """
        with totals as (
            select county_code, county_name as county, sort_order, year, points, grade, scheme_version, as_of_label
            from marts.scores
            where kind = $k and indicator = 'total'
        )
        select *,
            rank() over (partition by year order by points desc) as score_rank,
            points - lag(points) over (partition by county_code order by year) as change_from_prev,
            lag(year) over (partition by county_code order by year) = year - 1 as has_prev
        from totals
        order by year desc, score_rank, sort_order
        """,
        {"k": kind},
    ).with_columns(pl.when(pl.col("has_prev")).then(pl.col("change_from_prev")).alias("change_from_prev")).drop("has_prev")


def score_totals(kind: str) -> pl.DataFrame:
    """Total, grade, rank and change from the year before, per unit and year."""
    return _score_totals(_key(), kind)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _score_lines(key: str, year: int, kind: str) -> pl.DataFrame:
    _require("marts.scores", what="年度体检与两年评估得分")
    return _query(
        """
        select county_code, county_name as county, sort_order, indicator, indicator_name as indicator_label, line_order,
            value, points, max_points, is_applicable,
            case when is_applicable and max_points is not null then max_points - coalesce(points, 0) end as points_lost
        from marts.scores
        where year = $y and kind = $k and indicator <> 'total'
        order by sort_order, line_order
        """,
        {"y": year, "k": kind},
    )


def score_lines(year: int, kind: str) -> pl.DataFrame:
    """Every indicator line of the year: value, points, maximum and points lost (null when not applicable)."""
    return _score_lines(_key(), year, kind)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _prefecture_score(key: str, year: int) -> dict:
    if not has_table("marts.scores_prefecture"):
        return {}
    df = _query(
        """select points, grade, count_counties from marts.scores_prefecture
           where year = $y and kind = 'annual' and indicator = 'total'""",
        {"y": year},
    )
    return df.row(0, named=True) if df.height else {}


def prefecture_score(year: int) -> dict:
    """The prefecture scored as one unit for the annual check ({} when not available)."""
    return _prefecture_score(_key(), year)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _whatif(key: str, year: int) -> pl.DataFrame:
    _require("marts.whatif_subsidy", what="补助资金测算")
    from pipelines import whatif

    con = _connection(str(db_path()))
    cur = con.cursor()
    try:
        return whatif.query(cur, year)
    finally:
        cur.close()


def whatif_subsidy(year: int) -> pl.DataFrame:
    """What-if: the performance-linked share of the year's central subsidy split by annual score (pipelines.whatif)."""
    return _whatif(_key(), year)


def scores_csv_bytes(year: int, kind: str) -> bytes:
    """``scores.csv`` of the year and kind (UTF-8 with BOM), made by the scoring module from the mart."""
    from pipelines import scoring

    con = _connection(str(db_path()))
    cur = con.cursor()
    try:
        text = scoring.scores_csv(scoring.read_scores(cur, year, kind))
    finally:
        cur.close()
    return ("\ufeff" + text).encode("utf-8")


# --- submissions (counties) --------------------------------------------------------------------

@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _submission_history(key: str, year: int | None, unit: str | None) -> pl.DataFrame:
    _require("core.submissions", what="上报记录")
    return _query(
        """
        select c.county_name, s.kind, s.period, s.file_name, s.fill_date, s.ingested_at, s.row_count,
            r.rejected_row_count, s.submission_rank, s.is_current, s.is_first_submission, s.count_submissions
        from core.submissions as s
        left join staging.counties as c using (county_code)
        left join raw.submissions as r using (file_id)
        where ($unit is null or s.county_code = $unit)
          and ($year is null or s.period = '' or s.period like cast($year as varchar) || '%')
        order by c.sort_order, s.kind, s.period desc, s.submission_rank
        """,
        {"year": year, "unit": unit},
    )


def submission_history(year: int | None, unit: str | None) -> pl.DataFrame:
    """Accepted submissions per unit, kind and period, newest first within a period (rank 1 is current)."""
    return _submission_history(_key(), year, unit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _ingest_log(key: str, unit: str | None, limit: int) -> pl.DataFrame:
    _require("raw.ingest_log", what="导入日志")
    df = _query(
        """
        select l.logged_at, l.batch_id, l.file_name, l.status, l.kind, c.county_name,
            strftime(l.report_month, '%Y-%m') as report_month, l.rows, l.rejected_rows, cast(l.messages as varchar) as messages
        from raw.ingest_log as l
        left join staging.counties as c using (county_code)
        where $unit is null or l.county_code = $unit
        order by l.logged_at desc, l.seq desc
        limit $limit
        """,
        {"unit": unit, "limit": limit},
    )
    return df.with_columns(pl.col("messages").map_elements(_join_messages, return_dtype=pl.String))


def _join_messages(text: str | None) -> str:
    try:
        return ";".join(json.loads(text or "[]"))
    except (TypeError, ValueError):
        return text or ""


def ingest_log(unit: str | None, limit: int = 200) -> pl.DataFrame:
    """Every file handed to ingest (accepted, duplicate, rejected) with its messages, newest first."""
    return _ingest_log(_key(), unit, limit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _reporting_status(key: str, year: int, unit: str | None) -> pl.DataFrame:
    _require("marts.progress_reporting", what="报送情况")
    return _query(
        """
        select county_name, strftime(report_month, '%Y-%m') as report_month, has_report, is_late, first_fill_date,
            due_date, count_submissions, sort_order
        from marts.progress_reporting
        where plan_year = $year and ($unit is null or county_code = $unit)
        order by sort_order, report_month
        """,
        {"year": year, "unit": unit},
    )


def reporting_status(year: int, unit: str | None) -> pl.DataFrame:
    """Per unit with a plan in the year and month up to the latest received: arrived, late, missing."""
    return _reporting_status(_key(), year, unit)


# --- data quality ------------------------------------------------------------------------------

@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _validation_results(key: str) -> pl.DataFrame:
    _require("raw.validation_results", what="校验结果")
    return _query(
        """
        select validated_at, batch_id, kind, suite_name, expectation, description, column_name, success,
            element_count, unexpected_count
        from raw.validation_results
        order by validated_at desc, batch_id, kind, success, expectation
        """
    )


def validation_results() -> pl.DataFrame:
    """Every expectation evaluated, per batch and kind, newest first."""
    return _validation_results(_key())


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _row_issues(key: str, unit: str | None) -> pl.DataFrame:
    _require("raw.row_issues", what="行问题")
    return _query(
        """
        select s.file_name, c.county_name, s.kind, i.sheet_name, i.row_number, i.column_name, i.code, i.severity,
            i.value, i.message, i.file_id
        from raw.row_issues as i
        left join raw.submissions as s using (file_id)
        left join (select distinct file_id, county_code from core.submissions) as k using (file_id)
        left join staging.counties as c using (county_code)
        where $unit is null or k.county_code = $unit
        order by i.file_id desc, i.sheet_name, i.row_number nulls first
        """,
        {"unit": unit},
    )


def row_issues(unit: str | None) -> pl.DataFrame:
    """Quarantined rows' reasons and file findings, per file."""
    return _row_issues(_key(), unit)


def data_docs_dir() -> Path:
    """Where the Great Expectations Data Docs of this warehouse are: the site rendered from the
    ingest and signal runs kept beside the warehouse file (``pipelines.validation``), brought up
    to date here when runs were kept since it was last rendered; else ``warehouse/gx/data_docs``."""
    try:
        from pipelines.validation import build_docs, docs_index, docs_stale

        index = build_docs(db_path()) if docs_stale(db_path()) else docs_index(db_path())
    except ImportError:
        index = None
    return index.parent if index is not None else DATA_DOCS


def max_upload_bytes() -> int:
    """Upload size limit per file (``limits.toml`` max_file_bytes)."""
    with (CONFIG / "limits.toml").open("rb") as f:
        return int(tomllib.load(f)["max_file_bytes"])


# --- the pipelines' write paths (the app's only writes) ----------------------------------------

def ingest_files(paths: list[Path]) -> list:
    """Load uploaded workbooks through ``pipelines.ingest.ingest_paths``; the app's read-only
    connection is closed first (DuckDB admits no writer while it is open) and caches are cleared after."""
    from pipelines.ingest import ingest_paths

    close_connection()
    try:
        return ingest_paths(list(paths), db_path=db_path())
    finally:
        clear_caches()


def write_verdict(signal_id: str, verdict: str, decided_by: str, note: str | None) -> None:
    """Record an auditor's verdict through ``pipelines.signals.set_verdict`` (raises ValueError with a Chinese message)."""
    from pipelines import signals as sig
    from pipelines.warehouse import connect

    close_connection()
    try:
        con = connect(db_path())
        try:
            con.execute("begin transaction")
            sig.set_verdict(con, signal_id, verdict, decided_by, note or None)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.close()
    finally:
        clear_caches()


# --- exports -----------------------------------------------------------------------------------

FLAGS_HEADER = ("rule", "severity", "county", "plan_year", "period", "community_name", "score", "evidence")


def _escape_cell(v):
    """Spreadsheet-formula escape (flags.md: every export)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _flags_frame(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(
        "rule", "severity", pl.col("county_name").alias("county"), "plan_year",
        pl.col("period").fill_null(""), pl.col("community_name").fill_null(""),
        pl.col("score").round(4), "evidence",
    )


def signals_csv_bytes(df: pl.DataFrame) -> bytes:
    """The signals shown, in the ``flags.csv`` format of the flags module (UTF-8 with BOM, formulas escaped)."""
    import io

    from pipelines.flags import write_flags

    buf = io.StringIO(newline="")
    write_flags(list(_flags_frame(df).with_columns(pl.col("period").replace("", None),
                                                   pl.col("community_name").replace("", None)).iter_rows()), buf)
    return buf.getvalue().encode("utf-8-sig")


def signals_xlsx_bytes(df: pl.DataFrame, stamp: list[tuple[str, str]], thresholds: pl.DataFrame | None) -> bytes:
    """The signals shown as a workbook: sheet 风险线索 (flags.csv columns and the verdicts), sheet 说明
    (filters, data as-of month, thresholds in force)."""
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "bg_color": "#DDE6F0"})
    ws = wb.add_worksheet("风险线索")
    cols = [*FLAGS_HEADER, "verdict", "verdict_note"]
    heads = ["规则", "严重程度", "县市", "计划年度", "期间", "小区名称", "强度", "证据", "核查结论", "核查说明"]
    frame = _flags_frame(df).with_columns(df["verdict"].alias("verdict"), df["verdict_note"].alias("verdict_note"))
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, bold)
    for i, row in enumerate(frame.select(cols).iter_rows(), start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, _escape_cell(str(v)))
    ws.set_column(0, 0, 20)
    ws.set_column(2, 2, 12)
    ws.set_column(5, 5, 22)
    ws.set_column(7, 7, 80)
    ws.freeze_panes(1, 0)
    info = wb.add_worksheet("说明")
    r = 0
    for k, v in stamp:
        info.write_string(r, 0, _escape_cell(k), bold)
        info.write_string(r, 1, _escape_cell(v))
        r += 1
    if thresholds is not None and not thresholds.is_empty():
        r += 1
        info.write_string(r, 0, "阈值(生成时有效)", bold)
        r += 1
        for key, value, version in thresholds.select("key", "value", "version").iter_rows():
            info.write_string(r, 0, key)
            info.write_number(r, 1, value)
            info.write_string(r, 2, version)
            r += 1
    info.set_column(0, 0, 34)
    info.set_column(1, 1, 40)
    wb.close()
    return buf.getvalue()


def signals_stamp_text(stamp: list[tuple[str, str]], thresholds: pl.DataFrame | None, rules: pl.DataFrame | None) -> bytes:
    """The note that goes with a CSV export (as flags.thresholds.txt goes with flags.csv): filters, data
    as-of month, and the thresholds and rule descriptions the signals were computed with (from the marts)."""
    lines = [f"{k}:{v}" for k, v in stamp]
    if thresholds is not None and thresholds.height:
        lines += ["", f"阈值(计算线索时有效,版本 {thresholds['version'][0]}):"]
        lines += [f"{k} = {v:g}" for k, v in thresholds.select("key", "value").iter_rows()]
    if rules is not None and rules.height:
        lines += ["", "规则:"]
        lines += [f"{r['rule']}({r['label']},{r['severity']}):{r['description']}" for r in rules.iter_rows(named=True)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def report_bytes(year: int, suffix: str = ".docx") -> bytes:
    """The annual report through ``pipelines.report.run_report`` (written to a temporary file)."""
    import tempfile

    from pipelines import report

    # the report module opens the warehouse read-only too: the same configuration shares our instance
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"report{suffix}"
        code = report.run_report(db_path(), year, out)
        if code != 0 or not out.exists():
            raise DataUnavailable(f"{year} 年没有可生成报告的数据。")
        return out.read_bytes()
