"""The ingest suites: one per kind of workbook, generated from the header alias table.

Each expectation is a named subclass with a Chinese description; the description, the column
and the unexpected rows become the messages a county clerk reads. Cross-row rules (duplicates,
inflation) are not here: they are audit signals, not reasons to refuse a row.
"""

from __future__ import annotations

import datetime as dt

from expectations.gx import import_gx
from pipelines.reading.headers import bounds, fields_for, range_text

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
]

UNREADABLE = "unreadable_fields"


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
    """A year lies in its plausible range (1949 to the current year for a build year)."""


class ExpectDateInRange(gxe.ExpectColumnValuesToBeBetween):
    """A date, as its day number, lies in its plausible range (1949-01-01 to today, or to the planning horizon)."""


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
        # every bound comes from headers.toml, as the staging step reads it (one statement of each)
        lo, hi, strict = bounds(f, today)
        if lo is None and hi is None:
            continue
        text = range_text(f, today)
        if f.type in ("int", "number", "money"):
            suite.add_expectation(
                ExpectValueInRange(column=col, min_value=lo, max_value=hi, strict_min=strict, description=text))
        elif f.type == "percent":
            suite.add_expectation(ExpectPercentInRange(column=col, min_value=lo, max_value=hi, description=text))
        elif f.type == "year":
            suite.add_expectation(ExpectYearInRange(column=col, min_value=lo, max_value=hi, description=text))
        elif f.type in ("date", "month"):
            suite.add_expectation(ExpectDateInRange(
                column=f"{col}__day", min_value=lo.toordinal() if lo else None, max_value=hi.toordinal() if hi else None,
                description=text))
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
