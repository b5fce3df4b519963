"""The scoring scheme (``pipelines/config/scoring.toml``): indicators, weights, grades; with the
program's deadlines, notice minimum, report due day and five-year goal, which the scores share
with the signals and which therefore live in ``program.toml`` (:mod:`pipelines.constants`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipelines import constants
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

    @property
    def grade_order(self) -> tuple[str, ...]:
        """The grades, best first (优秀, 良好, 合格, 差 by default)."""
        return tuple(g for _, g in self.grades) + (self.grade_below,)

    def grades_text(self) -> str:
        """The cut-offs in Chinese, highest first, e.g. 优秀 ≥ 95,…,差 < 75 with the default scheme."""
        return "".join(f"{g} ≥ {t:g}," for t, g in self.grades) + f"{self.grade_below} < {self.grades[-1][0]:g}"


def load_scheme(path: Path | None = None) -> Scheme:
    """Read a scheme from TOML (default: ``pipelines/config/scoring.toml``); the program's dates and
    goal come from ``program.toml``."""
    data = tomllib.loads((path or config_path("scoring.toml")).read_text(encoding="utf-8"))
    a, b = data["annual"], data["biennial"]
    start, end = constants.as_int("goal.start_year"), constants.as_int("goal.end_year")
    grades = tuple(sorted(((float(g["min_total"]), g["grade"]) for g in data["grades"]), reverse=True))
    return Scheme(
        version=data["version"],
        indicators=tuple(
            IndicatorDef(i["code"], i["name"], float(i["points"]), float(i.get("scale", 1))) for i in a["indicators"]
        ),
        completion_deadline_month=constants.as_int("completion.deadline_month"),
        completion_deadline_day=constants.as_int("completion.deadline_day"),
        notice_min_working_days=constants.as_int("notice.min_working_days"),
        report_due_day=constants.as_int("clock.report_due_day"),
        biennial_first_year=int(b["first_year"]),
        annual_mean_weight=float(b["annual_mean_weight"]),
        progress_points=float(b["progress_points"]),
        # the goal's clock starts at the end of the year before its start year
        base_year=start - 1,
        horizon_years=end - start + 1,
        old_built_until=constants.as_int("goal.built_until"),
        grades=grades,
        grade_below=data["grade_below"]["grade"],
        performance_share=float(data["whatif"]["performance_share"]),
    )

