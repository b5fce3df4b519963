"""Every number, percent, date, month and 是/否 form of input-formats.md."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.reading import parsing as P

FULLWIDTH = str.maketrans("0123456789.,%", "０１２３４５６７８９．，％")


@pytest.mark.parametrize(
    ("cell", "unit", "expected"),
    [
        ("1,234.5", None, 1234.5),
        (" 1234 ", None, 1234.0),
        ("1234.50万", "万元", 1234.5),       # a suffix that repeats the header unit
        ("１２３", None, 123.0),             # full-width digits
        ("12万", "元", 120000.0),            # 12 万 in a column of 元
        ("12000元", "万元", 1.2),            # 元 in a column of 万元: 12000 / 10000
        ("260户", None, 260.0),
        (1234, None, 1234.0),
        (12.5, None, 12.5),
        ("-", None, None),
        ("—", None, None),
        ("/", None, None),
        ("无", None, None),
        ("", None, None),
        (None, None, None),
        ("-12", None, -12.0),                # negative: read, then refused by validation
    ],
)
def test_number_forms(cell, unit, expected):
    assert P.parse_number(cell, unit) == expected


@pytest.mark.parametrize("cell", ["abc", "12a", "1.2.3", "十二", dt.date(2021, 1, 1), True])
def test_number_rejects_text(cell):
    with pytest.raises(P.ParseError):
        P.parse_number(cell)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_number_roundtrip_through_clerk_forms(x):
    value = float(x)
    forms = [f"{value:,.2f}", f" {value:.2f} ", f"{value:.2f}万", f"{value:,.2f}".translate(FULLWIDTH)]
    for form in forms:
        assert P.parse_number(form, "万元") == pytest.approx(value), form


@given(st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False))
def test_percent_forms_agree(x):
    value = float(x)
    for form in (f"{value}", f"{value}%", f"{value:.1f}％", value):
        assert P.parse_percent(form) == pytest.approx(value)


@given(st.dates(min_value=dt.date(1949, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_forms_agree(d):
    forms = [
        d, dt.datetime(d.year, d.month, d.day),
        f"{d:%Y-%m-%d}", f"{d.year}/{d.month}/{d.day}", f"{d.year}.{d.month}.{d.day}",
        f"{d.year}年{d.month}月{d.day}日", f"{d:%Y%m%d}", int(f"{d:%Y%m%d}"),
        float((d - dt.date(1899, 12, 30)).days),  # an Excel serial in a general cell
    ]
    for form in forms:
        assert P.parse_date(form) == d, form


@given(st.integers(1949, 2099), st.integers(1, 12))
def test_month_forms_agree(y, m):
    first = dt.date(y, m, 1)
    for form in (f"{y}-{m:02d}", f"{y}年{m}月", f"{y}.{m:02d}", f"{y}{m:02d}", int(f"{y}{m:02d}"), first):
        assert P.parse_month(form) == first, form


@pytest.mark.parametrize("cell", ["2021-13", "2021年13月", "202100", "2021-02-30", "明年"])
def test_impossible_months_and_dates(cell):
    with pytest.raises(P.ParseError):
        P.parse_month(cell) if "02-30" not in cell else P.parse_date(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("是", True), ("否", False), ("Y", True), ("N", False), ("有", True), ("无", False), ("√", True),
     ("×", False), (1, True), (0, False), ("1", True), ("0", False), ("", None), (None, None)],
)
def test_yes_no(cell, expected):
    assert P.parse_bool(cell) is expected


def test_yes_no_rejects_other_text():
    with pytest.raises(P.ParseError):
        P.parse_bool("也许")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("基础类", "基础类"), ("完善类、基础类", "基础类+完善类"), ("基础类,完善类;提升类", "基础类+完善类+提升类"),
     ("基础类/提升类", "基础类+提升类"), ("提升类+基础类", "基础类+提升类"), ("基础类，完善类", "基础类+完善类")],
)
def test_categories(cell, expected):
    assert P.parse_categories(cell) == expected


def test_categories_rejects_unknown():
    with pytest.raises(P.ParseError):
        P.parse_categories("基础类、豪华类")


@pytest.mark.parametrize(
    ("cell", "expected"), [("1995", 1995), ("1995年", 1995), (1995.0, 1995), ("80年代", 1985), ("1990年代", 1995)]
)
def test_years(cell, expected):
    assert P.parse_year(cell) == expected


def test_working_days_count_monday_to_friday_inclusive():
    # 2021-05-03 is a Monday; to Friday 2021-05-21 are three full weeks: 15 working days
    assert P.working_days(dt.date(2021, 5, 3), dt.date(2021, 5, 21)) == 15
    # Saturday to Sunday: none
    assert P.working_days(dt.date(2021, 5, 8), dt.date(2021, 5, 9)) == 0


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)), st.integers(0, 60))
def test_working_days_matches_a_day_by_day_count(start, length):
    end = start + dt.timedelta(days=length)
    expected = sum((start + dt.timedelta(days=i)).weekday() < 5 for i in range(length + 1))
    assert P.working_days(start, end) == expected


@pytest.mark.parametrize(
    ("text", "compact", "expected"),
    [
        ("巴州城镇老旧小区改造项目进度月报(2021年5月)", False, dt.date(2021, 5, 1)),
        ("报告期:2021年5月", False, dt.date(2021, 5, 1)),
        ("填报日期:2021年6月3日", False, None),       # a day, not a month
        ("轮台县月报_202105.xlsx", True, dt.date(2021, 5, 1)),
        ("轮台县月报2021-05.xlsx", True, dt.date(2021, 5, 1)),
    ],
)
def test_find_month_in_titles_and_names(text, compact, expected):
    assert P.find_month(text, compact=compact) == expected
