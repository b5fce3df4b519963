"""Empty workbook templates for the counties (台账, 计划, 月报), written with xlsxwriter.

Each template has the data sheet named after its kind, with title rows the reader understands
(填报单位, for the monthly report 报告期, and 填报日期, filled in after the colon) and one
header row of the canonical headers of ``pipelines/config/headers.toml`` (read through
``pipelines.reading.headers``, with the unit in brackets where the field has one), and a sheet
填表说明 that explains every column: required or not, format, unit, accepted range, other
accepted names. The reader ignores the 填表说明 sheet (input-formats.md, Common rules).
"""

from __future__ import annotations

import io

from pipelines.counties import load_counties
from pipelines.reading.headers import KIND_NAMES, KINDS, Field, fields_for
from pipelines.reading.parsing import CATEGORIES
from pipelines.scoring.scheme import load_scheme

__all__ = ["template_bytes", "template_getter", "template_file_name", "template_header", "TITLE_ROWS", "KIND_TITLES",
           "XLSX_MIME"]

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KIND_TITLES = {"ledger": "巴州城镇老旧小区改造摸底台账", "plan": "巴州城镇老旧小区改造年度计划",
               "monthly": "巴州城镇老旧小区改造项目进度月报"}
# the title rows under the title, filled in after the colon; the monthly report's month is its 报告期
TITLE_ROWS = {"ledger": ("填报单位:", "填报日期:"), "plan": ("填报单位:", "填报日期:"),
              "monthly": ("填报单位:", "报告期:", "填报日期:")}
# given in the title rows, not as columns
_IN_TITLE = {"report_month", "fill_date"}
_EMPTY_ROWS = 500   # rows prepared with drop-down lists
_ROW_OF = {"ledger": "一个老旧小区", "plan": "一个列入年度计划的小区", "monthly": "一个计划项目(数据累计至报告期月底)"}


def _unit(f: Field) -> str | None:
    if f.unit:
        return f.unit
    return "%" if f.type == "percent" else None


def template_header(kind: str) -> list[str]:
    """The header row of the template of ``kind``: canonical headers, with the unit in brackets."""
    return [f.header + (f"({_unit(f)})" if _unit(f) else "") for f in fields_for(kind) if f.name not in _IN_TITLE]


def template_getter(kind: str):
    """A function of no arguments that writes the template (a download button calls it when clicked)."""
    return lambda: template_bytes(kind)


def template_file_name(kind: str) -> str:
    return f"巴州老旧小区改造_{KIND_NAMES[kind]}_模板.xlsx"


def _range(f: Field) -> str:
    if f.type in ("date", "month", "percent"):  # dates: see past_only; percentages: 0–100 in the format
        return ""
    lo = f"大于 {f.min_exclusive:g}" if f.min_exclusive is not None else (f"不小于 {f.min:g}" if f.min is not None else "")
    hi = f"不大于 {f.max:g}" if isinstance(f.max, (int, float)) else ""
    return "、".join(x for x in (lo, hi) if x)


def _format(f: Field) -> str:
    """How a value of the field is written, in Chinese."""
    text = {
        "county": "县市规范名称(见下方县市名单),也可写常用简称",
        "text": "文字",
        "year": "四位年份,如 1995",
        "int": "整数",
        "number": "数字",
        "money": "数字(不带单位),如 780 或 780.5",
        "percent": "0–100 的数字,如 85 或 85%",
        "date": "日期,如 2025-03-01、2025/3/1 或 2025年3月1日",
        "month": "月份,如 2025-03 或 2025年3月",
        "bool": "是 或 否",
        "categories": f"{'、'.join(CATEGORIES)} 中的一个或多个,用顿号分隔,如 基础类、完善类",
    }[f.type]
    if f.type == "year" and f.min is not None and f.max in (None, "current"):  # headers.toml: "current" is this year
        text += f"({f.min:g} 年至今)"
    rng = _range(f)
    if rng and f.type not in ("year",):
        text += f",{rng}"
    elif rng and isinstance(f.max, (int, float)):
        text += f"({f.min:g}–{f.max:g})"
    if f.past_only:
        text += ",不能晚于填报日期"
    return text


def _note(f: Field, kind: str) -> str:
    parts = []
    if kind in f.default_zero:
        parts.append("不填按 0 计")
    if f.fill_down:
        parts.append("与上一行相同时可留空(合并单元格亦可)")
    if f.aliases:
        parts.append("也可用列名:" + "、".join(f.aliases[:4]))
    return ";".join(parts)


def _general(kind: str) -> list[str]:
    scheme = load_scheme()
    due = scheme.report_due_day
    sheet = KIND_NAMES[kind]
    lines = [
        f"1. 数据填写在「{sheet}」工作表。第 {len(TITLE_ROWS[kind]) + 2} 行为表头,请勿修改表头文字;"
        "列的顺序可以调整,不需要的选填列可以删除。每个文件只填一个县市。",
        f"2. 每行填写{_ROW_OF[kind]};从表头下一行起连续填写,不要留空行。",
        "3. 标题行在冒号后填写:「填报单位:」写本单位名称(如 轮台县住房和城乡建设局);"
        + ("「报告期:」写本月报所属的月份(如 报告期:2025年3月);" if kind == "monthly" else "")
        + "「填报日期:」写实际报送的日期(如 填报日期:2025年4月3日)。",
        "4. 单位:金额为万元,建筑面积为平方米(表头写明「万平方米」或「元」时按表头单位换算);"
        "百分比填 0–100 的数字;日期写 2025-03-01 或 2025年3月1日;是/否 列填「是」或「否」。",
        "5. 橙色表头为必填列:缺少必填列的文件整份拒收;某行必填项为空或数值无法识别时,该行被拒收,"
        "系统会指出文件、工作表、行号和列名,其余各行照常入库。",
        "6. 可在数据最后一行写「合计」行,系统会核对合计与明细之和;表尾可写 填表人、审核人、联系电话。",
    ]
    if kind == "monthly":
        lines.append(f"7. 月报于次月 {due} 日前报送(以填报日期为准);数据为截至报告期月底的累计数。"
                     "同一月份重报时,以填报日期较晚的一份为准。")
    elif kind == "plan":
        lines.append(f"7. 计划于上一年 10 月 30 日前报送;公示不少于 {scheme.notice_min_working_days} 个工作日(按工作日计),"
                     "填写公示起止日期即可自动计算。")
    else:
        lines.append("7. 台账为本县市全部老旧小区的摸底清单,已改造的小区请填写「已改造年度」。")
    return lines


def template_bytes(kind: str) -> bytes:
    """The empty template of ``kind`` (ledger, plan, monthly) as .xlsx bytes."""
    import xlsxwriter

    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    cols = [f for f in fields_for(kind) if f.name not in _IN_TITLE]
    header = template_header(kind)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    title_fmt = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    line_fmt = wb.add_format({"font_size": 11})
    head = {"border": 1, "bold": True, "align": "center", "valign": "vcenter", "text_wrap": True}
    optional_fmt = wb.add_format({**head, "bg_color": "#DDE6F0"})
    required_fmt = wb.add_format({**head, "bg_color": "#F8CBAD"})
    text_fmt = wb.add_format({"num_format": "@"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})

    ws = wb.add_worksheet(KIND_NAMES[kind])
    last = len(cols) - 1
    ws.merge_range(0, 0, 0, last, KIND_TITLES[kind], title_fmt)
    ws.set_row(0, 26)
    for i, text in enumerate(TITLE_ROWS[kind], start=1):
        ws.merge_range(i, 0, i, min(last, 5), text, line_fmt)
    h = len(TITLE_ROWS[kind]) + 1
    ws.set_row(h, 32)
    counties = [c.name for c in load_counties()]
    for j, (f, text) in enumerate(zip(cols, header)):
        required = kind in f.required
        ws.write_string(h, j, text, required_fmt if required else optional_fmt)
        ws.write_comment(h, j, f"{'必填' if required else '选填'}。{_format(f)}" + (f"。单位:{_unit(f)}" if _unit(f) else ""),
                         {"x_scale": 2, "y_scale": 1.4})
        width = max(8, min(24, 2.2 * len(text) + 2))
        fmt = text_fmt if f.type == "text" else date_fmt if f.type == "date" else None
        ws.set_column(j, j, width, fmt)
        first, end = h + 1, h + _EMPTY_ROWS
        if f.type == "county":
            ws.data_validation(first, j, end, j, {"validate": "list", "source": counties, "error_type": "warning",
                                                  "error_message": "请填写规范的县市名称"})
        elif f.type == "bool":
            ws.data_validation(first, j, end, j, {"validate": "list", "source": ["是", "否"], "error_type": "warning"})
    ws.freeze_panes(h + 1, 0)

    info = wb.add_worksheet("填表说明")
    bold = wb.add_format({"bold": True, "font_size": 12})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    cell_head = wb.add_format({"bold": True, "border": 1, "bg_color": "#DDE6F0", "text_wrap": True})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    info.write_string(0, 0, f"{KIND_TITLES[kind]} · 填表说明", bold)
    r = 2
    for line in _general(kind):
        info.merge_range(r, 0, r, 4, line, wrap)
        info.set_row(r, 34)
        r += 1
    r += 1
    info.write_string(r, 0, "各列说明", bold)
    r += 1
    for j, text in enumerate(("列名(表头)", "是否必填", "填写格式", "单位", "说明")):
        info.write_string(r, j, text, cell_head)
    for f, text in zip(cols, header):
        r += 1
        info.write_string(r, 0, text, cell)
        info.write_string(r, 1, "必填" if kind in f.required else "选填", cell)
        info.write_string(r, 2, _format(f), cell)
        info.write_string(r, 3, _unit(f) or "", cell)
        info.write_string(r, 4, _note(f, kind), cell)
    r += 2
    info.write_string(r, 0, "县市名单(规范名称)", bold)
    info.merge_range(r + 1, 0, r + 1, 4, "、".join(counties), wrap)
    info.set_column(0, 0, 22)
    info.set_column(1, 1, 9)
    info.set_column(2, 2, 44)
    info.set_column(3, 3, 8)
    info.set_column(4, 4, 48)
    ws.activate()
    wb.close()
    return buf.getvalue()
