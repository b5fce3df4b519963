"""The scoring scheme (``pipelines/config/scoring.toml``): indicators, weights, deadlines, grades."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import config_path

__all__ = ["IndicatorDef", "Scheme", "load_scheme", "SCHEME_PATH"]

SCHEME_PATH = config_path("scoring.toml")


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    points: float  # maximum points
    scale: float  # points = points × value / scale


@dataclass(frozen=True)
class Scheme:
    """A versioned scoring scheme (weights, thresholds, grades)."""

    version: str
    indicators: tuple[IndicatorDef, ...]
    completion_deadline_month: int
    completion_deadline_day: int
    notice_min_working_days: int
    report_due_day: int
    biennial_first_year: int
    annual_mean_weight: float
    progress_points: float
    base_year: int
    horizon_years: int
    old_built_until: int
    grades: tuple[tuple[float, str], ...]  # (min_total, grade), highest first
    grade_below: str
    performance_share: float

    def indicator(self, code: str) -> IndicatorDef:
        return next(i for i in self.indicators if i.code == code)

    def sql_variables(self) -> dict[str, int]:
        """The thresholds the SQL mart ``marts.score_inputs`` reads through ``getvariable``."""
        return {
            "scoring_notice_min_working_days": self.notice_min_working_days,
            "scoring_completion_deadline_month": self.completion_deadline_month,
            "scoring_completion_deadline_day": self.completion_deadline_day,
            "scoring_report_due_day": self.report_due_day,
            "scoring_old_built_until": self.old_built_until,
        }


def load_scheme(path: Path | None = None) -> Scheme:
    """Read a scheme from TOML (default: ``pipelines/config/scoring.toml``)."""
    data = tomllib.loads((path or SCHEME_PATH).read_text(encoding="utf-8"))
    a, b = data["annual"], data["biennial"]
    grades = tuple(sorted(((float(g["min_total"]), g["grade"]) for g in data["grades"]), reverse=True))
    return Scheme(
        version=data["version"],
        indicators=tuple(
            IndicatorDef(i["code"], i["name"], float(i["points"]), float(i.get("scale", 1))) for i in a["indicators"]
        ),
        completion_deadline_month=int(a["completion_deadline_month"]),
        completion_deadline_day=int(a["completion_deadline_day"]),
        notice_min_working_days=int(a["notice_min_working_days"]),
        report_due_day=int(a["report_due_day"]),
        biennial_first_year=int(b["first_year"]),
        annual_mean_weight=float(b["annual_mean_weight"]),
        progress_points=float(b["progress_points"]),
        base_year=int(b["base_year"]),
        horizon_years=int(b["horizon_years"]),
        old_built_until=int(b["old_built_until"]),
        grades=grades,
        grade_below=data["grade_below"]["grade"],
        performance_share=float(data.get("whatif", {}).get("performance_share", 0.2)),
    )

