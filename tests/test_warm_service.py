"""The warm GX service: started once (as `renovation serve` does), it validates the imports of other
processes, which then never import Great Expectations themselves; the result is the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbooks as W
from backends import copy_of, env, open_db
from pipelines.validation import service

pytestmark = pytest.mark.warehouse

ROOT = Path(__file__).resolve().parent.parent

IMPORT = r"""
import json, sys, datetime as dt
from pathlib import Path
from pipelines.ingest import ingest_paths
[r] = ingest_paths([Path(sys.argv[1])], db_path=sys.argv[2], today=dt.date(2026, 11, 29))
print(json.dumps({"status": r.status, "rows": r.rows, "gx_here": "great_expectations" in sys.modules}))
"""


def _import(path: Path, db, sock_dir: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", IMPORT, str(path), str(db)], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, **env(db), RENOVATION_GX_SOCKET=str(sock_dir)), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_an_import_validates_in_the_warm_service(small_db, tmp_path, monkeypatch):
    sock_dir = tmp_path / "sock"
    monkeypatch.setenv("RENOVATION_GX_SOCKET", str(sock_dir))
    cold_db, warm_db = copy_of(small_db, tmp_path / "a"), copy_of(small_db, tmp_path / "b")
    good = W.monthly(tmp_path, 7)
    cold = _import(good, cold_db, sock_dir)  # no service: GX is imported by the import itself
    assert cold == {"status": "accepted", "rows": 3, "gx_here": True}
    with service.warm() as proc:
        assert proc is not None
        deadline = time.monotonic() + 300
        while service.WarmService.connect() is None:  # it answers once GX has loaded
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        warm = _import(good, warm_db, sock_dir)
        # a row that fails validation is found by the service just the same
        rows = W.monthly_rows(8)
        rows[0][4] = "二百六十"  # 户数 not a number
        (tmp_path / "bad").mkdir()
        bad = _import(W.monthly(tmp_path / "bad", 8, rows=rows), warm_db, sock_dir)
        assert (sock_dir / "gx.sock").exists() and oct((sock_dir).stat().st_mode & 0o777) == "0o700"
    assert warm == {"status": "accepted", "rows": 3, "gx_here": False}
    assert bad["status"] == "accepted" and bad["rows"] == 2 and not bad["gx_here"]
    assert not (sock_dir / "gx.sock").exists() and not (sock_dir / "gx.key").exists()  # cleaned up
    # each import kept its validation run, and the failed row its reason, as without the service
    batches = "select count(distinct batch_id) from raw.validation_results"
    con, con_c, con_w = open_db(small_db), open_db(cold_db), open_db(warm_db)
    try:
        start = con.execute(batches).fetchone()[0]
        assert con_c.execute(batches).fetchone()[0] == start + 1
        assert con_w.execute(batches).fetchone()[0] == start + 2
        assert con_w.execute("select field from raw.row_issues where severity = 'reject'").fetchall() == [("households",)]
    finally:
        for c in (con, con_c, con_w):
            c.close()


def test_a_client_without_the_key_is_refused(tmp_path, monkeypatch):
    from multiprocessing.connection import AuthenticationError, Client

    monkeypatch.setenv("RENOVATION_GX_SOCKET", str(tmp_path / "sock"))
    with service.warm() as proc:
        deadline = time.monotonic() + 300
        while service.WarmService.connect() is None:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        address, _ = service.warm_address()
        with pytest.raises((AuthenticationError, EOFError, OSError)):
            c = Client(str(address), family="AF_UNIX", authkey=b"not the key")
            c.send((0, "os:getcwd", (), {}))
            c.recv()
