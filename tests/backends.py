"""The backend the warehouse tests run on: the embedded DuckDB file (default) or a DuckLake on a
real PostgreSQL with a local data folder (``RENOVATION_TEST_BACKEND=ducklake``).

The PostgreSQL server is the one named by ``RENOVATION_TEST_PG`` (``make test`` starts one with
tests/postgres.py), else one started here for the session. Each warehouse a test makes is a new
database on that server and a new data folder.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import duckdb

from pipelines.backend import Location, location_of
from pipelines.warehouse import connect

BACKEND = os.environ.get("RENOVATION_TEST_BACKEND", "embedded")
if BACKEND not in ("embedded", "ducklake"):
    raise RuntimeError(f"RENOVATION_TEST_BACKEND must be embedded or ducklake, not {BACKEND!r}")
LAKE = BACKEND == "ducklake"

if LAKE and not os.environ.get("RENOVATION_GX_DIR"):  # the lakes' GX results: not in the checkout's warehouse/
    os.environ["RENOVATION_GX_DIR"] = tempfile.mkdtemp(prefix="renovation-gx-")

_server = None
_root: Path | None = None
_names = itertools.count(1)


def _conninfo() -> str:
    """The test PostgreSQL server (started on first use when RENOVATION_TEST_PG is not set)."""
    global _server
    if os.environ.get("RENOVATION_TEST_PG"):
        return os.environ["RENOVATION_TEST_PG"]
    if _server is None:
        import postgres

        _server = postgres.start()
        atexit.register(_server.stop)
        os.environ["RENOVATION_TEST_PG"] = _server.conninfo  # for subprocesses too
    return _server.conninfo


def _scratch() -> Path:
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="renovation-test-"))
        atexit.register(shutil.rmtree, _root, True)
    return _root


def new_lake(folder: Path | None = None) -> Location:
    """An empty DuckLake: a new database on the test server, data under ``folder``."""
    import postgres

    name = f"lake_{os.getpid()}_{next(_names)}_{uuid.uuid4().hex[:6]}"
    folder = Path(folder) if folder is not None else _scratch() / name
    folder.mkdir(parents=True, exist_ok=True)
    return Location(catalog=postgres.createdb(_conninfo(), name), data_path=str((folder / "data").resolve()))


def new_location(folder: Path, name: str = "w.duckdb") -> Location:
    """Where a test's new warehouse lives, on the backend under test."""
    return new_lake(folder / name.replace(".duckdb", "")) if LAKE else Location(file=(Path(folder) / name).resolve())


def copy_of(source: Location | Path, folder: Path, name: str = "w.duckdb") -> Location:
    """A private copy of a warehouse (a file copied; a DuckLake migrated into a new one)."""
    from pipelines.migrate import migrate

    src = source if isinstance(source, Location) else Location(file=Path(source).resolve())
    Path(folder).mkdir(parents=True, exist_ok=True)
    if not LAKE and not src.is_lake:
        target = Location(file=(Path(folder) / name).resolve())
        shutil.copy(src.file, target.file)
        return target
    target = new_location(folder, name)
    migrate(src, target, verify=False)  # tests/test_migrate.py checks the copy
    return target


def save(con: duckdb.DuckDBPyConnection, folder: Path | None = None, name: str = "w.duckdb") -> Location:
    """An in-memory warehouse written to the backend under test."""
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(dir=_scratch()))
    path = (folder / (f"mem-{name}" if LAKE else name)).resolve()
    con.execute(f"attach '{path}' as saved")  # a test-local path
    con.execute("copy from database memory to saved")
    con.execute("detach saved")
    return copy_of(Location(file=path), folder, name) if LAKE else Location(file=path)


def persist(con: duckdb.DuckDBPyConnection, folder: Path, name: str = "w.duckdb") -> Location:
    """Where a test's warehouse can be opened by path: a DuckLake's or a file's own location, an
    in-memory warehouse saved first."""
    return location_of(con) or save(con, folder, name)


def on_backend(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse filled with literal rows, moved to the backend under test: the same
    connection on the embedded backend; on DuckLake, a connection to a copy in a new lake."""
    if not LAKE or location_of(con) is not None:  # embedded, or moved already
        return con
    loc = save(con)
    con.close()
    return connect(loc)


def open_db(loc: Location | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a test's warehouse."""
    return connect(loc, read_only=True)


def env(loc: Location) -> dict[str, str]:
    """The environment variables that name ``loc`` (RENOVATION_DB, and RENOVATION_DATA_PATH for a DuckLake)."""
    out = {"RENOVATION_DB": str(loc)}
    if loc.data_path:
        out["RENOVATION_DATA_PATH"] = loc.data_path
    return out
