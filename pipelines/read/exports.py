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
           "case_file_xlsx_bytes", "HISTORY_HEADINGS", "SEVERITY_ZH", "SIGNAL_HEADINGS", "signals_table"]

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


#: severities in Chinese (the codes high / medium / low stay in the spec's flags.csv only)
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}

#: the signals export the auditors read (CSV and the XLSX sheet 风险线索): Chinese headings, rule
#: names and severities, the verdict with who gave and reviewed it and when; the rule's code in
#: one extra last column for machines. ``renovation flags`` keeps the spec's flags.csv instead.
SIGNAL_HEADINGS = {"rule_label": "规则", "severity_zh": "严重程度", "county_name": "县市", "plan_year": "计划年度",
                   "period": "期间", "community_name": "小区名称", "score": "强度", "evidence": "证据",
                   "verdict_shown": "核查结论", "verdict_note": "核查说明", "decided_by_shown": "核查人",
                   "reviewed_by": "复核人", "decided_at_shown": "核查时间", "rule": "规则代码"}


def signals_table(df: pl.DataFrame) -> pl.DataFrame:
    """The signals shown (``pipelines.read.audit.signals`` rows), in the columns of :data:`SIGNAL_HEADINGS`."""
    def col(name: str, dtype=pl.String) -> pl.Expr:
        return pl.col(name) if name in df.columns else pl.lit(None, dtype).alias(name)

    return df.select(
        pl.coalesce(col("rule_label"), col("rule")).alias("rule_label"),
        pl.col("severity").replace_strict(SEVERITY_ZH, default=pl.col("severity")).alias("severity_zh"),
        "county_name", "plan_year", col("period"), col("community_name"),
        pl.col("score").round(2), pl.col("evidence").map_elements(one_line, return_dtype=pl.String),
        pl.coalesce(col("verdict"), pl.lit("待核查")).alias("verdict_shown"),
        col("verdict_note"),
        pl.coalesce(col("decided_by"), col("proposed_by")).alias("decided_by_shown"),
        col("reviewed_by"),
        pl.coalesce(col("decided_at", pl.Datetime), col("proposed_at", pl.Datetime))
        .dt.strftime("%Y-%m-%d %H:%M").alias("decided_at_shown"),
        "rule",
    )


def signals_csv_bytes(df: pl.DataFrame) -> bytes:
    """The signals shown, for the auditors: Chinese headings and names, verdicts, the rule code last
    (UTF-8 with BOM, formulas escaped). Not the spec's flags.csv: that is :func:`write_flags`."""
    return table_csv_bytes(signals_table(df), SIGNAL_HEADINGS)


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
                       history: pl.DataFrame | None = None, rules: pl.DataFrame | None = None) -> bytes:
    """The signals shown as a workbook: sheet 风险线索 (:data:`SIGNAL_HEADINGS`), sheet 说明
    (filters, data as-of month, thresholds in force), sheet 核查记录 (every verdict and review of them)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "bg_color": "#DDE6F0"})
    _write_sheet(wb, "风险线索", signals_table(df), SIGNAL_HEADINGS,
                 widths={0: 16, 2: 10, 5: 22, 7: 70, 9: 30, 10: 22, 11: 22, 12: 17, 13: 20})
    info = wb.add_worksheet("说明")
    r = 0
    for k, v in stamp:
        info.write_string(r, 0, escape_cell(k), bold)
        info.write_string(r, 1, escape_cell(v))
        r += 1
    if thresholds is not None and not thresholds.is_empty():
        r += 1
        info.write_string(r, 0, "阈值(生成时有效)", bold)
        info.write_string(r, 1, "值", bold)
        info.write_string(r, 2, "版本", bold)
        info.write_string(r, 3, "代码", bold)
        r += 1
        labels = dict(rules.select("rule", "label").iter_rows()) if rules is not None and rules.height else {}
        for key, value, version, label in _threshold_rows(thresholds, labels):
            info.write_string(r, 0, escape_cell(label))
            info.write_number(r, 1, value)
            info.write_string(r, 2, escape_cell(version))
            info.write_string(r, 3, escape_cell(key))
            r += 1
    info.set_column(0, 0, 34)
    info.set_column(1, 1, 40)
    if history is not None:
        keyed = df.select("signal_id", pl.coalesce(*[c for c in ("rule_label", "rule") if c in df.columns]).alias("rule_label"),
                          "county_name", "community_name", "period")
        rows = history.join(keyed, on="signal_id", how="inner") if "signal_id" in df.columns else history
        if "rule_label" not in rows.columns:
            rows = rows.with_columns(pl.lit(None, pl.String).alias("rule_label"), pl.lit(None, pl.String).alias("county_name"),
                                     pl.lit(None, pl.String).alias("community_name"), pl.lit(None, pl.String).alias("period"))
        _write_sheet(wb, "核查记录", rows, {"rule_label": "规则", "county_name": "县市", "community_name": "小区名称",
                                           "period": "期间", **HISTORY_HEADINGS}, widths={6: 30, 9: 60})
    wb.close()
    return buf.getvalue()


#: threshold parameters in Chinese (marts.signal_thresholds names them by their TOML key)
THRESHOLD_NAMES = {
    "pct_over": "超出比例", "min_households": "最少户数", "min_buildings": "最少楼栋数", "min_area_m2": "最少面积(m²)",
    "median_multiple": "中位数倍数", "last_build_year": "建成年份上限", "min_working_days": "最少公示工作日",
    "max_rise_points": "单月最大升幅(点)", "tolerance": "容差", "coincidence_bonus": "多类别叠加系数",
    "money_weight": "资金权重", "share_warning": "命中率预警线", "consecutive_months": "连续月数",
    "pct_of_plan": "占计划总投资比例", "max_drop_points": "最大降幅(点)", "deadline_month": "完工期限(月)",
    "deadline_day": "完工期限(日)", "due_day": "报送截止日", "high": "高", "medium": "中", "low": "低",
}
_GROUPS = {"severity_weights": "严重程度权重", "risk": "风险分"}


def _threshold_rows(thresholds: pl.DataFrame, labels: dict[str, str] | None = None) -> list[tuple[str, float, str, str]]:
    """(key, value, version, Chinese label) of each threshold: the rule's Chinese name and the parameter's."""
    labels = {**_GROUPS, **(labels or {})}
    out = []
    for key, value, version in thresholds.select("key", "value", "version").iter_rows():
        rule, _, name = key.partition(".")
        label = f"{labels.get(rule, rule)} · {THRESHOLD_NAMES.get(name, name)}" if name else labels.get(rule, rule)
        out.append((key, value, version, label))
    return out


def signals_stamp_text(stamp: list[tuple[str, str]], thresholds: pl.DataFrame | None, rules: pl.DataFrame | None) -> bytes:
    """The note that goes with a CSV export (as flags.thresholds.txt goes with flags.csv): filters, data
    as-of month, and the thresholds and rule descriptions the signals were computed with (from the marts)."""
    lines = [f"{k}:{v}" for k, v in stamp]
    if thresholds is not None and thresholds.height:
        lines += ["", f"阈值(计算线索时有效,版本 {thresholds['version'][0]}):"]
        labels = dict(rules.select("rule", "label").iter_rows()) if rules is not None and rules.height else {}
        lines += [f"{label} = {v:g}(代码 {k})" for k, v, _, label in _threshold_rows(thresholds, labels)]
    if rules is not None and rules.height:
        lines += ["", "规则:"]
        lines += [f"{r['label']}(严重程度 {SEVERITY_ZH.get(r['severity'], r['severity'])};代码 {r['rule']}):"
                  f"{r['description']}" for r in rules.iter_rows(named=True)]
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
