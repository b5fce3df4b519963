"""Operating the warehouse (cli.md, "Operating the system"): backup, restore, integrity check,
what ``serve`` may load, whether an export's results are current, and what ``make clean`` may
delete.

- ``renovation backup OUT``: a copy taken under the writer lock (no import can be half-way
  through it; the dashboard's readers do not write), merged with its write-ahead log when one
  was left, verified by opening and reading every table, then renamed into place.
- ``renovation restore IN [--force]``: IN is checked first; an existing warehouse is replaced
  only with ``--force`` and is kept beside it as ``<name>.replaced-<time>`` (with its log).
- ``renovation check``: the file opens and every table reads to the end; every file of raw is
  in staging with all its rows and in core; the derived layers were refreshed after the last
  import. Exit 1, with the advice to restore, when it fails.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sys
from pathlib import Path

import duckdb

from pipelines.backend import Location, locate, mask, unreachable
from pipelines.locking import (UNUSABLE, WarehouseBusy, WarehouseDamaged, WarehouseError, claim_writing, open_warehouse,
                               restore_advice, writer_lock)
from pipelines.refresh import raw_ahead, refresh, stale_reasons
from pipelines.settings import DATA_DIR
from pipelines.warehouse import table_exists, transaction

__all__ = ["backup", "restore", "check", "problems", "ensure_fresh", "prepare_serve", "is_demo_only",
           "DEMO_LABEL"]

log = logging.getLogger(__name__)

DEMO_LABEL = "demo"  # batch ids of the demo data start with it (pipelines.cli, `renovation demo`)
_LAYERS = ("raw", "staging", "core", "intermediate", "marts")
# the tables every warehouse has from its creation on (the derived ones come with the first import)
_NEEDED = ("raw.submissions", "raw.source_rows", "raw.ingest_log", "staging.ledger_rows", "staging.plan_rows",
           "staging.report_rows")


def _where(db) -> Path | Location:
    """A DuckLake's location, or an embedded warehouse's path."""
    loc = db if isinstance(db, Location) else locate(db) if str(db).startswith("ducklake:") else None
    return loc if loc is not None and loc.is_lake else Path(db)


def _name(db: Path | Location) -> str:
    """How a message names the warehouse (a DuckLake's password masked)."""
    return db.display() if isinstance(db, Location) else str(db)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _wal(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the integrity check ---------------------------------------------------------------------


def _scan(con: duckdb.DuckDBPyConnection, lake: Location | None = None) -> list[str]:
    """Read every table of every layer to its end (every block's checksum is verified on read).
    Raises when a DuckLake's catalog or data folder cannot be reached (that is no damage)."""
    out = []
    missing = [t for t in _NEEDED if not table_exists(con, t)]
    if missing:
        out.append(f"缺少数据表:{'、'.join(missing)}")
    tables = con.execute("select table_schema, table_name from information_schema.tables "
                         "where table_schema in (select unnest(?)) order by all", [list(_LAYERS)]).fetchall()
    for schema, name in tables:
        try:
            con.execute(f'select count(*), bit_xor(hash(t)) from "{schema}"."{name}" as t').fetchone()
        except duckdb.Error as exc:
            if unreachable(exc, lake) is not None:
                raise
            log.info("cannot read %s.%s: %s", schema, name, exc)
            out.append(f"数据表 {schema}.{name} 无法完整读取(文件已损坏)")
    return out


def _layers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every file of raw in staging with all its rows, and in core; the derived layers current."""
    out = []
    files = con.execute("select count(*) from raw.submissions").fetchone()[0]
    if not files:
        return []
    if not table_exists(con, "core.submissions"):
        return [f"原始层有 {files} 个文件,但核心层尚未生成"]
    staged = " union all ".join(f"select file_id, count(*) as n from staging.{t} group by file_id"
                                for t in ("ledger_rows", "plan_rows", "report_rows"))
    short = con.execute(
        f"""select s.file_id, s.file_name, s.row_count + s.rejected_row_count, coalesce(st.n, 0)
            from raw.submissions as s left join ({staged}) as st using (file_id)
            where coalesce(st.n, 0) <> s.row_count + s.rejected_row_count order by s.file_id""").fetchall()
    for fid, name, want, got in short[:20]:
        out.append(f"文件「{name}」(编号 {fid})应有 {want} 行整理后的数据,整理层只有 {got} 行")
    absent = con.execute(
        "select file_id, file_name from raw.submissions where row_count > 0 "
        "and file_id not in (select file_id from core.submissions) order by file_id").fetchall()
    for fid, name in absent[:20]:
        out.append(f"文件「{name}」(编号 {fid})在原始层,但不在核心层(core.submissions)")
    if len(absent) > 20:
        out.append(f"……另有 {len(absent) - 20} 个文件不在核心层")
    if raw_ahead(con):
        out.append("汇总层(core、marts)早于原始层:最近一次导入后没有完成刷新")
    return out


def problems(db: Path | str) -> tuple[list[str], bool]:
    """What is wrong with the warehouse at ``db`` (Chinese; empty when it is sound), and whether
    the file itself is damaged (rather than its layers out of step). Raises
    :class:`WarehouseBusy` when it cannot be opened for the wait."""
    db = _where(db)
    if not db.exists():
        return [f"数据仓库文件 {db} 不存在"], False
    try:
        con = open_warehouse(db, read_only=True)
    except WarehouseBusy:
        raise
    except WarehouseDamaged:
        return ["文件已损坏或不完整,无法打开"], True
    except WarehouseError as exc:
        return [str(exc)], False
    try:
        found = _scan(con, db if isinstance(db, Location) else None)
        if found:
            return found, True
        return _layers(con), False
    except duckdb.Error as exc:
        log.info("check of %s failed: %s", _name(db), mask(str(exc)))
        why = unreachable(exc, db if isinstance(db, Location) else None)
        if why is not None:  # PostgreSQL stopped, the data folder not mounted: not damage
            return [f"{UNUSABLE} {_name(db)}:{why}"], False
        return ["数据仓库无法完整读取(文件已损坏)"], True
    finally:
        con.close()


def check(db: Path | str) -> int:
    """``renovation check``: 0 when the warehouse is sound, else 1 with the problems and the advice."""
    db = _where(db)
    found, damaged = problems(db)
    if found:
        _say(f"数据仓库 {_name(db)} 检查未通过:")
        for p in found:
            _say(f"  - {p}")
        if isinstance(db, Location) and not damaged and any(p.startswith(UNUSABLE) for p in found):
            _say("这不是数据损坏,不要用备份恢复:请系统管理员按上面的原因检查 PostgreSQL 目录库与数据目录,处理后再运行 renovation check。")
        else:
            _say(restore_advice(_name(db)) if db.exists() else "请检查 --db 的路径;如文件已丢失,请用 renovation restore 备份文件 恢复。")
        return 1
    con = open_warehouse(db, read_only=True)
    try:
        files = con.execute("select count(*) from raw.submissions").fetchone()[0]
        notes = stale_reasons(con)
    finally:
        con.close()
    _say(f"数据仓库 {_name(db)} 检查通过:文件可正常打开,各层数据表均可完整读取,原始层 {files} 个文件全部在整理层与核心层。")
    for n in notes:
        _say(f"  提示:{n};导出风险线索、得分或报告时会先按当前配置重新计算。")
    return 0


# --- backup and restore ----------------------------------------------------------------------


def backup(db: Path | str, out: Path | str) -> int:
    """``renovation backup OUT``: a consistent copy of the warehouse (OUT a file, or a folder for
    a time-stamped file in it). Never overwrites."""
    db, out = Path(db), Path(out)
    if not db.exists():
        _say(f"数据仓库 {db} 不存在,无可备份。")
        return 1
    if out.is_dir():
        out = out / f"{db.stem}-{dt.datetime.now():%Y%m%d-%H%M%S}{db.suffix or '.duckdb'}"
    if out.exists():
        _say(f"{out} 已存在,未覆盖;请换一个文件名(或给出一个文件夹,备份按时间命名)。")
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    with writer_lock(db, what="备份数据仓库", on_wait=_say):
        if _wal(db).exists():  # left by an interrupted writer: merged first, so the copy is one file
            con = open_warehouse(db)
            try:
                con.execute("checkpoint")
            finally:
                con.close()
        shutil.copyfile(db, part)
    _fsync(part)
    found, damaged = problems(part)
    if damaged:
        part.unlink(missing_ok=True)
        _say(f"备份未完成:复制出的文件无法完整读取({';'.join(found)})。数据仓库本身可能已损坏,请运行 renovation check。")
        return 1
    for p in found:
        _say(f"提示(数据仓库本身如此,备份照常保存):{p}")
    os.replace(part, out)
    _say(f"已备份到 {out}({out.stat().st_size / 2**20:.1f} MiB),已验证可以打开并完整读取。"
         f"恢复:renovation restore {out} --db {db} --force")
    return 0


def restore(db: Path | str, src: Path | str, force: bool = False) -> int:
    """``renovation restore IN [--force]``: replace the warehouse with a checked backup; the
    replaced file is kept as ``<name>.replaced-<time>``. Into a DuckLake: the backup's tables
    replace the lake's (``renovation migrate --force``; the lake's snapshots keep the old state)."""
    db, src = _where(db), Path(src)
    if isinstance(db, Location):
        if not src.is_file():
            _say(f"备份文件 {src} 不存在。")
            return 1
        if not force:
            _say(f"确认要用 {src} 替换数据仓库 {db.display()} 的内容,请加 --force。")
            return 1
        from pipelines.migrate import run_migrate

        with writer_lock(db, what="恢复备份", on_wait=_say):
            return run_migrate(locate(src), db, True)
    if not src.is_file():
        _say(f"备份文件 {src} 不存在。")
        return 1
    if db.exists() and src.resolve() == db.resolve():
        _say("备份文件与数据仓库是同一个文件,未做任何改动。")
        return 1
    found, damaged = problems(src)
    if damaged or (found and not table_exists_in(src)):
        _say(f"{src} 不是完好的数据仓库备份,未恢复:{';'.join(found)}")
        return 1
    for p in found:
        _say(f"提示(备份本身如此):{p}")
    if db.exists() and not force:
        _say(f"数据仓库 {db} 已存在,未恢复。确认要用 {src} 替换它,请加 --force(被替换的文件会改名保留在原目录)。")
        return 1
    db.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    with writer_lock(db, what="恢复备份", on_wait=_say):
        claim_writing(db)  # the dashboard lets go of the file it replaces
        part = db.with_name(db.name + ".restoring")
        shutil.copyfile(src, part)  # a new file: a new inode and time, so every cached page result is dropped
        _fsync(part)
        if db.exists():
            kept = db.with_name(f"{db.name}.replaced-{dt.datetime.now():%Y%m%d-%H%M%S}")
            os.replace(db, kept)
        if _wal(db).exists():  # the replaced file's log must not be replayed onto the restored one
            os.replace(_wal(db), (kept or db).with_name((kept or db).name + ".wal"))
        os.replace(part, db)
    _say(f"已从 {src} 恢复数据仓库 {db}" + (f";被替换的文件保留为 {kept}" if kept else "") + "。")
    return 0


def table_exists_in(db: Path) -> bool:
    """Whether ``db`` is a warehouse at all (has raw.submissions)."""
    con = open_warehouse(db, read_only=True)
    try:
        return table_exists(con, "raw.submissions")
    finally:
        con.close()


# --- exports: never stale without saying so ---------------------------------------------------


def ensure_fresh(db: Path | str, product: str, before: str | None = None) -> bool:
    """Before an export (风险线索, 得分, 报告), or before ``serve`` starts the dashboard (``before``
    names the step): when the derived layers are older than raw or the configuration, say why and
    refresh them (under the writer lock, in one transaction). False, having said why, when the
    refresh fails: the caller exports nothing."""
    db = _where(db)
    if not db.exists():
        return True
    con = open_warehouse(db, read_only=True)
    try:
        reasons = stale_reasons(con)
    finally:
        con.close()
    if not reasons:
        return True
    _say(f"{before or '导出' + product}之前:汇总结果已过期({';'.join(reasons)}),正在按当前数据与配置重新计算 …")
    try:
        with writer_lock(db, what=f"导出{product}前重新计算", on_wait=_say):
            con = open_warehouse(db)
            try:
                if stale_reasons(con):  # another writer may have refreshed meanwhile
                    with transaction(con):
                        con.execute("set enable_progress_bar = false")  # stdout may be the export itself
                        refresh(con)
            finally:
                con.close()
    except WarehouseError:
        raise
    except Exception:
        log.info("refresh before export failed", exc_info=True)
        _say(f"重新计算失败,{'看板仍显示上次计算的结果' if before else '未导出' + product}(数据仓库未改变)。"
             "请运行 renovation check 检查数据仓库,并联系系统管理员。")
        return False
    _say("已重新计算," + ("看板显示的是当前结果。" if before else "导出的是当前结果。"))
    return True


# --- serve and clean -------------------------------------------------------------------------


def is_demo_only(db: Path | str) -> bool:
    """Whether the warehouse holds nothing but the demo data (or nothing): ``make clean`` may
    delete it. False when in doubt (unreadable, busy, a DuckLake)."""
    if isinstance(_where(db), Location):
        return False
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return False
    try:
        if not table_exists(con, "raw.submissions"):
            return True
        return con.execute("select count(*) from raw.submissions where not starts_with(batch_id, ?)",
                           [DEMO_LABEL + "-"]).fetchone()[0] == 0
    except duckdb.Error:
        return False
    finally:
        con.close()


def default_demo_path() -> Path:
    return (DATA_DIR / "renovation.duckdb").resolve()


def prepare_serve(db: Path | str, demo: bool) -> tuple[int | None, bool]:
    """What ``serve`` does before starting the dashboard on ``db``: (exit status to stop with, or
    None to serve; whether to load the demo first). The demo is loaded only into the default
    demo path or with ``--demo``, and only into a missing or empty warehouse; a damaged one gets
    the restore command, a missing one elsewhere (a typo in --db) is not created. A DuckLake is
    opened (its schema created the first time) and gets the demo only with ``--demo`` when empty."""
    db = _where(db)
    if isinstance(db, Location):
        con = open_warehouse(db)
        try:
            empty = con.execute("select count(*) from raw.submissions").fetchone()[0] == 0
        finally:
            con.close()
        return None, demo and empty
    demo_path = db.resolve() == default_demo_path()
    if not db.exists():
        if demo or demo_path:
            return None, True
        _say(f"数据仓库文件 {db} 不存在(--db 或 RENOVATION_DB 的路径是否写错?),看板未启动,也没有新建文件。"
             "要新建数据仓库,请先导入台账等文件:renovation ingest --db 路径 文件…;要看演示数据,请加 --demo。")
        return 1, False
    found, damaged = problems(db)
    empty = False
    if found:
        _say(f"数据仓库 {db} 检查未通过:" + ";".join(found))
        if damaged:
            _say(restore_advice(db))
            return 1, False
        _say("看板照常启动;请运行 renovation check 查看详情。")
    else:
        con = open_warehouse(db, read_only=True)
        try:
            empty = con.execute("select count(*) from raw.submissions").fetchone()[0] == 0
        finally:
            con.close()
    if empty and (demo or demo_path):
        return None, True
    if demo and not empty and not is_demo_only(db):
        _say(f"数据仓库 {db} 已有演示数据以外的数据,不载入演示数据(--demo 只用于空的或演示用的数据仓库)。")
        return 1, False
    return None, False


if __name__ == "__main__":  # `python -m pipelines.operations demo-only PATH` (make clean)
    if len(sys.argv) == 3 and sys.argv[1] == "demo-only":
        raise SystemExit(0 if is_demo_only(sys.argv[2]) else 1)
    raise SystemExit(2)
