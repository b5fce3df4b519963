"""The signal suites: duplicate and inflation rules of flags.md as Great Expectations suites.

Each rule that looks across rows or tables is first computed in SQL as a column of a derived
table (``warehouse/intermediate/signal_plan_checks.sql``, ``signal_report_checks.sql``); the suites
below assert on those columns, and every unexpected row becomes a signal. A null in an asserted
column means the rule could not assess the row (GX leaves nulls out of ``element_count −
missing_count``, which is the rule's coverage).

Thresholds come from ``pipelines/config/thresholds.toml``: the SQL reads them from
``marts.signal_thresholds``, and the numeric expectations here take them as kwargs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar


from expectations.gx import import_gx

gx = import_gx()  # before GX's own modules below: the deferral must be in place first

import great_expectations.expectations as gxe  # noqa: E402

log = logging.getLogger(__name__)

__all__ = [
    "ExpectPlanFirstEntryOfYear",
    "ExpectPlanCommunityNewToProgram",
    "ExpectPlanHouseholdsWithinLedger",
    "ExpectPlanCostPerHouseholdNearMedian",
    "ExpectPlanCostPerAreaNearMedian",
    "ExpectPlanInLedger",
    "ExpectPlanBuiltBy2000",
    "ExpectPlanNoticeLongEnough",
    "ExpectReportHouseholdsWithinPlan",
    "SuiteSpec",
    "SIGNAL_EXPECTATIONS",
    "build_suites",
]


class _SignalExpectation:
    """Mixin: the rule a signal expectation stands for and the columns its signals carry."""

    rule: ClassVar[str]
    evidence_column: ClassVar[str]
    score_column: ClassVar[str]


class ExpectPlanFirstEntryOfYear(_SignalExpectation, gxe.ExpectColumnValuesToBeInSet):
    """DUP_SAME_YEAR: a community appears at most once in one year's plans (all counties)."""

    rule: ClassVar[str] = "DUP_SAME_YEAR"
    evidence_column: ClassVar[str] = "dup_same_year_evidence"
    score_column: ClassVar[str] = "dup_score"
    description: str | None = "同一小区在同一年度计划中只出现一次(含跨县市),第二次及以后的申报为重复申报"


class ExpectPlanCommunityNewToProgram(_SignalExpectation, gxe.ExpectColumnValuesToBeInSet):
    """DUP_CROSS_YEAR: a community is planned in no earlier year and not renovated earlier by the ledger."""

    rule: ClassVar[str] = "DUP_CROSS_YEAR"
    evidence_column: ClassVar[str] = "dup_cross_year_evidence"
    score_column: ClassVar[str] = "dup_score"
    description: str | None = "同一小区未列入以往年度计划,台账也未记载其已在更早年度改造"


class ExpectPlanHouseholdsWithinLedger(_SignalExpectation, gxe.ExpectColumnValuesToBeInSet):
    """INFLATED_SCALE (plan): 户数, 楼栋数 and 建筑面积 within the margin of the linked ledger community."""

    rule: ClassVar[str] = "INFLATED_SCALE"
    evidence_column: ClassVar[str] = "inflated_scale_evidence"
    score_column: ClassVar[str] = "inflated_scale_score"
    description: str | None = "计划户数、楼栋数、建筑面积超出所匹配台账小区不超过规定幅度(阈值见 thresholds.toml)"


class ExpectPlanCostPerHouseholdNearMedian(_SignalExpectation, gxe.ExpectColumnValuesToBeBetween):
    """INFLATED_COST: 户均计划总投资 at most N × the median of the year's plans of the same 改造类别."""

    rule: ClassVar[str] = "INFLATED_COST"
    evidence_column: ClassVar[str] = "inflated_cost_evidence"
    score_column: ClassVar[str] = "inflated_cost_score"
    description: str | None = "户均计划总投资不超过全州同年度、同改造类别计划中位数的规定倍数"


class ExpectPlanCostPerAreaNearMedian(_SignalExpectation, gxe.ExpectColumnValuesToBeBetween):
    """INFLATED_COST: 每平方米计划总投资 at most N × the median of the year's plans of the same 改造类别."""

    rule: ClassVar[str] = "INFLATED_COST"
    evidence_column: ClassVar[str] = "inflated_cost_evidence"
    score_column: ClassVar[str] = "inflated_cost_score"
    description: str | None = "每平方米计划总投资不超过全州同年度、同改造类别计划中位数的规定倍数"


class ExpectPlanInLedger(_SignalExpectation, gxe.ExpectColumnValuesToBeInSet):
    """NOT_IN_LEDGER: a plan row matches a community of its county's ledger."""

    rule: ClassVar[str] = "NOT_IN_LEDGER"
    evidence_column: ClassVar[str] = "not_in_ledger_evidence"
    score_column: ClassVar[str] = "not_in_ledger_score"
    description: str | None = "计划小区能在本县市摸底台账中找到对应小区"


class ExpectPlanBuiltBy2000(_SignalExpectation, gxe.ExpectColumnValuesToBeBetween):
    """POST_2000: the planned community was built in or before the goal's year (program.toml goal.built_until)."""

    rule: ClassVar[str] = "POST_2000"
    evidence_column: ClassVar[str] = "post_2000_evidence"
    score_column: ClassVar[str] = "post_2000_score"
    description: str | None = "改造对象为五年目标覆盖的年份及以前建成的小区"


class ExpectPlanNoticeLongEnough(_SignalExpectation, gxe.ExpectColumnValuesToBeBetween):
    """NOTICE_SHORT: the plan was publicly noticed for at least the minimum working days (program.toml)."""

    rule: ClassVar[str] = "NOTICE_SHORT"
    evidence_column: ClassVar[str] = "notice_short_evidence"
    score_column: ClassVar[str] = "notice_short_score"
    description: str | None = "计划经公示且公示达到规定的工作日数"


class ExpectReportHouseholdsWithinPlan(_SignalExpectation, gxe.ExpectColumnValuesToBeInSet):
    """INFLATED_SCALE (monthly report): 户数 within the margin of its plan row."""

    rule: ClassVar[str] = "INFLATED_SCALE"
    evidence_column: ClassVar[str] = "inflated_scale_evidence"
    score_column: ClassVar[str] = "inflated_scale_score"
    description: str | None = "月报户数不超过计划户数 10% 以上(且至少 5 户)"


SIGNAL_EXPECTATIONS: tuple[type, ...] = (
    ExpectPlanFirstEntryOfYear,
    ExpectPlanCommunityNewToProgram,
    ExpectPlanHouseholdsWithinLedger,
    ExpectPlanCostPerHouseholdNearMedian,
    ExpectPlanCostPerAreaNearMedian,
    ExpectPlanInLedger,
    ExpectPlanBuiltBy2000,
    ExpectPlanNoticeLongEnough,
    ExpectReportHouseholdsWithinPlan,
)


@dataclass(frozen=True)
class SuiteSpec:
    """One suite and the derived table it validates."""

    name: str
    table: str                 # the derived table, e.g. intermediate.signal_plan_checks
    index_column: str          # the row id that comes back with each unexpected row
    suite: Any                 # gx.ExpectationSuite
    columns: tuple[str, ...]   # the columns to hand to GX (asserted, index, evidence, score)


def _describe(cls: type, text: str) -> str:
    return text or cls.__fields__["description"].default


def _make(cls: type, description: str = "", **kwargs: Any):
    return cls(description=_describe(cls, description), meta={"rule": cls.rule}, **kwargs)


def build_suites(thresholds: dict[str, dict[str, float]]) -> list[SuiteSpec]:
    """The plan and report suites with the thresholds in force (``thresholds[RULE][name]``)."""
    cost = float(thresholds["INFLATED_COST"]["median_multiple"])
    last_year = int(thresholds["POST_2000"]["last_build_year"])
    notice = int(thresholds["NOTICE_SHORT"]["min_working_days"])
    scale_pct = round(float(thresholds["INFLATED_SCALE"]["pct_over"]) * 100)

    plan = gx.ExpectationSuite(name="signals_plan")
    plan_expectations = [
        _make(ExpectPlanFirstEntryOfYear, column="is_first_in_year", value_set=[True]),
        _make(ExpectPlanCommunityNewToProgram, column="is_new_to_program", value_set=[True]),
        _make(
            ExpectPlanHouseholdsWithinLedger,
            f"计划户数、楼栋数、建筑面积不超过所匹配台账小区 {scale_pct}% 以上"
            f"(且至少 {thresholds['INFLATED_SCALE']['min_households']:g} 户、{thresholds['INFLATED_SCALE']['min_buildings']:g} 栋"
            f"或 {thresholds['INFLATED_SCALE']['min_area_m2']:g} 平方米)",
            column="is_scale_within_ledger",
            value_set=[True],
        ),
        _make(
            ExpectPlanCostPerHouseholdNearMedian,
            f"户均计划总投资不超过全州同年度、同改造类别计划中位数的 {cost:g} 倍",
            column="cost_household_multiple",
            max_value=cost,
        ),
        _make(
            ExpectPlanCostPerAreaNearMedian,
            f"每平方米计划总投资不超过全州同年度、同改造类别计划中位数的 {cost:g} 倍",
            column="cost_m2_multiple",
            max_value=cost,
        ),
        _make(ExpectPlanInLedger, column="is_in_ledger", value_set=[True]),
        _make(ExpectPlanBuiltBy2000, f"改造对象为 {last_year} 年底前建成的小区", column="build_year_checked", max_value=last_year),
        _make(ExpectPlanNoticeLongEnough, f"计划经公示且公示不少于 {notice} 个工作日", column="notice_days_checked", min_value=notice),
    ]
    for e in plan_expectations:
        plan.add_expectation(e)

    report = gx.ExpectationSuite(name="signals_report")
    report.add_expectation(
        _make(
            ExpectReportHouseholdsWithinPlan,
            f"月报户数不超过计划户数 {scale_pct}% 以上(且至少 {thresholds['INFLATED_SCALE']['min_households']:g} 户)",
            column="is_households_within_plan",
            value_set=[True],
        )
    )

    def columns(suite, index: str) -> tuple[str, ...]:
        cols = [index]
        for e in suite.expectations:
            cls = type(e)
            for c in (e.column, cls.evidence_column, cls.score_column):
                if c not in cols:
                    cols.append(c)
        return tuple(cols)

    return [
        SuiteSpec("signals_plan", "intermediate.signal_plan_checks", "plan_row_id", plan, columns(plan, "plan_row_id")),
        SuiteSpec("signals_report", "intermediate.signal_report_checks", "report_row_id", report, columns(report, "report_row_id")),
    ]
