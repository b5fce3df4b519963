"""Reading a submitted file into its data sheet: sheet choice, header row, title, data rows.

The rows of each sheet come from :mod:`pipelines.reading.sheets` (bounded memory whatever the sheet
declares; blank rows never arrive). A sheet is read until its header row is found among its
first rows; the rows under the header are cut to the header's width, so that cells far to the
right cost nothing. Every problem that makes the file unusable is collected and reported together.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.reading.headers import KIND_NAMES, HeaderMatch, fields_for, header_key, match_header
from pipelines.reading.parsing import find_date, find_month, normalise_text
from pipelines.reading.sheets import ReadError, Sheet, col_letter, is_blank, limits, open_sheets

__all__ = ["Column", "SheetLayout", "ReadError", "read_file", "limits", "col_letter", "clean_text"]

_WS = re.compile(r"\s+")
FOOTER_WORDS = ("填表人", "审核人", "负责人", "单位负责人", "联系人", "联系电话", "制表", "注:")
TOTALS_WORDS = ("合计", "总计", "小计")
_FILL_DATE = re.compile(r"(填报日期|报送日期|填表日期|填报时间|报送时间)[:]?")
_UNIT_LINE = re.compile(r"(?:填报|报送)单位[:]?\s*(\S+)")
# characters that must not reach the warehouse's text: C0 and C1 controls but tab and line
# feed, and what XML 1.0 cannot hold (surrogates, U+FFFE, U+FFFF); a carriage return is a line break
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> tuple[str, int]:
    """``text`` without control and XML-illegal characters (a carriage return becomes a line
    break), and how many were removed."""
    if text.isprintable() and "\r" not in text:
        return text, 0
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned, n = _CONTROL.subn("", text)
    return cleaned, n


@dataclass
class Column:
    index: int              # 0-based column in the sheet
    header: str             # the header as written (after joining a two-row header)
    match: HeaderMatch | None

    @property
    def letter(self) -> str:
        return col_letter(self.index)


@dataclass
class SheetLayout:
    kind: str
    sheet_name: str
    header_row: int                                   # 1-based
    columns: list[Column]
    title_lines: list[str]
    data_rows: list[tuple[int, list[object]]]         # (1-based row, cells)
    totals_rows: list[tuple[int, list[object]]]
    fill_date: dt.date | None = None
    report_month: dt.date | None = None
    report_month_source: str | None = None            # column | title | file name
    title_county: str | None = None                   # county code of the 填报单位 line, when it names one
    notes: list[str] = field(default_factory=list)

    def field_columns(self) -> dict[str, Column]:
        return {c.match.field.name: c for c in self.columns if c.match is not None}


# ---------------------------------------------------------------- sheet layout


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    return str(cell)


def _row_texts(row: list[object]) -> list[str]:
    return [_WS.sub("", normalise_text(_text(c))) for c in row]


def _header_matches(row: list[object]) -> list[HeaderMatch | None]:
    return [match_header(c) if isinstance(c, str) and c.strip() else None for c in row]


def _find_header(rows: list[tuple[int, list]]) -> int | None:
    """The index in ``rows`` of the header row: among the sheet's first rows, the first with
    enough known headers."""
    lim = limits()
    for i, (rn, row) in enumerate(rows):
        if rn > lim["header_search_rows"]:
            break
        names = {m.field.name for m in _header_matches(row) if m is not None}
        if len(names) >= lim["min_known_headers"]:
            return i
    return None


def _first_text(row: list[object]) -> str:
    for c in row:
        t = _WS.sub("", normalise_text(_text(c)))
        if t:
            return t
    return ""


def _detect_kind(names: set[str], file_name: str, sheet_name: str) -> str:
    if "pct_progress" in names:
        return "monthly"
    if "plan_year" in names:
        return "plan"
    # neither 形象进度 nor 计划年度: a ledger by its headers, unless its name says otherwise
    hint = f"{file_name}{sheet_name}"
    for kind in ("monthly", "plan"):
        if KIND_NAMES[kind] in hint:
            return kind
    return "ledger"


def _shown(text: str) -> str:
    return clean_text(text)[0]


def _sheet_rows(sheet: Sheet) -> tuple[list[tuple[int, list]], bool]:
    """The rows of a sheet down to its last: the first rows whole, and, once a header row is
    found among them, every later row cut to the header's width. (rows, whether the sheet has
    any cell); no rows when it has no header row."""
    lim = limits()
    search = lim["header_search_rows"]
    rows: list[tuple[int, list]] = []
    it = sheet.rows()
    later = None
    for rn, cells in it:
        if rn > search + 1:  # the row under a header in the last searched row may be a second header row
            later = (rn, cells)
            break
        rows.append((rn, cells))
    h = _find_header(rows)
    if h is None:
        return [], bool(rows) or later is not None
    hrn = rows[h][0]
    width = max(len(c) for rn, c in rows[h:] if rn in (hrn, hrn + 1))
    rows = rows[:h] + [(rn, _cut(c, width)) for rn, c in rows[h:]]
    rows = [(rn, c) for rn, c in rows if c]
    cells_kept = sum(len(c) for _, c in rows)
    most = lim["max_data_rows"] + lim["header_search_rows"] + 100
    for rn, cells in ([later] if later else []):
        cells = _cut(cells, width)
        if cells:
            rows.append((rn, cells))
    for rn, cells in it:
        cells = _cut(cells, width)
        if not cells:
            continue
        rows.append((rn, cells))
        cells_kept += len(cells)
        if len(rows) > most:
            raise ReadError([f"工作表「{_shown(sheet.name)}」的数据超过上限 {lim['max_data_rows']:,} 行(空行不计)"])
        if cells_kept > lim["max_sheet_cells"]:
            raise ReadError([f"工作表「{_shown(sheet.name)}」的非空区域超过 {lim['max_sheet_cells']:,} 个单元格,过大,拒收"])
    _check_cell_lengths(sheet.name, rows)
    return rows, True


def _cut(cells: list, width: int) -> list:
    if len(cells) > width:
        cells = cells[:width]
        while cells and is_blank(cells[-1]):
            cells.pop()
    return cells


def _check_cell_lengths(name: str, rows: list[tuple[int, list]]) -> None:
    most = limits()["max_cell_chars"]
    for rn, cells in rows:
        for i, c in enumerate(cells):
            if isinstance(c, str) and len(c) > most:
                raise ReadError([
                    f"工作表「{_shown(name)}」第 {rn} 行 {col_letter(i)} 列:单元格有 {len(c):,} 个字符,超过 Excel 单元格的上限"
                    f" {most:,} 个字符;文件不是由表格软件正常保存的,整份文件拒收"
                ])


def _layout(name: str, rows: list[tuple[int, list]], file_name: str) -> SheetLayout | None:
    """Lay out a sheet given as its non-blank rows ``(row number, cells)``."""
    h = _find_header(rows)
    if h is None:
        return None
    hrn, header = rows[h]
    below_rn, below = rows[h + 1] if h + 1 < len(rows) else (None, [])
    width = max(len(header), len(below) if below_rn == hrn + 1 else 0)
    header = list(header) + [""] * (width - len(header))
    matches = _header_matches(header)
    header_rows = 1
    # a two-row header: 资金来源 merged over 中央补助资金 / 自治区补助资金 …
    if below_rn == hrn + 1:
        below = list(below) + [""] * (width - len(below))
        below_matches = _header_matches(below)
        extra = [i for i, m in enumerate(below_matches) if m is not None and matches[i] is None]
        numbers = sum(isinstance(c, (int, float)) and not isinstance(c, bool) for c in below)
        if len(extra) >= 2 and numbers == 0:
            for i in range(width):
                if below_matches[i] is not None or (matches[i] is None and _text(below[i]).strip()):
                    header[i], matches[i] = below[i], below_matches[i]
            header_rows = 2
    columns = [
        Column(i, _shown(_text(header[i]).strip()), matches[i])
        for i in range(width)
        if _text(header[i]).strip() or matches[i] is not None
    ]
    names = {c.match.field.name for c in columns if c.match is not None}
    kind = _detect_kind(names, file_name, name)
    title_lines = [_shown(" ".join(_text(c).strip() for c in row if _text(c).strip())) for _, row in rows[:h]]
    title_lines = [t for t in title_lines if t]
    known_idx = [c.index for c in columns if c.match is not None]
    name_idx = next((c.index for c in columns if c.match is not None and c.match.field.name == "name"), None)
    min_known = limits()["min_known_headers"]
    data_rows, totals_rows = [], []
    for rn, row in rows[h + header_rows:]:
        first = _first_text(row)
        if not first:
            continue
        # a template row with only its 序号 filled in is blank
        if not any(_text(row[j]).strip() for j in known_idx if j < len(row)):
            continue
        # the header repeated further down (pasted pages) is not data
        if len({m.field.name for m in _header_matches(row) if m is not None}) >= min_known:
            continue
        if first.startswith(FOOTER_WORDS) or first.startswith("注："):
            continue
        # a totals row: 合计 in its first cell, or in the name column when a merged county cell precedes it
        name_cell = _WS.sub("", normalise_text(_text(row[name_idx]))) if name_idx is not None and name_idx < len(row) else ""
        if first.startswith(TOTALS_WORDS) or name_cell.startswith(TOTALS_WORDS):
            totals_rows.append((rn, row))
            continue
        data_rows.append((rn, row))
    return SheetLayout(kind, _shown(name), hrn, columns, title_lines, data_rows, totals_rows)


def _title_fill_date(lines: list[str]) -> dt.date | None:
    for line in lines:
        text = normalise_text(line)
        m = _FILL_DATE.search(text)
        if m:
            d = find_date(text[m.end():])
            if d:
                return d
    return None


def _title_county(lines: list[str]) -> str | None:
    from pipelines.counties import resolve_county

    for line in lines:
        m = _UNIT_LINE.search(normalise_text(line))
        if m:
            return resolve_county(m.group(1))
    return None


def _title_month(lines: list[str]) -> dt.date | None:
    for line in lines:
        text = normalise_text(line)
        # the 填报日期 line (and 制表日期) names a day of the next month, not the report month
        text = re.split(r"(?:填报|报送|填表|制表)日期", text)[0]
        m = find_month(text)
        if m:
            return m
    return None


def read_file(path: Path) -> SheetLayout:
    """Read a file and lay out its data sheet, or raise :class:`ReadError`."""
    lay = None
    names: list[str] = []
    any_cells = False
    with open_sheets(path) as sheets:
        # the sheet named after its kind first, then the others in workbook order
        named = [s for s in sheets if header_key(s.name) in KIND_NAMES.values()]
        for sheet in named + [s for s in sheets if s not in named]:
            names.append(sheet.name)
            rows, has_cells = _sheet_rows(sheet)
            any_cells = any_cells or has_cells
            lay = _layout(sheet.name, rows, path.name) if rows else None
            if lay is not None:
                break
    if lay is None and not any_cells:
        raise ReadError(["文件中没有任何数据(工作表为空)"])
    if lay is None:
        sheets_text = "、".join(f"「{_shown(n)}」" for n in names)
        raise ReadError([
            f"在工作表 {sheets_text} 的前 {limits()['header_search_rows']} 行中找不到表头行"
            f"(表头行至少应含 {limits()['min_known_headers']} 个可识别的列名,如 县市、小区名称、户数、建筑面积)"
        ])
    problems = []
    # the same field twice: which column is meant cannot be decided
    seen: dict[str, Column] = {}
    for c in lay.columns:
        if c.match is None:
            continue
        other = seen.get(c.match.field.name)
        if other is not None:
            problems.append(
                f"工作表「{lay.sheet_name}」第 {lay.header_row} 行:{other.letter} 列「{other.header}」与 "
                f"{c.letter} 列「{c.header}」是同一列「{c.match.field.header}」,表头重复,无法确定取哪一列"
            )
        else:
            seen[c.match.field.name] = c
    missing = [f.header for f in fields_for(lay.kind) if lay.kind in f.required and f.name not in seen]
    if missing:
        problems.append(
            f"工作表「{lay.sheet_name}」第 {lay.header_row} 行(表头):缺少必填列 " + "、".join(f"「{m}」" for m in missing)
            + f"(按{KIND_NAMES[lay.kind]}识别)"
        )
    if len(lay.data_rows) > limits()["max_data_rows"]:
        problems.append(f"工作表「{lay.sheet_name}」有 {len(lay.data_rows)} 行数据,超过上限 {limits()['max_data_rows']} 行")
    if not lay.data_rows and not problems:
        problems.append(f"工作表「{lay.sheet_name}」表头(第 {lay.header_row} 行)下没有数据行")
    lay.fill_date = _title_fill_date(lay.title_lines)
    lay.title_county = _title_county(lay.title_lines)
    if lay.kind == "monthly":
        if "report_month" in seen:
            lay.report_month_source = "column"
        else:
            lay.report_month = _title_month(lay.title_lines)
            lay.report_month_source = "title"
            if lay.report_month is None:
                lay.report_month = find_month(path.stem, compact=True)
                lay.report_month_source = "file name"
            if lay.report_month is None:
                problems.append(
                    f"工作表「{lay.sheet_name}」:无法确定报告期——没有「报告期」列,标题行和文件名中也没有月份"
                    "(如 2021年5月、2021-05、202105)"
                )
    if problems:
        raise ReadError(problems, kind=lay.kind)
    return lay
