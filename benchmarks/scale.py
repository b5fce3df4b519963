"""Province and national scale (issue 13): the scaled demo (``renovation demo --scale N``) through
the whole system, each figure against a baseline measured in the same run.

    uv run python benchmarks/scale.py generate --dir D --scale 100
        writes 100 prefectures' worth of workbooks (州001 is 巴州) and units.csv
    uv run python benchmarks/scale.py ingest --dir D --copies 10 [--repeat 3]
        ingest of the first 10 prefectures (≈ 7,700 files) in a fresh process, alternating with the
        bare calamine read of the same files in a fresh process; medians, ratio, peak memory
    uv run python benchmarks/scale.py build --dir D --copies 100 --db W [--batch 10]
        a warehouse of the first 100 prefectures, loaded batch by batch (10 prefectures a batch)
    uv run python benchmarks/scale.py signals --db W1 W10 W100
        the identity links and the signal rules on each warehouse (a copy), in a fresh process:
        seconds and peak memory, and the rows they ran on
    uv run python benchmarks/scale.py queries --db W1 W100 [--repeat 5]
        every query function of the dashboard (pipelines.read), uncached, on each warehouse:
        median milliseconds
    uv run python benchmarks/scale.py import1 --db W1 W100 [--repeat 5] [--full]
        a one-file import into a copy of each warehouse, with the GX service warm; its refresh
        incremental, and with --full also in full (the baseline), alternately
    uv run python benchmarks/scale.py lake --dir D [--copies 1] [--repeat 3]
        the same files into an embedded file and into a DuckLake (a private PostgreSQL started for
        the run, a local data folder), alternately, in fresh processes: the cost of the catalog

Every phase that is timed runs in a process of its own, so that its peak memory is its own
(``ru_maxrss``; the GX service's as that of the children).
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _child(*args: str, env: dict[str, str] | None = None) -> dict:
    """Run a phase of this script in a fresh process; its last line is its JSON result."""
    import os

    proc = subprocess.run([sys.executable, __file__, "phase", *args], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, **(env or {})))
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _files(root: Path, copies: int) -> list[Path]:
    from pipelines.ingest import discover

    return discover([root / f"州{k:03d}" for k in range(1, copies + 1)])


def _units(root: Path, copies: int) -> list[tuple]:
    with (root / "units.csv").open(encoding="utf-8") as f:
        return [(r["code"], r["name"], r["aliases"].split("|"), float(r["seat_lat"]), float(r["seat_lon"]))
                for r in csv.DictReader(f) if int(r["prefecture_copy"]) <= copies]


def _prepare(db: str, root: Path, copies: int) -> None:
    """A new warehouse that knows the generated units of the first ``copies`` prefectures."""
    from pipelines.warehouse import add_units, connect, transaction

    if copies <= 1:
        return
    con = connect(db)
    with transaction(con):
        add_units(con, _units(root, copies))
    con.close()


# --- phases (run in a fresh process each) -------------------------------------------------


def phase_bare(files: list[Path]) -> dict:
    from ingest import phase_bare as bare  # benchmarks/ingest.py: Polars + calamine, every sheet

    return bare(files)


def phase_ingest(files: list[Path], db: str) -> dict:
    from pipelines.ingest import TIMINGS, ingest_paths

    t = time.perf_counter()
    results = ingest_paths(files, db_path=db)
    return {"seconds": time.perf_counter() - t, "phases": dict(TIMINGS), "files": len(results),
            "rows": sum(r.rows for r in results), "rejected": sum(r.status == "rejected" for r in results),
            "peak_mib": _peak_mib(), "service_peak_mib": _children_mib()}


def phase_links_signals(db: str) -> dict:
    """The identity and signal steps of the refresh, each timed, in one transaction (rolled back)."""
    from pipelines.refresh import refresh
    from pipelines.warehouse import connect

    con = connect(db)
    con.execute("set enable_progress_bar = false")
    sizes = dict(zip(("plan_rows", "report_rows", "report_rows_history", "ledger"), con.execute(
        "select (select count(*) from core.plan_rows), (select count(*) from core.report_rows), "
        "(select count(*) from core.report_rows_history), (select count(*) from core.ledger_communities)").fetchone()))
    from pipelines import identity

    timings: dict[str, float] = {}
    con.execute("begin transaction")
    t = time.perf_counter()
    refresh(con, timings=timings, only=("settings", "core"))
    t1 = time.perf_counter()
    stats = identity.refresh(con, timings=timings)  # the links step, with its counts of pairs compared
    timings["refresh.links"] = time.perf_counter() - t1
    refresh(con, timings=timings, only=("marts", "verdicts", "signals", "scores"))
    total = time.perf_counter() - t
    signals = con.execute("select count(*) from marts.signals").fetchone()[0]
    con.execute("rollback")
    con.close()
    return {"refresh_seconds": total, "steps": timings, "identity": stats, "signals": signals, **sizes,
            "peak_mib": _peak_mib(),
            "service_peak_mib": _children_mib()}


def _read_functions():
    """Every query function of the dashboard's read side, with arguments a page would pass (as the
    prefecture's admin: every county, no row scoping)."""
    from pipelines.access.scope import Scope
    from pipelines.read import audit, bulletin, filters, progress, quality, scores, submissions

    sc = Scope("admin")
    year = inspect.unwrap(filters.default_year)(sc)
    unit = None
    out = {
        "filters.years": (filters.years, ()), "filters.units": (filters.units, ()),
        "progress.progress_summary": (progress.progress_summary, (year, unit)),
        "progress.progress_by_month": (progress.progress_by_month, (year, unit)),
        "progress.progress_ranking": (progress.progress_ranking, (year,)),
        "progress.trajectory": (progress.trajectory, (unit,)), "progress.projection": (progress.projection, (unit,)),
        "audit.signals": (audit.signals, (year, unit)), "audit.risk_ranking": (audit.risk_ranking, (year, unit)),
        "audit.signal_coverage": (audit.signal_coverage, ()), "audit.verdict_summary": (audit.verdict_summary, ()),
        "audit.risk_counties": (audit.risk_counties, ()),
        "scores.score_totals": (scores.score_totals, ("annual",)),
        "scores.score_lines": (scores.score_lines, (year, "annual")),
        "submissions.submission_history": (submissions.submission_history, (year, unit)),
        "submissions.ingest_log": (submissions.ingest_log, (unit,)),
        "submissions.reporting_status": (submissions.reporting_status, (year, unit)),
        "quality.row_issues": (quality.row_issues, (unit,)), "quality.file_counts": (quality.file_counts, (unit,)),
        "quality.validation_batches": (quality.validation_batches, ()),
        "audit.signal_counts": (audit.signal_counts, (year,)),
        "bulletin.months": (bulletin.months, (year,)), "bulletin.bulletin_month": (bulletin.bulletin_month, ()),
    }
    out = {name: (fn, (sc, *args)) for name, (fn, args) in out.items()}
    return year, out


def phase_queries(db: str, repeat: int) -> dict:
    import logging
    import os

    logging.disable(logging.WARNING)  # Streamlit's "no runtime" warnings outside the app
    os.environ["RENOVATION_DB"] = db
    year, functions = _read_functions()
    from pipelines.read import audit

    from pipelines.access.scope import Scope

    sid = audit.signals.__wrapped__(Scope("admin"), year, None)
    functions["audit.signal_detail"] = (audit.signal_detail, (Scope("admin"), sid["signal_id"][0]) if sid.height else None)
    out = {}
    for name, (fn, args) in functions.items():
        if args is None:
            continue
        raw = inspect.unwrap(fn)  # the query itself: not its cache, nor the role check around it
        raw(*args)  # warm: the connection opened, the files in the page cache
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            res = raw(*args)
            times.append((time.perf_counter() - t) * 1000)
        rows = getattr(res, "height", None) if not isinstance(res, (dict, list)) else len(res)
        out[name] = {"ms": statistics.median(times), "rows": rows}
    return {"year": year, "queries": out}


def phase_import1(db: str, file: str, warm: bool) -> dict:
    """One file into ``db``: the time of the whole import, with the GX service already running
    (as ``renovation serve`` keeps it) or not."""
    from pipelines.ingest import TIMINGS, ingest_paths

    t = time.perf_counter()
    [r] = ingest_paths([Path(file)], db_path=db)
    return {"seconds": time.perf_counter() - t, "status": r.status, "phases": dict(TIMINGS), "peak_mib": _peak_mib()}


# --- commands ------------------------------------------------------------------------------


def cmd_generate(args) -> None:
    from demogen.scale import generate_scaled

    t = time.perf_counter()
    files, units = generate_scaled(args.dir, args.scale)
    size = sum(f.stat().st_size for f in files)
    print(f"{args.scale} 个州:{len(files)} 个文件,{size / 2**20:.0f} MiB,{len(units)} 个生成的县市;"
          f"{time.perf_counter() - t:.0f} 秒")


def cmd_ingest(args) -> None:
    files = _files(args.dir, args.copies)
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    files_json = tmp / "files.json"
    files_json.write_text(json.dumps([str(f) for f in files]))
    print(f"{args.copies} 个州:{len(files)} 个文件,{sum(f.stat().st_size for f in files) / 2**20:.0f} MiB")
    ratios, fulls, bares = [], [], []
    for i in range(args.repeat):
        bare = _child("bare", str(files_json))
        db = str(tmp / f"x{args.copies}-{i}.duckdb")
        _prepare(db, args.dir, args.copies)
        full = _child("ingest", str(files_json), db)
        Path(db).unlink(missing_ok=True)
        bares.append(bare["seconds"])
        fulls.append(full)
        ratios.append(full["seconds"] / bare["seconds"])
        print(f"  #{i + 1}: 裸读取 {bare['seconds']:.1f} 秒({bare['peak_mib']:.0f} MiB);完整导入 {full['seconds']:.1f} 秒,"
              f"{full['rows']} 行,拒收 {full['rejected']};峰值内存 {full['peak_mib']:.0f} MiB + GX 服务 "
              f"{full['service_peak_mib']:.0f} MiB;比值 {ratios[-1]:.2f}")
        print("      各阶段:" + ",".join(f"{k} {v:.1f}" for k, v in full["phases"].items()))
    med = statistics.median
    print(f"中位数:裸读取 {med(bares):.1f} 秒,完整导入 {med(f['seconds'] for f in fulls):.1f} 秒,比值 {med(ratios):.2f} 倍;"
          f"峰值内存(导入进程)最大 {max(f['peak_mib'] for f in fulls):.0f} MiB,GX 服务 "
          f"{max(f['service_peak_mib'] for f in fulls):.0f} MiB")


def cmd_build(args) -> None:
    db = str(args.db)
    _prepare(db, args.dir, args.copies)
    tmp = Path(tempfile.mkdtemp(prefix="bench_build_"))
    for start in range(1, args.copies + 1, args.batch):
        stop = min(args.copies, start + args.batch - 1)
        files = [f for k in range(start, stop + 1) for f in _files_of(args.dir, k)]
        (tmp / "files.json").write_text(json.dumps([str(f) for f in files]))
        r = _child("ingest", str(tmp / "files.json"), db)
        print(f"  州{start:03d}–州{stop:03d}:{r['files']} 个文件 {r['seconds']:.0f} 秒,峰值 {r['peak_mib']:.0f} MiB;"
              + ",".join(f"{k} {v:.1f}" for k, v in r["phases"].items() if k.startswith("refresh") or k == "read"),
              flush=True)


def _files_of(root: Path, k: int) -> list[Path]:
    from pipelines.ingest import discover

    return discover([root / f"州{k:03d}"])


def cmd_signals(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_signals_"))
    for db in args.db:
        copy = tmp / Path(db).name
        shutil.copy(db, copy)
        r = _child("links_signals", str(copy))
        copy.unlink()
        steps = r["steps"]
        print(f"{Path(db).name}:计划行 {r['plan_rows']:,},当前月报行 {r['report_rows']:,}(含历史 {r['report_rows_history']:,}),"
              f"台账小区 {r['ledger']:,};线索 {r['signals']:,}")
        print(f"    识别关联 {steps.get('refresh.links', 0):.1f} 秒,审计线索 {steps.get('refresh.signals', 0):.1f} 秒,"
              f"整个刷新 {r['refresh_seconds']:.1f} 秒;峰值内存 {r['peak_mib']:.0f} MiB + GX {r['service_peak_mib']:.0f} MiB")
        print("    " + ",".join(f"{k.split('.')[-1]} {v:.1f}" for k, v in steps.items()))
        print("    识别:" + ",".join(f"{k} {v:,}" for k, v in r["identity"].items()))


def cmd_queries(args) -> None:
    results = {db: _child("queries", str(db), str(args.repeat)) for db in args.db}
    names = list(next(iter(results.values()))["queries"])
    print(f"{'查询':<36}" + "".join(f"{Path(db).name:>22}" for db in args.db))
    for n in names:
        cells = []
        for db in args.db:
            q = results[db]["queries"].get(n)
            cells.append(f"{q['ms']:8.1f} ms ({q['rows'] if q['rows'] is not None else '-':>6})" if q else "—")
        print(f"{n:<36}" + "".join(f"{c:>22}" for c in cells))
    for db in args.db:
        slow = {n: q["ms"] for n, q in results[db]["queries"].items() if q["ms"] >= 100}
        print(f"{Path(db).name}:最慢 {max(q['ms'] for q in results[db]['queries'].values()):.1f} ms;"
              f"≥ 100 ms:{slow or '无'}")


def cmd_import1(args) -> None:
    """One new monthly report into a copy of each warehouse, in a fresh process each time (as
    ``renovation ingest FILE`` would run), with the warm GX service of ``renovation serve`` running.
    The refresh is incremental (pipelines.incremental); with ``--full`` each repeat also runs the
    same import with the full refresh (RENOVATION_FULL_REFRESH=1), alternately: the baseline.

    Each copy first takes the county's report of the month before (untimed; printed), and the
    import measured is the next one, as a county's upload in service finds the warehouse: the first
    checkpoint into a freshly copied file costs 1.5–3 s more at 100× (measured here: 1.5–2 s for a
    one-row change right after the copy, 0.2–0.3 s for the next), which is the copy's, not the import's."""
    import os

    from pipelines.validation import service as gx_service

    tmp = Path(tempfile.mkdtemp(prefix="bench_import1_"))
    os.environ["RENOVATION_GX_SOCKET"] = str(tmp / "sock")
    modes = {"增量": {}, **({"全量": {"RENOVATION_FULL_REFRESH": "1"}} if args.full else {})}
    out: dict[tuple[str, str], float] = {}
    with gx_service.warm() as proc:
        while gx_service.WarmService.connect() is None:
            if proc.poll() is not None:
                raise RuntimeError("the warm GX service did not start")
            time.sleep(0.2)
        for db in args.db:
            times: dict[str, list[float]] = {m: [] for m in modes}
            walls: dict[str, list[float]] = {m: [] for m in modes}
            for i in range(args.repeat):
                for mode, env in modes.items():
                    copy = tmp / f"{i}-{Path(db).name}"
                    shutil.copy(db, copy)
                    w = _child("import1", str(copy), str(_one_file(tmp, -1 - i, args.month - 1)), "1")
                    scoped = w["phases"].get("refresh.scoped_to_end") == 1.0
                    print(f"  {Path(db).name} #{i + 1} {mode}:先导入上月月报(不计){w['seconds']:.2f} 秒"
                          f"({'按县增量' if scoped else '全量'}),其中关闭 {w['phases'].get('close', 0):.2f} 秒", flush=True)
                    f = _one_file(tmp, i, args.month)
                    t = time.perf_counter()
                    r = _child("import1", str(copy), str(f), "1", env=env)
                    walls[mode].append(time.perf_counter() - t)
                    copy.unlink()
                    Path(str(copy) + ".wal").unlink(missing_ok=True)
                    assert r["status"] == "accepted", r
                    times[mode].append(r["seconds"])
                    print(f"  {Path(db).name} #{i + 1} {mode}:导入 {r['seconds']:.2f} 秒(进程共 {walls[mode][-1]:.2f} 秒);"
                          + ",".join(f"{k} {v:.2f}" for k, v in r["phases"].items()), flush=True)
            for mode in modes:
                out[db, mode] = statistics.median(times[mode])
                print(f"{Path(db).name} {mode}刷新:一份月报导入中位数 {out[db, mode]:.2f} 秒,连同进程启动与导入模块 "
                      f"{statistics.median(walls[mode]):.2f} 秒", flush=True)
    for mode in modes:
        if len(args.db) > 1:
            a, b = out[args.db[0], mode], out[args.db[-1], mode]
            print(f"{mode}刷新:比值 {Path(args.db[-1]).name} / {Path(args.db[0]).name} = {b / a:.2f}(目标 ≤ 1.5)")


def _one_file(tmp: Path, i: int, month: int) -> Path:
    """A new monthly report of 轮台县 (a new month, so that it is accepted)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import workbooks as W

    d = tmp / f"file{i}"
    d.mkdir(exist_ok=True)
    return W.monthly(d, month)


def cmd_lake(args) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import postgres

    from pipelines.backend import Location

    files = _files(args.dir, args.copies)
    tmp = Path(tempfile.mkdtemp(prefix="bench_lake_"))
    files_json = tmp / "files.json"
    files_json.write_text(json.dumps([str(f) for f in files]))
    server = postgres.start()
    try:
        out: dict[str, list[dict]] = {"embedded": [], "ducklake": []}
        for i in range(args.repeat):
            emb = str(tmp / f"e{i}.duckdb")
            lake = str(Location(catalog=postgres.createdb(server.conninfo, f"bench{i}"), data_path=str(tmp / f"lake{i}")))
            for kind, db in (("embedded", emb), ("ducklake", lake)):
                _prepare(db, args.dir, args.copies)
                r = _child("ingest", str(files_json), db)
                out[kind].append(r)
                print(f"  #{i + 1} {kind:9}{r['seconds']:7.1f} 秒,{r['rows']} 行,拒收 {r['rejected']};"
                      + ",".join(f"{k} {v:.1f}" for k, v in r["phases"].items() if k in ("read", "load", "refresh", "commit")),
                      flush=True)
        med = {k: statistics.median(r["seconds"] for r in v) for k, v in out.items()}
        print(f"{len(files)} 个文件:中位数 内嵌 {med['embedded']:.1f} 秒,DuckLake {med['ducklake']:.1f} 秒,"
              f"DuckLake / 内嵌 = {med['ducklake'] / med['embedded']:.2f}")
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("generate")
    s.add_argument("--dir", type=Path, required=True)
    s.add_argument("--scale", type=int, default=100)
    s = sub.add_parser("ingest")
    s.add_argument("--dir", type=Path, required=True)
    s.add_argument("--copies", type=int, default=10)
    s.add_argument("--repeat", type=int, default=3)
    s = sub.add_parser("build")
    s.add_argument("--dir", type=Path, required=True)
    s.add_argument("--copies", type=int, default=100)
    s.add_argument("--db", type=Path, required=True)
    s.add_argument("--batch", type=int, default=10)
    s = sub.add_parser("signals")
    s.add_argument("--db", nargs="+", required=True)
    s = sub.add_parser("queries")
    s.add_argument("--db", nargs="+", required=True)
    s.add_argument("--repeat", type=int, default=5)
    s = sub.add_parser("import1")
    s.add_argument("--db", nargs="+", required=True)
    s.add_argument("--repeat", type=int, default=5)
    s.add_argument("--month", type=int, default=7)
    s.add_argument("--full", action="store_true", help="also the full refresh, alternately (the baseline)")
    s = sub.add_parser("lake")
    s.add_argument("--dir", type=Path, required=True)
    s.add_argument("--copies", type=int, default=1)
    s.add_argument("--repeat", type=int, default=3)
    s = sub.add_parser("phase")
    s.add_argument("name")
    s.add_argument("rest", nargs="*")
    args = ap.parse_args()
    if args.cmd == "phase":
        r = args.rest
        if args.name in ("bare", "ingest"):
            files = [Path(p) for p in json.loads(Path(r[0]).read_text())]
            res = phase_bare(files) if args.name == "bare" else phase_ingest(files, r[1])
        elif args.name == "links_signals":
            res = phase_links_signals(r[0])
        elif args.name == "queries":
            res = phase_queries(r[0], int(r[1]))
        else:
            res = phase_import1(r[0], r[1], r[2] == "1")
        print(json.dumps(res, default=str))
        return
    {"generate": cmd_generate, "ingest": cmd_ingest, "build": cmd_build, "signals": cmd_signals,
     "queries": cmd_queries, "import1": cmd_import1, "lake": cmd_lake}[args.cmd](args)


if __name__ == "__main__":
    main()
