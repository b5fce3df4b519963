"""Every export format of the system: the one formula escape, ``flags.csv``, ``scores.csv``, the
signals workbook and its note. Pure writers: they take rows and return text or bytes.

flags.md: text cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
escaped with a leading ``'`` so that no spreadsheet executes them, in every export. That rule
lives here, once; the CLI and the dashboard both write through these functions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import polars as pl

__all__ = ["FORMULA_START", "FLAGS_HEADER", "SCORES_HEADER", "escape_cell", "one_line", "write_flags", "scores_csv",
           "signals_csv_bytes", "signals_xlsx_bytes", "signals_stamp_text", "table_csv_bytes", "table_xlsx_bytes",
           "case_file_xlsx_bytes", "HISTORY_HEADINGS"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FLAGS_HEADER = ("rule", "severity", "county", "plan_year", "period", "community_name", "score", "evidence")
SCORES_HEADER = ("county", "year", "kind", "indicator", "value", "points", "max_points", "grade")


def escape_cell(value: object) -> str:
    """A cell as text; one that a spreadsheet would read as a formula gets a leading '."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def one_line(text: str | None) -> str:
    """Line breaks inside a cell become spaces (one signal, one line of the CSV)."""
    return " ".join((text or "").split("\n")).replace("\r", " ")


def write_flags(rows: Iterable[tuple], stream: io.TextIOBase) -> int:
    """Write flags.csv (without BOM: the caller's encoding adds it); returns the number of signals."""
    w = csv.writer(stream, lineterminator="\r\n")
    w.writerow(FLAGS_HEADER)
    n = 0
    for rule, severity, county, plan_year, period, name, score, evidence in rows:
        w.writerow([
            escape_cell(rule),
            escape_cell(severity),
            escape_cell(county),
            "" if plan_year is None else str(int(plan_year)),
            escape_cell(period),
            escape_cell(one_line(name) if name is not None else None),
            f"{float(score):.2f}",
            escape_cell(one_line(evidence)),
        ])
        n += 1
    return n


def _flags_frame(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(
        "rule", "severity", pl.col("county_name").alias("county"), "plan_year",
        pl.col("period").fill_null(""), pl.col("community_name").fill_null(""),
        pl.col("score").round(4), "evidence",
    )


def signals_csv_bytes(df: pl.DataFrame) -> bytes:
    """The signals shown, in the ``flags.csv`` format (UTF-8 with BOM, formulas escaped)."""
    buf = io.StringIO(newline="")
    write_flags(_flags_frame(df).with_columns(pl.col("period").replace("", None),
                                              pl.col("community_name").replace("", None)).iter_rows(), buf)
    return buf.getvalue().encode("utf-8-sig")


#: the columns of a signal's verdict history (marts.verdict_history) in exports, with their headings
HISTORY_HEADINGS = {"decided_at": "时间", "decided_by_label": "审计人员", "act_label": "操作", "from_status": "原状态",
                    "to_status": "新状态", "note": "说明"}


def _write_sheet(wb, name: str, df: pl.DataFrame, headings: dict[str, str] | None = None, widths: dict[int, int] | None = None):
    """One sheet: a bold heading row, then the rows; every text cell through :func:`escape_cell`."""
    bold = wb.add_format({"bold": True, "bg_color": "#DDE6F0"})
    ws = wb.add_worksheet(name)
    cols = list(headings) if headings else df.columns
    for j, c in enumerate(cols):
        ws.write_string(0, j, escape_cell((headings or {}).get(c, c)), bold)
    for i, row in enumerate(df.select(cols).iter_rows(), start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_string(i, j, "是" if v else "否")
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, escape_cell(v if isinstance(v, str) else str(v)))
    for j, w in (widths or {}).items():
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    return ws


def table_csv_bytes(df: pl.DataFrame, headings: dict[str, str] | None = None) -> bytes:
    """Any table the pages show, as CSV (UTF-8 with BOM, formulas escaped): the project's own
    download in place of the table toolbar's, which only quotes."""
    cols = list(headings) if headings else df.columns
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([escape_cell((headings or {}).get(c, c)) for c in cols])
    for row in df.select(cols).iter_rows():
        w.writerow(["" if v is None else (v if isinstance(v, (int, float)) and not isinstance(v, bool) else escape_cell(v))
                    for v in row])
    return buf.getvalue().encode("utf-8-sig")


def table_xlsx_bytes(sheets: list[tuple[str, pl.DataFrame, dict[str, str] | None]],
                     stamp: list[tuple[str, str]] | None = None) -> bytes:
    """Tables as one workbook (a sheet each, formulas escaped), with a sheet 说明 holding ``stamp``."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    for name, df, headings in sheets:
        _write_sheet(wb, name, df, headings)
    if stamp:
        _write_sheet(wb, "说明", pl.DataFrame({"项目": [k for k, _ in stamp], "内容": [v for _, v in stamp]}),
                     widths={0: 20, 1: 80})
    wb.close()
    return buf.getvalue()


def case_file_xlsx_bytes(signal: dict, evidence: list[tuple[str, pl.DataFrame]], history: pl.DataFrame,
                         stamp: list[tuple[str, str]]) -> bytes:
    """A signal's case file: the signal and its verdict, the rows behind it, its verdict history."""
    head = pl.DataFrame({"项目": [k for k, _ in stamp], "内容": [v for _, v in stamp]})
    sheets = [("线索与结论", head, None)] + [(n, d, None) for n, d in evidence if d is not None and d.height]
    sheets.append(("核查记录", history, HISTORY_HEADINGS))
    return table_xlsx_bytes(sheets)


def signals_xlsx_bytes(df: pl.DataFrame, stamp: list[tuple[str, str]], thresholds: pl.DataFrame | None,
                       history: pl.DataFrame | None = None) -> bytes:
    """The signals shown as a workbook: sheet 风险线索 (flags.csv columns and the verdicts), sheet 说明
    (filters, data as-of month, thresholds in force), sheet 核查记录 (every verdict and review of them)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "bg_color": "#DDE6F0"})
    ws = wb.add_worksheet("风险线索")
    cols = [*FLAGS_HEADER, "verdict", "verdict_note"]
    heads = ["规则", "严重程度", "县市", "计划年度", "期间", "小区名称", "强度", "证据", "核查结论", "核查说明"]
    shown = df["status_text"] if "status_text" in df.columns else df["verdict"]
    frame = _flags_frame(df).with_columns(shown.alias("verdict"), df["verdict_note"].alias("verdict_note"))
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, bold)
    for i, row in enumerate(frame.select(cols).iter_rows(), start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, escape_cell(v))
    ws.set_column(0, 0, 20)
    ws.set_column(2, 2, 12)
    ws.set_column(5, 5, 22)
    ws.set_column(7, 7, 80)
    ws.freeze_panes(1, 0)
    info = wb.add_worksheet("说明")
    r = 0
    for k, v in stamp:
        info.write_string(r, 0, escape_cell(k), bold)
        info.write_string(r, 1, escape_cell(v))
        r += 1
    if thresholds is not None and not thresholds.is_empty():
        r += 1
        info.write_string(r, 0, "阈值(生成时有效)", bold)
        r += 1
        for key, value, version in thresholds.select("key", "value", "version").iter_rows():
            info.write_string(r, 0, escape_cell(key))
            info.write_number(r, 1, value)
            info.write_string(r, 2, escape_cell(version))
            r += 1
    info.set_column(0, 0, 34)
    info.set_column(1, 1, 40)
    if history is not None:
        keyed = df.select("signal_id", "rule", "county_name", "community_name", "period")
        rows = history.join(keyed, on="signal_id", how="inner") if "signal_id" in df.columns else history
        _write_sheet(wb, "核查记录", rows, {"rule": "规则", "county_name": "县市", "community_name": "小区名称",
                                           "period": "期间", **HISTORY_HEADINGS}, widths={6: 30, 9: 60})
    wb.close()
    return buf.getvalue()


def signals_stamp_text(stamp: list[tuple[str, str]], thresholds: pl.DataFrame | None, rules: pl.DataFrame | None) -> bytes:
    """The note that goes with a CSV export (as flags.thresholds.txt goes with flags.csv): filters, data
    as-of month, and the thresholds and rule descriptions the signals were computed with (from the marts)."""
    lines = [f"{k}:{v}" for k, v in stamp]
    if thresholds is not None and thresholds.height:
        lines += ["", f"阈值(计算线索时有效,版本 {thresholds['version'][0]}):"]
        lines += [f"{k} = {v:g}" for k, v in thresholds.select("key", "value").iter_rows()]
    if rules is not None and rules.height:
        lines += ["", "规则:"]
        lines += [f"{r['rule']}({r['label']},{r['severity']}):{r['description']}" for r in rules.iter_rows(named=True)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _num(x: float | None, decimals: int) -> str:
    return "" if x is None else f"{x:.{decimals}f}"


def _max(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def scores_csv(scores: Iterable) -> str:
    """``scores.csv`` text (without BOM): one row per indicator, then the total, counties in
    counties.csv order. ``scores`` are :class:`pipelines.scoring.Score` objects."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SCORES_HEADER)
    for s in sorted(scores, key=lambda s: (s.sort_order, s.county_code)):
        name = escape_cell(s.county_name)
        for x in s.lines:
            w.writerow([name, s.year, s.kind, x.indicator, _num(x.value, 4), _num(x.points, 2), _max(x.max_points), ""])
        w.writerow([name, s.year, s.kind, "total", _num(s.total, 4), _num(s.total, 2), "100", escape_cell(s.grade)])
    return buf.getvalue()
