"""Issue 13 §3: the refresh of an import that loads one county's monthly reports is incremental
(pipelines.incremental), and after any sequence of single-file imports the warehouse equals, table
by table, the one a full refresh makes of the same raw data."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbooks as W
from backends import copy_of, open_db
from conftest import TODAY

from pipelines.ingest import TIMINGS, ingest_paths
from pipelines.refresh import refresh
from pipelines.warehouse import connect, transaction

pytestmark = pytest.mark.warehouse

# columns that hold when or in which batch a run happened, not what it found
_RUN_COLUMNS = {"batch_id", "ingested_at", "validated_at", "computed_at", "first_seen_at", "file_path", "path",
                "logged_at", "refreshed_at"}


def dump(loc) -> dict[str, list]:
    """Every derived and loaded table's rows, sorted, doubles rounded (a parallel sum's last bits
    vary from one run to the next), without the run's timestamps."""
    con = open_db(loc)
    try:
        out = {}
        tables = con.execute("select distinct schema_name, table_name from duckdb_columns() "
                             "where database_name = current_database() and schema_name in "
                             "('raw', 'staging', 'core', 'intermediate', 'marts') order by all").fetchall()
        for schema, table in tables:
            if f"{schema}.{table}" in ("marts.refresh_state", "raw.ingest_log", "raw.validation_results"):
                continue  # the record of the runs themselves
            cols = con.execute("select column_name, data_type from duckdb_columns() where database_name = current_database() "
                               "and schema_name = ? and table_name = ? order by column_index", [schema, table]).fetchall()
            shown = [f'round("{c}", 6)' if t == "DOUBLE" else f'"{c}"' for c, t in cols
                     if c not in _RUN_COLUMNS and not t.startswith("TIMESTAMP")]
            out[f"{schema}.{table}"] = con.execute(f"select {', '.join(shown)} from {schema}.{table} order by all").fetchall()
        return out
    finally:
        con.close()


def full_refresh_of(loc, folder: Path):
    """A copy of the warehouse with every derived layer rebuilt by the full refresh."""
    copy = copy_of(loc, folder)
    con = connect(copy)
    try:
        with transaction(con):
            refresh(con)
    finally:
        con.close()
    return copy


def _county_report(d: Path, county: str, month: int, fill: str, rows: list[list] | None = None, suffix: str = "") -> Path:
    rows = rows if rows is not None else [[county if c == "轮台县" else c for c in r] for r in W.monthly_rows(month)]
    return W.write_xlsx(d / f"{county}月报2021-{month:02d}{suffix}.xlsx", W.MONTHLY_HEADER, rows,
                        title=[f"巴州城镇老旧小区改造项目进度月报(2021年{month}月)", f"填报单位:{county}住建局  填报日期:{fill}"],
                        sheet="月报")


def _county_plan(d: Path, county: str) -> Path:
    rows = [[county, *r[1:]] for r in W.PLAN_ROWS]
    return W.write_xlsx(d / f"{county}2021年改造计划.xlsx", W.PLAN_HEADER, rows,
                        title=[f"{county}2021年城镇老旧小区改造计划", "填报日期：2020年10月21日"], sheet="计划")


def _corrected(month: int) -> list[list]:
    rows = W.monthly_rows(month)
    rows[0][8], rows[0][9] = 35, 300  # a correction of the first project's progress and investment
    return rows


def _inflated(month: int) -> list[list]:
    rows = W.monthly_rows(month)
    rows[0][4] = 400  # 户数 of 团结小区: its plan has 260 (INFLATED_SCALE, a finding of the report suite)
    return rows


def _stalled(month: int) -> list[list]:
    rows = W.monthly_rows(month)
    for r in rows:
        r[7:11] = ["", 0, 0, 0]  # not started: 轮台县 falls behind 库尔勒市 in the month's ranking
    return rows


def _rows_of(loc, sql: str) -> list:
    con = open_db(loc)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# what a step must change, so that the comparison with the full refresh covers it: a finding of the
# report suite (its rows, counts and suite results), and another county's ranks
_REPORT_FINDINGS = ("select signal_id, engine from marts.signals where rule = 'INFLATED_SCALE' and engine like 'gx:signals_report%' "
                    "union all select expectation, cast(unexpected_count as varchar) from marts.signal_suite_results "
                    "where suite_name = 'signals_report' order by all")
_OTHER_RANKS = ("select report_month, progress_rank, rank_change from marts.bulletin_counties "
                "where county_name = '库尔勒市' order by all")


def _steps(d: Path) -> list[tuple[str, Path, str]]:
    """(what, file, how its refresh runs: scoped | clock | full), in import order."""
    return [
        ("a correction of an earlier month", _county_report(d, "轮台县", 5, "2021年6月20日", _corrected(5), "更正"),
         "scoped"),
        ("a county's first report", _county_report(d, "库尔勒市", 3, "2021年4月2日"), "scoped"),
        ("a plan", _county_plan(d, "库尔勒市"), "full"),
        ("a report linked to that plan", _county_report(d, "库尔勒市", 4, "2021年5月3日", suffix="-2"), "scoped"),
        ("a resubmission of a month with a row less", _county_report(d, "库尔勒市", 4, "2021年5月6日",
                                                                    W.monthly_rows(4)[:2], "-3"), "scoped"),
        ("a new month, which moves the data clock", W.monthly(d, 7), "clock"),
        ("a report whose households exceed the plan's", _county_report(d, "轮台县", 6, "2021年7月10日", _inflated(6), "户数"),
         "scoped"),
        ("the same month again within the plan", _county_report(d, "轮台县", 6, "2021年7月12日", suffix="再报"), "scoped"),
        ("a correction that moves another county's rank", _county_report(d, "轮台县", 5, "2021年6月25日", _stalled(5), "停工"),
         "scoped"),
        ("a report of two counties", _county_report(d, "轮台县", 6, "2021年7月1日",
                                                   W.monthly_rows(6)[:2] + [["库尔勒市", *W.monthly_rows(6)[2][1:]]],
                                                   "-两县"), "full"),
    ]


_MUST_CHANGE = {"a report whose households exceed the plan's": _REPORT_FINDINGS,
                "the same month again within the plan": _REPORT_FINDINGS,
                "a correction that moves another county's rank": _OTHER_RANKS}


def test_single_file_imports_refresh_incrementally_and_equal_a_full_refresh(tmp_path, db_copy):
    d = tmp_path / "files"
    d.mkdir()
    ran = []
    for i, (what, path, expected) in enumerate(_steps(d)):
        check = _MUST_CHANGE.get(what)
        before = _rows_of(db_copy, check) if check else None
        [r] = ingest_paths([path], db_path=db_copy, today=TODAY)
        if check:
            assert _rows_of(db_copy, check) != before, f"{what}: the case it stands for did not arise"
        assert r.status == "accepted", (what, r.messages)
        how = ("full" if not TIMINGS.get("refresh.incremental")
               else "scoped" if TIMINGS.get("refresh.scoped_to_end") else "clock")
        ran.append((what, how))
        assert how == expected, what
        incremental, full = dump(db_copy), dump(full_refresh_of(db_copy, tmp_path / f"full{i}"))
        differ = sorted(t for t in set(incremental) | set(full) if incremental.get(t) != full.get(t))
        assert not differ, f"after {what}: {differ}" + "".join(
            f"\n{t}: full {[r for r in full[t] if r not in incremental[t]]}, incremental "
            f"{[r for r in incremental[t] if r not in full[t]]}" for t in differ)
    assert [h for _, h in ran].count("scoped") >= 7


def test_an_import_after_a_change_of_the_configuration_refreshes_in_full(tmp_path, db_copy, monkeypatch):
    from pipelines import refresh as refresh_module

    changed = dict(refresh_module.settings_fingerprint(), **{"thresholds.toml": "changed"})
    monkeypatch.setattr(refresh_module, "settings_fingerprint", lambda: changed)
    d = tmp_path / "files"
    d.mkdir()
    [r] = ingest_paths([_county_report(d, "轮台县", 5, "2021年6月20日", _corrected(5), "更正")], db_path=db_copy,
                       today=TODAY)
    assert r.status == "accepted"
    assert TIMINGS["refresh.incremental"] == 0.0


def test_the_full_refresh_stays_the_default(db_copy):
    con = connect(db_copy)
    try:
        timings: dict[str, float] = {}
        with transaction(con):
            refresh(con, timings=timings)
        assert timings["refresh.incremental"] == 0.0
    finally:
        con.close()


def test_an_import_into_a_warehouse_of_the_code_before_refreshes_it_as_a_full_run_would(tmp_path, db_copy):
    """A warehouse left by the code before staging.counties.prefecture_code and bulletin_counties.progress_index:
    the import's writer adds the county table's column (pipelines.warehouse.init_schema); bulletin_counties,
    whose model makes a column its table lacks, ends the county's scoped refresh (RANKS, which orders by
    that column, does not run on the old table), and the rest is built in full: the warehouse equals a
    full refresh's."""
    con = connect(db_copy)
    try:
        con.execute("alter table staging.counties drop column prefecture_code")
        con.execute("alter table marts.bulletin_counties drop column progress_index")
    finally:
        con.close()
    d = tmp_path / "files"
    d.mkdir()
    [r] = ingest_paths([_county_report(d, "轮台县", 5, "2021年6月20日", _corrected(5), "更正")], db_path=db_copy,
                       today=TODAY)
    assert r.status == "accepted", r.messages
    assert TIMINGS["refresh.incremental"] == 1.0 and not TIMINGS["refresh.scoped_to_end"]
    assert "progress_index" in [c for c, *_ in _rows_of(db_copy, "describe marts.bulletin_counties")]
    incremental, full = dump(db_copy), dump(full_refresh_of(db_copy, tmp_path / "full"))
    assert not [t for t in set(incremental) | set(full) if incremental.get(t) != full.get(t)]
