"""Issue 9, in process: every import whole or absent, no stale export without saying so, writers
in turn, readers never in a writer's way for longer than a query, true messages, backups.

Each test names the defect it guards against; each fails on the code before the fix (3d5e579).
The kill -9, concurrency and full-disk scenarios are in test_faults.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

import workbooks as W
from backends import copy_of
from conftest import TODAY, q


@pytest.fixture
def db_copy(small_db, tmp_path) -> Path:
    """This module's tests are about the embedded file (its locks, damage, backups): its path."""
    return copy_of(small_db, tmp_path).file
from pipelines import cli, refresh
from pipelines.ingest import ingest_paths
from pipelines.scoring import store as score_store
from pipelines.access.auth import SessionUser
from warehouse_snapshot import snapshot

# a county clerk of 轮台县 (the small set's county): uploads in the dashboard are a clerk's
CLERK = SessionUser("lt01", "轮台县填报员", "clerk", "652822")

ROOT = Path(__file__).resolve().parent.parent


def raw_files(db) -> int:
    return q(db, "select count(*) from raw.submissions")[0][0]


def late_resubmission(d: Path) -> Path:
    """June's report filled two months late, with a project row June's first report lacked."""
    rows = W.monthly_rows(6) + [["轮台县", 2021, "LT-2021-04", "团结北小区", 180, 500, 0, "2021-05-01", 10, 10, 0, "",
                                 "", ""]]
    return W.monthly(d, 6, fill="2021年9月20日", name="轮台县月报2021-06(补报).xlsx", rows=rows)


# --- defect 1: a late resubmission adding a row; a failing refresh ---------------------------


def test_a_late_resubmission_that_adds_a_project_row_loads_and_later_imports_still_do(tmp_path, db_copy, capsys):
    [r] = ingest_paths([late_resubmission(tmp_path)], db_path=db_copy, today=TODAY)
    assert r.status == "accepted", r.messages
    evidence = q(db_copy, "select evidence from marts.signals where rule = 'RETRO_REVISION' and community_name = '团结北小区'")
    assert evidence and "原报无此项目行" in evidence[0][0] and "新增项目行" in evidence[0][0]
    [later] = ingest_paths([W.monthly(tmp_path, 7)], db_path=db_copy, today=TODAY)
    assert later.status == "accepted"
    assert cli.main(["check", "--db", str(db_copy)]) == 0


@pytest.mark.parametrize("service", [False, True], ids=["in-process", "gx-service"])
def test_a_refresh_that_fails_leaves_raw_as_it_was_and_the_rerun_loads(tmp_path, db_copy, monkeypatch, service):
    from pipelines import ingest

    monkeypatch.setattr(ingest, "_use_service", lambda files: service)
    before = snapshot(db_copy)

    def broken(con):
        raise duckdb.ConstraintException("NOT NULL constraint failed: scores.value")

    monkeypatch.setattr(score_store, "refresh", broken)
    path = W.monthly(tmp_path, 7)
    [r] = ingest_paths([path], db_path=db_copy, today=TODAY)
    assert r.status == "rejected" and "不是文件内容的问题" in r.messages[0] and "未入库" in r.messages[0]
    after = snapshot(db_copy)
    assert {t: v for t, v in after.items() if t != "raw.ingest_log"} == {
        t: v for t, v in before.items() if t != "raw.ingest_log"}
    monkeypatch.undo()
    [again] = ingest_paths([path], db_path=db_copy, today=TODAY)
    assert again.status == "accepted" and again.rows == 3  # not 已存在(重复文件)


def test_a_file_whose_rows_break_the_refresh_does_not_stop_the_rest_of_the_batch(tmp_path, db_copy, monkeypatch):
    real = score_store.refresh

    def fails_on_august(con):
        if con.execute("select count(*) from raw.submissions where file_name like '%2021-08%'").fetchone()[0]:
            raise duckdb.ConversionException("a value the scores step cannot take")
        real(con)

    monkeypatch.setattr(score_store, "refresh", fails_on_august)
    d = tmp_path / "batch"
    d.mkdir()
    files = [W.monthly(d, m) for m in (7, 8, 9)]
    results = {Path(r.file).name: r for r in ingest_paths([d], db_path=db_copy, today=TODAY)}
    assert results[files[1].name].status == "rejected"
    assert results[files[0].name].status == results[files[2].name].status == "accepted"
    assert q(db_copy, "select count(*) from raw.submissions where file_name like '%2021-08%'") == [(0,)]
    assert cli.main(["check", "--db", str(db_copy)]) == 0


def _raw_ahead(db: Path, path: Path, monkeypatch) -> None:
    """Leave ``db`` as the code before the fix could: the file in raw and staging, the derived
    layers not refreshed with it (its refresh failed after the raw rows were committed)."""
    from pipelines import loading

    with monkeypatch.context() as m:
        m.setattr(loading, "refresh", lambda con, **kw: True)
        [r] = ingest_paths([path], db_path=db, today=TODAY)
    assert r.status == "accepted"


def test_a_file_an_interrupted_import_left_in_raw_is_completed_not_called_a_duplicate(tmp_path, db_copy,
                                                                                       monkeypatch, capsys):
    path = late_resubmission(tmp_path)
    _raw_ahead(db_copy, path, monkeypatch)
    assert cli.main(["check", "--db", str(db_copy)]) == 1
    err = capsys.readouterr().err
    assert "不在核心层" in err and path.name in err and "renovation restore" in err
    [r] = ingest_paths([path], db_path=db_copy, today=TODAY)
    assert r.status == "accepted" and "补全" in r.messages[0]
    assert q(db_copy, "select count(*) from core.submissions where file_name = ?", [path.name]) == [(1,)]
    assert cli.main(["check", "--db", str(db_copy)]) == 0


def test_flags_say_when_the_signals_are_older_than_raw_and_export_current_ones(tmp_path, db_copy, monkeypatch, capsys):
    _raw_ahead(db_copy, late_resubmission(tmp_path), monkeypatch)
    out = tmp_path / "flags.csv"
    assert cli.main(["flags", "--db", str(db_copy), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "已过期" in err and "原始层现有 9 个文件" in err and "已重新计算" in err
    assert "团结北小区" in out.read_text(encoding="utf-8-sig")  # the late file's new row, as RETRO_REVISION
    assert not refresh.stale_reasons(duckdb.connect(str(db_copy), read_only=True))


@pytest.mark.parametrize("command", [["scores", "--year", "2021"], ["flags"]])
def test_exports_say_when_the_configuration_changed_since_the_refresh(tmp_path, db_copy, monkeypatch, capsys, command):
    config = tmp_path / "config"
    shutil.copytree(refresh.CONFIG_DIR, config)
    with (config / "thresholds.toml").open("a", encoding="utf-8") as f:
        f.write("\n# changed by the test\n")
    monkeypatch.setattr(refresh, "CONFIG_DIR", config)
    out = tmp_path / "out.csv"
    assert cli.main([command[0], "--db", str(db_copy), *command[1:], "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "配置文件 thresholds.toml" in err and "已修改" in err and "已重新计算" in err
    assert cli.main([command[0], "--db", str(db_copy), *command[1:], "--out", str(out)]) == 0
    assert "已过期" not in capsys.readouterr().err  # recomputed once, current since


def test_serve_refreshes_a_warehouse_left_by_an_earlier_version_before_the_dashboard_reads_it(
        tmp_path, db_copy, monkeypatch, capsys):
    """An upgrade brings new configuration (this stop: prefectures.csv) and marts with new columns
    (bulletin_counties.prefecture_code); the dashboard only reads, so before it starts, serve
    refreshes a warehouse whose refresh is older than the configuration (it showed 加载失败 on 进度总览
    and 月度通报 until the next import)."""
    import contextlib

    from pipelines.validation import service

    con = duckdb.connect(str(db_copy))
    con.execute("update marts.refresh_state set settings = '{}'")  # as recorded by an earlier version
    con.close()
    started = []
    monkeypatch.setattr(service, "warm", contextlib.nullcontext)
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd, **kw: started.append(cmd) or 0)
    assert cli.main(["serve", "--db", str(db_copy)]) == 0
    err = capsys.readouterr().err
    assert "启动看板之前" in err and "已重新计算,看板显示的是当前结果" in err and started
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        assert refresh.stale_reasons(con) == []
    finally:
        con.close()
    assert cli.main(["serve", "--db", str(db_copy)]) == 0
    assert "已过期" not in capsys.readouterr().err  # current since: no second refresh


def _as_before_the_prefecture_column(db) -> None:
    """The warehouse as the code before staging.counties.prefecture_code and bulletin_counties.progress_index
    left it (same configuration: nothing else tells that it is older)."""
    con = duckdb.connect(str(db))
    con.execute("alter table staging.counties drop column prefecture_code")
    con.execute("alter table marts.bulletin_counties drop column progress_index")
    con.close()


def test_serve_upgrades_a_warehouse_from_before_the_prefecture_column(tmp_path, db_copy, monkeypatch, capsys):
    """The dashboard reads the units' prefecture from staging.counties.prefecture_code, which a warehouse
    of an earlier version lacks (加载失败 on every page): it is stale for that reason, and serve's refresh
    adds the column, written from each unit's code."""
    import contextlib

    from pipelines.counties import prefecture_of
    from pipelines.validation import service

    _as_before_the_prefecture_column(db_copy)
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        assert any("staging.counties" in r for r in refresh.stale_reasons(con))
    finally:
        con.close()
    monkeypatch.setattr(service, "warm", contextlib.nullcontext)
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd, **kw: 0)
    assert cli.main(["serve", "--db", str(db_copy)]) == 0
    assert "启动看板之前" in capsys.readouterr().err
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        assert refresh.stale_reasons(con) == []
        units = con.execute("select county_code, prefecture_code from staging.counties").fetchall()
        assert len(units) >= 10 and all(p == prefecture_of(c) for c, p in units)
    finally:
        con.close()


def test_an_export_whose_recompute_fails_exports_nothing_and_says_so(tmp_path, db_copy, monkeypatch, capsys):
    _raw_ahead(db_copy, late_resubmission(tmp_path), monkeypatch)
    monkeypatch.setattr(score_store, "refresh", lambda con: (_ for _ in ()).throw(RuntimeError("broken")))
    out = tmp_path / "flags.csv"
    assert cli.main(["flags", "--db", str(db_copy), "--out", str(out)]) == 1
    assert "未导出风险线索" in capsys.readouterr().err and not out.exists()


# --- defect 4: writers in turn ---------------------------------------------------------------


def test_two_imports_at_once_in_one_process_both_load(tmp_path, db_copy, capsys):
    """The dashboard runs each session in a thread: two uploads at once must both load."""
    batches = []
    for m in (7, 8):
        d = tmp_path / f"b{m}"
        d.mkdir()
        batches.append([W.monthly(d, m), W.monthly(d, m, fill=f"2021年{m + 1}月9日", name=f"更正{m}.xlsx")])
    results = {}

    def run(i):
        results[i] = ingest_paths(batches[i], db_path=db_copy, today=TODAY)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for i in (0, 1) for r in results.get(i, [])] == ["accepted"] * 4
    assert "排队中" in capsys.readouterr().err
    assert raw_files(db_copy) == 12 and cli.main(["check", "--db", str(db_copy)]) == 0


def test_a_writer_gives_up_after_its_wait_and_says_who_holds_the_warehouse(tmp_path, db_copy):
    from pipelines import locking

    got = threading.Event()
    release = threading.Event()

    def hold():
        with locking.writer_lock(db_copy, what="恢复备份"):
            got.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    got.wait(5)
    try:
        with pytest.raises(locking.WarehouseBusy, match="恢复备份.*已等待 0 秒"):
            with locking.writer_lock(db_copy, wait=0.2):
                pass
    finally:
        release.set()
        t.join()


# --- defect 5: readers and the cache key -------------------------------------------------------


def test_page_queries_never_keep_an_import_out(tmp_path, db_copy, monkeypatch):
    from pipelines.read import connection

    monkeypatch.setenv("RENOVATION_DB", str(db_copy))
    stop = threading.Event()
    done = []

    def pages():  # page views without pause, as busy sessions would make them
        while not stop.is_set():
            done.append(connection.query("select count(*) as n from core.report_rows")["n"][0])

    readers = [threading.Thread(target=pages) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        time.sleep(0.3)
        proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", "--db", str(db_copy),
                               str(W.monthly(tmp_path, 7))], cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert proc.returncode == 0, proc.stderr
    assert done and raw_files(db_copy) == 9


def test_the_cache_key_changes_with_every_write_the_log_included(tmp_path, db_copy, monkeypatch):
    from pipelines.read import connection

    monkeypatch.setenv("RENOVATION_DB", str(db_copy))
    before = connection.version_key()
    # a writer killed after its commit, before the checkpoint: the commit is only in the log
    code = ("import duckdb, os, signal; c = duckdb.connect(%r); c.execute('set checkpoint_threshold = \"1GB\"'); "
            "c.execute(\"insert into raw.verdicts (signal_id, verdict, decided_by, decided_at, rule) values "
            "('x', '待核查', 't', now(), 'R')\"); os.kill(os.getpid(), signal.SIGKILL)") % str(db_copy)
    subprocess.run([sys.executable, "-c", code])
    assert Path(str(db_copy) + ".wal").exists()
    after_log = connection.version_key()
    assert after_log != before
    assert connection.query("select count(*) as n from raw.verdicts")["n"][0] == 1  # read from the log
    [r] = ingest_paths([W.monthly(tmp_path, 7)], db_path=db_copy, today=TODAY)
    assert r.status == "accepted" and connection.version_key() not in (before, after_log)


# --- defect 8: true messages ---------------------------------------------------------------------


def test_an_upload_with_a_120_character_name_loads_under_that_name(tmp_path, db_copy, monkeypatch):
    from pipelines.read import actions

    monkeypatch.setenv("RENOVATION_DB", str(db_copy))
    name = "巴音郭楞蒙古自治州轮台县住房和城乡建设局关于报送" + "二〇二一年七月城镇老旧小区改造项目进度月报" * 5 + "的函.xlsx"
    assert len(name) >= 120 and len(name.encode()) > 255
    [r] = actions.ingest_uploads([(name, W.monthly(tmp_path, 7).read_bytes())], CLERK)
    assert r.status == "accepted", r.messages
    assert q(db_copy, "select file_name from raw.submissions where file_id = ?", [r.file_id]) == [(name,)]


def test_a_copy_of_a_rejected_file_in_the_same_batch_gets_the_same_rejection(tmp_path, db_copy):
    d = tmp_path / "batch"
    d.mkdir()
    header = [h for h in W.LEDGER_HEADER if h != "户数"]
    bad = W.write_xlsx(d / "缺列台账.xlsx", header, [r[:7] + r[8:] for r in W.LEDGER_ROWS])
    shutil.copy(bad, d / "缺列台账(副本).xlsx")
    first, copy = ingest_paths([bad, d / "缺列台账(副本).xlsx"], db_path=db_copy, today=TODAY)
    assert first.status == copy.status == "rejected"
    assert any("缺少必填列" in m and "文件「缺列台账(副本).xlsx」" in m for m in copy.messages)
    assert not any("已存在" in m or "已入库" in m for m in copy.messages)


def test_an_exe_sent_past_the_browsers_filter_is_rejected_in_chinese(tmp_path, db_copy, monkeypatch):
    from pipelines.read import actions

    monkeypatch.setenv("RENOVATION_DB", str(db_copy))
    [r] = actions.ingest_uploads([("setup.exe", b"MZ\x90\x00" + b"\x00" * 200)], CLERK)
    assert r.status == "rejected" and "不支持的文件类型" in r.messages[0] and "setup.exe" in r.messages[0]
    # Streamlit checks suffixes on the server only when no MIME type is listed (then it fails the
    # page in English); with one listed, the file reaches the ingest
    from streamlit.elements.lib.file_uploader_utils import enforce_filename_restriction

    enforce_filename_restriction("setup.exe", actions.accepted_types())


def truncate(db: Path) -> None:
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size // 3)


def test_a_damaged_warehouse_is_called_damaged_with_the_restore_command_never_busy(tmp_path, db_copy, monkeypatch,
                                                                                   capsys):
    from pipelines.read import connection

    truncate(db_copy)
    size = db_copy.stat().st_size
    assert cli.main(["ingest", "--db", str(db_copy), str(W.monthly(tmp_path, 7))]) == 1
    err = capsys.readouterr().err
    assert "已损坏" in err and "renovation restore" in err and "Traceback" not in err
    assert db_copy.stat().st_size == size
    monkeypatch.setenv("RENOVATION_DB", str(db_copy))
    with pytest.raises(connection.DataUnavailable) as e:
        connection.query("select count(*) from raw.source_rows")
    assert "已损坏" in str(e.value) and "renovation restore" in str(e.value) and "正被" not in str(e.value)
    assert "上传" not in str(e.value)


# --- defect 9: backup, restore, check, serve, make clean ----------------------------------------


def test_backup_while_a_page_reads_and_an_import_waits_then_restore_needs_force(tmp_path, db_copy, capsys):
    reader = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db_copy)!r}, "
                               "read_only=True); print('ok', flush=True); time.sleep(2)"], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ok"
    out = tmp_path / "backups"
    out.mkdir()
    assert cli.main(["backup", "--db", str(db_copy), str(out)]) == 0
    reader.wait()
    [copy] = list(out.glob("*.duckdb"))
    assert snapshot(copy) == snapshot(db_copy)
    assert cli.main(["backup", "--db", str(db_copy), str(copy)]) == 1  # never overwrites
    [r] = ingest_paths([W.monthly(tmp_path, 7)], db_path=db_copy, today=TODAY)
    assert r.status == "accepted"
    capsys.readouterr()
    assert cli.main(["restore", "--db", str(db_copy), str(copy)]) == 1
    assert "--force" in capsys.readouterr().err and raw_files(db_copy) == 9
    assert cli.main(["restore", "--db", str(db_copy), str(copy), "--force"]) == 0
    assert raw_files(db_copy) == 8 and snapshot(db_copy) == snapshot(copy)
    [kept] = list(db_copy.parent.glob("w.duckdb.replaced-*"))
    assert q(kept, "select count(*) from raw.submissions") == [(9,)]


def test_restore_refuses_a_damaged_backup(tmp_path, db_copy, capsys):
    bad = tmp_path / "bad.duckdb"
    shutil.copy(db_copy, bad)
    truncate(bad)
    assert cli.main(["restore", "--db", str(db_copy), str(bad), "--force"]) == 1
    assert "不是完好的数据仓库备份" in capsys.readouterr().err and raw_files(db_copy) == 8


def test_check_fails_on_a_damaged_warehouse_with_the_restore_command(db_copy, capsys):
    assert cli.main(["check", "--db", str(db_copy)]) == 0
    truncate(db_copy)
    assert cli.main(["check", "--db", str(db_copy)]) == 1
    err = capsys.readouterr().err
    assert "损坏" in err and "renovation restore" in err and "Traceback" not in err


def test_serve_never_creates_a_mistyped_warehouse_nor_offers_the_demo_to_a_damaged_one(tmp_path, db_copy, capsys,
                                                                                         monkeypatch):
    started = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: started.append(cmd) or 0)
    typo = tmp_path / "renovaton.duckdb"
    assert cli.main(["serve", "--db", str(typo)]) == 1
    assert not typo.exists() and not started and "不存在" in capsys.readouterr().err
    assert cli.main(["serve", "--db", str(db_copy)]) == 0  # a real warehouse: served as it is
    assert started[-1][started[-1].index("--server.address") + 1] == "localhost"
    assert cli.main(["serve", "--db", str(db_copy), "--demo"]) == 1  # no demo into real data
    assert "不载入演示数据" in capsys.readouterr().err and raw_files(db_copy) == 8
    assert cli.main(["serve", "--db", str(db_copy), "--host", "0.0.0.0"]) == 0
    assert started[-1][started[-1].index("--server.address") + 1] == "0.0.0.0"
    truncate(db_copy)
    n = len(started)
    assert cli.main(["serve", "--db", str(db_copy)]) == 1
    err = capsys.readouterr().err
    assert "renovation restore" in err and "演示" not in err and len(started) == n


def test_make_clean_deletes_a_demo_warehouse_and_leaves_a_real_one(tmp_path, db_copy):
    def tree(warehouse: Path | None) -> Path:
        d = tmp_path / ("demo" if warehouse is None else "real")
        (d / ".venv" / "bin").mkdir(parents=True)
        python = d / ".venv" / "bin" / "python"
        python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
        python.chmod(0o755)
        shutil.copy(ROOT / "Makefile", d / "Makefile")
        (d / "warehouse").mkdir()
        return d

    real = tree(db_copy)
    shutil.copy(db_copy, real / "warehouse" / "renovation.duckdb")
    demo = tree(None)
    con = duckdb.connect(str(demo / "warehouse" / "renovation.duckdb"))
    con.execute("create schema raw; create table raw.submissions (file_id int, batch_id varchar)")
    con.execute("insert into raw.submissions values (1, 'demo-20260101T000000-abcdef')")
    con.close()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    for d in (real, demo):
        proc = subprocess.run(["make", "-C", str(d), "clean"], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    assert (real / "warehouse" / "renovation.duckdb").exists()
    assert not (demo / "warehouse" / "renovation.duckdb").exists()


def test_an_empty_new_warehouse_passes_the_check(tmp_path):
    from pipelines import operations

    db = tmp_path / "new.duckdb"
    [r] = ingest_paths([tmp_path / "不存在.xlsx"], db_path=db, today=TODAY)
    assert r.status == "rejected"
    assert operations.problems(db) == ([], False)


def test_migrate_upgrades_a_warehouse_of_an_earlier_version_before_copying_it(tmp_path, db_copy, capsys):
    """A copy of a warehouse from before staging.counties.prefecture_code could not be identical to its
    source: migrate upgrades the source first (as serve and the exports do), says so, then copies."""
    from pipelines.migrate import migrate

    _as_before_the_prefecture_column(db_copy)
    target = tmp_path / "copy.duckdb"
    with pytest.raises(ValueError, match="早于当前版本"):  # the copy alone refuses, with a reason
        migrate(db_copy, target)
    assert cli.main(["migrate", "--db", str(db_copy), "--to", str(target)]) == 0
    err = capsys.readouterr().err
    assert "迁移之前" in err and "内容一致" in err
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert con.execute("select count(*) from staging.counties where prefecture_code is null").fetchone()[0] == 0
    finally:
        con.close()


READER_AT_EXIT = """
import atexit, sys
from pipelines.read import connection
assert connection.query("select count(*) as n from core.report_rows")["n"][0] > 0
shared = connection._SHARED
assert shared.watcher is not None and shared.watcher.is_alive() and shared.con is not None
atexit._run_exitfuncs()  # what the interpreter runs first when it exits
print("watcher", shared.watcher.is_alive(), "connection", shared.con is not None)
"""


def test_the_idle_reader_is_closed_on_the_main_thread_when_the_process_exits(db_copy):
    """The dashboard's shared read connection is closed by a daemon thread after two idle seconds. Were
    the process to exit while that thread is inside DuckDB's close, the thread could not take the GIL
    back and the process aborted (``terminate called without an active exception``, exit status 134:
    about one test run in three of a module that reads through it). At exit the watcher now ends and
    the connection is closed first, on the main thread."""
    import os

    out = subprocess.run([sys.executable, "-c", READER_AT_EXIT], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, RENOVATION_DB=str(db_copy)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["watcher", "False", "connection", "False"], out.stdout
