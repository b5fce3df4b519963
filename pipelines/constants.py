"""Every number the spec or the configuration fixes, each read from its one TOML: one registry.

Sources, all in ``pipelines/config/`` (:func:`pipelines.settings.config_path`):

    program.toml     the program's dates, deadlines and goals, shared by signals, scores and pages:
                     ``clock.report_due_day`` (the data clock), ``completion.deadline_month``/``_day``,
                     ``notice.min_working_days``, ``goal.built_until``/``start_year``/``end_year``,
                     ``progress.red_points_behind``/``pace_months``
    thresholds.toml  the signal rules (``<RULE>.<name>``), ``severity_weights.<level>``,
                     ``risk.<name>``, ``entity.<name>``
    scoring.toml     ``scoring.<indicator>.points``/``.scale``, ``grades.<grade>`` (lowest total; 0 for
                     the grade below the last cut-off),
                     ``biennial.<name>``, ``whatif.performance_share``
    limits.toml      ``limits.<name>``

No number appears in two of them. The refresh's first step (:func:`publish`) writes them all to
``marts.settings`` (key, value, unit, description, source, version), which the SQL models, the
read side and the page captions read; Python reads them here (:func:`value`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb

from pipelines import settings as paths
from pipelines.warehouse import insert_rows

__all__ = ["SOURCES", "Setting", "all_settings", "value", "as_int", "file_version", "publish"]

SOURCES = ("program.toml", "thresholds.toml", "scoring.toml", "limits.toml")


@dataclass(frozen=True)
class Setting:
    """One number in force: where it lives and what it means (unit and description in Chinese)."""

    key: str
    value: float
    unit: str
    description: str
    source: str
    version: str


# --- what the plain numbers of thresholds.toml, scoring.toml and limits.toml mean ---------------

_THRESHOLD_UNITS = {"pct_over": "比例", "min_households": "户", "min_buildings": "栋", "min_area_m2": "平方米",
                    "median_multiple": "倍", "consecutive_months": "期", "pct_of_plan": "比例",
                    "max_drop_points": "个百分点", "max_rise_points": "个百分点", "tolerance": "比例"}
_OTHER = {
    "severity_weights.high": ("分", "风险排序:每条高风险线索的严重程度分"),
    "severity_weights.medium": ("分", "风险排序:每条中风险线索的严重程度分"),
    "severity_weights.low": ("分", "风险排序:每条低风险线索的严重程度分"),
    "risk.coincidence_bonus": ("比例", "风险排序:不同类别的线索叠加时,每多一类,风险分乘以(1 + 此数)"),
    "risk.money_weight": ("比例", "风险排序:资金系数 = 1 + 此数 × 中央补助 / 最大中央补助"),
    "risk.share_warning": ("比例", "规则在可评估单位中的命中率超过此比例时告警"),
    "entity.name_min": ("相似度", "同一小区识别:名称相似度的下限"),
    "entity.name_strict": ("相似度", "同一小区识别:无地址或建成年份佐证时名称相似度的下限"),
    "entity.build_year_tolerance": ("年", "同一小区识别:建成年份可相差的年数"),
    "entity.size_ratio_min": ("比例", "同一小区识别:较小规模不低于较大规模的此比例"),
    "biennial.first_year": ("年", "两年评估自此年起进行"),
    "biennial.annual_mean_weight": ("比例", "两年评估:两年体检平均分的权重(满分 = 100 × 此数)"),
    "biennial.progress_points": ("分", "两年评估:五年目标进度的满分"),
    "whatif.performance_share": ("比例", "资金分配模拟:中央补助资金中与绩效挂钩的比例"),
    "limits.max_file_bytes": ("字节", "上传:单个文件的大小上限"),
    "limits.max_uncompressed_bytes": ("字节", "上传:.xlsx 解压后的大小上限"),
    "limits.max_compression_ratio": ("倍", "上传:解压后与压缩后大小之比的上限"),
    "limits.max_data_rows": ("行", "上传:一个工作表的数据行数上限(空行不计)"),
    "limits.max_sheet_cells": ("个", "读取:一个工作表保留的非空单元格上限(各行截到表头宽度)"),
    "limits.max_cell_chars": ("字符", "读取:一个单元格的字符数上限(Excel 自身的上限)"),
    "limits.max_sheet_rows": ("行", "读取:.xlsx 一个工作表的行元素上限(Excel 自身的上限)"),
    "limits.max_dense_cells": ("个", "读取:.xlsx 工作表跨越的区域不超过此格数才由 calamine 整块读取,否则逐行流式读取"),
    "limits.header_search_rows": ("行", "读取:在前若干行中查找表头行"),
    "limits.min_known_headers": ("个", "读取:表头行至少应含的可识别列名个数"),
}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def file_version(name: str) -> str:
    """A configuration file's own ``version`` and a fingerprint of its bytes, so that any edit shows."""
    path = paths.config_path(name)
    data = paths.load_toml(path)
    return f"{data.get('version', '')}#{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}"


def _program(data: dict[str, Any], version: str) -> list[Setting]:
    out = []
    for section, items in data.items():
        if not isinstance(items, dict):
            continue
        for name, spec in items.items():
            spec = spec if isinstance(spec, dict) else {"value": spec}
            out.append(Setting(f"{section}.{name}", float(spec["value"]), spec.get("unit", ""),
                               spec.get("description", ""), "program.toml", version))
    return out


def _thresholds(data: dict[str, Any], version: str) -> list[Setting]:
    out = []
    for code, rule in data.get("rules", {}).items():
        for name, v in rule.items():
            if _number(v):
                out.append(Setting(f"{code}.{name}", float(v), _THRESHOLD_UNITS.get(name, ""),
                                   f"风险线索「{rule.get('label', code)}」({code})的阈值 {name}", "thresholds.toml",
                                   version))
    for section in ("severity_weights", "risk", "entity"):
        for name, v in data.get(section, {}).items():
            if _number(v):
                unit, text = _OTHER.get(f"{section}.{name}", ("", f"{section}.{name}"))
                out.append(Setting(f"{section}.{name}", float(v), unit, text, "thresholds.toml", version))
    return out


def _scoring(data: dict[str, Any], version: str) -> list[Setting]:
    out = []
    for ind in data.get("annual", {}).get("indicators", []):
        out.append(Setting(f"scoring.{ind['code']}.points", float(ind["points"]), "分", f"年度体检「{ind['name']}」的满分",
                           "scoring.toml", version))
        out.append(Setting(f"scoring.{ind['code']}.scale", float(ind.get("scale", 1)), "",
                           f"年度体检「{ind['name']}」指标值的量程(得分 = 满分 × 指标值 ÷ 量程)", "scoring.toml", version))
    for g in data.get("grades", []):
        out.append(Setting(f"grades.{g['grade']}", float(g["min_total"]), "分",
                           f"等次「{g['grade']}」的最低总分(按未四舍五入的总分)", "scoring.toml", version))
    if "grade_below" in data:  # the lowest grade: every total below the last cut-off
        below = data["grade_below"]["grade"]
        out.append(Setting(f"grades.{below}", 0.0, "分", f"等次「{below}」:低于以上各等次的最低总分", "scoring.toml",
                           version))
    for section in ("biennial", "whatif"):
        for name, v in data.get(section, {}).items():
            if _number(v):
                unit, text = _OTHER.get(f"{section}.{name}", ("", f"{section}.{name}"))
                out.append(Setting(f"{section}.{name}", float(v), unit, text, "scoring.toml", version))
    return out


def _limits(data: dict[str, Any], version: str) -> list[Setting]:
    out = []
    for name, v in data.items():
        if _number(v):
            unit, text = _OTHER.get(f"limits.{name}", ("", f"limits.{name}"))
            out.append(Setting(f"limits.{name}", float(v), unit, text, "limits.toml", version))
    return out


_READERS = {"program.toml": _program, "thresholds.toml": _thresholds, "scoring.toml": _scoring,
            "limits.toml": _limits}


def all_settings() -> tuple[Setting, ...]:
    """Every number in force, file by file (the files are re-read when they change)."""
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in map(paths.config_path, SOURCES))
    return _settings(stamp)


@cache
def _settings(stamp: tuple[tuple[str, int], ...]) -> tuple[Setting, ...]:
    out: list[Setting] = []
    for name in SOURCES:
        out += _READERS[name](paths.load_toml(name), file_version(name))
    keys = [s.key for s in out]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"settings defined twice: {dupes}")
    return tuple(out)


def value(key: str) -> float:
    """The value of one setting, e.g. ``value("clock.report_due_day")`` → 5.0."""
    for s in all_settings():
        if s.key == key:
            return s.value
    raise KeyError(f"no setting {key!r} in {', '.join(SOURCES)}")


def as_int(key: str) -> int:
    """A setting that is a whole number (a day, a year, a count)."""
    v = value(key)
    if v != int(v):
        raise ValueError(f"setting {key} must be a whole number, not {v:g}")
    return int(v)


def publish(con: duckdb.DuckDBPyConnection) -> int:
    """Write every setting to ``marts.settings`` (the refresh's first step); returns how many."""
    rows = [(s.key, s.value, s.unit, s.description, s.source, s.version) for s in all_settings()]
    con.execute("delete from marts.settings")
    insert_rows(con, "marts.settings", rows)  # at once (executemany runs a statement per row)
    return len(rows)
