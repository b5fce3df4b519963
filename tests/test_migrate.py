"""`renovation migrate`: an embedded warehouse into a DuckLake and back, every table identical.

The comparison here is independent of the one migrate runs itself: every table of both sides is
read whole into Python, rows sorted, and compared value by value."""

from __future__ import annotations

import duckdb
import pytest

from backends import new_lake
from pages_fixtures import build_warehouse
from pipelines import cli
from pipelines.backend import Location
from pipelines.migrate import compare
from pipelines.signals.verdicts import set_verdict
from pipelines.warehouse import connect

pytestmark = pytest.mark.ducklake


def dump(loc: Location) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table of our schemas: its columns and its rows, sorted."""
    con = connect(loc, read_only=True)
    try:
        out = {}
        tables = con.execute("select schema_name, table_name from duckdb_tables() where database_name = current_database() "
                             "and schema_name in ('raw', 'staging', 'core', 'marts') order by all").fetchall()
        for schema, table in tables:
            cur = con.execute(f"select * from {schema}.{table}")
            cols = [d[0] for d in cur.description]
            rows = sorted(cur.fetchall(), key=repr)
            out[f"{schema}.{table}"] = (sorted(cols), [tuple(dict(zip(cols, r))[c] for c in sorted(cols)) for r in rows])
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Location:
    """The dashboard tests' literal-row warehouse (every layer, signals, scores) in an embedded
    file, with an auditor's verdict."""
    loc = build_warehouse(Location(file=tmp_path_factory.mktemp("embedded") / "w.duckdb"))
    con = connect(loc)
    sid = con.execute("select signal_id from marts.signals order by signal_id limit 1").fetchone()[0]
    con.execute("begin")
    set_verdict(con, sid, "已排除", "审计局 张三", "迁移测试")
    con.execute("commit")
    con.close()
    return loc


def test_embedded_to_ducklake_and_back_is_identical(embedded, tmp_path, capsys):
    lake = new_lake(tmp_path / "lake")
    code = cli.main(["migrate", "--db", str(embedded), "--to", str(lake), "--data-path", lake.data_path])
    assert code == 0, capsys.readouterr().err
    assert "内容一致" in capsys.readouterr().err
    before = dump(embedded)
    assert before["raw.submissions"][1] and before["marts.signals"][1] and before["raw.verdicts"][1]
    assert dump(lake) == before
    back = Location(file=tmp_path / "back.duckdb")
    assert cli.main(["migrate", "--db", str(lake), "--to", str(back.file)]) == 0
    assert dump(back) == before


def test_migrate_refuses_a_target_with_data_and_replaces_it_with_force(embedded, tmp_path, capsys):
    lake = new_lake(tmp_path / "lake")
    assert cli.main(["migrate", "--db", str(embedded), "--to", str(lake), "--data-path", lake.data_path]) == 0
    capsys.readouterr()
    assert cli.main(["migrate", "--db", str(embedded), "--to", str(lake)]) == 1
    assert "已有数据" in capsys.readouterr().err
    assert cli.main(["migrate", "--db", str(embedded), "--to", str(lake), "--force"]) == 0
    assert dump(lake) == dump(embedded)  # replaced, not doubled


def test_the_comparison_finds_one_changed_value(embedded, tmp_path):
    lake = new_lake(tmp_path / "lake")
    assert cli.main(["migrate", "--db", str(embedded), "--to", str(lake), "--data-path", lake.data_path]) == 0
    con = connect(lake)
    con.execute("update staging.report_rows set pct_progress = pct_progress + 1 "
                "where (file_id, row_number) = (select (file_id, row_number) from staging.report_rows order by all limit 1)")
    con.close()
    assert dump(lake) != dump(embedded)
    from pipelines.backend import attach, lake_capable

    both = lake_capable()
    attach(both, embedded, "source", read_only=True)
    attach(both, lake, "target", read_only=True)
    diffs = compare(both)
    both.close()
    assert len(diffs) == 1 and diffs[0].startswith("staging.report_rows:")


def test_a_password_never_reaches_the_messages(embedded, capsys):
    code = cli.main(["migrate", "--db", str(embedded), "--to",
                     "ducklake:postgres:host=127.0.0.1 port=9 dbname=x user=u password=s3cret connect_timeout=2"])
    err = capsys.readouterr().err
    assert code == 1 and "s3cret" not in err and "Traceback" not in err


def test_duckdb_is_the_lts_the_extension_packages_are_built_for():
    from importlib.metadata import version

    assert duckdb.__version__ == "1.4.4"
    assert version("duckdb-ext-ducklake").startswith("1.4.4.") and version("duckdb-ext-postgres").startswith("1.4.4.")
