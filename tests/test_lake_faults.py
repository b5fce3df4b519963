"""Faults of a DuckLake deployment (issue 13) as a user meets them: the catalog's PostgreSQL not
running, refusing the login or without the database; stopped in the middle of an import; the data
folder missing, read-only or another than the catalog's. Each time the command line and the
dashboard's read path give a true Chinese message, with no stack trace and no password in it,
the command exits 1, the warehouse stays as it was, and the re-run loads each file once.

The catalog is a private PostgreSQL server (tests/postgres.py), which these tests stop; its role
``reno`` logs in with a password, so that a wrong one is refused."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import workbooks as W
from conftest import TODAY, tmpfs

pytestmark = pytest.mark.ducklake

ROOT = Path(__file__).resolve().parent.parent
SECRET = "Lake-pw-8812"
_ENV = ("RENOVATION_DB", "RENOVATION_DATA_PATH")

# `renovation` that, at the given fault point, says so (a file) and waits until told to go on
HELD = r"""
import sys, time
from pathlib import Path
from pipelines import cli, faults

point, flag = sys.argv[1], Path(sys.argv[2])
plain = faults.reached

def reached(name):
    if name == point and not flag.exists():
        flag.touch()
        go = flag.with_name(flag.name + ".go")
        for _ in range(2400):
            if go.exists():
                break
            time.sleep(0.05)
    plain(name)

faults.reached = reached
raise SystemExit(cli.main(sys.argv[3:]))
"""


@pytest.fixture(scope="module")
def pg():
    import postgres

    server = postgres.start()
    try:
        psql(server, f"create role reno login password '{SECRET}'")
        hba = server.folder / "data" / "pg_hba.conf"
        hba.write_text("host all reno 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        psql(server, "select pg_reload_conf()")
        yield server
    finally:
        server.stop()


def psql(server, sql: str) -> None:
    subprocess.run([str(server.bindir / "psql"), server.conninfo, "-q", "-c", sql], check=True, capture_output=True)


_names = iter(range(1, 1000))


def lake(server, password: str = SECRET, dbname: str | None = None, port: int | None = None) -> str:
    """The ``--db`` of a new DuckLake on ``server`` (or of the database named, which may not exist)."""
    if dbname is None:
        dbname = f"lake_{next(_names)}"
        psql(server, f'create database "{dbname}" owner reno')
    return (f"ducklake:postgres:host=127.0.0.1 port={port or server.port} user=reno password={password} "
            f"dbname={dbname} connect_timeout=3")


@pytest.fixture
def access_db(tmp_path, monkeypatch) -> Path:
    """The action log of the commands run here (not the checkout's warehouse/access.sqlite)."""
    path = tmp_path / "access.sqlite"
    monkeypatch.setenv("RENOVATION_ACCESS_DB", str(path))
    return path


def cli(*args: str, held: tuple[str, Path] | None = None, wait: bool = True):
    cmd = [sys.executable, "-c", HELD, *map(str, held), *args] if held else [sys.executable, "-m", "pipelines.cli", *args]
    env = {k: v for k, v in os.environ.items() if k not in _ENV}
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def read(db: str, data: Path | None, monkeypatch):
    """The dashboard's read path on ``db``: the number of files, or the DataUnavailable it raised."""
    from pipelines.read.connection import DataUnavailable, query

    monkeypatch.setenv("RENOVATION_DB", db)
    if data is not None:
        monkeypatch.setenv("RENOVATION_DATA_PATH", str(data))
    else:
        monkeypatch.delenv("RENOVATION_DATA_PATH", raising=False)
    try:
        return query("select count(*) as n from raw.submissions")["n"][0]
    except DataUnavailable as exc:
        return exc


def files(db: str, data: Path | None = None) -> tuple:
    from pipelines.backend import locate
    from pipelines.warehouse import connect

    con = connect(locate(db, data), read_only=True)
    try:
        return con.execute("select count(*), count(distinct file_hash), count(distinct file_id), "
                           "(select count(*) from staging.report_rows), (select count(*) from core.submissions) "
                           "from raw.submissions").fetchone()
    finally:
        con.close()


def no_secret(*texts) -> None:
    for t in texts:
        assert SECRET not in str(t)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("lake_batch")
    for m in (7, 8, 9):
        W.monthly(d, m)
    return d


@pytest.mark.parametrize("case, reason", [
    ("port", "PostgreSQL 目录库无法连接(服务器未运行,或连接串中的主机、端口有误)"),
    ("password", "PostgreSQL 拒绝登录:用户名或密码错误"),
    ("database", "PostgreSQL 上没有名为 nowhere 的数据库"),
])
def test_an_unreachable_catalog_is_named_in_chinese(case, reason, pg, batch, tmp_path, access_db, monkeypatch, caplog):
    db = {"port": lambda: lake(pg, dbname="lake_port", port=9),
          "password": lambda: lake(pg, password=SECRET + "x"),  # a wrong one that contains the right one
          "database": lambda: lake(pg, dbname="nowhere")}[case]()
    data = tmp_path / "data"
    out = cli("ingest", "--db", db, "--data-path", data, batch)
    assert out.returncode == 1
    assert reason in out.stderr and "本次操作未做任何改动" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and "IO Error" not in out.stderr
    no_secret(out.stdout, out.stderr)
    verbose = cli("ingest", "-v", "--db", db, "--data-path", data, batch)  # the debug log, tracebacks included
    assert verbose.returncode == 1 and reason in verbose.stderr
    no_secret(verbose.stdout, verbose.stderr)
    # the dashboard: a notice that says why
    got = read(db, data, monkeypatch)
    assert not isinstance(got, int) and reason in str(got), got
    no_secret(got, caplog.text)
    if access_db.exists():
        with sqlite3.connect(access_db) as con:
            no_secret(con.execute("select * from action_log").fetchall())


def test_postgres_stopped_in_the_middle_of_an_import(pg, small_set, batch, tmp_path, access_db, monkeypatch, caplog):
    from pipelines.backend import locate
    from pipelines.ingest import ingest_paths

    db = lake(pg)
    data = tmp_path / "共享 目录" / "湖 数据"  # a data folder on a path with Chinese characters and spaces
    assert [r.status for r in ingest_paths([small_set], db_path=locate(db, data), today=TODAY)] == ["accepted"] * 8
    before = files(db)
    assert read(db, data, monkeypatch) == 8  # the dashboard's kept connection, opened now

    flag = tmp_path / "held"
    proc = cli("ingest", "--db", db, "--data-path", data, batch, held=("refresh.core", flag), wait=False)
    deadline = time.monotonic() + 300
    while not flag.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    pg.halt()  # the import is in its transaction: written, core refreshed, not committed
    try:
        flag.with_name("held.go").touch()
        out, err = proc.communicate(timeout=300)
        down = read(db, data, monkeypatch)
    finally:
        pg.resume()
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "IO Error" not in err
    no_secret(out, err)
    lines = [line for line in err.splitlines() if "文件「轮台县月报2021-0" in line]
    assert len(lines) == 3, err
    for line in lines:  # each file: not loaded, and why (not the file's fault)
        assert "整份文件未入库(数据仓库未改变)" in line and "PostgreSQL 目录库" in line, line
    assert not isinstance(down, int) and "PostgreSQL 目录库" in str(down), down
    no_secret(down, caplog.text)

    assert files(db) == before  # nothing of the import committed
    assert read(db, data, monkeypatch) == 8  # the dashboard reads again once the server is back
    check = cli("check", "--db", db, "--data-path", data)
    assert check.returncode == 0 and "检查通过" in check.stderr, check.stderr
    no_secret(check.stdout, check.stderr)

    again = cli("ingest", "--db", db, "--data-path", data, batch)
    assert again.returncode == 0 and [line[:3] for line in again.stderr.splitlines()].count("已入库") == 3, again.stderr
    n, hashes, ids, report_rows, in_core = files(db)
    assert n == hashes == ids == in_core == 11  # each file once
    assert report_rows == before[3] + sum(len(W.monthly_rows(m)) for m in (7, 8, 9))
    from pipelines.warehouse import connect

    con = connect(locate(db, data), read_only=True)
    no_secret(con.execute("select * from raw.ingest_log").fetchall())
    con.close()
    with sqlite3.connect(access_db) as c:
        no_secret(c.execute("select * from action_log").fetchall())


def test_a_missing_or_other_data_folder_is_named_and_not_called_damage(pg, small_set, batch, tmp_path, access_db,
                                                                       monkeypatch):
    from pipelines.backend import locate
    from pipelines.ingest import ingest_paths

    db = lake(pg)
    data = tmp_path / "share" / "lake"
    assert [r.status for r in ingest_paths([small_set], db_path=locate(db, data), today=TODAY)] == ["accepted"] * 8

    other = cli("ingest", "--db", db, "--data-path", tmp_path / "elsewhere", batch)  # not the catalog's folder
    assert other.returncode == 1 and f"与目录库中记录的数据目录 {data} 不一致" in other.stderr, other.stderr
    assert "OVERRIDE_DATA_PATH" not in other.stderr  # DuckDB's English advice

    data.rename(tmp_path / "share" / "moved")  # the share not mounted
    try:
        check = cli("check", "--db", db)  # the data path the catalog remembers
        ingest = cli("ingest", "--db", db, "--data-path", data, batch)
        down = read(db, data, monkeypatch)
    finally:
        (tmp_path / "share" / "moved").rename(data)
    assert check.returncode == 1 and f"数据目录 {data} 不存在" in check.stderr, check.stderr
    assert "已损坏" not in check.stderr and "renovation restore" not in check.stderr  # not damage: no restore
    assert ingest.returncode == 1 and f"数据目录 {data} 不存在" in ingest.stderr, ingest.stderr
    assert not isinstance(down, int) and f"数据目录 {data} 不存在" in str(down), down
    for out in (other, check, ingest):
        assert "Traceback" not in out.stderr
        no_secret(out.stdout, out.stderr)
    assert files(db)[0] == 8 and cli("check", "--db", db).returncode == 0


@pytest.fixture
def mount(tmp_path):
    """A small tmpfs (root only; skipped where mounting is not allowed), to be made read-only."""
    yield from tmpfs(tmp_path / "mnt", "64m")


def test_a_read_only_data_folder_rejects_the_files_and_says_why(pg, small_set, batch, mount, access_db):
    from pipelines.backend import locate
    from pipelines.ingest import ingest_paths

    db = lake(pg)
    data = mount / "lake"
    assert [r.status for r in ingest_paths([small_set], db_path=locate(db, data), today=TODAY)] == ["accepted"] * 8
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    try:
        out = cli("ingest", "--db", db, batch)  # the data path the catalog remembers
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if "文件「轮台县月报2021-0" in line]
    assert len(lines) == 3 and all(f"数据目录 {data} 不可写" in line for line in lines), out.stderr
    assert files(db)[0] == 8
    again = cli("ingest", "--db", db, batch)
    assert again.returncode == 0 and files(db)[:3] == (11, 11, 11), again.stderr


def test_a_writer_killed_holding_the_lock_lets_the_queued_import_go_on(pg, small_set, tmp_path, access_db):
    # the writer lock is PostgreSQL's advisory lock: it goes with the killed holder's session
    from pipelines.backend import locate
    from pipelines.ingest import ingest_paths

    db = lake(pg)
    data = tmp_path / "lake"
    assert [r.status for r in ingest_paths([small_set], db_path=locate(db, data), today=TODAY)] == ["accepted"] * 8
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    W.monthly(a, 7)
    W.monthly(b, 8)
    flag = tmp_path / "held"
    holder = cli("ingest", "--db", db, a, held=("refresh.core", flag), wait=False)
    deadline = time.monotonic() + 300
    while not flag.exists():
        assert holder.poll() is None and time.monotonic() < deadline, holder.communicate()
        time.sleep(0.1)
    queued = cli("ingest", "--db", db, b, wait=False)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(queued.stderr), daemon=True)
    reader.start()
    while not any("排队中" in line for line in said):  # waiting for the lock
        assert queued.poll() is None and time.monotonic() < deadline, said
        time.sleep(0.1)
    holder.kill()  # kill -9 in the middle of its transaction
    holder.communicate()
    queued.wait(timeout=300)
    reader.join(timeout=60)
    assert queued.returncode == 0 and any(line.startswith("已入库") for line in said), said
    again = cli("ingest", "--db", db, a)
    assert again.returncode == 0 and "已入库" in again.stderr, again.stderr
    assert files(db)[:3] == (10, 10, 10) and cli("check", "--db", db).returncode == 0
