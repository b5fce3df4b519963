"""A corpus of hostile and careless files, built from a seed (nothing large is committed).

Each case is a file and what must become of it: loaded (with how many rows) or rejected,
and the words its Chinese messages must hold. ``build(dir)`` writes them all; the test that
ingests them is tests/test_hostile.py. Cases cover issue 9 (a sheet spanning to XFD1048576,
100,000 blank rows, control characters, numbers without bounds, Excel day numbers, mixed
encodings, 10 MB cells) and the bad input of input-formats.md.
"""

from __future__ import annotations

import csv
import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter
import xlwt

import workbooks as W

LEDGER = W.LEDGER_HEADER
ROWS = [list(r) for r in W.LEDGER_ROWS[:5]]


@dataclass
class Case:
    name: str
    status: str                       # accepted | rejected
    rows: int | None = None           # rows loaded, when accepted
    rejected_rows: int | None = None
    words: tuple[str, ...] = ()       # each must appear in the messages
    big: bool = False                 # worth measuring its memory in a process of its own
    path: Path = field(default=Path())


# ---------------------------------------------------------------- hand-made .xlsx parts

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
       '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         '</Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
       '<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '</Relationships>')
# style 0: general; style 1: a date (numFmt 14)
_STYLES = ('<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
           '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>')


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Num(str):
    """A cell value written into <v> as it is (INF, NaN, 1e999 …)."""


def xml_cell(col: int, row: int, value, ref: bool = True, style: int | None = None) -> str:
    r = f' r="{W_col(col)}{row}"' if ref else ""
    s = f' s="{style}"' if style is not None else ""
    if isinstance(value, Num):
        return f"<c{r}{s}><v>{value}</v></c>"
    if value is None:
        return f"<c{r}{s}/>"
    if isinstance(value, str):
        return f'<c{r}{s} t="inlineStr"><is><t xml:space="preserve">{_esc(value)}</t></is></c>'
    return f"<c{r}{s}><v>{value}</v></c>"


def W_col(index: int) -> str:
    out, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def sheet_xml(rows: list[tuple[int, list]], dimension: str = "A1", ref: bool = True, styles: dict | None = None,
              extra_cells: str = "") -> str:
    body = []
    for rn, cells in rows:
        cs = "".join(xml_cell(i, rn, v, ref, (styles or {}).get(i)) for i, v in enumerate(cells) if v is not None or styles)
        body.append(f'<row{f" r={chr(34)}{rn}{chr(34)}" if ref else ""}>{cs}</row>')
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData>{"".join(body)}{extra_cells}</sheetData></worksheet>')


def write_parts(path: Path, sheet: str, sst: str | None = None, name: str = "台账") -> Path:
    sst = sst or ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                  'count="0" uniqueCount="0"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB.format(name=name))
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        z.writestr("xl/sharedStrings.xml", sst)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def ledger_rows(first: int = 1) -> list[tuple[int, list]]:
    return [(first, list(LEDGER))] + [(first + 1 + i, list(r)) for i, r in enumerate(ROWS)]


# ---------------------------------------------------------------- builders


def _xlsx(path: Path, header, rows, **kw) -> Path:
    return W.write_xlsx(path, header, rows, **kw)


def _csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def _lying_zip(path: Path) -> Path:
    """A valid workbook whose sheet member inflates to far more than its headers declare (the
    declared size and checksum are those of a short prefix)."""
    big = sheet_xml(ledger_rows()).replace(
        "</sheetData>", '<row r="9"><c r="A9"><v>1</v></c></row>' * 1_000_000 + "</sheetData>").encode()
    write_parts(path, sheet_xml(ledger_rows()))
    src = zipfile.ZipFile(path)
    members = [(i, src.read(i)) for i in src.infolist()]
    src.close()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            z.writestr(info, big if info.filename == "xl/worksheets/sheet1.xml" else data)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info, start_dir = z.getinfo("xl/worksheets/sheet1.xml"), z.start_dir
    lie = 2000
    crc = zlib.crc32(big[:lie])
    struct.pack_into("<III", raw, info.header_offset + 14, crc, info.compress_size, lie)
    pos = start_dir
    while raw[pos: pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack("<HHH", raw[pos + 28: pos + 34])
        if raw[pos + 46: pos + 46 + n] == info.filename.encode():
            struct.pack_into("<III", raw, pos + 16, crc, info.compress_size, lie)
        pos += 46 + n + m + k
    path.write_bytes(bytes(raw))
    return path


def _encrypted(path: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = _xlsx(path.with_suffix(".plain.xlsx"), LEDGER, ROWS, sheet="台账")
    with plain.open("rb") as f, path.open("wb") as out:
        OOXMLFile(f).encrypt("1234", out)
    plain.unlink()
    return path


def build(dir: Path, seed: int = 9) -> list[Case]:
    """Write every case into ``dir``; the same seed gives the same files."""
    rng = random.Random(seed)
    dir.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(case: Case, maker) -> None:
        case.path = dir / case.name
        maker(case.path)
        cases.append(case)

    # ---- issue 9, defect 2: a sheet that declares or spans the whole grid; blank rows
    def stray(p):
        wb = xlsxwriter.Workbook(str(p))
        ws = wb.add_worksheet("台账")
        ws.write_row(0, 0, LEDGER)
        for i, r in enumerate(ROWS):
            ws.write_row(i + 1, 0, r)
        ws.write(1048575, 16383, "x")
        wb.close()
    add(Case("huge_stray_cell_XFD1048576.xlsx", "accepted", rows=5, big=True), stray)

    def formatted(p):
        wb = xlsxwriter.Workbook(str(p))
        ws = wb.add_worksheet("台账")
        ws.write_row(0, 0, LEDGER)
        for i, r in enumerate(ROWS):
            ws.write_row(i + 1, 0, r)
        ws.write_blank(1048575, 16383, None, wb.add_format({"bold": True}))
        ws.write_blank(0, 16383, None, wb.add_format({"bg_color": "yellow"}))
        wb.close()
    add(Case("huge_formatted_cells.xlsx", "accepted", rows=5), formatted)

    add(Case("huge_declared_dimension.xlsx", "accepted", rows=5),
        lambda p: write_parts(p, sheet_xml(ledger_rows(), dimension="A1:XFD1048576")))

    def blank_rows(p):
        wb = xlsxwriter.Workbook(str(p), {"constant_memory": True})
        ws = wb.add_worksheet("台账")
        ws.write_row(0, 0, LEDGER)
        for i, r in enumerate(ROWS):
            ws.write_row(i + 1, 0, r)
        for i in range(100_000):
            ws.write_row(6 + i, 0, [" ", "", "\u3000"])
        wb.close()
    add(Case("blank_rows_100000.xlsx", "accepted", rows=5, big=True), blank_rows)

    def gap(p):
        rows = ledger_rows() + [(300_000, ["轮台县", "", "", "远处小区", "", 1990, 2, 50, 3000, ""])]
        write_parts(p, sheet_xml(rows, dimension="A1:J300000"))
    add(Case("data_after_300000_blank_rows.xlsx", "accepted", rows=6), gap)

    add(Case("blank_rows_100000.csv", "accepted", rows=5, big=True),
        lambda p: p.write_bytes(_csv_bytes([LEDGER, *ROWS] + [[" ", "", "  "]] * 100_000)))
    add(Case("cells_without_references.xlsx", "accepted", rows=5),
        lambda p: write_parts(p, sheet_xml(ledger_rows(), ref=False)))
    add(Case("string_table_count_inflated.xlsx", "accepted", rows=5), lambda p: write_parts(
        p, sheet_xml(ledger_rows()),
        sst='<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'count="99999999999" uniqueCount="99999999999"/>'))
    add(Case("wide_row_1000000_columns.csv", "accepted", rows=5, big=True),
        lambda p: p.write_bytes(_csv_bytes([LEDGER, *ROWS]) + b"," * 1_000_000 + b"x\r\n"))

    def xls_far(p):
        wb = xlwt.Workbook(encoding="utf-8")
        ws = wb.add_sheet("台账")
        for c, h in enumerate(LEDGER):
            ws.write(0, c, h)
        for r, row in enumerate(ROWS):
            for c, v in enumerate(row):
                ws.write(r + 1, c, v)
        ws.write(65535, 255, "x")
        wb.save(str(p))
    add(Case("xls_stray_cell_IV65536.xls", "accepted", rows=5), xls_far)

    def many_rows(p):
        wb = xlsxwriter.Workbook(str(p), {"constant_memory": True})
        ws = wb.add_worksheet("台账")
        ws.write_row(0, 0, LEDGER)
        for i in range(100_000):
            ws.write_row(i + 1, 0, ["轮台县", "", "", f"小区{i}", "", 1990, 2, 50, 3000, ""])
        wb.close()
    add(Case("rows_100000.xlsx", "rejected", words=("超过上限 50,000 行",), big=True), many_rows)

    # ---- zip bombs
    def bomb(p):
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            buf = io.BytesIO()
            write_parts(buf, sheet_xml(ledger_rows()))
            src = zipfile.ZipFile(buf)
            for info in src.infolist():
                z.writestr(info, src.read(info))
            z.writestr("xl/media/padding.bin", b"\0" * 210_000_000)
    add(Case("zip_bomb.xlsx", "rejected", words=("疑似压缩炸弹",), big=True), bomb)
    add(Case("zip_bomb_lying_about_its_size.xlsx", "rejected", words=("解压后超过其声明的大小",), big=True), _lying_zip)

    # ---- defect 8: long cells, encodings, Excel day numbers
    add(Case("cell_10MB.csv", "rejected", words=("第 3 行 B 列", "超过 Excel 单元格的上限"), big=True),
        lambda p: p.write_bytes(_csv_bytes([LEDGER, ROWS[0], ["轮台县", "长" * 10_000_000, *ROWS[1][2:]]])))

    def long_xlsx(p):
        # xlsxwriter cuts a string at Excel's 32,767 characters: the sheet is written by hand
        text = "".join(rng.choices("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说",
                                   k=10_000_000))
        rows = ledger_rows()[:3]
        rows[2][1][4] = text  # 小区地址 (column E) of row 3
        write_parts(p, sheet_xml(rows))
    add(Case("cell_10MB.xlsx", "rejected", words=("第 3 行 E 列", "超过 Excel 单元格的上限"), big=True), long_xlsx)

    def mixed(p):
        head = _csv_bytes([LEDGER, ROWS[0], ROWS[1]], "utf-8")
        tail = _csv_bytes([ROWS[2], ROWS[3]], "gb18030")
        p.write_bytes(head + tail)
    add(Case("mixed_encoding.csv", "rejected", words=("混用了两种编码", "第 1 行是 UTF-8", "第 4 行却不是 UTF-8")), mixed)
    add(Case("bytes_of_no_encoding.csv", "rejected", words=("第 3 行含有无法识别的字节",)),
        lambda p: p.write_bytes(_csv_bytes([LEDGER, ROWS[0]], "gb18030") + b"\x81\x20\xff\xff,1\r\n"))

    def serial(p):
        rows = [list(r) for r in W.monthly_rows(7)]
        rows[0][11] = 2958465      # 完工日期 as the largest Excel day number, in a plain number cell
        rows[1][7] = 15000         # 开工日期 as the day number of 1941-01-25
        W.monthly(p.parent, 7, name=p.name, rows=rows)
    add(Case("excel_day_numbers.xlsx", "accepted", rows=1, rejected_rows=2,
             words=("第 4 行,L 列「完工日期」", "实际为「9999-12-31(Excel 日期序号 2958465)」",
                    "第 5 行,H 列「开工日期」", "1941-01-24(Excel 日期序号 15000)")), serial)

    def date_cell_max(p):
        wb = xlsxwriter.Workbook(str(p))
        ws = wb.add_worksheet("月报")
        fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws.write_row(0, 0, ["巴州城镇老旧小区改造项目进度月报(2021年7月)"])
        ws.write_row(1, 0, W.MONTHLY_HEADER)
        for i, r in enumerate(W.monthly_rows(7)):
            ws.write_row(2 + i, 0, r)
        ws.write_number(2, 11, 2958465, fmt)
        wb.close()
    add(Case("date_cell_9999_12_31.xlsx", "accepted", rows=2, rejected_rows=1,
             words=("第 3 行,L 列「完工日期」", "实际为「9999-12-31」")), date_cell_max)

    # ---- defect 6: control characters
    def nul(p):
        rows = [list(r) for r in ROWS]
        rows[0][3] = "团结\x00小区"
        rows[1][4] = "团结路\x0714号\x1b"
        rows[2][7] = "120\x00"
        _xlsx(p, LEDGER, rows, sheet="台账")
    add(Case("control_characters.xlsx", "accepted", rows=5, words=("控制字符", "第 2 行 D 列「小区名称」")), nul)
    add(Case("control_characters.csv", "accepted", rows=5, words=("控制字符",)),
        lambda p: p.write_bytes(_csv_bytes([LEDGER, ["轮台县", "", "", "N\x00UL小区", "\x01地址", 1990, 2, 50, 3000, ""],
                                            *ROWS[1:]])))

    # ---- defect 7: numbers without bounds
    def huge_numbers(p):
        rows = [list(r) for r in W.PLAN_ROWS]
        rows[0][9] = 1e308          # 计划总投资 (万元)
        rows[1][7] = 1e308          # 建筑面积 (平方米)
        rows[2][6] = 2**63          # 户数
        _xlsx(p, W.PLAN_HEADER, rows, sheet="计划")
    add(Case("numbers_1e308_and_2pow63.xlsx", "rejected", rejected_rows=3, words=(
        "J 列「计划总投资(万元)」:「计划总投资」应在 0–50000 万元之间,实际为「1e+308」",
        "H 列「建筑面积(平方米)」:「建筑面积」应大于 0 且不超过 3000000 平方米",
        "G 列「户数」:「户数」应在 1–20000 之间")), huge_numbers)

    def huge_numbers_csv(p):
        rows = [list(r) for r in W.PLAN_ROWS]
        rows[0][9] = "1e308"
        rows[1][7] = "1E+308"
        rows[2][6] = str(2**63)
        p.write_bytes(_csv_bytes([W.PLAN_HEADER, *rows]))
    add(Case("numbers_1e308_and_2pow63.csv", "rejected", rejected_rows=3, words=(
        "「计划总投资」应在 0–50000 万元之间,实际为「1e308」", "「户数」应在 1–20000 之间,实际为「9223372036854775808」")),
        huge_numbers_csv)

    def inf_nan(p):
        rows = ledger_rows()
        rows[1][1][7] = Num("INF")     # 户数 of row 2
        rows[2][1][8] = Num("NaN")     # 建筑面积 of row 3
        rows[3][1][8] = Num("1e999")   # 建筑面积 of row 4
        write_parts(p, sheet_xml(rows))
    add(Case("infinity_and_nan.xlsx", "accepted", rows=2, rejected_rows=3, words=("「户数」应在 1–20000 之间",)), inf_nan)

    # ---- input-formats.md, "Bad input"
    add(Case("wrong_type.pdf", "rejected", words=("不支持的文件类型",)), lambda p: p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\n"))
    add(Case("program_renamed.xlsx", "rejected", words=("文件已损坏",)),
        lambda p: p.write_bytes(b"MZ\x90\x00" + bytes(rng.randrange(256) for _ in range(4000))))
    add(Case("html_saved_as.xls", "rejected", words=("文件已损坏",)),
        lambda p: p.write_bytes("<html><table><tr><td>县市</td></tr></table></html>".encode()))
    add(Case("password_protected.xlsx", "rejected", words=("密码保护",)), _encrypted)

    def truncated(p):
        good = _xlsx(p.with_suffix(".full.xlsx"), LEDGER, ROWS, sheet="台账")
        p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        good.unlink()
    add(Case("truncated.xlsx", "rejected", words=("损坏",)), truncated)

    def flipped(p):
        good = _xlsx(p.with_suffix(".full.xlsx"), LEDGER, ROWS, sheet="台账")
        data = bytearray(good.read_bytes())
        for _ in range(40):
            data[rng.randrange(200, len(data) - 200)] ^= 0xFF
        p.write_bytes(bytes(data))
        good.unlink()
    add(Case("bytes_flipped.xlsx", "rejected", words=("损坏",)), flipped)

    def empty_sheet(p):
        wb = xlsxwriter.Workbook(str(p))
        wb.add_worksheet("台账")
        wb.close()
    add(Case("empty_sheet.xlsx", "rejected", words=("没有任何数据",)), empty_sheet)
    add(Case("empty_file.csv", "rejected", words=("文件是空的",)), lambda p: p.write_bytes(b""))
    add(Case("header_only.xlsx", "rejected", words=("下没有数据行",)), lambda p: _xlsx(p, LEDGER, [], sheet="台账"))
    add(Case("missing_required_columns.xlsx", "rejected", words=("缺少必填列", "「户数」", "「建筑面积」", "第 1 行")),
        lambda p: _xlsx(p, LEDGER[:7], [r[:7] for r in ROWS], sheet="台账"))
    add(Case("no_header_row.xlsx", "rejected", words=("找不到表头行",)),
        lambda p: _xlsx(p, ["甲", "乙", "丙"], [[1, 2, 3]] * 5, sheet="台账"))
    add(Case("header_below_row_10.xlsx", "rejected", words=("找不到表头行",)),
        lambda p: _xlsx(p, LEDGER, ROWS, title=[f"说明第 {i} 行" for i in range(1, 12)], sheet="台账"))
    add(Case("duplicate_headers.xlsx", "rejected", words=("表头重复", "「户数」")),
        lambda p: _xlsx(p, [*LEDGER, "居民户数"], [[*r, 1] for r in ROWS], sheet="台账"))

    def bad_values(p):
        rows = [list(r) for r in W.monthly_rows(7)]
        rows[0][4] = "二百六十"    # text in a number column
        rows[1][9] = -5            # negative
        rows[2][8] = 120           # over 100 %
        rows += [["轮台县", 2021, "", "未来小区", 90, 300, 0, "2031-01-01", 10, 10, 0, "", "", ""],
                 ["轮台县", 2021, "", "旧小区", 90, 300, 0, "1948-12-31", 10, 10, 0, "", "", ""],
                 ["轮台县", 2021, "", "好小区", 90, 300, 0, "2021-05-01", 50, 150, 20, "", "", ""]]
        W.monthly(p.parent, 7, name=p.name, rows=rows)
    add(Case("bad_values.xlsx", "accepted", rows=1, rejected_rows=5, words=(
        "第 4 行,E 列「户数」:应为数字,实际为「二百六十」", "第 5 行,J 列「累计完成投资(万元)」", "应在 0–50000 万元之间",
        "第 6 行,I 列「形象进度(%)」", "应在 0–100% 之间", "不能是未来的日期", "1949-01-01")), bad_values)

    def impossible_month(p):
        header = ["报告期", *W.MONTHLY_HEADER]
        rows = [["2021-13", *W.monthly_rows(7)[0]], ["2021-07", *W.monthly_rows(7)[1]]]
        _xlsx(p, header, rows, sheet="月报")
    add(Case("impossible_month.xlsx", "accepted", rows=1, rejected_rows=1, words=("月份不存在",)), impossible_month)

    def merged(p):
        wb = xlsxwriter.Workbook(str(p))
        ws = wb.add_worksheet("台账")
        ws.merge_range(0, 0, 0, 9, "轮台县城镇老旧小区摸底台账")
        ws.write_row(1, 0, LEDGER)
        ws.merge_range(2, 0, 6, 0, "轮台县")
        for i, r in enumerate(ROWS):
            ws.write_row(2 + i, 1, r[1:])
        wb.close()
    add(Case("merged_cells.xlsx", "accepted", rows=5), merged)
    add(Case("plain.xls", "accepted", rows=5), lambda p: W.write_xls(p, LEDGER, ROWS, sheet="台账"))

    def xls_named_xlsx(p):
        tmp = W.write_xls(p.with_suffix(".tmp.xls"), LEDGER, ROWS, sheet="台账")
        p.write_bytes(tmp.read_bytes())
        tmp.unlink()
    add(Case("xls_saved_as.xlsx", "accepted", rows=5), xls_named_xlsx)

    def xls_hidden(p):
        wb = xlwt.Workbook(encoding="utf-8")
        hidden = wb.add_sheet("旧数据")
        for c, h in enumerate(LEDGER):
            hidden.write(0, c, h)
        hidden.write(1, 3, "不该读")
        hidden.visibility = 1
        ws = wb.add_sheet("台账")
        for c, h in enumerate(LEDGER):
            ws.write(0, c, h)
        for r, row in enumerate(ROWS):
            for c, v in enumerate(row):
                ws.write(r + 1, c, v)
        ws.set_selected(True)
        wb.active_sheet = 1
        wb.save(str(p))
    add(Case("xls_hidden_sheet.xls", "accepted", rows=5), xls_hidden)
    add(Case("xls_truncated.xls", "rejected", words=("损坏",)),
        lambda p: p.write_bytes(W.write_xls(p.with_suffix(".t.xls"), LEDGER, ROWS).read_bytes()[:1500]))

    def ods(p):
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            z.writestr("content.xml", "<office:document-content/>")
    add(Case("opendocument.xlsx", "rejected", words=(".ods",)), ods)

    def xlsb(p):
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    add(Case("binary_workbook.xlsx", "rejected", words=(".xlsb",)), xlsb)

    def formula_no_cache(p):
        sheet = sheet_xml(ledger_rows()).replace('<c r="H2"><v>260</v></c>', '<c r="H2"><f>130*2</f></c>')
        write_parts(p, sheet)
    add(Case("formula_without_cached_value.xlsx", "accepted", rows=4, rejected_rows=1, words=("「户数」为必填项",)),
        formula_no_cache)

    def gb_csv(p):
        p.write_bytes(_csv_bytes([["轮台县台账"], LEDGER, *ROWS], "gb18030"))
    add(Case("gb18030.csv", "accepted", rows=5), gb_csv)

    def unknown_county(p):
        rows = [["轮台县", *r[1:]] for r in ROWS]
        rows[0][0] = "乌鲁木齐市"
        _xlsx(p, LEDGER, rows, sheet="台账")
    add(Case("unknown_county.xlsx", "accepted", rows=4, rejected_rows=1, words=("不是巴州的县市",)), unknown_county)

    def text_everywhere(p):
        rows = [["轮台县", "", "", f"小区{i}", "", "很早", "几栋", "许多", "大", "否"] for i in range(5)]
        _xlsx(p, LEDGER, rows, sheet="台账")
    add(Case("text_in_every_number_column.xlsx", "rejected", rejected_rows=5, words=("全部 5 行数据都未通过校验", "应为年份")),
        text_everywhere)
    return cases
