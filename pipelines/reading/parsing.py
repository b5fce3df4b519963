"""Parsing of cell values as clerks write them (input-formats.md, "Common rules").

Every parser takes a cell as read (str, int, float, bool, date, datetime or None) and returns
the typed value, ``None`` for a missing value, or raises :class:`ParseError` with a Chinese
reason. Values are never guessed silently: what cannot be read is an error of its row.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

__all__ = [
    "ParseError",
    "MISSING_TOKENS",
    "normalise_text",
    "is_missing",
    "parse_number",
    "parse_int",
    "parse_percent",
    "parse_date",
    "parse_month",
    "parse_year",
    "parse_bool",
    "parse_categories",
    "working_days",
    "find_month",
    "find_date",
    "excel_serial_date",
]


class ParseError(ValueError):
    """A cell that cannot be read as its column's type; the message is Chinese."""


MISSING_TOKENS = frozenset({"", "-", "—", "——", "--", "/", "无", "－", "─", "–"})
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_LAST = 2958465  # 9999-12-31, the last date Excel has
_WS = re.compile(r"\s+")
# a number, possibly signed, with thousands separators, a decimal part and an exponent
# (1.2E+05: how Excel writes a large number into a CSV)
_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?(?:[eE][+-]?\d{1,4})?$")
# unit words a clerk may append to a number; the value is not scaled unless listed in _SCALE
_UNIT_SUFFIX = re.compile(
    r"(万元|亿元|元|万平方米|平方米|万㎡|㎡|m2|m²|平米|万户|户|栋|幢|部|台|个|人|天|工作日|日|年|万)$"
)
_SCALE = {"万": 1e4, "万元": 1e4, "亿元": 1e8, "元": 1.0, "万平方米": 1e4, "万㎡": 1e4,
          "平方米": 1.0, "㎡": 1.0, "m2": 1.0, "m²": 1.0, "平米": 1.0}
# which written units are interchangeable within one column, in base units
_UNIT_FAMILY = {"万元": "money", "亿元": "money", "元": "money",
                "万平方米": "area", "万㎡": "area", "平方米": "area", "㎡": "area", "m2": "area",
                "m²": "area", "平米": "area"}


def normalise_text(value: object) -> str:
    """NFKC (full-width digits, letters, brackets and spaces become half-width), trimmed."""
    text = unicodedata.normalize("NFKC", str(value))
    return text.strip()


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    if isinstance(value, str):
        return _WS.sub("", normalise_text(value)) in MISSING_TOKENS
    return False


def parse_number(value: object, unit: str | None = None) -> float | None:
    """A number written as a number or text: ``1,234.5``, `` 1234 ``, ``1234.50万``, ``１２３``.

    ``unit`` is the column's unit as its header states it (``万元``, ``元``, ``平方米`` …); a
    suffix that repeats it is ignored, a suffix of the same family (元 in a 万元 column) is
    converted, any other suffix is an error.
    """
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise ParseError("应为数字")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        raise ParseError("应为数字,却是日期")
    text = _WS.sub("", normalise_text(value)).replace(",", "").replace("，", "")
    factor = 1.0
    m = _UNIT_SUFFIX.search(text)
    if m and m.start() > 0:
        suffix = m.group(1)
        text = text[: m.start()]
        if unit and suffix != unit:
            fam_s, fam_u = _UNIT_FAMILY.get(suffix), _UNIT_FAMILY.get(unit)
            if suffix == "万" and fam_u in ("money", "area") and unit not in ("万元", "万平方米", "万㎡"):
                factor = 1e4  # "12万" in a 元 column
            elif fam_s and fam_s == fam_u:
                factor = _SCALE[suffix] / _SCALE[unit]
            elif suffix != "万":
                pass  # 户, 栋 … repeat what the header says in words; no scaling
    mm = _NUMBER.match(text)
    if not mm or (mm.group(2) is None and mm.group(3) is None):
        raise ParseError("应为数字")
    return float(text.replace(",", "")) * factor


def parse_int(value: object, unit: str | None = None) -> int | None:
    """A whole number; ``12.0`` is 12, ``12.5`` is an error. A number too large to be exact
    (beyond 2**53, or infinite) is returned as a float: the caller's range check refuses it."""
    number = parse_number(value, unit)
    if number is None:
        return None
    if not math.isfinite(number) or abs(number) > 2**53:
        return number
    if abs(number - round(number)) > 1e-9:
        raise ParseError("应为整数")
    return int(round(number))


def parse_percent(value: object) -> float | None:
    """A percentage on the 0–100 scale: ``85``, ``85%``, ``85.0％`` are all 85.

    A bare number is taken as written (0.85 is 0.85 %); whole columns of fractions written
    by Excel's percentage format are rescaled by the caller, which sees the whole column.
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        text = _WS.sub("", normalise_text(value))
        if text.endswith("%"):
            text = text[:-1]
        return parse_number(text)
    return parse_number(value)


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(?:份)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)


def _date(y: int, m: int, d: int) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ParseError(f"日期不存在:{y}年{m}月{d}日") from None


def _from_excel_serial(number: float) -> dt.date:
    return _EXCEL_EPOCH + dt.timedelta(days=int(number))


def excel_serial_date(value: object) -> dt.date | None:
    """The date an Excel day number (1 to 2958465) in a cell not formatted as a date stands for."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= _EXCEL_LAST:
        if not (19000101 <= value <= 21001231):
            return _from_excel_serial(value)
    return None


def parse_date(value: object) -> dt.date | None:
    """``2021-05-03``, ``2021/5/3``, ``2021.5.3``, ``2021年5月3日``, ``20210503`` or an Excel date."""
    if is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ParseError("应为日期")
    if isinstance(value, (int, float)):
        number = float(value)
        if 19000101 <= number <= 21001231 and number == int(number):
            s = str(int(number))
            return _date(int(s[:4]), int(s[4:6]), int(s[6:]))
        if 1 <= number <= _EXCEL_LAST:  # an Excel day number in a cell not formatted as a date
            return _from_excel_serial(number)
        raise ParseError("应为日期")
    text = _WS.sub("", normalise_text(value))
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if _NUMBER.match(text):  # a number written as text, thousands separators and all (1,234.5)
        try:
            return parse_date(float(text.replace(",", "")))
        except ParseError:
            pass
    raise ParseError("应为日期(如 2021-05-03、2021年5月3日)")


def parse_month(value: object) -> dt.date | None:
    """A month as its first day: ``2021-05``, ``2021年5月``, ``2021.05``, ``202105``, or a date."""
    if is_missing(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        d = value.date() if isinstance(value, dt.datetime) else value
        return d.replace(day=1)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if 190001 <= number <= 210012 and number == int(number):
            text = str(int(number))
        else:
            # 2021.05 typed into a number cell arrives as 2021.05
            text = f"{number:.2f}" if 1900 < number < 2101 else ""
            if not text:
                return parse_date(value).replace(day=1)
    else:
        text = _WS.sub("", normalise_text(value))
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(text)
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12:
                raise ParseError(f"月份不存在:{year}年{month}月")
            return dt.date(year, month, 1)
    try:
        return parse_date(text).replace(day=1)
    except ParseError:
        raise ParseError("应为月份(如 2021-05、2021年5月)") from None


_DECADE = re.compile(r"^(?:19)?(\d)0年代$")


def parse_year(value: object) -> int | None:
    """A year: ``1995``, ``1995年``, an Excel date, ``1995-06``; ``80年代`` is taken as 1985."""
    if is_missing(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1000 <= value <= 9999 and value == int(value):
            return int(value)
        raise ParseError("应为年份(四位数字)")
    text = _WS.sub("", normalise_text(value))
    m = _DECADE.match(text)
    if m:
        return 1900 + int(m.group(1)) * 10 + 5
    m = re.match(r"^(\d{4})(?:\.0+)?(?:年(?:代|度|份)?)?$", text)
    if m:
        return int(m.group(1))
    try:
        return parse_date(text).year
    except ParseError:
        pass
    try:
        return parse_month(text).year
    except ParseError:
        raise ParseError("应为年份(四位数字)") from None


_TRUE = frozenset({"是", "y", "yes", "有", "√", "✓", "✔", "1", "true", "对"})
_FALSE = frozenset({"否", "n", "no", "无", "×", "✗", "✘", "x", "0", "false"})


def parse_bool(value: object) -> bool | None:
    """是/否 and its forms: 是 否 Y N 有 无 √ × 1 0 (here 无 means 否); empty is missing."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value)
        raise ParseError("应为 是/否")
    text = _WS.sub("", normalise_text(value)).lower()
    if text == "":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in MISSING_TOKENS:
        return None
    raise ParseError("应为 是/否")


CATEGORIES = ("基础类", "完善类", "提升类")
_CAT_SPLIT = re.compile(r"[、,，;；/+＋\s]+")


def parse_categories(value: object) -> str | None:
    """One or more of 基础类/完善类/提升类, as ``基础类+完善类`` in that order."""
    if is_missing(value):
        return None
    parts = [p for p in _CAT_SPLIT.split(normalise_text(value)) if p]
    found = set()
    for part in parts:
        hit = next((c for c in CATEGORIES if part == c or part == c[:2] or part == c[:2] + "型"), None)
        if hit is None:
            raise ParseError(f"改造类别应为 基础类/完善类/提升类,却是「{part}」")
        found.add(hit)
    return "+".join(c for c in CATEGORIES if c in found)


def working_days(start: dt.date, end: dt.date) -> int:
    """Monday–Friday days from start to end inclusive (public holidays ignored, per the spec)."""
    if end < start:
        return 0
    days = (end - start).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    wd = start.weekday()
    for i in range(rest):
        if (wd + i) % 7 < 5:
            count += 1
    return count


_FIND_MONTH = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])|(\d{4})[-./](\d{1,2})(?![-./]\d)(?!\d)"
)
_FIND_MONTH_COMPACT = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)")


def find_month(text: str, compact: bool = False) -> dt.date | None:
    """The first month written inside a longer text (a title, a file name), else None."""
    text = normalise_text(text)
    m = _FIND_MONTH.search(text)
    if m:
        year, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if 1 <= int(month) <= 12:
            return dt.date(int(year), int(month), 1)
    if compact:
        m = _FIND_MONTH_COMPACT.search(text)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), 1)
    return None


_FIND_DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?|(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"
)


def find_date(text: str) -> dt.date | None:
    """The first full date written inside a longer text, else None."""
    m = _FIND_DATE.search(normalise_text(text))
    if not m:
        return None
    g = [x for x in m.groups() if x is not None]
    try:
        return dt.date(int(g[0]), int(g[1]), int(g[2]))
    except ValueError:
        return None
