"""Great Expectations in a process of its own, for large ingests.

Importing Great Expectations takes seconds. For a large batch the ingest starts this service
first (``python -m pipelines.validation.service``, talking over a socket pair): it imports GX while
the ingest reads the files, then runs the validations and the signal suites the ingest sends
it, in the order sent, while the ingest goes on with its own work.

The functions it runs are named by ``"module:function"`` and must be importable in both
processes; arguments and results travel pickled (Polars frames as Arrow). :func:`call` runs a
function in the active service, or here when there is none — so the result never depends on
where it ran. Should the service die, what it had not answered is run here instead.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import traceback
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
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


_STATE = threading.local()  # the active service, per thread (the dashboard runs sessions in threads)


@contextmanager
def serving(enabled: bool = True):
    """Run a GX service for the duration of the block (when ``enabled`` and it can start)."""
    service = None
    if enabled and active() is None:
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


def _serve(fd: int) -> None:
    conn = Connection(fd)
    try:
        _resolve("pipelines.validation.runner:import_gx")()
        for name in PRELOAD:
            _resolve(name)
        idle = list(PRELOAD_IDLE)
        while True:
            while idle and not conn.poll():
                _resolve(idle.pop(0))
            job, function, args, kwargs = conn.recv()
            try:
                answer = (job, True, _resolve(function)(*args, **kwargs))
            except Exception:
                answer = (job, False, traceback.format_exc())
            conn.send(answer)
    except (EOFError, OSError):  # the ingest has closed its end
        pass
    finally:
        conn.close()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
