"""Reading and staging a batch of files, shared with one helper process.

An ingest has two long preparations that do not depend on each other: reading and staging
the files (pure Python parsing, a few milliseconds a file), and importing Great Expectations
and the refresh steps (seconds, once per process). Python threads cannot run them side by
side, so for a large batch a helper process (``python -m pipelines.staging_pool``, talking
over a socket pair) stages chunks of files while this process imports what the rest of the
ingest needs; this process then joins in on the chunks that are left. A small thread hands
the helper its next chunk. Both stage files the same way (:func:`stage_file`), so the result
does not depend on who read which file.

Should the helper fail to start or die, the chunks it had taken are staged here: a batch
never depends on the helper.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from pipelines.normalising import stage
from pipelines.reading import ReadError, read_file

log = logging.getLogger(__name__)

# below this many files the helper's start (about half a second) costs more than it saves
MIN_FILES = 60
CHUNK_FILES = 8
ROOT = Path(__file__).resolve().parent.parent
HELPER_ARGS = ["-m", "pipelines.staging_pool"]  # the socket's descriptor number follows

Outcome = tuple  # ("ok", staged) | ("read_error", messages, kind) | ("error",)


def stage_file(path: Path) -> Outcome:
    """Read and stage one file: ("ok", staged) | ("read_error", messages, kind) | ("error",)."""
    try:
        layout = read_file(path)
        staged = stage(layout, path.name)
    except ReadError as e:
        return ("read_error", e.messages, e.kind)
    except Exception:  # a file we cannot make sense of must not stop the batch
        log.debug("unreadable file %s", path, exc_info=True)
        return ("error",)
    # the cells as read are in staged.raw_rows and its typed columns: the grid is not needed
    # any more, and the helper process would only pay to send it back
    layout.data_rows, layout.totals_rows = [], []
    return ("ok", staged)


def _stage_chunk(paths: list[str]) -> list[Outcome]:
    return [stage_file(Path(p)) for p in paths]


class _Chunks:
    """Hands out chunk numbers, each once, to this process and the helper."""

    def __init__(self, n: int) -> None:
        self.n, self.next = n, 0
        self.lock = threading.Lock()
        self.helper_holds: int | None = None  # the chunk the helper is staging now

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.n:
                return None
            self.next += 1
            return self.next - 1


def stage_all(paths: list[Path], prepare: Callable[[], None] | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Stage every file of ``paths`` (results in their order); ``prepare`` runs meanwhile here."""
    n = len(paths)
    chunks = [[str(p) for p in paths[i:i + CHUNK_FILES]] for i in range(0, n, CHUNK_FILES)]
    done: dict[int, list[Outcome]] = {}
    helper = _start_helper() if n >= MIN_FILES and (os.cpu_count() or 1) >= 2 else None
    dispenser = _Chunks(len(chunks))
    server = None
    if helper is not None:
        proc, conn, sock = helper
        server = threading.Thread(target=_serve, args=(conn, chunks, dispenser, done), daemon=True)
        server.start()
    try:
        if prepare:
            prepare()
        while (index := dispenser.take()) is not None:
            done[index] = _stage_chunk(chunks[index])
            if progress:
                progress(sum(len(chunks[i]) for i in list(done)), n)
    finally:
        if helper is not None:
            # wait for the chunk the helper is staging, if any (a helper still starting holds none)
            while dispenser.helper_holds is not None and server.is_alive() and proc.poll() is None:
                server.join(timeout=0.02)
            sock.shutdown(socket.SHUT_RDWR)  # ends the thread's wait and tells the helper to stop
            server.join(timeout=1)
            conn.close()
            sock.close()
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for index, chunk in enumerate(chunks):  # chunks lost with a helper that died
        if index not in done:
            log.debug("staging helper lost chunk %d; staging it here", index)
            done[index] = _stage_chunk(chunk)
    return [o for index in range(len(chunks)) for o in done[index]]


def _start_helper() -> tuple[subprocess.Popen, Connection, socket.socket] | None:
    ours, theirs = socket.socketpair()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    try:
        proc = subprocess.Popen(
            [sys.executable, *HELPER_ARGS, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], env=env, cwd=ROOT,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    except OSError:
        log.debug("no staging helper; staging here", exc_info=True)
        ours.close()
        return None
    finally:
        theirs.close()
    return proc, Connection(os.dup(ours.fileno())), ours


def _serve(conn: Connection, chunks: list[list[str]], dispenser: _Chunks, done: dict) -> None:
    """Give the helper chunks until none are left; keep what it sends back."""
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "done":
                done[msg[1]] = msg[2]
            index = dispenser.helper_holds = dispenser.take()
            conn.send(None if index is None else (index, chunks[index]))
            if index is None:
                return
    except (EOFError, OSError):
        log.debug("staging helper stopped", exc_info=True)


def _helper_main(fd: int) -> None:
    """The helper process: ask for a chunk, stage it, send it back, until told to stop."""
    conn = Connection(fd)
    try:
        conn.send(("ready",))
        while (task := conn.recv()) is not None:
            index, paths = task
            conn.send(("done", index, _stage_chunk(paths)))
    except (EOFError, OSError):  # the ingest no longer needs us
        pass
    finally:
        conn.close()


if __name__ == "__main__":
    _helper_main(int(sys.argv[1]))
