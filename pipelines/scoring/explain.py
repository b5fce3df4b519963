"""Each indicator line spelled out in Chinese: numerator, denominator and the formula with the
figures, e.g. 投资完成率 = 累计完成投资 ÷ 计划总投资 = 14,980 ÷ 15,730 万元 = 95.2% → 14.28 / 15 分.

Pure: from the score inputs (``intermediate.score_inputs``) and the scores computed from them;
the refresh's scores step writes the rows to ``marts.score_formulas`` and the pages read them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipelines.scoring.compute import BIENNIAL_NAMES, Inputs, Line, Score
from pipelines.scoring.scheme import Scheme

__all__ = ["TERMS", "formula_rows", "fmt_number"]

#: annual indicator → (numerator field, its name, denominator field, its name, unit of both)
TERMS: dict[str, tuple[str, str, str, str, str]] = {
    "start_rate": ("count_started", "已开工项目数", "count_plan_rows", "计划项目数", "个"),
    "ontime_completion_rate": ("count_ontime_completed", "按期完工项目数", "count_ontime_base", "应按期完工项目数", "个"),
    "investment_rate": ("sum_invest_done_wan_yuan", "累计完成投资", "sum_total_invest_wan_yuan", "计划总投资", "万元"),
    "disbursement_rate": ("sum_paid_wan_yuan", "累计拨付资金", "sum_subsidy_wan_yuan", "计划补助资金", "万元"),
    "satisfaction": ("sum_satisfaction_weighted", "Σ(满意度 × 户数)", "sum_satisfaction_households", "参与评价户数", "户"),
    "households_rate": ("sum_households_completed", "已完工户数", "sum_households", "计划户数", "户"),
    "property_rate": ("count_completed_with_property", "有长效管理的完工项目数", "count_completed", "完工项目数", "个"),
    "notice_rate": ("count_notice_ok", "公示合规项目数", "count_plan_rows", "计划项目数", "个"),
    "reporting_rate": ("count_months_ontime", "按时报送月数", "count_months_due", "应报月数", "个月"),
}
_CAPPED = {"investment_rate", "disbursement_rate"}


def fmt_number(x: float | None) -> str:
    """A figure as the bureaus write it: thousands separated, at most two decimals, no trailing zeros."""
    if x is None:
        return "—"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _points(line: Line) -> str:
    return f"{line.points:.2f} / {fmt_number(line.max_points)} 分"


def _annual(name: str, code: str, inp: Inputs, line: Line, scale: float) -> tuple:
    num_f, num_name, den_f, den_name, unit = TERMS[code]
    num, den = float(getattr(inp, num_f)), float(getattr(inp, den_f))
    head = f"{name} = {num_name} ÷ {den_name}"
    if not line.is_applicable:
        why = "无参与评价的完工项目" if code == "satisfaction" else f"{den_name}为 0"
        return num, den, num_name, den_name, unit, f"{head}:{why},本项不适用(不计入满分)"
    if scale == 100:  # a 0–100 value: 分 rather than a share
        value = f"{num / den:.1f} 分(百分制)"
    else:
        value = f"{num / den:.1%}"
        if code in _CAPPED and num > den:
            value += ",按 100% 计"
    return num, den, num_name, den_name, unit, (
        f"{head} = {fmt_number(num)} ÷ {fmt_number(den)} {unit} = {value} → {_points(line)}")


def _biennial(s: Score, line: Line, inp: Inputs | None, scheme: Scheme) -> tuple:
    name = BIENNIAL_NAMES[line.indicator]
    if line.indicator in ("annual_prev", "annual_curr"):
        text = f"{name} = {line.value:.2f} 分" if line.value is not None else f"{name}:该年度未参评"
        return line.value, None, name, "", "分", text
    if line.indicator == "annual_mean":
        prev, curr = s.line("annual_prev").value, s.line("annual_curr").value
        present = [v for v in (prev, curr) if v is not None]
        terms = " + ".join(f"{v:.2f}" for v in present)
        return (sum(present), float(len(present)), "参评年度体检得分之和", "参评年数", "分",
                f"{name} = ({terms}) ÷ {len(present)} = {line.value:.2f} 分 → {_points(line)}"
                f"(权重 {scheme.annual_mean_weight:g})")
    # five_year_progress: households completed to date over the share of the goal due by this year
    done = inp.sum_households_completed_to_date if inp else 0.0
    goal = inp.sum_ledger_households_old if inp else 0.0
    years = s.year - scheme.base_year
    due = goal * years / scheme.horizon_years
    head = f"{name} = 累计完工户数 ÷(五年目标户数 × {years} ÷ {scheme.horizon_years:g})"
    if not line.is_applicable:
        return done, due, "累计完工户数", "应完成户数", "户", f"{head}:目标户数为 0,本项不适用(不计入满分)"
    capped = ",按 100% 计" if done > due else ""
    return (done, due, "累计完工户数", "应完成户数", "户",
            f"{head} = {fmt_number(done)} ÷ {fmt_number(round(due, 2))} 户 = {done / due:.1%}{capped} → {_points(line)}")


def formula_rows(scores: Iterable[Score], inputs: Sequence[Inputs], scheme: Scheme) -> list[tuple]:
    """Rows of ``marts.score_formulas``: (county_code, year, kind, indicator, numerator, denominator,
    numerator_label, denominator_label, unit, formula) for every indicator line of every score."""
    by_key = {(i.county_code, i.score_year): i for i in inputs}
    out = []
    for s in scores:
        inp = by_key.get((s.county_code, s.year))
        for line in s.lines:
            if s.kind == "annual" and inp is not None:
                d = scheme.indicator(line.indicator)
                row = _annual(d.name, line.indicator, inp, line, d.scale)
            elif s.kind == "biennial":
                row = _biennial(s, line, inp, scheme)
            else:
                continue
            out.append((s.county_code, s.year, s.kind, line.indicator, *row))
    return out
