"""Reading a submitted file into its data sheet: sheet choice, header row, title, data rows.

A file is read whole into a grid of cells (python-calamine for .xlsx/.xls, the csv module for
.csv), then laid out: the header row, the title rows above it, the data, totals and footer rows
below. Every problem that makes the file unusable is collected and reported together.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import python_calamine as pc

from pipelines.reading.headers import KIND_NAMES, HeaderMatch, fields_for, header_key, match_header
from pipelines.reading.parsing import find_date, find_month, normalise_text
from pipelines.settings import config_path

__all__ = ["Column", "SheetLayout", "ReadError", "read_file", "limits", "col_letter"]

LIMITS_TOML = config_path("limits.toml")
_WS = re.compile(r"\s+")
FOOTER_WORDS = ("填表人", "审核人", "负责人", "单位负责人", "联系人", "联系电话", "制表", "注:")
TOTALS_WORDS = ("合计", "总计", "小计")
_FILL_DATE = re.compile(r"(填报日期|报送日期|填表日期|填报时间|报送时间)[:]?")
_UNIT_LINE = re.compile(r"(?:填报|报送)单位[:]?\s*(\S+)")


@cache
def limits() -> dict:
    return tomllib.loads(LIMITS_TOML.read_text(encoding="utf-8"))


class ReadError(Exception):
    """The file cannot be used; ``messages`` are Chinese and name sheet, row and column."""

    def __init__(self, messages: list[str], kind: str | None = None):
        super().__init__("; ".join(messages))
        self.messages = messages
        self.kind = kind


def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


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


# ---------------------------------------------------------------- file level


def _sniff(path: Path, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "broken"
    return "unknown"


def _check_zip(path: Path) -> None:
    lim = limits()
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        raise ReadError(["文件已损坏,无法作为 Excel 工作簿打开"]) from None
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > lim["max_uncompressed_bytes"] or total / packed > lim["max_compression_ratio"]:
        raise ReadError([f"文件解压后过大({total / 2**20:.0f} MiB,压缩比 {total / packed:.0f}),疑似压缩炸弹,拒收"])


def _is_encrypted_ole(path: Path) -> bool:
    with path.open("rb") as f:
        data = f.read(1 << 16)
    return "EncryptedPackage".encode("utf-16-le") in data or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in data


def _decode_csv(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise ReadError(["CSV 文件编码无法识别(应为 UTF-8 或 GB18030)"]) from None


def _grids(path: Path) -> list[tuple[str, list[list[object]]]]:
    """The visible worksheets of the file as (name, grid from A1)."""
    lim = limits()
    size = path.stat().st_size
    if size > lim["max_file_bytes"]:
        raise ReadError([f"文件过大({size / 2**20:.1f} MiB),上限为 {lim['max_file_bytes'] / 2**20:.0f} MiB"])
    if size == 0:
        raise ReadError(["文件是空的"])
    with path.open("rb") as f:
        head = f.read(8)
    kind = _sniff(path, head)
    if kind == "csv":
        text = _decode_csv(path.read_bytes())
        rows = list(csv.reader(io.StringIO(text)))
        return [(path.stem, rows)]
    if kind == "unknown":
        raise ReadError([f"不支持的文件类型「{path.suffix or '无扩展名'}」,请提交 .xlsx、.xls 或 .csv 文件"])
    if kind == "broken":
        raise ReadError(["文件已损坏,无法作为 Excel 工作簿打开"])
    if kind == "xlsx":
        _check_zip(path)
    elif _is_encrypted_ole(path):
        raise ReadError(["工作簿设有密码保护,无法读取;请去掉密码后重新提交"])
    try:
        # by content, not by name: an .xls saved as .xlsx (or the reverse) is common
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
        out = []
        for meta in wb.sheets_metadata:
            if str(meta.visible) != str(pc.SheetVisibleEnum.Visible) or str(meta.typ) != str(pc.SheetTypeEnum.WorkSheet):
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            if sheet.height > lim["max_data_rows"] + 100:
                raise ReadError([f"工作表「{meta.name}」有 {sheet.height} 行,超过上限 {lim['max_data_rows']} 行"])
            out.append((meta.name, sheet.to_python(skip_empty_area=False)))
        wb.close()
        return out
    except ReadError:
        raise
    except pc.PasswordError:
        raise ReadError(["工作簿设有密码保护,无法读取;请去掉密码后重新提交"]) from None
    except Exception:  # calamine raises several error types for damaged files
        raise ReadError(["文件已损坏或不是有效的 Excel 工作簿,无法读取"]) from None


# ---------------------------------------------------------------- sheet layout


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell == int(cell):
        return str(int(cell))
    return str(cell)


def _row_texts(row: list[object]) -> list[str]:
    return [_WS.sub("", normalise_text(_text(c))) for c in row]


def _header_matches(row: list[object]) -> list[HeaderMatch | None]:
    return [match_header(c) if isinstance(c, str) and c.strip() else None for c in row]


def _find_header(grid: list[list[object]]) -> int | None:
    lim = limits()
    for i, row in enumerate(grid[: lim["header_search_rows"]]):
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


def _layout(name: str, grid: list[list[object]], file_name: str) -> SheetLayout | None:
    h = _find_header(grid)
    if h is None:
        return None
    width = max(len(r) for r in grid)
    header = list(grid[h]) + [""] * (width - len(grid[h]))
    matches = _header_matches(header)
    header_rows = 1
    # a two-row header: 资金来源 merged over 中央补助资金 / 自治区补助资金 …
    if h + 1 < len(grid):
        below = list(grid[h + 1]) + [""] * (width - len(grid[h + 1]))
        below_matches = _header_matches(below)
        extra = [i for i, m in enumerate(below_matches) if m is not None and matches[i] is None]
        numbers = sum(isinstance(c, (int, float)) and not isinstance(c, bool) for c in below)
        if len(extra) >= 2 and numbers == 0:
            for i in range(width):
                if below_matches[i] is not None or (matches[i] is None and _text(below[i]).strip()):
                    header[i], matches[i] = below[i], below_matches[i]
            header_rows = 2
    columns = [
        Column(i, _text(header[i]).strip(), matches[i])
        for i in range(width)
        if _text(header[i]).strip() or matches[i] is not None
    ]
    names = {c.match.field.name for c in columns if c.match is not None}
    kind = _detect_kind(names, file_name, name)
    title_lines = [" ".join(_text(c).strip() for c in row if _text(c).strip()) for row in grid[:h]]
    title_lines = [t for t in title_lines if t]
    known_idx = [c.index for c in columns if c.match is not None]
    name_idx = next((c.index for c in columns if c.match is not None and c.match.field.name == "name"), None)
    min_known = limits()["min_known_headers"]
    data_rows, totals_rows = [], []
    for i in range(h + header_rows, len(grid)):
        row = grid[i]
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
            totals_rows.append((i + 1, row))
            continue
        data_rows.append((i + 1, row))
    return SheetLayout(kind, name, h + 1, columns, title_lines, data_rows, totals_rows)


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
    grids = _grids(path)
    if not grids or all(not any(_first_text(r) for r in g) for _, g in grids):
        raise ReadError(["文件中没有任何数据(工作表为空)"])
    layouts: list[SheetLayout] = []
    named = [g for g in grids if header_key(g[0]) in KIND_NAMES.values()]
    for name, grid in named + [g for g in grids if g not in named]:
        lay = _layout(name, grid, path.name)
        if lay is not None:
            layouts.append(lay)
            break
    if not layouts:
        sheets = "、".join(f"「{n}」" for n, _ in grids)
        raise ReadError([
            f"在工作表 {sheets} 的前 {limits()['header_search_rows']} 行中找不到表头行"
            f"(表头行至少应含 {limits()['min_known_headers']} 个可识别的列名,如 县市、小区名称、户数、建筑面积)"
        ])
    lay = layouts[0]
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
