"""Pure scoring (evaluation.md): typed functions over the indicators' inputs and a scheme; no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

from pipelines.scoring.scheme import Scheme

__all__ = ["Inputs", "Line", "Score", "PREFECTURE", "BIENNIAL_NAMES", "annual_values", "total_of", "grade_of",
           "annual_score", "five_year_progress", "biennial_score", "score_all", "prefecture_inputs",
           "prefecture_scores"]

PREFECTURE = "全州"
# A total within this distance below a threshold reaches it: floating-point noise of the sums,
# not rounding (grades are given on the unrounded total).
_GRADE_EPS = 1e-9

BIENNIAL_NAMES = {
    "annual_prev": "上一年度体检得分",
    "annual_curr": "本年度体检得分",
    "annual_mean": "两年体检平均分",
    "five_year_progress": "五年目标进度",
    "total": "总分",
}


@dataclass(frozen=True)
class Inputs:
    """One row of ``intermediate.score_inputs``: what the indicators of one county and year need."""

    county_code: str
    score_year: int
    count_plan_rows: int = 0
    count_started: int = 0
    count_ontime_base: int = 0
    count_ontime_completed: int = 0
    sum_invest_done_wan_yuan: float = 0.0
    sum_total_invest_wan_yuan: float = 0.0
    sum_paid_wan_yuan: float = 0.0
    sum_subsidy_wan_yuan: float = 0.0
    count_satisfaction_rows: int = 0
    sum_satisfaction_households: float = 0.0
    sum_satisfaction_weighted: float = 0.0
    sum_households_completed: float = 0.0
    sum_households: float = 0.0
    count_completed: int = 0
    count_completed_with_property: int = 0
    count_notice_ok: int = 0
    count_months_due: int = 0
    count_months_ontime: int = 0
    sum_households_completed_to_date: float = 0.0
    sum_ledger_households_old: float = 0.0
    as_of_label: str = ""
    county_name: str = ""
    sort_order: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Inputs:
        return cls(**{k: (v if v is not None else _DEFAULTS[k]) for k, v in row.items() if k in _DEFAULTS})


_DEFAULTS = {f.name: f.default for f in fields(Inputs)}


@dataclass(frozen=True)
class Line:
    """One indicator of a score: value and points are None when not applicable."""

    indicator: str
    value: float | None
    points: float | None
    max_points: float | None

    @property
    def is_applicable(self) -> bool:
        return self.value is not None and self.points is not None and self.max_points is not None


@dataclass(frozen=True)
class Score:
    county_code: str
    year: int
    kind: str  # annual | biennial
    lines: tuple[Line, ...]
    total: float
    grade: str
    as_of_label: str = ""
    county_name: str = ""
    sort_order: int = 0

    def line(self, indicator: str) -> Line:
        return next(x for x in self.lines if x.indicator == indicator)

    def values(self) -> dict[str, float | None]:
        return {x.indicator: x.value for x in self.lines}


# --- pure scoring -------------------------------------------------------------------------


def _share(num: float, den: float) -> float | None:
    return num / den if den else None


def annual_values(inp: Inputs) -> dict[str, float | None]:
    """The value of each annual indicator (None = not applicable), from the counts and sums."""
    investment = _share(inp.sum_invest_done_wan_yuan, inp.sum_total_invest_wan_yuan)
    disbursement = _share(inp.sum_paid_wan_yuan, inp.sum_subsidy_wan_yuan)
    satisfaction = (
        _share(inp.sum_satisfaction_weighted, inp.sum_satisfaction_households) if inp.count_satisfaction_rows else None
    )
    return {
        "start_rate": _share(inp.count_started, inp.count_plan_rows),
        "ontime_completion_rate": _share(inp.count_ontime_completed, inp.count_ontime_base),
        "investment_rate": None if investment is None else min(1.0, investment),
        "disbursement_rate": None if disbursement is None else min(1.0, disbursement),
        "satisfaction": satisfaction,
        "households_rate": _share(inp.sum_households_completed, inp.sum_households),
        "property_rate": _share(inp.count_completed_with_property, inp.count_completed),
        "notice_rate": _share(inp.count_notice_ok, inp.count_plan_rows),
        # a year with no month received yet has nothing to judge timeliness on
        "reporting_rate": _share(inp.count_months_ontime, inp.count_months_due),
    }


def total_of(lines: Iterable[Line]) -> float:
    """Σ points of the applicable lines / Σ their maximum points × 100 (0 when none applies)."""
    applicable = [x for x in lines if x.is_applicable]
    max_sum = sum(x.max_points for x in applicable)  # type: ignore[misc]
    return sum(x.points for x in applicable) / max_sum * 100 if max_sum else 0.0  # type: ignore[misc]


def grade_of(total: float, scheme: Scheme) -> str:
    """The grade of an unrounded total: 优秀 ≥ 95, 良好 ≥ 85, 合格 ≥ 75, else 差 (default scheme)."""
    for threshold, grade in scheme.grades:
        if total >= threshold - _GRADE_EPS:
            return grade
    return scheme.grade_below


def annual_score(inp: Inputs, scheme: Scheme) -> Score | None:
    """The annual check of one county and year; None when the county has no plan rows that year."""
    if inp.count_plan_rows <= 0:
        return None
    values = annual_values(inp)
    lines = []
    for d in scheme.indicators:
        v = values[d.code]
        lines.append(Line(d.code, v, None if v is None else d.points * v / d.scale, d.points))
    total = total_of(lines)
    return Score(inp.county_code, inp.score_year, "annual", tuple(lines), total, grade_of(total, scheme),
                 inp.as_of_label, inp.county_name, inp.sort_order)


def five_year_progress(inp: Inputs, scheme: Scheme) -> float | None:
    """min(1, households completed to date / (T × (Y − base) / horizon)); None when T = 0."""
    expected = inp.sum_ledger_households_old * (inp.score_year - scheme.base_year) / scheme.horizon_years
    if inp.sum_ledger_households_old <= 0 or expected <= 0:
        return None
    return min(1.0, inp.sum_households_completed_to_date / expected)


def biennial_score(
    inp: Inputs, prev_total: float | None, curr_total: float | None, scheme: Scheme
) -> Score | None:
    """The biennial evaluation for the pair (Y−1, Y), ``inp`` being the county's inputs of Y.

    None when the county was scored in neither year."""
    if prev_total is None and curr_total is None:
        return None
    present = [t for t in (prev_total, curr_total) if t is not None]
    mean = sum(present) / len(present)
    max_mean = scheme.annual_mean_weight * 100
    progress = five_year_progress(inp, scheme)
    lines = (
        Line("annual_prev", prev_total, None, None),
        Line("annual_curr", curr_total, None, None),
        Line("annual_mean", mean, scheme.annual_mean_weight * mean, max_mean),
        Line("five_year_progress", progress, None if progress is None else scheme.progress_points * progress,
             scheme.progress_points),
    )
    total = total_of(lines)
    return Score(inp.county_code, inp.score_year, "biennial", lines, total, grade_of(total, scheme),
                 inp.as_of_label, inp.county_name, inp.sort_order)


def score_all(inputs: Sequence[Inputs], scheme: Scheme) -> list[Score]:
    """Every annual score of every county and year, and every biennial one from the first year on."""
    by_key = {(i.county_code, i.score_year): i for i in inputs}
    annual = {k: s for k, i in by_key.items() if (s := annual_score(i, scheme)) is not None}
    out: list[Score] = list(annual.values())
    for (county, year), inp in by_key.items():
        if year < scheme.biennial_first_year:
            continue
        prev, curr = annual.get((county, year - 1)), annual.get((county, year))
        b = biennial_score(inp, prev.total if prev else None, curr.total if curr else None, scheme)
        if b is not None:
            out.append(b)
    out.sort(key=lambda s: (s.year, s.kind, s.sort_order, s.county_code))
    return out


def prefecture_inputs(inputs: Iterable[Inputs], year: int) -> Inputs:
    """The prefecture as one unit: the counts and sums of the scored counties of ``year`` added up."""
    rows = [i for i in inputs if i.score_year == year and i.count_plan_rows > 0]
    sums = {
        f.name: sum(getattr(i, f.name) for i in rows)
        for f in fields(Inputs)
        if f.name.startswith(("count_", "sum_"))
    }
    label = rows[0].as_of_label if rows else ""
    return Inputs(county_code=PREFECTURE, score_year=year, as_of_label=label, county_name=PREFECTURE,
                  sort_order=-1, **sums)



def prefecture_scores(inputs: Sequence[Inputs], scheme: Scheme) -> list[Score]:
    """The annual score of the prefecture as one unit, for every year in which a county is scored."""
    years = sorted({i.score_year for i in inputs if i.count_plan_rows > 0})
    return [s for y in years if (s := annual_score(prefecture_inputs(inputs, y), scheme)) is not None]

