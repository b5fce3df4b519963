"""From a laid-out sheet to typed staging rows: parse every cell, fill merged cells down,
convert units once, and check the totals row.

The result keeps, for every row, the cells as read (for the raw layer) and, for every cell
that could not be read, the reason (for validation, which decides the row's fate).

Two things never pass this step: control characters (NUL and the other C0/C1 controls but tab
and line feed, and what XML cannot hold) are removed from every cell before it is parsed, and
the file gets a note saying where; and a number that its column cannot hold (a count beyond a
32-bit integer, an infinite amount) is refused here with the message of its plausible range.
Every other out-of-range value is refused by the validation suites, with the same message:
both read the range from headers.toml.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from pipelines import constants
from pipelines.reading import parsing as P
from pipelines.counties import resolve_county
from pipelines.reading.files import Column, SheetLayout, clean_text
from pipelines.reading.headers import Field, fields_for, range_text

__all__ = ["Staged", "stage", "batch_frame", "STAGING_COLUMNS"]

# the staging columns of each kind, in the order of warehouse/staging/<kind>_rows.sql
STAGING_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "ledger": {
        "county_code": pl.String, "county_raw": pl.String, "street": pl.String, "community": pl.String,
        "name": pl.String, "address": pl.String, "build_year": pl.Int32, "buildings": pl.Int32,
        "households": pl.Int32, "area_m2": pl.Float64, "property_owner": pl.String,
        "has_property_mgmt": pl.Boolean, "pct_elderly": pl.Float64, "pct_willing": pl.Float64,
        "renovated_year": pl.Int32, "fill_date": pl.Date,
    },
    "plan": {
        "county_code": pl.String, "county_raw": pl.String, "plan_year": pl.Int32, "street": pl.String,
        "community": pl.String, "name": pl.String, "address": pl.String, "build_year": pl.Int32,
        "buildings": pl.Int32, "households": pl.Int32, "area_m2": pl.Float64, "categories": pl.String,
        "content": pl.String, "total_invest_wan_yuan": pl.Float64, "central_subsidy_wan_yuan": pl.Float64,
        "region_subsidy_wan_yuan": pl.Float64, "local_funds_wan_yuan": pl.Float64,
        "resident_funds_wan_yuan": pl.Float64, "social_funds_wan_yuan": pl.Float64,
        "utility_funds_wan_yuan": pl.Float64, "elevators": pl.Int32, "planned_start_date": pl.Date,
        "planned_end_date": pl.Date, "notice_start_date": pl.Date, "notice_end_date": pl.Date,
        "notice_days_given": pl.Int32, "notice_days": pl.Int32, "fill_date": pl.Date,
    },
    "monthly": {
        "county_code": pl.String, "county_raw": pl.String, "report_month": pl.Date, "fill_date": pl.Date,
        "plan_year": pl.Int32, "project_code": pl.String, "name": pl.String, "households": pl.Int32,
        "total_invest_wan_yuan": pl.Float64, "central_subsidy_wan_yuan": pl.Float64,
        "region_subsidy_wan_yuan": pl.Float64, "start_date": pl.Date, "pct_progress": pl.Float64,
        "invest_done_wan_yuan": pl.Float64, "paid_wan_yuan": pl.Float64, "finish_date": pl.Date,
        "accept_date": pl.Date, "pct_satisfaction": pl.Float64, "has_property_mgmt": pl.Boolean,
        "elevators": pl.Int32, "remark": pl.String,
    },
}
STAGING_TABLE = {"ledger": "staging.ledger_rows", "plan": "staging.plan_rows", "monthly": "staging.report_rows"}


@dataclass
class Staged:
    """One file's rows: typed values, cell errors and the cells as read.

    The rows are kept as columns of Python values (``data``, typed by ``schema``): a batch of
    files becomes one frame per kind (:func:`batch_frame`), because building a Polars frame
    costs about a millisecond whatever its size, more than parsing a file of a few dozen rows.
    """

    layout: SheetLayout
    data: dict[str, list]               # row_number + staging columns + <field>__error / __text columns
    schema: dict[str, pl.DataType]
    raw_rows: list[tuple[int, str, str]]  # (row_number, row_type, cells json)
    columns: dict[str, Column]          # field -> column in the file
    findings: list[dict] = field(default_factory=list)
    fill_date: dt.date | None = None
    report_month: dt.date | None = None
    county_code: str | None = None
    _frame: pl.DataFrame | None = field(default=None, repr=False)

    @property
    def height(self) -> int:
        return len(self.data["row_number"])

    @property
    def frame(self) -> pl.DataFrame:
        """This file's rows as one frame (built on first use)."""
        if self._frame is None:
            self._frame = pl.DataFrame(self.data, schema=self.schema, strict=False)
        return self._frame


def batch_frame(staged: list[Staged], extra: dict[str, tuple[list, pl.DataType]] | None = None) -> pl.DataFrame:
    """The rows of several files of one kind as one frame: the union of their columns (a column
    a file lacks is null there), plus ``extra`` columns given whole."""
    schema: dict[str, pl.DataType] = {}
    for st in staged:
        schema.update(st.schema)
    data: dict[str, list] = {}
    for name in schema:
        col: list = []
        for st in staged:
            vals = st.data.get(name)
            col.extend(vals if vals is not None else [None] * st.height)
        data[name] = col
    for name, (vals, dtype) in (extra or {}).items():
        data[name], schema[name] = vals, dtype
    return pl.DataFrame(data, schema=schema, strict=False)


def _parser(f: Field):
    t = f.type
    if t == "text":
        return _clean_text
    if t == "county":
        return _parse_county
    if t == "year":
        return P.parse_year
    if t == "int":
        return lambda v: P.parse_int(v, f.unit)
    if t in ("number", "money"):
        return lambda v: P.parse_number(v, f.unit)
    if t == "percent":
        return P.parse_percent
    if t == "date":
        return P.parse_date
    if t == "month":
        return P.parse_month
    if t == "bool":
        return P.parse_bool
    if t == "categories":
        return P.parse_categories
    raise ValueError(f"unknown field type {t}")


def _clean_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        v = v.date()
    text = _cell_text(v).strip()
    return text or None


def _parse_county(v: object) -> str | None:
    if P.is_missing(v):
        return None
    code = resolve_county(str(v))
    if code is None:
        raise P.ParseError(f"「{str(v).strip()}」不是巴州的县市(见县市名单)")
    return code


def _cell_text(v: object) -> str:
    """A cell as written, for messages and the raw layer."""
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def _shown_text(f: Field, cell: object) -> str:
    """A cell as a message shows it: an Excel day number in a date column as its date."""
    if f.type in ("date", "month"):
        day = P.excel_serial_date(cell)
        if day is not None:
            return f"{day.isoformat()}(Excel 日期序号 {_cell_text(cell)})"
    return _cell_text(cell)


_INT32 = 2**31 - 1


def _storable(f: Field, v: object) -> bool:
    """Whether the staging column can hold ``v``: a count fits 32 bits, an amount is finite."""
    if f.type in ("int", "year"):
        return isinstance(v, int) and -_INT32 <= v <= _INT32
    if isinstance(v, float):
        return math.isfinite(v)
    return True


def _raw_json(cells: dict[str, str]) -> str:
    text = json.dumps(cells, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (an .xls can hold one): escaped, as JSON allows
        text = json.dumps(cells, ensure_ascii=True)
    return text


def stage(layout: SheetLayout, file_name: str, today: dt.date | None = None) -> Staged:
    """Parse every data row of the sheet; cell errors are kept, not raised. ``today`` is the
    date the ranges of headers.toml that end today are stated with."""
    today = today or dt.date.today()
    kind = layout.kind
    cols = layout.field_columns()
    kind_fields = {f.name: f for f in fields_for(kind)}
    headers = [(c.index, c.header or f"{c.letter}列") for c in layout.columns]
    # the cells as read, control characters and all (JSON escapes them)
    raw_rows = [
        (rn, "data", _raw_json({h: _cell_text(row[i]) if i < len(row) else "" for i, h in headers}))
        for rn, row in layout.data_rows
    ] + [
        (rn, "totals", _raw_json({h: _cell_text(row[i]) if i < len(row) else "" for i, h in headers}))
        for rn, row in layout.totals_rows
    ]
    cleaned: list[tuple[int, Column, int]] = []

    n = len(layout.data_rows)
    values: dict[str, list] = {}
    errors: dict[str, list] = {}
    raw_text: dict[str, list] = {}
    for name, col in cols.items():
        f = kind_fields.get(name)
        if f is None:  # a field of another kind (e.g. 物业管理 in a plan): kept in raw only
            continue
        parse = _parser(f)
        shown = (lambda c, f=f: _shown_text(f, c)) if f.type in ("date", "month") else _cell_text
        bounded = f.type in ("int", "year", "number", "money", "percent")
        factor = col.match.factor
        vals, errs, texts = [], [], []
        last = None
        numeric_cells = 0
        for rn, row in layout.data_rows:
            cell = row[col.index] if col.index < len(row) else None
            if isinstance(cell, str):
                cell, removed = clean_text(cell)
                if removed:
                    cleaned.append((rn, col, removed))
            if f.fill_down and (cell is None or (isinstance(cell, str) and not cell.strip())):
                cell = last
            last = cell
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                numeric_cells += 1
            texts.append(shown(cell))
            try:
                v = parse(cell)
                if v is not None and factor != 1.0 and f.type in ("number", "money", "int"):
                    v = v * factor
                    if f.type == "int" and math.isfinite(v):
                        v = int(round(v))
                if bounded and v is not None and not _storable(f, v):
                    raise P.ParseError(range_text(f, today))
                vals.append(v)
                errs.append(None)
            except P.ParseError as e:
                vals.append(None)
                errs.append(str(e))
        if f.type == "percent":
            vals = _rescale_fractions(vals, layout, col, numeric_cells)
        values[name], errors[name], raw_text[name] = vals, errs, texts

    if cleaned:
        rn, col, _ = min(cleaned, key=lambda c: (c[0], c[1].index))
        layout.notes.append(
            f"{len(cleaned)} 个单元格含有不可见的控制字符(如空字符 NUL),共 {sum(c[2] for c in cleaned)} 个,已删除后读取;"
            f"第一个在第 {rn} 行 {col.letter} 列「{col.header}」"
        )
    staged = Staged(layout=layout, data={}, schema={}, raw_rows=raw_rows, columns=cols)
    # the county column holds the code; keep the name as written beside it. An empty county
    # cell (with nothing above to fill it) takes the county of the 填报单位 line.
    if "county" in values and layout.title_county:
        values["county"] = [layout.title_county if v is None and e is None else v
                            for v, e in zip(values["county"], errors["county"])]
    if "county" in values:
        values["county_code"] = values.pop("county")
        values["county_raw"] = raw_text["county"]
        errors["county_code"] = errors.pop("county")
        raw_text["county_code"] = raw_text.pop("county")

    # every column is finished as a Python list; frames are built per batch, not per file
    data: dict[str, list] = {"row_number": [rn for rn, _ in layout.data_rows]}
    schema: dict[str, pl.DataType] = {"row_number": pl.Int32}
    for name, dtype in STAGING_COLUMNS[kind].items():
        vals = values.get(name) or [None] * n
        if dtype == pl.Int32:
            vals = [None if v is None else int(v) for v in vals]
        data[name], schema[name] = vals, dtype
    if all(v is None for v in data["fill_date"]):
        data["fill_date"] = [layout.fill_date] * n
    if kind == "monthly":
        data["report_month"] = [layout.report_month if v is None else v for v in data["report_month"]]
    for name, f in kind_fields.items():
        if kind in f.default_zero and name in data:
            data[name] = [0.0 if v is None else v for v in data[name]]
    if kind == "plan":
        data["notice_days_given"] = list(data["notice_days"])
        data["notice_days"] = [
            given if given is not None
            else P.working_days(a, b) if a is not None and b is not None else None
            for given, a, b in zip(data["notice_days_given"], data["notice_start_date"], data["notice_end_date"])
        ]
    for name, errs in errors.items():
        data[f"{name}__error"], schema[f"{name}__error"] = errs, pl.String
        data[f"{name}__text"], schema[f"{name}__text"] = raw_text[name], pl.String
    staged.data, staged.schema = data, schema
    fills = [d for d in data["fill_date"] if d is not None]
    staged.fill_date = max(fills) if fills else layout.fill_date
    if kind == "monthly":
        staged.report_month = _mode(data["report_month"]) or layout.report_month
    staged.county_code = _mode(data["county_code"])
    staged.findings = _totals_findings(layout, cols, kind_fields, data, file_name)
    return staged


def _mode(values: list):
    """The most common non-null value (the smallest of equals), or None."""
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    top = max(counts.values())
    return min(v for v, c in counts.items() if c == top)


def _rescale_fractions(vals: list, layout: SheetLayout, col: Column, numeric_cells: int) -> list:
    """A column of Excel percentage cells arrives as fractions (0.85): bring it to 0–100."""
    present = [v for v in vals if v is not None]
    if present and numeric_cells == len(present) and all(0 <= v <= 1 for v in present) and any(
        0 < v < 1 for v in present
    ):
        layout.notes.append(f"{col.letter} 列「{col.header}」为小数形式的百分比,已乘以 100")
        return [None if v is None else v * 100 for v in vals]
    return vals


def _totals_findings(layout, cols, kind_fields, data: dict[str, list], file_name: str) -> list[dict]:
    """TOTALS_MISMATCH: a 合计 row that differs from the data rows' sum by more than 0.5%."""
    if not layout.totals_rows:
        return []
    grand = [(rn, r) for rn, r in layout.totals_rows if not _is_subtotal(r)]
    rows = grand or (layout.totals_rows if len(layout.totals_rows) == 1 else [])
    tol = constants.value("TOTALS_MISMATCH.tolerance")  # the rule's own tolerance (thresholds.toml)
    out = []
    for rn, row in rows[-1:]:
        for name, col in cols.items():
            f = kind_fields.get(name)
            if f is None or not f.additive or name not in data:
                continue
            cell = row[col.index] if col.index < len(row) else None
            try:
                total = P.parse_number(cell, f.unit)
            except P.ParseError:
                continue
            if total is None:
                continue
            total *= col.match.factor
            data_sum = math.fsum(v for v in data[name] if v is not None)
            diff = total - data_sum
            if abs(diff) > tol * abs(data_sum) and abs(diff) > 1e-9:
                pct = diff / data_sum * 100 if data_sum else float("inf")
                out.append({
                    "code": "TOTALS_MISMATCH", "row_number": rn, "field": name, "column_name": col.header,
                    "value": _cell_text(cell),
                    "message": (
                        f"文件「{file_name}」,工作表「{layout.sheet_name}」,第 {rn} 行(合计行),{col.letter} 列"
                        f"「{col.header}」:合计 {total:,.2f} 与明细行之和 {data_sum:,.2f} 相差 {diff:+,.2f}"
                        f"({pct:+.1f}%),超过 {tol * 100:.1f}%"
                    ),
                    "details": {"column": col.header, "field": name, "totals_value": total,
                                "data_sum": data_sum, "difference": diff, "tolerance": tol},
                })
    return out


def _is_subtotal(row: list[object]) -> bool:
    """小计 in the row's first cells (its first cell, or the name column beside a county)."""
    return any(P.normalise_text(_cell_text(c)).replace(" ", "").startswith("小计") for c in row[:6])
