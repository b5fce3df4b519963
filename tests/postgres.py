"""A private PostgreSQL server for the DuckLake tests: initdb into a temporary folder, pg_ctl on a
free port on 127.0.0.1, never a system cluster. Run as root, the server runs as the ``postgres``
user (PostgreSQL refuses root).

    python tests/postgres.py run -- CMD ...   start a server, run CMD with RENOVATION_TEST_PG set to
                                              its connection string, stop the server (whatever CMD did)

The test fixtures (tests/conftest.py) also start one themselves when RENOVATION_TEST_BACKEND is
``ducklake`` and RENOVATION_TEST_PG is not set.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bindir() -> Path:
    """The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")


def createdb(conninfo: str, name: str) -> str:
    """A new database on the server of ``conninfo`` (a "key=value ..." string); returns its connection string."""
    subprocess.run([str(_bindir() / "psql"), conninfo, "-q", "-c", f'create database "{name}"'],
                   check=True, capture_output=True)
    return " ".join(p for p in conninfo.split() if not p.startswith("dbname=")) + f" dbname={name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class Server:
    folder: Path
    port: int
    bindir: Path

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def createdb(self, name: str) -> str:
        """A new database; returns its connection string."""
        return createdb(self.conninfo, name)

    def halt(self) -> None:
        """Stop the server, keeping its data (:meth:`resume` starts it again on the same port)."""
        subprocess.run(_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                                        "-w", "stop"]), check=False, capture_output=True)

    def resume(self) -> None:
        _pg_start(self.bindir, self.folder, self.port)

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Server:
    """initdb and start a server in a new temporary folder."""
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="renovation-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres",
                                    "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    port = _free_port()
    try:
        _pg_start(bindir, folder, port)
    except RuntimeError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Server(folder, port, bindir)


def _pg_start(bindir: Path, folder: Path, port: int) -> None:
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200 "
               "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")  # a throw-away server
    proc = subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-o", options,
                                           "-l", str(folder / "log"), "-w", "start"]), capture_output=True, text=True)
    if proc.returncode != 0:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {proc.stderr.strip()} {log[-2000:]}")


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "run" or "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    server = start()
    print(f"PostgreSQL {server.bindir.parent.name} on 127.0.0.1:{server.port} ({server.folder})", file=sys.stderr)
    signal.signal(signal.SIGTERM, _interrupted)  # stop the server however the command ends
    try:
        return subprocess.call(cmd, env=dict(os.environ, RENOVATION_TEST_PG=server.conninfo))
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()
        print("PostgreSQL stopped", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
