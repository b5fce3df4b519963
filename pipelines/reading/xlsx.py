""".xlsx: every member of the zip inflated once and checked, the cell references of every sheet
scanned; python-calamine reads a workbook whose sheets each span a small area, a streaming parse
(one row in memory) any other. See :mod:`pipelines.reading.sheets`."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from operator import itemgetter

from pipelines.reading.cells import BROKEN, PASSWORD, ReadError, Row, Sheet, is_blank, limits, trimmed

__all__ = ["xlsx_sheets", "scan_zip", "streamed_sheets"]


# a cell element, its reference when it has one, and whether it closes itself (then it is empty)
_CELL = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])(?:(?=[^>]*?\sr="([A-Za-z]{1,3})([0-9]{1,7})")|)[^>]*?(/?)>'
)
# the same, fast, for the usual form: the reference first, no namespace prefix
_SIMPLE_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_ANY_CELL = re.compile(rb'<c[\s/>]')
_UNIQUE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?sst\b[^>]*?\suniqueCount="([0-9]+)"')


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n - 1


class _Extent:
    """What calamine would allocate for one zip member, scanned chunk by chunk: the rectangle
    its referenced non-empty cells span (cells are read from ``sheetData`` on), whether a cell
    has no reference, how many rows it has, and the string count an ``sst`` root announces."""

    def __init__(self) -> None:
        self.rows = (1 << 30, -1)
        self.cols = (1 << 30, -1)
        self.unreferenced = False
        self.row_elements = 0
        self.unique_strings = 0
        self.in_sheet = False

    def scan(self, chunk: bytes) -> None:
        if b"sst" in chunk:
            m = _UNIQUE.search(chunk)
            if m:
                self.unique_strings = max(self.unique_strings, int(m.group(1)))
        if not self.in_sheet:
            if b"sheetData" not in chunk:
                return
            self.in_sheet = True
        self.row_elements += chunk.count(b"<row")  # (<rowBreaks> too: a bound, not a count)
        refs = None
        if b":c" not in chunk:  # no prefixed element: count the cells, and take the fast form when all have it
            simple = _SIMPLE_CELL.findall(chunk)
            if len(simple) == len(_ANY_CELL.findall(chunk)):
                refs = simple  # a self-closed (empty) cell counted too: a larger area, never smaller
        if refs is None:
            found = _CELL.findall(chunk)
            refs = [(c, r) for c, r, closed in found if not closed]
        if not refs:
            return
        cols = set(map(itemgetter(0), refs))
        if b"" in cols:
            self.unreferenced = True
            cols.discard(b"")
            refs = [(c, r) for c, r in refs if c]
        if cols:
            rows = list(map(int, map(itemgetter(1), refs)))
            numbers = [_col_number(c) for c in cols]
            self.cols = (min(self.cols[0], *numbers), max(self.cols[1], *numbers))
            self.rows = (min(self.rows[0], min(rows)), max(self.rows[1], max(rows)))

    def cells(self) -> int:
        if self.rows[1] < 0:
            return 0
        return (self.rows[1] - self.rows[0] + 1) * (self.cols[1] - self.cols[0] + 1)


def _inflate(data: bytes, info: zipfile.ZipInfo, chunk: int = 1 << 22) -> Iterator[bytes]:
    """The member's bytes, inflated here from its raw data: never more than it declares."""
    if info.flag_bits & 0x1:
        raise ReadError([PASSWORD])
    off = info.header_offset
    if data[off: off + 4] != b"PK\x03\x04":
        raise ReadError([BROKEN])
    n, m = struct.unpack("<HH", data[off + 26: off + 30])
    start = off + 30 + n + m
    raw = memoryview(data)[start: start + info.compress_size]
    if len(raw) != info.compress_size:
        raise ReadError([BROKEN])
    crc, total = 0, 0
    if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size <= chunk:  # most members: one call
        d = zlib.decompressobj(-15)
        try:
            out = d.decompress(bytes(raw), info.file_size + 1)
        except zlib.error:
            raise ReadError([BROKEN]) from None
        if len(out) > info.file_size or (not d.eof and d.unconsumed_tail):
            raise ReadError([f"文件中的「{info.filename}」解压后超过其声明的大小,疑似压缩炸弹,拒收"])
        if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
            raise ReadError([BROKEN])
        yield out
        return
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[i: i + chunk]) for i in range(0, len(raw), chunk))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        pieces = _deflated(raw, chunk)
    else:
        raise ReadError(["工作簿使用了不支持的压缩方式,请用 Excel 或 WPS 重新保存为 .xlsx"])
    for piece in pieces:
        total += len(piece)
        if total > info.file_size:
            raise ReadError([f"文件中的「{info.filename}」解压后超过其声明的大小,疑似压缩炸弹,拒收"])
        crc = zlib.crc32(piece, crc)
        yield piece
    if total != info.file_size or crc != info.CRC:
        raise ReadError([BROKEN])


def _deflated(raw: memoryview, chunk: int) -> Iterator[bytes]:
    d = zlib.decompressobj(-15)
    try:
        for pos in range(0, len(raw), chunk):
            data = bytes(raw[pos: pos + chunk])
            while data:
                out = d.decompress(data, chunk)  # at most a chunk at a time, whatever the ratio
                if out:
                    yield out
                if d.eof:
                    return
                data = d.unconsumed_tail
        out = d.flush()
    except zlib.error:
        raise ReadError([BROKEN]) from None
    if out:
        yield out


def scan_zip(data: bytes) -> bool:
    """Check every member; True when calamine may read the workbook (every sheet spans a small
    area, every cell has its reference, the string count is honest)."""
    lim = limits()
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ReadError(["文件已损坏,无法作为 Excel 工作簿打开"]) from None
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > lim["max_uncompressed_bytes"] or total / packed > lim["max_compression_ratio"]:
        raise ReadError([f"文件解压后过大({total / 2**20:.0f} MiB,压缩比 {total / packed:.0f}),疑似压缩炸弹,拒收"])
    names = {i.filename.lower() for i in infos}
    if "mimetype" in names or "content.xml" in names:
        raise ReadError(["这是 OpenDocument 表格(.ods),不是 Excel 工作簿;请另存为 .xlsx 后提交"])
    if any(n.endswith(".bin") and "workbook" in n for n in names):
        raise ReadError(["这是 Excel 二进制工作簿(.xlsb);请另存为 .xlsx 后提交"])
    if not any(n.endswith("workbook.xml") for n in names):
        raise ReadError([BROKEN])
    fast = True
    for info in infos:
        ext = _Extent()
        tail = b""
        for piece in _inflate(data, info):
            # scanned up to the last complete tag; an unfinished tag is carried to the next piece,
            # text after the last tag is not (it holds no tag)
            buf = tail + piece
            cut = buf.rfind(b">") + 1
            lt = buf.find(b"<", cut)
            buf, tail = buf[:cut], (buf[lt:] if lt >= 0 else b"")
            ext.scan(buf)
            if len(tail) > 1 << 20:  # one tag of a megabyte: not a worksheet we can trust
                fast, tail = False, b""
        ext.scan(tail)
        if ext.row_elements > lim["max_sheet_rows"]:
            raise ReadError([f"工作表的行数超过 Excel 的上限 {lim['max_sheet_rows']:,} 行,文件已损坏"])
        if (ext.unreferenced or ext.cells() > lim["max_dense_cells"]
                or ext.unique_strings > max(1024, info.file_size // 4)):
            fast = False
    return fast


def xlsx_sheets(data: bytes) -> list[Sheet]:
    if scan_zip(data):
        import python_calamine as pc

        try:
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except pc.PasswordError:
            raise ReadError([PASSWORD]) from None
        except Exception:  # noqa: BLE001 — calamine refuses some files the streaming reader reads
            return streamed_sheets(data)
        visible, work = str(pc.SheetVisibleEnum.Visible), str(pc.SheetTypeEnum.WorkSheet)
        return [Sheet(m.name, lambda name=m.name: _calamine_rows(wb, name)) for m in wb.sheets_metadata
                if str(m.visible) == visible and str(m.typ) == work]
    return streamed_sheets(data)


def _calamine_rows(wb, name: str) -> Iterator[Row]:
    sheet = wb.get_sheet_by_name(name)
    if sheet.start is None:  # an empty sheet
        return
    # the area its cells span is small (checked by _scan_zip): taken whole, as fast as it gets
    top, left = sheet.start
    pad = [""] * left
    for i, cells in enumerate(sheet.to_python(skip_empty_area=True)):
        end = len(cells)
        if cells.count("") == end:  # an empty row, at C speed (most rows of a sheet spanning far)
            continue
        texts = [c for c in cells if c.__class__ is str]
        if len(texts) == end and not "".join(texts).strip():  # spaces only
            continue
        while end and is_blank(cells[end - 1]):
            end -= 1
        if end:
            yield top + i + 1, pad + cells[:end] if left else cells[:end]


def streamed_sheets(data: bytes) -> list[Sheet]:
    """The workbook's structure and date styles from openpyxl (read-only); its string table and
    the rows of each sheet from streaming parses that keep one item in memory at a time."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    strings: list[str] = []
    loaded = []

    def rows(ws) -> Iterator[Row]:
        if not loaded:
            strings.extend(_shared_strings(wb._archive))
            loaded.append(True)
        return _xml_rows(wb, ws, strings)

    return [Sheet(ws.title, lambda ws=ws: rows(ws)) for ws in wb.worksheets
            if getattr(ws, "sheet_state", "visible") == "visible" and hasattr(ws, "_worksheet_path")]


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    from lxml import etree

    name = next((n for n in archive.namelist() if n.lower().endswith("sharedstrings.xml")), None)
    if name is None:
        return []
    out = []
    with archive.open(name) as src:
        for _, el in etree.iterparse(src, events=("end",), tag="{*}si", resolve_entities=False, no_network=True,
                                     load_dtd=False, huge_tree=False):
            out.append(_unescape("".join(x.text or "" for x in el.iter()
                                         if _local(x.tag) == "t" and _local(x.getparent().tag) != "rPh")))
            el.clear()
            while el.getprevious() is not None:
                del el.getparent()[0]
    return out


_INSIDE_ROW = {"row", "c", "v", "f", "is", "t", "r", "rPr", "rPh", "phoneticPr"}


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _xml_rows(wb, ws, strings: list[str]) -> Iterator[Row]:
    from lxml import etree

    try:
        yield from _xml_rows_of(wb, ws, strings, etree)
    except etree.XMLSyntaxError as e:
        if "too long" in str(e).lower() or "huge" in str(e).lower():
            raise ReadError([f"工作表「{ws.title}」中有单元格内容超过 10,000,000 个字符,远超 Excel 单元格的上限"
                             f" {limits()['max_cell_chars']:,} 个字符;文件不是由表格软件正常保存的,整份文件拒收"]) from None
        raise


def _xml_rows_of(wb, ws, strings: list[str], etree) -> Iterator[Row]:
    dates, durations, epoch = wb._date_formats, wb._timedelta_formats, wb.epoch
    with wb._archive.open(ws._worksheet_path) as src:
        parser = etree.iterparse(src, events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False, remove_comments=True, remove_pis=True)
        row_counter = 0
        for _, el in parser:
            name = _local(el.tag)
            parent = el.getparent()
            if name != "row" and parent is not None and _local(parent.tag) in _INSIDE_ROW:
                continue  # a cell or its value: read with its row
            if name == "row":
                r = el.get("r")
                row_counter = int(r) if r and r.isdigit() else row_counter + 1
                cells: dict[int, object] = {}
                col = -1
                for c in el:
                    if _local(c.tag) != "c":
                        continue
                    ref = c.get("r")
                    m = re.fullmatch(r"([A-Za-z]{1,3})([0-9]{1,7})", ref) if ref else None
                    col = _col_number(m.group(1).encode()) if m else col + 1
                    value = _xml_cell(c, strings, dates, durations, epoch)
                    if value is not None and value != "":
                        cells[col] = value
                if cells and any(not is_blank(v) for v in cells.values()):
                    row = [None] * (max(cells) + 1)
                    for k, v in cells.items():
                        row[k] = v
                    yield row_counter, trimmed(row)
            el.clear()
            if parent is not None:  # what is done with is dropped, so memory holds one row
                while el.getprevious() is not None:
                    del parent[0]


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """OOXML writes characters XML cannot hold as ``_xHHHH_`` (and a literal ``_x`` as ``_x005F_x``)."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _xml_cell(c, strings, dates, durations, epoch) -> object:
    from openpyxl.utils.datetime import from_excel

    t = c.get("t", "n")
    if t == "inlineStr":
        return _unescape("".join(x.text or "" for x in c.iter()
                                 if _local(x.tag) == "t" and _local(x.getparent().tag) != "rPh"))
    v = next((x.text for x in c if _local(x.tag) == "v"), None)
    if v is None:
        return None
    if t == "s":
        return strings[int(v)]
    if t in ("str", "e"):
        return _unescape(v) if t == "str" else None
    if t == "b":
        return v.strip() in ("1", "true")
    if t == "d":
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(v.strip())
        return v
    number = float(v)
    style = int(c.get("s", "0") or 0)
    if style in dates and number == number:
        try:
            return from_excel(number, epoch, timedelta=style in durations)
        except (OverflowError, ValueError):
            return number  # beyond Excel's dates: the serial, as calamine gives it
    return number


