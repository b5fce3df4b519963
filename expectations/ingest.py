"""The ingest suites: one per kind of workbook, generated from the header alias table.

Each expectation is a named subclass with a Chinese description; the description, the column
and the unexpected rows become the messages a county clerk reads. Cross-row rules (duplicates,
inflation) are not here: they are audit signals, not reasons to refuse a row.
"""

from __future__ import annotations

import datetime as dt

from expectations.gx import import_gx
from pipelines.reading.headers import Field, fields_for

gx = import_gx()  # before GX's own modules below: the deferral must be in place first

import great_expectations.expectations as gxe  # noqa: E402

__all__ = [
    "ExpectCellsReadable",
    "UNREADABLE",
    "ExpectRequiredValuePresent",
    "ExpectValueInRange",
    "ExpectPercentInRange",
    "ExpectYearInRange",
    "ExpectDateInRange",
    "build_suite",
    "EARLIEST_DATE",
]

EARLIEST_DATE = dt.date(1949, 1, 1)
UNREADABLE = "unreadable_fields"
LATEST_PLANNED_DATE = dt.date(2040, 12, 31)


class ExpectCellsReadable(gxe.ExpectColumnValuesToBeNull):
    """Every cell of a row can be read as its column's type: ``unreadable_fields`` (the fields
    whose cell could not be read, joined by commas) is empty. One expectation for all columns:
    the reason per cell is kept beside the value by the staging step."""


class ExpectRequiredValuePresent(gxe.ExpectColumnValuesToNotBeNull):
    """A required field has a value in every row."""


class ExpectValueInRange(gxe.ExpectColumnValuesToBeBetween):
    """A number lies within the range the spec allows (no negative amounts, at least one household …)."""


class ExpectPercentInRange(gxe.ExpectColumnValuesToBeBetween):
    """A percentage lies on the 0–100 scale."""


class ExpectYearInRange(gxe.ExpectColumnValuesToBeBetween):
    """A year lies between 1949 and the current year."""


class ExpectDateInRange(gxe.ExpectColumnValuesToBeBetween):
    """A date, as its day number, lies between 1949-01-01 and today (or a plausible planning horizon)."""


def _range_text(f: Field) -> tuple[float | None, float | None, bool, str]:
    lo, hi, strict = f.min, f.max, False
    if f.min_exclusive is not None:
        lo, strict = f.min_exclusive, True
    if lo is not None and hi is not None:
        text = f"应在 {lo:g} 至 {hi:g} 之间"
    elif lo is not None:
        text = f"应{'大于' if strict else '不小于'} {lo:g}"
    else:
        text = f"应不大于 {hi:g}"
    return lo, hi, strict, text


def build_suite(kind: str, today: dt.date) -> gx.ExpectationSuite:
    """The suite of one kind; ``today`` bounds actual dates and years."""
    suite = _Collect()
    suite.add_expectation(
        ExpectCellsReadable(column=UNREADABLE, description="每个单元格都须能按其列的类型读取(数字、金额、日期、月份、百分比、是/否、县市、改造类别)")
    )
    for f in fields_for(kind):
        col = "county_code" if f.type == "county" else f.name
        if kind in f.required:
            suite.add_expectation(ExpectRequiredValuePresent(column=col, description=f"「{f.header}」为必填项,不能为空"))
        if f.type in ("int", "number", "money") and (f.min is not None or f.max is not None or f.min_exclusive is not None):
            lo, hi, strict, text = _range_text(f)
            suite.add_expectation(
                ExpectValueInRange(column=col, min_value=lo, max_value=hi, strict_min=strict,
                                   description=f"「{f.header}」{text}")
            )
        elif f.type == "percent":
            suite.add_expectation(
                ExpectPercentInRange(column=col, min_value=0, max_value=100, description=f"「{f.header}」应在 0 至 100(%)之间")
            )
        elif f.type == "year":
            lo = int(f.min) if f.min is not None else EARLIEST_DATE.year
            hi = int(f.max) if f.max is not None else today.year
            suite.add_expectation(
                ExpectYearInRange(column=col, min_value=lo, max_value=hi, description=f"「{f.header}」应在 {lo} 至 {hi} 年之间")
            )
        elif f.type in ("date", "month"):
            hi = today if (f.past_only or f.type == "month") else LATEST_PLANNED_DATE
            suite.add_expectation(
                ExpectDateInRange(
                    column=f"{col}__day", min_value=EARLIEST_DATE.toordinal(), max_value=hi.toordinal(),
                    description=f"「{f.header}」应在 {EARLIEST_DATE:%Y-%m-%d} 至 {hi:%Y-%m-%d} 之间"
                    + ("(不能是未来的日期)" if hi == today else ""),
                )
            )
    return gx.ExpectationSuite(name=f"ingest_{kind}", expectations=suite.items)


class _Collect:
    """Collects expectations before the suite exists (adding to a suite needs a GX context)."""

    def __init__(self) -> None:
        self.items: list = []

    def add_expectation(self, e) -> None:
        self.items.append(e)


_TYPE_NAMES = {
    "county": "巴州的县市", "text": "文本", "year": "年份", "int": "整数", "number": "数字", "money": "金额",
    "percent": "百分比", "date": "日期", "month": "月份", "bool": "是/否", "categories": "改造类别",
}
