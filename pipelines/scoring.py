"""Annual check (一年一体检) and biennial evaluation (两年一评估), spec evaluation.md.

The counts and sums each indicator needs come from the SQL mart ``marts.score_inputs``; the
scoring itself is pure, typed functions over those inputs and the versioned scheme in
``pipelines/config/scoring.toml`` (no I/O inside them). :func:`refresh` writes ``marts.scores``
(and the what-if ``marts.whatif_subsidy``); :func:`run_scores` exports ``scores.csv``.
"""

from __future__ import annotations

import csv
import io
import logging
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.warehouse import insert_rows, table_exists

__all__ = [
    "SCORES_HEADER",
    "IndicatorDef",
    "Inputs",
    "Line",
    "Scheme",
    "Score",
    "annual_score",
    "annual_values",
    "biennial_score",
    "compute_scores",
    "five_year_progress",
    "grade_of",
    "has_data",
    "load_scheme",
    "prefecture_inputs",
    "prefecture_scores",
    "read_inputs",
    "read_prefecture",
    "read_scores",
    "refresh",
    "run_scores",
    "score_all",
    "scores_csv",
    "scores_for",
    "total_of",
]

log = logging.getLogger(__name__)

SCHEME_PATH = Path(__file__).parent / "config" / "scoring.toml"
# the marts model refresh() rebuilds with the scheme's variables (see hooks.rebuilt_models)
REBUILDS = ("score_inputs",)
SCORES_HEADER = ("county", "year", "kind", "indicator", "value", "points", "max_points", "grade")
PREFECTURE = "全州"
# A total within this distance below a threshold reaches it: floating-point noise of the sums,
# not rounding (grades are given on the unrounded total).
_GRADE_EPS = 1e-9

BIENNIAL_NAMES = {
    "annual_prev": "上一年度体检得分",
    "annual_curr": "本年度体检得分",
    "annual_mean": "两年体检平均分",
    "five_year_progress": "五年目标进度",
    "total": "总分",
}


# --- the scheme ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    points: float  # maximum points
    scale: float  # points = points × value / scale


@dataclass(frozen=True)
class Scheme:
    """A versioned scoring scheme (weights, thresholds, grades)."""

    version: str
    indicators: tuple[IndicatorDef, ...]
    completion_deadline_month: int
    completion_deadline_day: int
    notice_min_working_days: int
    report_due_day: int
    biennial_first_year: int
    annual_mean_weight: float
    progress_points: float
    base_year: int
    horizon_years: int
    old_built_until: int
    grades: tuple[tuple[float, str], ...]  # (min_total, grade), highest first
    grade_below: str
    performance_share: float

    def indicator(self, code: str) -> IndicatorDef:
        return next(i for i in self.indicators if i.code == code)

    def sql_variables(self) -> dict[str, int]:
        """The thresholds the SQL mart ``marts.score_inputs`` reads through ``getvariable``."""
        return {
            "scoring_notice_min_working_days": self.notice_min_working_days,
            "scoring_completion_deadline_month": self.completion_deadline_month,
            "scoring_completion_deadline_day": self.completion_deadline_day,
            "scoring_report_due_day": self.report_due_day,
            "scoring_old_built_until": self.old_built_until,
        }


def load_scheme(path: Path | None = None) -> Scheme:
    """Read a scheme from TOML (default: ``pipelines/config/scoring.toml``)."""
    data = tomllib.loads((path or SCHEME_PATH).read_text(encoding="utf-8"))
    a, b = data["annual"], data["biennial"]
    grades = tuple(sorted(((float(g["min_total"]), g["grade"]) for g in data["grades"]), reverse=True))
    return Scheme(
        version=data["version"],
        indicators=tuple(
            IndicatorDef(i["code"], i["name"], float(i["points"]), float(i.get("scale", 1))) for i in a["indicators"]
        ),
        completion_deadline_month=int(a["completion_deadline_month"]),
        completion_deadline_day=int(a["completion_deadline_day"]),
        notice_min_working_days=int(a["notice_min_working_days"]),
        report_due_day=int(a["report_due_day"]),
        biennial_first_year=int(b["first_year"]),
        annual_mean_weight=float(b["annual_mean_weight"]),
        progress_points=float(b["progress_points"]),
        base_year=int(b["base_year"]),
        horizon_years=int(b["horizon_years"]),
        old_built_until=int(b["old_built_until"]),
        grades=grades,
        grade_below=data["grade_below"]["grade"],
        performance_share=float(data.get("whatif", {}).get("performance_share", 0.2)),
    )


# --- inputs and results -------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """One row of ``marts.score_inputs``: what the indicators of one county and year need."""

    county_code: str
    score_year: int
    count_plan_rows: int = 0
    count_started: int = 0
    count_ontime_base: int = 0
    count_ontime_completed: int = 0
    sum_invest_done_wan_yuan: float = 0.0
    sum_total_invest_wan_yuan: float = 0.0
    sum_paid_wan_yuan: float = 0.0
    sum_subsidy_wan_yuan: float = 0.0
    count_satisfaction_rows: int = 0
    sum_satisfaction_households: float = 0.0
    sum_satisfaction_weighted: float = 0.0
    sum_households_completed: float = 0.0
    sum_households: float = 0.0
    count_completed: int = 0
    count_completed_with_property: int = 0
    count_notice_ok: int = 0
    count_months_due: int = 0
    count_months_ontime: int = 0
    sum_households_completed_to_date: float = 0.0
    sum_ledger_households_old: float = 0.0
    as_of_label: str = ""
    county_name: str = ""
    sort_order: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Inputs:
        names = {f.name for f in fields(cls)}
        return cls(**{k: (v if v is not None else _DEFAULTS[k]) for k, v in row.items() if k in names})


_DEFAULTS = {f.name: f.default for f in fields(Inputs)}


@dataclass(frozen=True)
class Line:
    """One indicator of a score: value and points are None when not applicable."""

    indicator: str
    value: float | None
    points: float | None
    max_points: float | None

    @property
    def is_applicable(self) -> bool:
        return self.value is not None and self.points is not None and self.max_points is not None


@dataclass(frozen=True)
class Score:
    county_code: str
    year: int
    kind: str  # annual | biennial
    lines: tuple[Line, ...]
    total: float
    grade: str
    as_of_label: str = ""
    county_name: str = ""
    sort_order: int = 0

    def line(self, indicator: str) -> Line:
        return next(x for x in self.lines if x.indicator == indicator)

    def values(self) -> dict[str, float | None]:
        return {x.indicator: x.value for x in self.lines}


# --- pure scoring -------------------------------------------------------------------------


def _share(num: float, den: float) -> float | None:
    return num / den if den else None


def annual_values(inp: Inputs) -> dict[str, float | None]:
    """The value of each annual indicator (None = not applicable), from the counts and sums."""
    investment = _share(inp.sum_invest_done_wan_yuan, inp.sum_total_invest_wan_yuan)
    disbursement = _share(inp.sum_paid_wan_yuan, inp.sum_subsidy_wan_yuan)
    satisfaction = (
        _share(inp.sum_satisfaction_weighted, inp.sum_satisfaction_households) if inp.count_satisfaction_rows else None
    )
    return {
        "start_rate": _share(inp.count_started, inp.count_plan_rows),
        "ontime_completion_rate": _share(inp.count_ontime_completed, inp.count_ontime_base),
        "investment_rate": None if investment is None else min(1.0, investment),
        "disbursement_rate": None if disbursement is None else min(1.0, disbursement),
        "satisfaction": satisfaction,
        "households_rate": _share(inp.sum_households_completed, inp.sum_households),
        "property_rate": _share(inp.count_completed_with_property, inp.count_completed),
        "notice_rate": _share(inp.count_notice_ok, inp.count_plan_rows),
        # a year with no month received yet has nothing to judge timeliness on
        "reporting_rate": _share(inp.count_months_ontime, inp.count_months_due),
    }


def total_of(lines: Iterable[Line]) -> float:
    """Σ points of the applicable lines / Σ their maximum points × 100 (0 when none applies)."""
    applicable = [x for x in lines if x.is_applicable]
    max_sum = sum(x.max_points for x in applicable)  # type: ignore[misc]
    return sum(x.points for x in applicable) / max_sum * 100 if max_sum else 0.0  # type: ignore[misc]


def grade_of(total: float, scheme: Scheme) -> str:
    """The grade of an unrounded total: 优秀 ≥ 95, 良好 ≥ 85, 合格 ≥ 75, else 差 (default scheme)."""
    for threshold, grade in scheme.grades:
        if total >= threshold - _GRADE_EPS:
            return grade
    return scheme.grade_below


def annual_score(inp: Inputs, scheme: Scheme) -> Score | None:
    """The annual check of one county and year; None when the county has no plan rows that year."""
    if inp.count_plan_rows <= 0:
        return None
    values = annual_values(inp)
    lines = []
    for d in scheme.indicators:
        v = values[d.code]
        lines.append(Line(d.code, v, None if v is None else d.points * v / d.scale, d.points))
    total = total_of(lines)
    return Score(inp.county_code, inp.score_year, "annual", tuple(lines), total, grade_of(total, scheme),
                 inp.as_of_label, inp.county_name, inp.sort_order)


def five_year_progress(inp: Inputs, scheme: Scheme) -> float | None:
    """min(1, households completed to date / (T × (Y − base) / horizon)); None when T = 0."""
    expected = inp.sum_ledger_households_old * (inp.score_year - scheme.base_year) / scheme.horizon_years
    if inp.sum_ledger_households_old <= 0 or expected <= 0:
        return None
    return min(1.0, inp.sum_households_completed_to_date / expected)


def biennial_score(
    inp: Inputs, prev_total: float | None, curr_total: float | None, scheme: Scheme
) -> Score | None:
    """The biennial evaluation for the pair (Y−1, Y), ``inp`` being the county's inputs of Y.

    None when the county was scored in neither year."""
    if prev_total is None and curr_total is None:
        return None
    present = [t for t in (prev_total, curr_total) if t is not None]
    mean = sum(present) / len(present)
    max_mean = scheme.annual_mean_weight * 100
    progress = five_year_progress(inp, scheme)
    lines = (
        Line("annual_prev", prev_total, None, None),
        Line("annual_curr", curr_total, None, None),
        Line("annual_mean", mean, scheme.annual_mean_weight * mean, max_mean),
        Line("five_year_progress", progress, None if progress is None else scheme.progress_points * progress,
             scheme.progress_points),
    )
    total = total_of(lines)
    return Score(inp.county_code, inp.score_year, "biennial", lines, total, grade_of(total, scheme),
                 inp.as_of_label, inp.county_name, inp.sort_order)


def score_all(inputs: Sequence[Inputs], scheme: Scheme) -> list[Score]:
    """Every annual score of every county and year, and every biennial one from the first year on."""
    by_key = {(i.county_code, i.score_year): i for i in inputs}
    annual = {k: s for k, i in by_key.items() if (s := annual_score(i, scheme)) is not None}
    out: list[Score] = list(annual.values())
    for (county, year), inp in by_key.items():
        if year < scheme.biennial_first_year:
            continue
        prev, curr = annual.get((county, year - 1)), annual.get((county, year))
        b = biennial_score(inp, prev.total if prev else None, curr.total if curr else None, scheme)
        if b is not None:
            out.append(b)
    out.sort(key=lambda s: (s.year, s.kind, s.sort_order, s.county_code))
    return out


def prefecture_inputs(inputs: Iterable[Inputs], year: int) -> Inputs:
    """The prefecture as one unit: the counts and sums of the scored counties of ``year`` added up."""
    rows = [i for i in inputs if i.score_year == year and i.count_plan_rows > 0]
    sums = {
        f.name: sum(getattr(i, f.name) for i in rows)
        for f in fields(Inputs)
        if f.name.startswith(("count_", "sum_"))
    }
    label = rows[0].as_of_label if rows else ""
    return Inputs(county_code=PREFECTURE, score_year=year, as_of_label=label, county_name=PREFECTURE,
                  sort_order=-1, **sums)


# --- warehouse I/O ------------------------------------------------------------------------


def _set_variables(con: duckdb.DuckDBPyConnection, scheme: Scheme) -> None:
    for name, value in scheme.sql_variables().items():
        # a variable name cannot be a parameter; these names are our own constants
        con.execute(f"set variable {name} = ?", [int(value)])


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Our pipeline-written mart tables, for a warehouse created before they existed."""
    from pipelines.warehouse import models

    for m in models():
        if m.is_ddl and m.table in ("marts.scores", "marts.scores_prefecture", "marts.whatif_subsidy"):
            con.execute(m.sql)


def _build_inputs(con: duckdb.DuckDBPyConnection, scheme: Scheme) -> None:
    """Re-materialise ``marts.score_inputs`` with the scheme's thresholds."""
    from pipelines.warehouse import models

    _set_variables(con, scheme)
    model = next(m for m in models() if m.table == "marts.score_inputs")
    con.execute(f"create or replace table {model.table} as {model.sql}")


def read_inputs(con: duckdb.DuckDBPyConnection, year: int | None = None) -> list[Inputs]:
    """The rows of ``marts.score_inputs`` (of one year, or all)."""
    sql = "select * from marts.score_inputs"
    params: list[object] = []
    if year is not None:
        sql += " where score_year = ?"
        params.append(year)
    cur = con.execute(sql + " order by score_year, sort_order", params)
    cols = [d[0] for d in cur.description]
    return [Inputs.from_row(dict(zip(cols, r))) for r in cur.fetchall()]


def _line_name(scheme: Scheme, kind: str, indicator: str) -> str:
    if indicator == "total":
        return "总分"
    if kind == "annual":
        return scheme.indicator(indicator).name
    return BIENNIAL_NAMES[indicator]


def _rows(scores: Iterable[Score], scheme: Scheme, computed_at: datetime) -> list[tuple]:
    out = []
    for s in scores:
        for order, x in enumerate(s.lines):
            out.append((s.county_code, s.county_name, s.sort_order, s.year, s.kind, x.indicator,
                        _line_name(scheme, s.kind, x.indicator), order, x.value, x.points, x.max_points,
                        x.is_applicable, None, scheme.version, s.as_of_label, computed_at))
        out.append((s.county_code, s.county_name, s.sort_order, s.year, s.kind, "total", "总分", len(s.lines),
                    s.total, s.total, 100.0, True, s.grade, scheme.version, s.as_of_label, computed_at))
    return out


def compute_scores(con: duckdb.DuckDBPyConnection, scheme: Scheme | None = None) -> list[Score]:
    """Scores of every county, year and kind from ``marts.score_inputs`` as it stands."""
    return score_all(read_inputs(con), scheme or load_scheme())


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Hook step: rebuild ``marts.score_inputs`` with the scheme, then write ``marts.scores`` and
    the what-if ``marts.whatif_subsidy`` for every year with data."""
    from pipelines import whatif

    scheme = load_scheme()
    _ensure_tables(con)
    _build_inputs(con, scheme)
    inputs = read_inputs(con)
    scores = score_all(inputs, scheme)
    now = datetime.now().replace(microsecond=0)
    con.execute("delete from marts.scores")
    rows = _rows(scores, scheme, now)
    insert_rows(con, "marts.scores", rows)
    _write_prefecture(con, inputs, scores, scheme, now)
    whatif.write(con, scores, scheme)
    log.info("marts.scores: %d rows (scheme %s)", len(rows), scheme.version)


def prefecture_scores(inputs: Sequence[Inputs], scheme: Scheme) -> list[Score]:
    """The annual score of the prefecture as one unit, for every year in which a county is scored."""
    years = sorted({i.score_year for i in inputs if i.count_plan_rows > 0})
    return [s for y in years if (s := annual_score(prefecture_inputs(inputs, y), scheme)) is not None]


def _write_prefecture(con: duckdb.DuckDBPyConnection, inputs: Sequence[Inputs], scores: Sequence[Score],
                      scheme: Scheme, computed_at: datetime) -> None:
    counted = {}
    for s in scores:
        if s.kind == "annual":
            counted[s.year] = counted.get(s.year, 0) + 1
    rows = []
    for p in prefecture_scores(inputs, scheme):
        for order, x in enumerate(p.lines):
            rows.append((p.year, "annual", x.indicator, _line_name(scheme, "annual", x.indicator), order, x.value,
                         x.points, x.max_points, x.is_applicable, None, counted.get(p.year, 0), scheme.version,
                         p.as_of_label, computed_at))
        rows.append((p.year, "annual", "total", "总分", len(p.lines), p.total, p.total, 100.0, True, p.grade,
                     counted.get(p.year, 0), scheme.version, p.as_of_label, computed_at))
    con.execute("delete from marts.scores_prefecture")
    insert_rows(con, "marts.scores_prefecture", rows)


def read_prefecture(con: duckdb.DuckDBPyConnection, year: int) -> Score | None:
    """The prefecture's annual score of ``year`` from ``marts.scores_prefecture`` (None when absent)."""
    if not table_exists(con, "marts.scores_prefecture"):
        return None
    rs = con.execute(
        """
        select indicator, value, points, max_points, grade, as_of_label
        from marts.scores_prefecture
        where year = $year and kind = 'annual'
        order by line_order
        """,
        {"year": year},
    ).fetchall()
    if not rs:
        return None
    total = next(r for r in rs if r[0] == "total")
    lines = tuple(Line(r[0], r[1], r[2], r[3]) for r in rs if r[0] != "total")
    return Score(PREFECTURE, year, "annual", lines, total[1], total[4], total[5], PREFECTURE, -1)


def read_scores(con: duckdb.DuckDBPyConnection, year: int, kind: str) -> list[Score]:
    """The scores of one year and kind from ``marts.scores`` (empty when the mart is empty)."""
    cur = con.execute(
        """
        select county_code, county_name, sort_order, indicator, value, points, max_points, grade,
               as_of_label
        from marts.scores
        where year = $year and kind = $kind
        order by sort_order, county_code, line_order
        """,
        {"year": year, "kind": kind},
    )
    grouped: dict[str, list[tuple]] = {}
    for r in cur.fetchall():
        grouped.setdefault(r[0], []).append(r)
    out = []
    for code, rs in grouped.items():
        total = next(r for r in rs if r[3] == "total")
        lines = tuple(Line(r[3], r[4], r[5], r[6]) for r in rs if r[3] != "total")
        out.append(Score(code, year, kind, lines, total[4], total[7], total[8], total[1], total[2]))
    return out


def open_for_year(db_path: Path, year: int, product: str) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to a warehouse that has score inputs and data for ``year``; else
    None, after telling the user in Chinese why no ``product`` (得分, 报告) was made."""
    db_path = Path(db_path)
    if not db_path.exists():
        print(f"数据仓库不存在:{db_path}", file=sys.stderr)
        return None
    con = duckdb.connect(str(db_path), read_only=True)
    if not table_exists(con, "marts.score_inputs"):
        print("数据仓库尚未生成评分指标(marts.score_inputs),请先导入数据。", file=sys.stderr)
    elif not has_data(con, year):
        print(f"{year} 年没有数据(无计划、无月报),未生成{product}。", file=sys.stderr)
    else:
        return con
    con.close()
    return None


def scores_for(con: duckdb.DuckDBPyConnection, year: int, kind: str, scheme: Scheme | None = None) -> list[Score]:
    """Scores of one year and kind: from ``marts.scores``, or computed from ``marts.score_inputs``
    when the scores mart has not been written (the hook step not run)."""
    scheme = scheme or load_scheme()
    mart_filled = table_exists(con, "marts.scores") and con.execute(
        "select count(*) from marts.scores").fetchone()[0] > 0
    if mart_filled:
        return read_scores(con, year, kind)
    return [s for s in score_all(read_inputs(con), scheme) if s.year == year and s.kind == kind]


def has_data(con: duckdb.DuckDBPyConnection, year: int) -> bool:
    """Whether the warehouse holds a plan row of ``year`` or a monthly report of a month of it."""
    plans = con.execute("select count(*) from core.plan_rows where plan_year = ?", [year]).fetchone()[0]
    months = con.execute(
        "select count(*) from core.submissions where kind = 'monthly' and period like ?", [f"{year:04d}-%"]
    ).fetchone()[0]
    return bool(plans or months)


# --- export -------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Spreadsheet-formula escape for text cells (flags.md: every export)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _num(x: float | None, decimals: int) -> str:
    return "" if x is None else f"{x:.{decimals}f}"


def _max(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def scores_csv(scores: Sequence[Score]) -> str:
    """``scores.csv`` text (without BOM): one row per indicator, then the total, counties in
    counties.csv order."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SCORES_HEADER)
    for s in sorted(scores, key=lambda s: (s.sort_order, s.county_code)):
        name = _escape(s.county_name)
        for x in s.lines:
            w.writerow([name, s.year, s.kind, x.indicator, _num(x.value, 4), _num(x.points, 2), _max(x.max_points), ""])
        w.writerow([name, s.year, s.kind, "total", _num(s.total, 4), _num(s.total, 2), "100", _escape(s.grade)])
    return buf.getvalue()


def run_scores(db_path: Path, year: int, kind: str, out: Path | None) -> int:
    """CLI ``renovation scores``: write scores.csv; 1 when the year has no data."""
    scheme = load_scheme()
    if kind not in ("annual", "biennial"):
        print(f"用法错误:--kind 只能是 annual 或 biennial,收到 {kind}", file=sys.stderr)
        return 2
    if kind == "biennial" and year < scheme.biennial_first_year:
        print(f"用法错误:两年评估自 {scheme.biennial_first_year} 年起进行,{year} 年不适用。", file=sys.stderr)
        return 2
    con = open_for_year(db_path, year, "得分")
    if con is None:
        return 1
    try:
        scores = scores_for(con, year, kind, scheme)
    finally:
        con.close()
    text = scores_csv(scores)
    if out is None:
        sys.stdout.buffer.write(("\ufeff" + text).encode("utf-8"))
        sys.stdout.flush()
    else:
        Path(out).write_text(text, encoding="utf-8-sig", newline="")
    label = next((s.as_of_label for s in scores if s.as_of_label), "")
    kind_name = "年度体检" if kind == "annual" else "两年评估"
    where = f"已写入 {out}" if out is not None else "已输出"
    print(f"{year} 年{kind_name}得分:{len({s.county_code for s in scores})} 个县市"
          f"{'(' + label + ')' if label else ''},评分方案 {scheme.version};{where}。", file=sys.stderr)
    return 0
