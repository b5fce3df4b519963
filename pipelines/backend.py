"""Where the warehouse lives (cli.md): an embedded DuckDB file, or a DuckLake.

``--db`` (or ``RENOVATION_DB``) is either the path of an embedded ``.duckdb`` file (the default,
nothing to run) or ``ducklake:postgres:<libpq connection string>``: a DuckLake whose catalog is a
PostgreSQL database and whose data are Parquet files under ``--data-path`` (or
``RENOVATION_DATA_PATH``), a folder or an S3-compatible URL.

A DuckLake is opened in an in-memory DuckDB, attached as ``lake`` and made the default catalog
(``USE lake``), so that every SQL model and query names ``raw.x`` / ``marts.y`` exactly as on the
embedded file. The DuckLake and postgres extensions come from the ``duckdb-ext-ducklake`` and
``duckdb-ext-postgres`` packages (signed binaries for DuckDB 1.4.4); nothing is downloaded at run
time. Readers see committed snapshots only; writers in several processes (and machines) commit
optimistically, and a transaction that lost a race on the same table fails at commit
(:func:`is_conflict`), to be run again by the caller.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

__all__ = ["Location", "locate", "mask", "MaskingFilter", "unreachable", "why_unusable", "location_of", "open_lake", "lake_capable",
           "attach", "is_conflict", "lake_writer_lock", "LAKE", "PREFIX"]

log = logging.getLogger(__name__)

PREFIX = "ducklake:postgres:"
LAKE = "lake"                        # the name the DuckLake is attached under
_REMOTE = re.compile(r"^(s3|s3a|r2|gcs|gs|https?)://", re.IGNORECASE)
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]+:)([^@\s]+)(@)", re.IGNORECASE)


@dataclass(frozen=True)
class Location:
    """An embedded warehouse file, or a DuckLake (catalog conninfo and data path)."""

    file: Path | None = None
    catalog: str | None = None       # libpq connection string of the PostgreSQL catalog
    data_path: str | None = None     # folder or S3-compatible URL of the Parquet files

    @property
    def is_lake(self) -> bool:
        return self.catalog is not None

    def __str__(self) -> str:
        return f"{PREFIX}{self.catalog}" if self.is_lake else str(self.file)

    def __fspath__(self) -> str:
        """An embedded warehouse is its file (``shutil.copy(loc, …)``, ``Path(loc)``); a DuckLake is no path."""
        if self.is_lake:
            raise TypeError("a DuckLake is not a file path")
        return str(self.file)

    def display(self) -> str:
        """For messages and logs: the catalog's password masked."""
        if not self.is_lake:
            return str(self.file)
        return f"{PREFIX}{mask(self.catalog)}" + (f"(数据目录 {self.data_path})" if self.data_path else "")

    def exists(self) -> bool:
        """Whether there is a warehouse to read (a DuckLake's catalog is asked when it is opened)."""
        return self.is_lake or (self.file is not None and self.file.exists())

    @property
    def key(self) -> str:
        """A stable identity, for caches and folders (no secret in it): a DuckLake is its catalog."""
        if not self.is_lake:
            return str(self.file)
        return "lake-" + hashlib.sha256(self.catalog.encode()).hexdigest()[:16]

    @property
    def side_dir(self) -> Path:
        """The local folder for files kept beside the warehouse (GX results, Data Docs): the
        embedded file's folder; for a DuckLake, ``lake-<hash of the catalog>`` under
        ``RENOVATION_GX_DIR`` (a shared mount, for several servers), else under ``warehouse/``.
        Not inside the data path: DuckLake's clean-up of orphaned files would remove them."""
        if not self.is_lake:
            return self.file.resolve().parent
        from pipelines.settings import DATA_DIR

        return Path(os.environ.get("RENOVATION_GX_DIR") or DATA_DIR) / self.key


def mask(text: str) -> str:
    """``text`` with the passwords of connection strings in it masked (for messages and logs)."""
    return _URI_PASSWORD.sub(r"\1***\3", _PASSWORD.sub(r"\1***", text))


class MaskingFilter(logging.Filter):
    """A filter for log handlers that masks connection-string passwords in a record, its traceback
    included (DuckDB's postgres extension names the connection string in its errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = mask(record.getMessage()), None
        except Exception:  # a malformed record: logging reports it as usual
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


_DATA_PATH_MISMATCH = re.compile(r'DATA_PATH parameter "([^"]*)" does not match existing data path '
                                 r'in the catalog "([^"]*)"')
_CANNOT_OPEN = re.compile(r'Cannot open file "([^"]+)"')
_NO_DATABASE = re.compile(r'database "([^"]+)" does not exist')
_NO_ROLE = re.compile(r'role "([^"]+)" does not exist')
_DOWN = ("Connection refused", "could not translate host name", "timeout expired", "No route to host",
         "Network is unreachable", "could not connect to server", "Name or service not known")
_LOST = ("server closed the connection", "terminating connection", "no connection to the server",
         "PostgresConnectionPool", "connection to server", "SSL connection has been closed", "could not receive data",
         "could not send data", "Unable to connect to Postgres")


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def why_unusable(exc: BaseException, loc: Location) -> str:
    """:func:`unreachable`'s reason, or the general one when the error names none."""
    return unreachable(exc, loc) or "DuckLake 目录库或数据目录不可用"


def unreachable(exc: BaseException | None, loc: Location | None) -> str | None:
    """Why a DuckLake's catalog or data folder cannot be used, in Chinese, when ``exc`` (or an
    exception it arose from) says so: PostgreSQL down, refusing the login, without the database,
    the connection lost, the data folder missing, read-only or not the one the catalog names.
    None for an embedded warehouse and for errors of another kind."""
    if loc is None or not loc.is_lake:
        return None
    texts = [str(e) for e in _chain(exc) if isinstance(e, (duckdb.Error, OSError))]
    text = "\n".join(texts)
    if not text:
        return None
    local = loc.data_path if loc.data_path and not _REMOTE.match(loc.data_path) else None
    if m := _DATA_PATH_MISMATCH.search(text):
        return (f"给出的数据目录 {m.group(1).rstrip('/')} 与目录库中记录的数据目录 {m.group(2).rstrip('/')} 不一致"
                "(请把 --data-path 或 RENOVATION_DATA_PATH 设为后者,或确认连接的是正确的目录库)")
    if "password authentication failed" in text or "no password supplied" in text:
        return "PostgreSQL 拒绝登录:用户名或密码错误(请检查连接串中的 user、password 或 ~/.pgpass)"
    if m := _NO_DATABASE.search(text):
        return f"PostgreSQL 上没有名为 {m.group(1)} 的数据库(请先 createdb,或检查连接串中的 dbname)"
    if m := _NO_ROLE.search(text):
        return f"PostgreSQL 上没有名为 {m.group(1)} 的用户(请检查连接串中的 user)"
    if "no pg_hba.conf entry" in text:
        return "PostgreSQL 不允许从本机以该用户连接(请管理员检查 pg_hba.conf)"
    if any(t in text for t in _DOWN):
        return "PostgreSQL 目录库无法连接(服务器未运行,或连接串中的主机、端口有误)"
    if any(t in text for t in _LOST):
        return "与 PostgreSQL 目录库的连接中断(服务器停止或重启)"
    missing = "No such file or directory" in text
    if missing and local is not None and not Path(local).exists():
        return f"数据目录 {local} 不存在(共享目录未挂载,或路径有误)"
    if local is None and (m := _CANNOT_OPEN.search(text)) and not _REMOTE.match(m.group(1)):
        local = str(Path(m.group(1)).parent.parent.parent)  # the catalog's: <data path>/<schema>/<table>/<file>
        if missing and not Path(local).exists():
            return f"数据目录 {local} 不存在(共享目录未挂载,或路径有误)"
    folder = local or loc.data_path or ""
    if "Read-only file system" in text or ("Permission denied" in text and folder and folder in text):
        return f"数据目录 {folder} 不可写(只读挂载或没有写入权限)"
    if "No space left on device" in text:
        return f"数据目录 {folder} 所在的磁盘已满"
    return None


def locate(db: Location | str | Path | None = None, data_path: str | Path | None = None) -> Location:
    """The warehouse named by ``db`` (else ``RENOVATION_DB``, else ``warehouse/renovation.duckdb``)
    and, for a DuckLake, ``data_path`` (else ``RENOVATION_DATA_PATH``)."""
    if isinstance(db, Location):
        if db.is_lake and data_path is not None and db.data_path is None:
            return Location(catalog=db.catalog, data_path=str(data_path))
        return db
    text = str(db) if db is not None else os.environ.get("RENOVATION_DB") or ""
    if text.startswith(PREFIX):
        dp = data_path if data_path is not None else os.environ.get("RENOVATION_DATA_PATH") or None
        if dp is not None and not _REMOTE.match(str(dp)):
            dp = str(Path(dp).resolve())
        return Location(catalog=text[len(PREFIX):], data_path=None if dp is None else str(dp))
    if text.startswith("ducklake:"):
        raise ValueError(f"不支持的 DuckLake 目录库:{text.split(':')[1]}(仅支持 ducklake:postgres:<连接串>)")
    if not text:
        from pipelines.settings import DATA_DIR

        return Location(file=DATA_DIR / "renovation.duckdb")
    return Location(file=Path(text) if text == ":memory:" else Path(text).resolve())


def location_of(con: duckdb.DuckDBPyConnection) -> Location | None:
    """The warehouse behind a connection opened by :func:`pipelines.warehouse.connect` (None in memory)."""
    row = con.execute("select path, type from duckdb_databases() where database_name = current_database()").fetchone()
    if row is None or row[0] in (None, ":memory:"):
        return None
    path, kind = row
    if kind == "ducklake":
        name = con.execute("select current_database()").fetchone()[0]
        data = con.execute(f"select value from {name}.options() where option_name = 'data_path'").fetchone()
        return Location(catalog=path.removeprefix("postgres:"), data_path=data[0] if data else None)
    return Location(file=Path(path).resolve())


def _extension_dir() -> str:
    """The folder of the extension packages (``duckdb_ext/extensions/v<version>/<platform>/``)."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("缺少 DuckLake 扩展包(duckdb-ext-ducklake、duckdb-ext-postgres),请运行 uv sync")
    return str(Path(next(iter(spec.submodule_search_locations))) / "extensions")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_lake(loc: Location, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the DuckLake at ``loc`` attached as ``lake`` and in use."""
    remote = bool(loc.data_path and _REMOTE.match(loc.data_path))
    con = lake_capable(("httpfs",) if remote else ())
    try:
        attach(con, loc, LAKE, read_only=read_only)
    except duckdb.Error as exc:
        con.close()
        if remote or "httpfs" not in str(exc):
            raise
        # the lake remembers an object-store data path that the caller did not name
        con = lake_capable(("httpfs",))
        try:
            _s3_secret(con)
            attach(con, loc, LAKE, read_only=read_only)
        except BaseException:
            con.close()
            raise
    except BaseException:
        con.close()
        raise
    con.execute(f"use {LAKE}")
    return con


_VERIFIED: set[str] = set()  # extensions whose signature this process has checked


def lake_capable(extra: tuple[str, ...] = ()) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can attach DuckLakes: the extensions loaded from their packages
    (never installed or downloaded at run time).

    DuckDB checks an extension's signature on every LOAD (about half a second each, for binaries
    of 25–50 MB). The first load in a process checks it; the library then stays loaded in the
    process, and a later DuckDB instance loads that same library without checking it again."""
    names = ("postgres_scanner", "ducklake", *extra)
    con = duckdb.connect(config={"extension_directory": _extension_dir(), "autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False,
                                 "allow_unsigned_extensions": all(n in _VERIFIED for n in names)})
    try:
        for name in names:
            con.execute(f"load {name}")
            _VERIFIED.add(name)
    except BaseException:
        con.close()
        raise
    return con


def attach(con: duckdb.DuckDBPyConnection, loc: Location, alias: str, read_only: bool = False) -> None:
    """Attach the warehouse at ``loc`` (a file, or a DuckLake on a :func:`lake_capable` connection) as ``alias``."""
    options = []
    if loc.is_lake:
        if loc.data_path and _REMOTE.match(loc.data_path):
            if "httpfs" not in _VERIFIED:
                raise RuntimeError("a remote data path needs a connection made by lake_capable(('httpfs',))")
            _s3_secret(con)
        if loc.data_path:
            options.append(f"data_path {_quote(loc.data_path)}")
    if read_only:
        options.append("read_only")
    # ATTACH takes no parameters: the path or connection string is the operator's own configuration, quoted
    con.execute(f"attach {_quote(str(loc))} as {alias}" + (f" ({', '.join(options)})" if options else ""))


def _s3_secret(con: duckdb.DuckDBPyConnection) -> None:
    """Credentials of an S3-compatible store from the usual AWS variables (AWS_ENDPOINT_URL for a
    store other than AWS, e.g. MinIO)."""
    env = os.environ
    if not env.get("AWS_ACCESS_KEY_ID"):
        return
    parts = {"key_id": env["AWS_ACCESS_KEY_ID"], "secret": env.get("AWS_SECRET_ACCESS_KEY", ""),
             "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"}
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    sql = ", ".join(f"{k} {_quote(v)}" for k, v in parts.items())
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        sql += f", endpoint {_quote(host or scheme)}, url_style 'path', use_ssl {str(scheme == 'https').lower()}"
    con.execute(f"create or replace temporary secret renovation_s3 (type s3, {sql})")


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a DuckLake commit that lost to a concurrent transaction (run it again)."""
    text = str(exc)
    return isinstance(exc, duckdb.Error) and ("Transaction conflict" in text or "conflict" in text.lower()
                                              and "DuckLake" in text)


LOCK_KEY = 0x52454E4F  # the advisory lock of this system's writers ("RENO"), per catalog database


@contextmanager
def lake_writer_lock(loc: Location, wait: float | None = None,
                     on_wait: Callable[[float], None] | None = None) -> Iterator[None]:
    """Hold the DuckLake's writer lock for the block: a PostgreSQL advisory lock in the catalog
    database, so that import jobs and other writers take turns across processes and machines
    (DuckLake itself would let two imports commit the same new file id, since appends do not
    conflict, and fail the later one's refresh at commit). The lock lives on a connection of its
    own and goes with it: PostgreSQL drops it when the holder's process dies.

    Waits at most ``wait`` seconds (None: as long as it takes), calling ``on_wait(seconds)``
    about once a second while it waits; raises TimeoutError after the wait."""
    con = lake_capable()
    try:
        con.execute("set pg_connection_limit = 1")  # one PostgreSQL session: the lock's owner
        con.execute(f"attach {_quote(loc.catalog)} as writer_lock (type postgres)")
        start = time.monotonic()
        told = start
        while not con.execute(f"select * from postgres_query('writer_lock', 'select pg_try_advisory_lock({LOCK_KEY})')"
                              ).fetchone()[0]:
            now = time.monotonic()
            if wait is not None and now - start >= wait:
                raise TimeoutError(f"另一个写入任务占用数据仓库已超过 {wait:.0f} 秒")
            if on_wait is not None and now - told >= 1.0:
                on_wait(now - start)
                told = now
            time.sleep(0.1)
        log.debug("DuckLake writer lock taken after %.2f s", time.monotonic() - start)
        try:
            yield
        finally:
            try:
                con.execute(f"call postgres_execute('writer_lock', 'select pg_advisory_unlock({LOCK_KEY})')")
            except duckdb.Error as exc:  # the session is gone (the server stopped), and its lock with it
                log.info("DuckLake writer lock not released: %s", mask(str(exc)))
    finally:
        con.close()
