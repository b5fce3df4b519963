"""Scores in the warehouse: ``intermediate.score_inputs`` rebuilt with the scheme, ``marts.scores`` and
``marts.scores_prefecture`` written (the refresh's scores step), and read back for exports."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.scoring import whatif
from pipelines.scoring.compute import BIENNIAL_NAMES, PREFECTURE, Inputs, Line, Score, prefecture_scores, score_all
from pipelines.scoring.explain import formula_rows
from pipelines.scoring.scheme import Scheme, load_scheme
from pipelines.backend import locate
from pipelines.warehouse import MODEL_POLICY, insert_rows, run_models, table_exists

__all__ = ["MODELS", "refresh", "read_inputs", "compute_scores", "read_prefecture", "read_scores", "open_for_year",
           "scores_for", "has_data"]

log = logging.getLogger(__name__)

# the models the scores step builds (their thresholds come from marts.settings)
MODELS = ("intermediate.score_inputs",)


def _build_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Re-materialise ``intermediate.score_inputs`` (with the settings of ``marts.settings``)."""
    run_models(con, MODELS)


def read_inputs(con: duckdb.DuckDBPyConnection, year: int | None = None) -> list[Inputs]:
    """The rows of ``intermediate.score_inputs`` (of one year, or all)."""
    sql = "select * from intermediate.score_inputs"
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
    """Scores of every county, year and kind from ``intermediate.score_inputs`` as it stands."""
    return score_all(read_inputs(con), scheme or load_scheme())


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """The scores step of the refresh: rebuild ``intermediate.score_inputs`` with the scheme, then write ``marts.scores`` and
    the what-if ``marts.whatif_subsidy`` for every year with data.

    Within an incremental refresh still scoped to county C (pipelines.incremental), score_inputs is
    rebuilt for C only, so only C's inputs changed: a county's scores and formulas are made from its
    own inputs alone (pipelines.scoring.compute), so C's are recomputed and rewritten and every other
    county's kept; the prefecture line (from every county's inputs) and the what-if split (every
    county's annual totals, read back from ``marts.scores``) are made in full, as they are small."""
    scheme = load_scheme()
    _build_inputs(con)
    scope = MODEL_POLICY.get()
    county = scope.county if scope is not None and scope.active else None
    inputs = read_inputs(con)
    mine = inputs if county is None else [i for i in inputs if i.county_code == county]
    scores = score_all(mine, scheme)
    now = datetime.now().replace(microsecond=0)
    where, params = ("", []) if county is None else (" where county_code = ?", [county])
    con.execute("delete from marts.scores" + where, params)
    rows = _rows(scores, scheme, now)
    insert_rows(con, "marts.scores", rows)
    # every line spelled out: numerator, denominator, the formula with the figures (pipelines.scoring.explain)
    con.execute("delete from marts.score_formulas" + where, params)
    insert_rows(con, "marts.score_formulas", formula_rows(scores, mine, scheme))
    if county is not None:
        scores = _annual_totals(con)
    _write_prefecture(con, inputs, scores, scheme, now)
    whatif.write(con, scores, scheme)
    log.info("marts.scores: %d rows (scheme %s)", len(rows), scheme.version)


def _annual_totals(con: duckdb.DuckDBPyConnection) -> list[Score]:
    """Every annual score of ``marts.scores`` with its total (without its lines)."""
    return [Score(code, year, "annual", (), total, grade, label, name, order) for code, year, total, grade, label, name, order
            in con.execute("select county_code, year, value, grade, as_of_label, county_name, sort_order from marts.scores "
                           "where kind = 'annual' and indicator = 'total'").fetchall()]


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
    db_path = locate(db_path)
    if not db_path.exists():
        print(f"数据仓库不存在:{db_path.display()}", file=sys.stderr)
        return None
    from pipelines.locking import open_warehouse

    con = open_warehouse(db_path, read_only=True)  # waits while an import commits
    if not table_exists(con, "intermediate.score_inputs"):
        print("数据仓库尚未生成评分指标(intermediate.score_inputs),请先导入数据。", file=sys.stderr)
    elif not has_data(con, year):
        print(f"{year} 年没有数据(无计划、无月报),未生成{product}。", file=sys.stderr)
    else:
        return con
    con.close()
    return None


def scores_for(con: duckdb.DuckDBPyConnection, year: int, kind: str, scheme: Scheme | None = None) -> list[Score]:
    """Scores of one year and kind: from ``marts.scores``, or computed from ``intermediate.score_inputs``
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

