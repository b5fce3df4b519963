"""Great Expectations in a process of its own, for large ingests, and kept warm while the dashboard runs.

Importing Great Expectations takes seconds. For a large batch the ingest starts this service
first (``python -m pipelines.validation.service``, talking over a socket pair): it imports GX while
the ingest reads the files, then runs the validations and the signal suites the ingest sends
it, in the order sent, while the ingest goes on with its own work.

A warm service (``python -m pipelines.validation.service --listen``, started by ``renovation serve``
for as long as the dashboard runs) has GX loaded already and takes jobs from every process of the
same user on this machine: a command-line import of one file then validates without importing GX
(:func:`serving` uses it whenever it answers). It listens on a Unix socket in a folder only its
user can open (``RENOVATION_GX_SOCKET``, else ``$XDG_RUNTIME_DIR`` or ``/tmp``), and a client must
also prove it knows the key kept beside the socket (``multiprocessing.connection``'s handshake):
jobs travel pickled. Jobs of several clients run one at a time.

The functions it runs are named by ``"module:function"`` and must be importable in both
processes; arguments and results travel pickled (Polars frames as Arrow). :func:`call` runs a
function in the active service, or here when there is none — so the result never depends on
where it ran. Should the service die, what it had not answered is run here instead.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import traceback
from contextlib import contextmanager
from multiprocessing.connection import AuthenticationError, Client, Connection, Listener
from pathlib import Path
from pipelines import faults
from pipelines.settings import ROOT

log = logging.getLogger(__name__)


SERVICE_ARGS = ["-m", "pipelines.validation.service"]  # the socket's descriptor number follows
# what the service loads ahead of its jobs, after GX itself: first what validating a batch
# needs; the rest while it waits for later jobs
PRELOAD = ("expectations.ingest:build_suite", "pipelines.validation.runner:validate_batch")
PRELOAD_IDLE = ("pipelines.validation.runner:evaluate_signal_suites",)


def _resolve(name: str):
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


class GXService:
    """A running service: submit jobs, then collect their results by number."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        env.setdefault("GX_ANALYTICS_ENABLED", "False")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, *SERVICE_ARGS, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.conn = Connection(os.dup(ours.fileno()))
        self.alive = True
        self.next_id = 0
        self.pending: dict[int, tuple] = {}    # job -> (function, args, kwargs), until answered
        self.answers: dict[int, tuple] = {}
        # jobs are sent by a thread: the service reads nothing until GX has loaded, and a job
        # larger than the socket's buffer must not hold this process up until then
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.sender = threading.Thread(target=self._send_all, daemon=True, name="gx-service-sender")
        self.sender.start()

    def _send_all(self) -> None:
        while (item := self.outbox.get()) is not None:
            try:
                self.conn.send(item)
            except (OSError, EOFError, ValueError):
                self._lost()
                return

    def submit(self, function: str, *args, **kwargs) -> int:
        job = self.next_id
        self.next_id += 1
        self.pending[job] = (function, args, kwargs)
        self.outbox.put((job, function, args, kwargs))
        return job

    def result(self, job: int):
        """The job's result (run here if the service has gone); its exception, if it raised one.
        Asking again gives the same answer."""
        if job not in self.pending and job not in self.answers:
            raise KeyError(f"no job {job}")
        while job not in self.answers and self.alive:
            try:
                answered, ok, value = self.conn.recv()
            except (OSError, EOFError):
                self._lost()
                break
            self.answers[answered] = (ok, value)
        if job not in self.answers:  # the service has gone: run it here
            function, args, kwargs = self.pending[job]
            self.answers[job] = (True, _resolve(function)(*args, **kwargs))
        self.pending.pop(job, None)
        ok, value = self.answers[job]
        if not ok:
            raise GXServiceError(value)
        return value

    def _lost(self) -> None:
        log.debug("GX service stopped; its jobs run here", exc_info=True)
        self.alive = False

    def close(self) -> None:
        self.outbox.put(None)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # the service reads end-of-file and stops
        except OSError:
            pass
        self.sender.join(timeout=5)
        self.conn.close()
        self.sock.close()
        if not self.pending:
            # every job is answered, so nothing is half-written: no need to wait for the
            # interpreter to tear GX down (most of a second)
            self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class GXServiceError(RuntimeError):
    """A job raised in the service. The message names the exception only (a user may read it);
    the service's traceback is in ``detail`` and in the debug log."""

    def __init__(self, detail: str) -> None:
        lines = detail.strip().splitlines()
        super().__init__(f"校验服务进程中的任务出错:{lines[-1] if lines else '原因不明'}")
        self.detail = detail
        log.debug("GX service job failed:\n%s", detail)


class WarmService(GXService):
    """A connection to the warm service of this user (see the module's docstring)."""

    def __init__(self, conn: Connection) -> None:  # noqa: super().__init__ starts a process; this one exists
        self.proc = None
        self.sock = None
        self.conn = conn
        self.alive = True
        self.next_id = 0
        self.pending = {}
        self.answers = {}
        self.outbox = queue.SimpleQueue()
        self.sender = threading.Thread(target=self._send_all, daemon=True, name="gx-warm-sender")
        self.sender.start()

    @classmethod
    def connect(cls) -> WarmService | None:
        """The warm service, when one runs and answers; else None."""
        address, key = warm_address()
        if not address.exists() or not key.exists():
            return None
        try:
            return cls(Client(str(address), family="AF_UNIX", authkey=key.read_bytes()))
        except (OSError, EOFError, AuthenticationError):
            log.debug("no warm GX service at %s", address, exc_info=True)
            return None

    def close(self) -> None:
        self.outbox.put(None)
        self.sender.join(timeout=5)
        self.conn.close()


def warm_address() -> tuple[Path, Path]:
    """The warm service's socket and key (in a folder of this user's only), one per installation:
    the service of another checkout or version (its code, its suites) never answers this one."""
    folder = os.environ.get("RENOVATION_GX_SOCKET")
    if folder:
        base = Path(folder)
    else:
        import hashlib

        install = hashlib.sha256(str(ROOT.resolve()).encode()).hexdigest()[:12]
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        base = (Path(runtime) / f"renovation-{install}" if runtime
                else Path("/tmp") / f"renovation-gx-{os.getuid()}-{install}")
    return base / "gx.sock", base / "gx.key"


_STATE = threading.local()  # the active service, per thread (the dashboard runs sessions in threads)


@contextmanager
def serving(enabled: bool = True):
    """Run GX jobs in a service for the duration of the block: the warm one when it answers (GX
    loaded already, whatever the batch's size), else one started for this block (when ``enabled``
    and it can start), else none (GX runs here)."""
    service = None
    if active() is None:
        service = WarmService.connect()
        if service is None and enabled:
            try:
                service = GXService()
            except OSError:
                log.debug("no GX service; GX runs here", exc_info=True)
    if service is None:
        yield None
        return
    _STATE.service = service
    try:
        yield service
    finally:
        _STATE.service = None
        service.close()


def active() -> GXService | None:
    return getattr(_STATE, "service", None)


def call(function: str, *args, **kwargs):
    """Run ``function`` ("module:function") in the active service, or here when there is none."""
    service = active()
    if service is None:
        return _resolve(function)(*args, **kwargs)
    return service.result(service.submit(function, *args, **kwargs))


def _preload() -> None:
    _resolve("pipelines.validation.runner:import_gx")()
    for name in PRELOAD:
        _resolve(name)


def _answer(conn: Connection, lock: threading.Lock | None = None) -> None:
    """Answer the jobs of one client until it closes its end (one job at a time across clients)."""
    try:
        while True:
            job, function, args, kwargs = conn.recv()
            faults.reached("service.job")
            with lock or contextlib.nullcontext():
                try:
                    answer = (job, True, _resolve(function)(*args, **kwargs))
                except Exception:
                    answer = (job, False, traceback.format_exc())
            conn.send(answer)
    except (EOFError, OSError):  # the client has closed its end
        pass
    finally:
        conn.close()


def _serve(fd: int) -> None:
    conn = Connection(fd)
    try:
        _preload()
        idle = list(PRELOAD_IDLE)
        while idle and not conn.poll():
            _resolve(idle.pop(0))
    except (EOFError, OSError):
        conn.close()
        return
    _answer(conn)


def listen() -> None:
    """The warm service: load GX, then answer every client that knows the key, until stopped."""
    address, key_file = warm_address()
    address.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(address.parent, 0o700)  # only this user reaches the socket and the key
    key = secrets.token_bytes(32)
    key_file.unlink(missing_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    address.unlink(missing_ok=True)
    _preload()
    for name in PRELOAD_IDLE:
        _resolve(name)
    lock = threading.Lock()
    listener = Listener(str(address), family="AF_UNIX", authkey=key)
    log.info("warm GX service listening at %s", address)
    try:
        while True:
            try:
                conn = listener.accept()
            except (AuthenticationError, EOFError, OSError):
                log.debug("a client was refused", exc_info=True)
                continue
            threading.Thread(target=_answer, args=(conn, lock), daemon=True, name="gx-warm-client").start()
    finally:
        listener.close()
        key_file.unlink(missing_ok=True)


@contextmanager
def warm(enabled: bool = True):
    """Keep a warm service running for the block (``renovation serve``), unless one answers already."""
    if not enabled or WarmService.connect() is not None:
        yield None
        return
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    proc = subprocess.Popen([sys.executable, *SERVICE_ARGS, "--listen"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        address, key = warm_address()
        if WarmService.connect() is None:  # ours is gone (no other has taken its place)
            address.unlink(missing_ok=True)
            key.unlink(missing_ok=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--listen"]:
        listen()
    else:
        _serve(int(sys.argv[1]))
