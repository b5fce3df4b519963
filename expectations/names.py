"""The Chinese names of the ingest expectations, by GX expectation type, for pages and exports.

Kept apart from the suites (``expectations.ingest``) so that a page can name an expectation
without importing Great Expectations; a test checks that every expectation of the suites has
its name here."""

from __future__ import annotations

__all__ = ["EXPECTATION_NAMES", "expectation_name"]

EXPECTATION_NAMES = {
    "expect_cells_readable": "单元格可读取",
    "expect_required_value_present": "必填项不为空",
    "expect_value_in_range": "数值在允许范围内",
    "expect_percent_in_range": "百分比在 0–100 之间",
    "expect_year_in_range": "年份在允许范围内",
    "expect_date_in_range": "日期在允许范围内",
}


def expectation_name(expectation_type: str | None) -> str:
    """The Chinese name of an expectation type; the type itself when it has none."""
    return EXPECTATION_NAMES.get(expectation_type or "", expectation_type or "")
