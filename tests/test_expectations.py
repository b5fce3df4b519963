"""The ingest suites on good and bad frames, and that every check carries a Chinese description."""

from __future__ import annotations

import datetime as dt

import polars as pl

from conftest import TODAY
from expectations.ingest import build_suite
from pipelines.reading.headers import fields_for
from pipelines.validation.runner import validate_batch


def test_every_expectation_has_a_chinese_description():
    for kind in ("ledger", "plan", "monthly"):
        suite = build_suite(kind, TODAY)
        assert suite.expectations, kind
        for e in suite.expectations:
            assert e.description and any("\u4e00" <= ch <= "\u9fff" for ch in e.description), e


def test_every_expectation_has_a_chinese_name_without_gx():
    """The 数据质量 page names expectations from expectations.names, which does not import GX."""
    from expectations.names import EXPECTATION_NAMES

    for kind in ("ledger", "plan", "monthly"):
        for e in build_suite(kind, TODAY).expectations:
            assert e.expectation_type in EXPECTATION_NAMES, e.expectation_type
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in EXPECTATION_NAMES.values())


def test_suite_covers_required_fields_and_ranges():
    suite = build_suite("monthly", TODAY)
    by_type = {}
    for e in suite.expectations:
        by_type.setdefault(type(e).__name__, set()).add(e.column)
    required = {f.name if f.type != "county" else "county_code" for f in fields_for("monthly") if "monthly" in f.required}
    assert required <= by_type["ExpectRequiredValuePresent"]
    assert "pct_progress" in by_type["ExpectPercentInRange"]
    assert "start_date__day" in by_type["ExpectDateInRange"]


def _frame(**overrides):
    base = {
        "row_key": [1, 2, 3], "county_code": ["652822"] * 3, "name": ["甲", "乙", "丙"], "households": [10, 20, 30],
        "build_year": [1990, 1991, 1992], "buildings": [1, 2, 3], "area_m2": [700.0, 1400.0, 2100.0],
        "households__error": [None, None, None],
    }
    base.update(overrides)
    return pl.DataFrame(base)


def test_good_frame_passes():
    issues, summary = validate_batch("ledger", _frame(), "t", None, TODAY)
    assert issues == [] and all(s["success"] for s in summary)


def test_bad_frame_names_the_failing_rows():
    frame = _frame(
        households=[10, 0, None], households__error=[None, None, "应为数字"],
        build_year=[1990, 2031, 1948], name=["甲", None, "丙"],
    )
    issues, summary = validate_batch("ledger", frame, "t", None, dt.date(2026, 11, 29))
    got = sorted((i.row_key, i.field, i.expectation) for i in issues)
    assert got == [
        (2, "build_year", "expect_year_in_range"),        # 2031 after this year
        (2, "households", "expect_value_in_range"),       # 0 households
        (2, "name", "expect_required_value_present"),
        (3, "build_year", "expect_year_in_range"),        # 1948 before 1949
        (3, "households", "expect_cells_readable"),       # 「十」 could not be read
        (3, "households", "expect_required_value_present"),
    ]
    assert not all(s["success"] for s in summary)
    # every expectation is summarised once, under its suite, with what it counted
    assert {s["suite_name"] for s in summary} == {"ingest_ledger"}
    counts = {(s["expectation"], s["column_name"]): s["unexpected_count"] for s in summary}
    assert counts[("expect_year_in_range", "build_year")] == 2
    assert counts[("expect_cells_readable", "unreadable_fields")] == 1
    assert len(counts) == len(summary) and all(s["element_count"] == 3 for s in summary)


def test_validation_runs_are_kept_and_rendered_as_data_docs(tmp_path):
    import workbooks as W
    from pipelines.ingest import ingest_paths
    from pipelines.validation.runner import build_docs, docs_index, docs_stale

    db = tmp_path / "w.duckdb"
    ingest_paths([W.ledger(tmp_path)], db_path=db, today=TODAY)
    assert docs_stale(db) and docs_index(db) is None       # the run is kept; not rendered yet
    index = build_docs(db)
    assert index is not None and not docs_stale(db)
    pages = [p.name for p in index.parent.rglob("*.html")]
    assert len(pages) >= 2                                  # the index and the run's page
    html = "".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html") if p != index)
    assert "ingest_ledger" in html and "每个单元格都须能按其列的类型读取" in html


def test_each_warehouse_keeps_its_own_validation_runs(tmp_path):
    """Two warehouses in one folder: each one's GX project is its own (gx/<file name>), so the runs and
    Data Docs of one never show the other's."""
    import workbooks as W
    from pipelines.ingest import ingest_paths
    from pipelines.validation.runner import _gx_dir, docs_stale

    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert _gx_dir(a) == tmp_path / "gx" / "a.duckdb" and _gx_dir(a) != _gx_dir(b)
    src = tmp_path / "in"
    src.mkdir()
    ingest_paths([W.ledger(src)], db_path=a, today=TODAY)
    assert docs_stale(a) and not docs_stale(b)
    runs = lambda db: sorted(p.name for p in (_gx_dir(db) / "gx" / "uncommitted" / "validations").rglob("*.json")) \
        if (_gx_dir(db) / "gx").exists() else []  # noqa: E731
    assert runs(a) and runs(b) == []
