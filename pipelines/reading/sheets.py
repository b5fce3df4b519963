"""Opening a submitted file and reading the rows of its worksheets in bounded memory.

Whatever area a sheet declares or spans, only its non-blank cells cost memory, and nothing a
file declares is trusted before it is checked:

- ``.xlsx``: every member of the zip is inflated once here, its real size and checksum checked
  against the ones declared (a zip bomb that lies about its size stops here), and the cell
  references of every sheet are scanned. A workbook whose sheets each span a small area is read
  by python-calamine (native and fast); calamine allocates the whole rectangle its cells span
  and the string table its header announces, so any other workbook (one stray cell at
  XFD1048576, cells without references, an inflated string count) is read by a streaming
  parser that holds one row at a time.
- ``.xls``: xlrd, which keeps each row only as long as its last cell.
- ``.csv``: UTF-8 (with or without BOM) or GB18030, row by row.

Rows come out as ``(row number, cells from column A)``: blank rows left out, trailing blank
cells cut, empty and error cells as None, a date-time at midnight as a date.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

from pipelines.reading.cells import (BROKEN, PASSWORD, RESAVE, ReadError, Row, Sheet, col_letter, is_blank, limits,
                                     peak_rss_mib, trimmed)
from pipelines.reading.xlsx import xlsx_sheets

__all__ = ["ReadError", "Sheet", "open_sheets", "limits", "col_letter", "is_blank", "peak_rss_mib"]


# ---------------------------------------------------------------- file type


def _sniff(path: Path, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm", ".xls", ".et"):  # .et: WPS 表格's own format
        return "broken"
    return "unknown"


@contextlib.contextmanager
def open_sheets(path: Path) -> Iterator[list[Sheet]]:
    """The visible worksheets of the file, in workbook order; their rows are read on demand."""
    lim = limits()
    size = path.stat().st_size
    if size > lim["max_file_bytes"]:
        raise ReadError([f"文件过大({size / 2**20:.1f} MiB),上限为 {lim['max_file_bytes'] / 2**20:.0f} MiB"])
    if size == 0:
        raise ReadError(["文件是空的"])
    with path.open("rb") as f:
        head = f.read(8)
    kind = _sniff(path, head)
    if kind == "unknown":
        raise ReadError([f"不支持的文件类型「{path.suffix or '无扩展名'}」,请提交 .xlsx、.xls 或 .csv 文件"])
    if kind == "broken":
        raise ReadError([f"文件已损坏,无法作为 Excel 工作簿打开;{RESAVE}"])
    if kind == "csv":
        yield [Sheet(path.stem, lambda: _csv_rows(path.read_bytes()))]
        return
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl and xlrd warn about what they skip
        if kind == "ole":
            if _is_encrypted_ole(data):
                raise ReadError([PASSWORD])
            with _guard():
                sheets = _xls_sheets(data)
        else:
            with _guard():
                sheets = xlsx_sheets(data)
        yield [Sheet(s.name, lambda s=s: guarded_rows(s.rows())) for s in sheets]


@contextlib.contextmanager
def _guard():
    """Any failure of a reading library on a damaged file becomes a Chinese ReadError. A panic
    in native code arrives as a BaseException that is not an Exception."""
    try:
        yield
    except ReadError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:  # noqa: BLE001 — every library error of a damaged file is the same to the clerk
        raise ReadError([BROKEN]) from None


def guarded_rows(rows: Iterator[Row]) -> Iterator[Row]:
    """``rows`` with the library errors of a damaged file turned into a ReadError."""
    with _guard():
        yield from rows


def _is_encrypted_ole(data: bytes) -> bool:
    head = data[: 1 << 16]
    return "EncryptedPackage".encode("utf-16-le") in head or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in head


# ---------------------------------------------------------------- .xls


def _xls_sheets(data: bytes) -> list[Sheet]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, ragged_rows=True, logfile=io.StringIO())
    except xlrd.XLRDError as e:
        if "encrypt" in str(e).lower():
            raise ReadError([PASSWORD]) from None
        raise ReadError([BROKEN]) from None
    visibility = getattr(book, "_sheet_visibility", [0] * book.nsheets)
    return [Sheet(name, lambda i=i: _xls_rows(book, i)) for i, name in enumerate(book.sheet_names())
            if i < len(visibility) and visibility[i] == 0]


def _xls_rows(book, index: int) -> Iterator[Row]:
    import xlrd

    sh = book.sheet_by_index(index)
    for r in range(sh.nrows):
        types, values = sh.row_types(r), sh.row_values(r)
        cells: list = []
        for t, v in zip(types, values):
            if t == xlrd.XL_CELL_TEXT:
                cells.append(v)
            elif t == xlrd.XL_CELL_NUMBER:
                cells.append(float(v))
            elif t == xlrd.XL_CELL_DATE:
                try:
                    cells.append(xlrd.xldate.xldate_as_datetime(v, book.datemode) if v >= 1 else
                                 xlrd.xldate.xldate_as_datetime(v, book.datemode).time())
                except (xlrd.xldate.XLDateError, ValueError, OverflowError):
                    cells.append(float(v))
            elif t == xlrd.XL_CELL_BOOLEAN:
                cells.append(bool(v))
            else:  # empty, blank, error
                cells.append(None)
        if any(not is_blank(c) for c in cells):
            yield r + 1, trimmed(cells)


# ---------------------------------------------------------------- .csv


def _decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, the whole file in one of them; a file that mixes
    them, or holds bytes that are neither, is refused naming the first line in question."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    utf8_line = next((i for i, line in enumerate(lines) if _utf8_chinese(line)), None)
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if utf8_line is not None:
        other = next(i for i, line in enumerate(lines) if not _decodes(line, "utf-8"))
        raise ReadError([
            f"CSV 文件混用了两种编码:第 {utf8_line + 1} 行是 UTF-8,第 {other + 1} 行却不是 UTF-8(可能是 GB18030/GBK);"
            "请用同一种编码(UTF-8 或 GB18030)重新保存整个文件"
        ])
    if text is None:
        bad = next(i for i, line in enumerate(lines) if not _decodes(line, "gb18030"))
        raise ReadError([f"CSV 文件第 {bad + 1} 行含有无法识别的字节,既不是 UTF-8 也不是 GB18030 编码;请用 Excel 或 WPS 重新导出"])
    return text


_CJK = re.compile(r"[\u4e00-\u9fff]{2}")


def _utf8_chinese(line: bytes) -> bool:
    """A line written in UTF-8 (two Chinese characters in a row): GB18030 bytes that happen to
    be valid UTF-8 decode to other scripts."""
    try:
        return bool(_CJK.search(line.decode("utf-8")))
    except UnicodeDecodeError:
        return False


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _csv_rows(raw: bytes) -> Iterator[Row]:
    text = _decode_csv(raw)
    del raw
    # our own limit on a cell's length is checked with the sheet's rows; the csv module's must not stop first
    csv.field_size_limit(max(csv.field_size_limit(), limits()["max_file_bytes"]))
    reader = csv.reader(io.StringIO(text))
    try:
        for i, cells in enumerate(reader):
            if any(c.strip() for c in cells):
                yield i + 1, trimmed(cells)
    except csv.Error as e:
        raise ReadError([f"CSV 文件第 {reader.line_num} 行格式有误,无法读取({_csv_reason(e)})"]) from None


def _csv_reason(e: csv.Error) -> str:
    text = str(e)
    if "field larger" in text:
        return "单元格内容过长"
    if "NUL" in text:
        return "含有空字符"
    if "new-line" in text or "newline" in text:
        return "引号内的换行不完整"
    return "引号或分隔符不成对"
