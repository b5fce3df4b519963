"""What the dashboard pays for never keeping an import waiting (issue 9, defect 5).

Every query function of ``pipelines.read`` (uncached: the function under the ``cached``
decorator) runs on the demo warehouse three ways, alternating ``--repeat`` times:
- "app": as the app does it: one shared read-only connection, closed when a writer needs the
  file or after two idle seconds (``pipelines.read.connection``); timed from a closed connection,
  as the first page view after an import is;
- "per query": a connection opened and closed for every query;
- "held": one connection held for the server's life (before: no import could start once a page
  had been viewed).
Then, with two threads running page queries without pause, a writer takes the lock and opens
the warehouse read-write: how long it waited for the readers is printed (median, max).

    uv run python benchmarks/reads.py [--db /tmp/demo.duckdb] [--year 2024] [--repeat 5]
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def query_functions() -> list[tuple[str, object]]:
    from pipelines.read import audit, filters, progress, quality, scores, submissions

    out = []
    for module in (filters, progress, audit, scores, submissions, quality):
        for name, fn in vars(module).items():
            inner = getattr(fn, "__wrapped__", None)
            if callable(fn) and inner is not None and getattr(fn, "clear", None) is not None:
                out.append((f"{module.__name__.rsplit('.', 1)[-1]}.{name}", inner))
    return out


def arguments(fn, year: int) -> dict | None:
    args = {}
    for p in inspect.signature(fn).parameters.values():
        if p.name == "year":
            args[p.name] = year
        elif p.name in ("unit", "county"):
            args[p.name] = None
        elif p.default is inspect.Parameter.empty:
            return None  # needs an argument we cannot make up (a signal id, …)
    return args


def run_all(calls) -> float:
    t = time.perf_counter()
    for fn, args in calls:
        fn(**args)
    return time.perf_counter() - t


def writer_waits(db: Path, calls, times: int) -> list[float]:
    """Seconds a writer waits for the readers to let go, while two threads query without pause."""
    import threading

    from pipelines.locking import open_warehouse, writer_lock

    stop = threading.Event()

    def pages():
        while not stop.is_set():
            run_all(calls[:4])

    readers = [threading.Thread(target=pages) for _ in range(2)]
    for t in readers:
        t.start()
    waits = []
    try:
        for _ in range(times):
            time.sleep(0.5)
            with writer_lock(db):
                t = time.perf_counter()
                con = open_warehouse(db)
                waits.append(time.perf_counter() - t)
                con.close()
    finally:
        stop.set()
        for t in readers:
            t.join()
    return waits


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=Path(os.environ.get("RENOVATION_DB", "/tmp/demo.duckdb")))
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    os.environ["RENOVATION_DB"] = str(a.db.resolve())
    import duckdb

    from pipelines.locking import open_warehouse
    from pipelines.read import connection

    calls = [(fn, args) for _, fn in query_functions() if (args := arguments(fn, a.year)) is not None]
    app, per_query, held = [], [], []
    shared = connection.cursor

    def own():
        return connection._Reader(open_warehouse(a.db, read_only=True), False)

    run_all(calls)  # warm-up: imports, the first open of the file
    for _ in range(a.repeat):
        connection.close_connection()  # as after an import: the first query opens the file
        app.append(run_all(calls))
        connection.close_connection()  # else the shared instance would serve the opens below
        connection.cursor = own
        try:
            per_query.append(run_all(calls))
        finally:
            connection.cursor = shared
        keep = duckdb.connect(str(a.db), read_only=True)
        connection.cursor = lambda: connection._Reader(keep.cursor(), False)
        try:
            held.append(run_all(calls))
        finally:
            connection.cursor = shared
            keep.close()
    n = len(calls)
    print(f"{n} query functions of pipelines.read on {a.db.name} (year {a.year}), medians of {a.repeat}:")
    for label, runs in (("app (shared, let go for writers)", app), ("open, query, close per query", per_query),
                        ("one connection held open (before)", held)):
        m = statistics.median(runs)
        print(f"  {label:36s} {m * 1000:8.1f} ms  ({m / n * 1000:6.1f} ms a query, "
              f"{m / statistics.median(held):.2f}x held)")
    connection.close_connection()
    waits = writer_waits(a.db.resolve(), calls, a.repeat)
    print(f"a writer waited for two busy readers: median {statistics.median(waits) * 1000:.0f} ms, "
          f"max {max(waits) * 1000:.0f} ms ({len(waits)} times)")


if __name__ == "__main__":
    main()
