"""Audit signals (flags.md): every rule, one mart ``marts.signals``, coverage, risk and verdicts.

One run (:func:`refresh`, a step of :func:`pipelines.warehouse.refresh`):

1. the thresholds of ``pipelines/config/thresholds.toml`` go to ``marts.signal_thresholds`` and
   the rules to ``marts.signal_rules``;
2. (the identity links and entities of :mod:`pipelines.identity` are already built: a step of the
   refresh before the SQL marts)
3. the signal models of ``warehouse/marts/signal_*.sql`` are rebuilt with those thresholds;
4. the GX suites of ``expectations/signals.py`` validate the derived tables
   (``signal_plan_checks``, ``signal_report_checks``): each unexpected row is a signal of the
   duplicate and inflation rules; the temporal and money rules are SQL models
   (``signal_<rule>.sql``, one row per unit assessed, ``is_flagged``);
5. all signals land in ``marts.signals``; the per-rule counts in ``marts.signal_rule_counts``; the
   marts built on them (``coverage_*``, ``risk_*``, ``verdict_*``) are rebuilt.

Verdicts of auditors live in ``raw.verdicts`` (keyed by the stable ``signal_id``) and are set
with :func:`set_verdict`.
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.warehouse import insert_rows

__all__ = [
    "RULES",
    "VERDICTS",
    "load_config",
    "thresholds_text",
    "threshold_rows",
    "refresh",
    "set_verdict",
    "run_rule_models",
]

log = logging.getLogger(__name__)

THRESHOLDS_TOML = Path(__file__).parent / "config" / "thresholds.toml"
VERDICTS = ("已核实", "已排除", "待核查")

# flags.md order; engine says where the rule is computed
RULES: tuple[tuple[str, str], ...] = (
    ("DUP_CROSS_YEAR", "gx"),
    ("DUP_SAME_YEAR", "gx"),
    ("INFLATED_SCALE", "gx"),
    ("INFLATED_COST", "gx"),
    ("NOT_IN_LEDGER", "gx"),
    ("POST_2000", "gx"),
    ("NOTICE_SHORT", "gx"),
    ("FUNDS_IDLE", "sql"),
    ("PAID_EXCEEDS_WORK", "sql"),
    ("PROGRESS_REGRESSION", "sql"),
    ("PROGRESS_JUMP", "sql"),
    ("INVEST_EXCEEDS_PLAN", "sql"),
    ("OVERDUE", "sql"),
    ("MISSING_REPORT", "sql"),
    ("LATE_REPORT", "sql"),
    ("TOTALS_MISMATCH", "sql"),
    ("RETRO_REVISION", "sql"),
)

# Chinese: what trips each rule, with the thresholds in force ({name} fields of the rule)
_DESCRIPTIONS = {
    "DUP_CROSS_YEAR": "同一小区出现在两个不同年度的计划中,或台账记载已在更早年度改造;标记较晚的一条",
    "DUP_SAME_YEAR": "同一小区在同一年度计划中出现多次(同县市或跨县市);标记第一条之后的各条",
    "INFLATED_SCALE": "计划户数、楼栋数或建筑面积超过所匹配台账小区 {pct_over:.0%} 以上(且至少 {min_households:g} 户、"
                      "{min_buildings:g} 栋或 {min_area_m2:g} 平方米);或月报户数超过计划户数同样幅度",
    "INFLATED_COST": "户均或每平方米计划总投资超过全州同年度、同改造类别计划中位数的 {median_multiple:g} 倍",
    "NOT_IN_LEDGER": "计划小区在本县市台账中无匹配小区",
    "POST_2000": "计划小区建成于 {last_build_year:g} 年之后",
    "NOTICE_SHORT": "计划公示少于 {min_working_days:g} 个工作日或无公示",
    "FUNDS_IDLE": "已拨付资金(累计拨付资金 > 0)但连续 {consecutive_months:g} 期月报未开工(无开工日期且形象进度为 0);在第 {consecutive_months:g} 期标记",
    "PAID_EXCEEDS_WORK": "累计拨付资金超过累计完成投资加计划总投资的 {pct_of_plan:.0%},或超过计划总投资",
    "PROGRESS_REGRESSION": "形象进度较上月下降超过 {max_drop_points:g} 个百分点,或累计完成投资下降",
    "PROGRESS_JUMP": "户数 {min_households:g} 户以上的项目形象进度一个月内上升超过 {max_rise_points:g} 个百分点",
    "INVEST_EXCEEDS_PLAN": "累计完成投资超过计划总投资 {pct_over:.0%} 以上",
    "OVERDUE": "有中央补助资金的项目在计划年度 {deadline_month:g} 月的月报中未完工(无 {deadline_month:g} 月 {deadline_day:g} 日前的完工日期)",
    "MISSING_REPORT": "有 Y 年度计划项目的县市缺少 Y 年某月的月报(自 1 月起至各县市已报的最近月份)",
    "LATE_REPORT": "月报首次报送的填报日期晚于次月 {due_day:g} 日",
    "TOTALS_MISMATCH": "现行文件的合计行与明细行之和相差超过 {tolerance:.1%}(任一数值列)",
    "RETRO_REVISION": "某月月报在次月结束后重报且修改了数值;逐个修改的项目行标记",
}

# the ids of the rows behind a GX signal (expressions over the derived table's own columns)
_GX_ROW_IDS = {
    "DUP_SAME_YEAR": "list_filter([first_plan_row_id, plan_row_id], lambda x: x is not null)",
    "DUP_CROSS_YEAR": "list_filter([prior_plan_row_id, community_id, plan_row_id], lambda x: x is not null)",
    "INFLATED_SCALE": "list_filter([community_id, plan_row_id], lambda x: x is not null)",
    "INFLATED_COST": "[plan_row_id]",
    "NOT_IN_LEDGER": "[plan_row_id]",
    "POST_2000": "list_filter([community_id, plan_row_id], lambda x: x is not null)",
    "NOTICE_SHORT": "[plan_row_id]",
}
_UNITS = {"gx_plan": "计划行", "gx_report": "月报项目", "project": "月报项目", "county_month": "县市月份",
          "file": "文件", "revision": "重报项目行"}
_SQL_UNITS = {"FUNDS_IDLE": "project", "PAID_EXCEEDS_WORK": "project", "PROGRESS_REGRESSION": "project",
              "PROGRESS_JUMP": "project", "INVEST_EXCEEDS_PLAN": "project", "OVERDUE": "project",
              "MISSING_REPORT": "county_month", "LATE_REPORT": "county_month", "TOTALS_MISMATCH": "file",
              "RETRO_REVISION": "revision"}
# marts tables that keep their rows across refreshes (not made anew)
_KEPT_TABLES = frozenset({"signal_keys"})
# marts rebuilt after the signals (they read marts.signals / marts.signal_rule_counts)
_DOWNSTREAM_PREFIXES = ("coverage", "risk", "verdict")
# marts models this step rebuilds (the rule models, then those downstream); the SQL marts step of
# warehouse.refresh leaves them to us (hooks.rebuilt_models)
REBUILDS = ("signal_",) + _DOWNSTREAM_PREFIXES


@cache
def _config_cached(path: str, mtime: float) -> dict[str, Any]:
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_config(path: Path = THRESHOLDS_TOML) -> dict[str, Any]:
    """thresholds.toml as a dict (re-read when the file changes)."""
    return _config_cached(str(path), path.stat().st_mtime)


def config_version(path: Path = THRESHOLDS_TOML) -> str:
    """The configuration's own version and a fingerprint of the file, so that any edit shows."""
    import hashlib

    cfg = load_config(path)
    return f"{cfg.get('version', '')}#{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}"


def _numeric(rule_cfg: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in rule_cfg.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def rule_thresholds(cfg: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    cfg = cfg or load_config()
    return {code: _numeric(cfg["rules"][code]) for code, _ in RULES}


def describe_rule(code: str, cfg: dict[str, Any] | None = None) -> str:
    return _DESCRIPTIONS[code].format(**rule_thresholds(cfg)[code])


def thresholds_text(cfg: dict[str, Any] | None = None) -> str:
    """The thresholds in force, in Chinese, one rule a line (stated by every export)."""
    cfg = cfg or load_config()
    lines = [f"风险线索阈值(配置版本 {config_version()},pipelines/config/thresholds.toml)"]
    for code, _ in RULES:
        r = cfg["rules"][code]
        nums = ",".join(f"{k}={v:g}" for k, v in _numeric(r).items())
        lines.append(f"{code}({r['label']},{r['class']},{r['severity']}):{describe_rule(code, cfg)}"
                     + (f" [{nums}]" if nums else ""))
    e = cfg.get("identity", {})
    lines.append("同一小区识别(pipelines/identity):"
                 + ",".join(f"{k}={v}" for k, v in e.items() if not isinstance(v, dict)))
    w = cfg.get("severity_weights", {})
    lines.append("风险排序权重:" + ",".join(f"{k}={v}" for k, v in w.items())
                 + ";" + ",".join(f"{k}={v}" for k, v in cfg.get("risk", {}).items()))
    return "\n".join(lines)


def threshold_rows(cfg: dict[str, Any] | None = None) -> list[tuple[str, str, str, float, str]]:
    """The rows of marts.signal_thresholds for a configuration: (key, rule, name, value, version)."""
    version = config_version() if cfg is None else str(cfg.get("version", ""))
    cfg = cfg or load_config()
    rows = []
    for code, _ in RULES:
        for name, value in _numeric(cfg["rules"][code]).items():
            rows.append((f"{code}.{name}", code, name, value, version))
    for section in ("severity_weights", "risk"):
        for name, value in _numeric(cfg.get(section, {})).items():
            rows.append((f"{section}.{name}", section, name, value, version))
    return rows


def _write_config_tables(con: duckdb.DuckDBPyConnection, cfg: dict[str, Any]) -> None:
    rows = threshold_rows(None if cfg is load_config() else cfg)
    con.execute("delete from marts.signal_thresholds")
    con.executemany("insert into marts.signal_thresholds values (?, ?, ?, ?, ?)", rows)
    con.execute("delete from marts.signal_rules")
    con.executemany(
        "insert into marts.signal_rules values (?, ?, ?, ?, ?, ?, ?)",
        [(code, cfg["rules"][code]["class"], cfg["rules"][code]["severity"], cfg["rules"][code]["label"], engine,
          describe_rule(code, cfg), i) for i, (code, engine) in enumerate(RULES, 1)],
    )


def run_rule_models(con: duckdb.DuckDBPyConnection, prefixes: tuple[str, ...] = ("signal_",)) -> list[str]:
    """Rebuild the marts models whose names start with one of ``prefixes``, in dependency order."""
    from pipelines.warehouse import _ordered, models

    selected = [m for m in models() if m.schema == "marts" and not m.is_ddl and m.name.startswith(prefixes)]
    built = []
    for m in _ordered(selected):
        con.execute(f"create or replace table {m.table} as {m.sql}")
        built.append(m.table)
    return built


def _db_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the warehouse behind a connection (None in memory)."""
    rows = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    path = rows[0][0] if rows else None
    return Path(path).resolve() if path and path != ":memory:" else None


# the derived tables the signal suites validate (expectations/signals.py: SuiteSpec.table)
SUITE_TABLES = ("marts.signal_plan_checks", "marts.signal_report_checks")


def _run_suites(con: duckdb.DuckDBPyConnection, thresholds: dict[str, dict[str, float]], data_docs: bool = True):
    """Validate the derived tables; returns (unexpected rows, per-rule counts, suite results,
    each rule's score and evidence columns).

    The tables are read here; the suites run through :func:`pipelines.gx_service.call`, in the
    ingest's GX service when one is running, else in this process."""
    from pipelines import gx_service

    tables = {table: con.sql(f"select * from {table}").to_arrow_table() for table in SUITE_TABLES}
    return gx_service.call("expectations.signals:evaluate_suites", tables, thresholds,
                           _db_path(con) if data_docs else None)


def _gx_signals_sql(rule: str, suite: str, table: str, index_column: str, columns: dict[str, tuple[str, str]]) -> str:
    """The signal rows of one GX rule: unexpected ids joined back to their derived table;
    ``columns`` gives each rule's score and evidence columns (from :func:`evaluate_suites`)."""
    score_column, evidence_column = columns[f"{rule}|{index_column}"]
    is_report = index_column == "report_row_id"
    return f"""
        select
            md5('{rule}|' || t.{index_column}) as signal_id,
            '{rule}' as rule,
            t.county_code,
            t.county_name,
            t.plan_year,
            {'t.period' if is_report else 'cast(null as varchar)'} as period,
            t.name as community_name,
            coalesce(t.{score_column}, 0.5) as score,
            t.{evidence_column} as evidence,
            t.file_name,
            t.sheet_name,
            t.row_number,
            {'list_filter([t.plan_row_id, t.report_row_id], lambda x: x is not null)' if is_report else _GX_ROW_IDS[rule]} as row_ids,
            t.plan_row_id,
            'gx:{suite}/' || string_agg(distinct h.expectation, '+' order by h.expectation) as engine
        from {table} as t
        inner join gx_hits as h on h.row_id = t.{index_column} and h.rule = '{rule}' and h.suite = '{suite}'
        group by all
    """


def _sql_signals(rule: str) -> str:
    table = f"marts.signal_{rule.lower()}"
    return f"""
        select signal_id, rule, county_code, county_name, plan_year, period, community_name,
               coalesce(score, 0.5) as score, evidence, file_name, sheet_name, row_number, row_ids, plan_row_id,
               'sql:{table}' as engine
        from {table}
        where is_flagged
    """


def _recreate_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables this step rewrites whole are made anew from their DDL, so that a warehouse made
    by an older version of the code gets their current columns."""
    from pipelines.warehouse import models

    for m in models():
        if m.schema == "marts" and m.is_ddl and m.name.startswith("signal") and m.name not in _KEPT_TABLES:
            con.execute(f"drop table if exists {m.table}")
            con.execute(m.sql)


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every signal of flags.md on the current data (a step of warehouse.refresh)."""
    cfg = load_config()
    _recreate_tables(con)
    _write_config_tables(con, cfg)
    run_rule_models(con)
    thresholds = rule_thresholds(cfg)
    hits, gx_counts, suite_results, columns = _run_suites(con, thresholds, bool(cfg.get("output", {}).get("data_docs", True)))

    con.execute("create or replace temp table gx_hits (rule varchar, suite varchar, expectation varchar, row_id varchar)")
    insert_rows(con, "gx_hits", [(h[0], h[1], h[2], str(h[3])) for h in hits])

    parts = []
    for rule, engine in RULES:
        if engine == "gx":
            parts.append(_gx_signals_sql(rule, "signals_plan", "marts.signal_plan_checks", "plan_row_id", columns))
            if rule == "INFLATED_SCALE":
                parts.append(_gx_signals_sql(rule, "signals_report", "marts.signal_report_checks", "report_row_id", columns))
        else:
            parts.append(_sql_signals(rule))
    union = "\nunion all by name\n".join(parts)
    now = dt.datetime.now()
    con.execute("delete from marts.signals")
    con.execute(
        f"""
        insert into marts.signals by name
        with raw_signals as ({union}),
        ranked as (
            select *, row_number() over (partition by signal_id order by engine) as dup_rank from raw_signals
        )
        select
            s.signal_id, s.rule, r.class, r.severity, s.county_code,
            coalesce(s.county_name, c.county_name) as county_name,
            s.plan_year, s.period, s.community_name,
            round(greatest(0.0, least(1.0, s.score)), 4) as score,
            s.evidence, s.file_name, s.sheet_name, s.row_number, s.row_ids, s.plan_row_id,
            e.entity_id,
            p.central_subsidy_wan_yuan,
            s.engine,
            ? as computed_at
        from ranked as s
        inner join marts.signal_rules as r using (rule)
        left join staging.counties as c using (county_code)
        left join core.identity_entities as e using (plan_row_id)
        left join core.plan_rows as p using (plan_row_id)
        where s.dup_rank = 1
        """,
        [now],
    )

    con.execute(
        """
        insert or ignore into marts.signal_keys
        select signal_id, rule, county_code, plan_year, period, community_name, computed_at from marts.signals
        """
    )

    # per-rule coverage
    counts = []
    flagged = dict(con.execute("select rule, count(*) from marts.signals group by rule").fetchall())
    for rule, engine in RULES:
        if engine == "gx":
            c = gx_counts.get(rule, {"assessable": 0, "rows": 0, "units": {"gx_plan"}})
            unit = "、".join(sorted(_UNITS[u] for u in c["units"]))
            counts.append((rule, unit, c["assessable"], flagged.get(rule, 0), c["rows"] - c["assessable"], engine, now))
        else:
            a, total = con.execute(
                f"select count(*) filter (where is_assessable), count(*) from marts.signal_{rule.lower()}"
            ).fetchone()
            counts.append((rule, _UNITS[_SQL_UNITS[rule]], a, flagged.get(rule, 0), total - a, engine, now))
    con.execute("delete from marts.signal_rule_counts")
    con.executemany("insert into marts.signal_rule_counts values (?, ?, ?, ?, ?, ?, ?)", counts)
    con.execute("delete from marts.signal_suite_results")
    if suite_results:
        con.executemany("insert into marts.signal_suite_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", suite_results)
    run_rule_models(con, _DOWNSTREAM_PREFIXES)
    log.info("signals: %d", sum(flagged.values()))


def set_verdict(con: duckdb.DuckDBPyConnection, signal_id: str, verdict: str, decided_by: str,
                note: str | None = None, decided_at: dt.datetime | None = None) -> None:
    """Record an auditor's verdict on a signal (已核实 / 已排除 / 待核查); the latest one is in force."""
    if verdict not in VERDICTS:
        raise ValueError(f"核查结论须为 {'/'.join(VERDICTS)} 之一,而不是「{verdict}」")
    if not decided_by or not str(decided_by).strip():
        raise ValueError("须注明核查人")
    rows = con.execute(
        "select rule from marts.signals where signal_id = ? union all select rule from marts.signal_keys where signal_id = ?",
        [signal_id, signal_id],
    ).fetchall()
    if not rows:
        raise ValueError(f"找不到风险线索 {signal_id}")
    con.execute(
        "insert into raw.verdicts (signal_id, verdict, note, decided_by, decided_at, rule) values (?, ?, ?, ?, ?, ?)",
        [signal_id, verdict, note, str(decided_by).strip(), decided_at or dt.datetime.now(), rows[0][0]],
    )
    run_rule_models(con, ("verdict", "risk"))
