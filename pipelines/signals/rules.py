"""The rules of flags.md and their thresholds (``pipelines/config/thresholds.toml``): codes, order,
the engine that computes each, and their descriptions in Chinese with the thresholds in force.

A few thresholds are facts of the program that the scores use too; they live once, in
``program.toml`` (:mod:`pipelines.constants`), and reach the rules under the rule's own names
(:data:`SHARED`): the SQL models through ``marts.signal_thresholds``, the GX suites as kwargs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines import constants
from pipelines.settings import config_path, load_toml

__all__ = ["RULES", "SHARED", "THRESHOLDS_TOML", "load_config", "config_version", "rule_thresholds", "describe_rule",
           "thresholds_text", "threshold_rows"]

THRESHOLDS_TOML = config_path("thresholds.toml")

# rule thresholds that are program settings (program.toml): rule → {threshold name: setting key}
SHARED: dict[str, dict[str, str]] = {
    "POST_2000": {"last_build_year": "goal.built_until"},
    "NOTICE_SHORT": {"min_working_days": "notice.min_working_days"},
    "OVERDUE": {"deadline_month": "completion.deadline_month", "deadline_day": "completion.deadline_day"},
    "MISSING_REPORT": {"due_day": "clock.report_due_day"},
    "LATE_REPORT": {"due_day": "clock.report_due_day"},
}

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
    "MISSING_REPORT": "有 Y 年度计划项目的县市缺少 Y 年某月的月报(自 1 月起至最近的应报月份:次月 {due_day:g} 日截止日不晚于数据截至日期,即所收报表中最新的填报日期)",
    "LATE_REPORT": "月报首次报送的填报日期晚于次月 {due_day:g} 日",
    "TOTALS_MISMATCH": "现行文件的合计行与明细行之和相差超过 {tolerance:.1%}(任一数值列)",
    "RETRO_REVISION": "某月月报在次月结束后重报且修改了数值;逐个修改的项目行标记",
}


def load_config(path: Path | None = None) -> dict[str, Any]:
    """thresholds.toml as a dict (re-read when the file changes)."""
    return load_toml(path or config_path("thresholds.toml"))


def config_version() -> str:
    """The configuration's own version and a fingerprint of the file, so that any edit shows."""
    return constants.file_version("thresholds.toml")


def _numeric(rule_cfg: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in rule_cfg.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def rule_thresholds(cfg: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """Each rule's numeric thresholds by name, the shared program settings (:data:`SHARED`) included."""
    cfg = cfg or load_config()
    return {code: {**_numeric(cfg["rules"][code]),
                   **{name: constants.value(key) for name, key in SHARED.get(code, {}).items()}}
            for code, _ in RULES}


def describe_rule(code: str, cfg: dict[str, Any] | None = None) -> str:
    return _DESCRIPTIONS[code].format(**rule_thresholds(cfg)[code])


def thresholds_text(cfg: dict[str, Any] | None = None) -> str:
    """The thresholds in force, in Chinese, one rule a line (stated by every export)."""
    cfg = cfg or load_config()
    lines = [f"风险线索阈值(配置版本 {config_version()},pipelines/config/thresholds.toml;"
             f"截止日、完工期限、公示天数与建成年份界线见 program.toml,版本 {constants.file_version('program.toml')})"]
    thresholds = rule_thresholds(cfg)
    for code, _ in RULES:
        r = cfg["rules"][code]
        nums = ",".join(f"{k}={v:g}" for k, v in thresholds[code].items())
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
    version = config_version() if cfg is None or cfg == load_config() else str(cfg.get("version", ""))
    cfg = cfg or load_config()
    program = constants.file_version("program.toml")
    rows = []
    for code, values in rule_thresholds(cfg).items():
        for name, value in values.items():
            rows.append((f"{code}.{name}", code, name, value, program if name in SHARED.get(code, {}) else version))
    for section in ("severity_weights", "risk"):
        for name, value in _numeric(cfg.get(section, {})).items():
            rows.append((f"{section}.{name}", section, name, value, version))
    return rows
