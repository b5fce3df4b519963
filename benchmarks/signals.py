"""Benchmark of the audit signals against the demo truth (issues 3, 10 and 14).

    uv run python benchmarks/signals.py [--seed N[,N…]] [--scale 10] [--methods rules,splink] [--before REV]

1. generates a demo data set per seed (random unless given; printed; the dev seeds are 7 and 2021),
   ingests it, and times the identity engine (``pipelines.identity.refresh``) and one signal run
   (``pipelines.signals.refresh``);
2. per rule: precision, recall and F1 of the signals against ``truth.csv`` (a signal matches a
   truth row with the same rule, county, plan_year, period and community_name);
3. compares the plan ↔ plan methods of the identity engine (its rules, Splink over the same
   normalisation) by per-rule F1; ``--before REV`` also runs the code of git revision REV (e.g.
   the commit before the identity engine) on the same workbooks: "before";
4. replicates the core tables ``--scale`` times (distinct ids, each copy its own set of counties and
   its own house numbers, so that copies are namesakes elsewhere, not one estate planned by two
   counties) and times the identity engine and the signal run at that size, in a fresh process.
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

log = logging.getLogger("benchmarks.signals")

Key = tuple[str, str, str, str, str]
CORE_IDS = {  # table → (id columns to make distinct, has county_code, has file_id)
    "core.submissions": ((), True, True),
    "core.ledger_communities": (("community_id",), True, True),
    "core.plan_rows": (("plan_row_id",), True, True),
    "core.report_rows_history": (("report_row_id",), True, True),
    "core.report_rows": (("report_row_id",), True, True),
}
ADDRESSED = {"core.ledger_communities", "core.plan_rows"}


def _truth(path: Path) -> list[Key]:
    with path.open(encoding="utf-8-sig") as f:
        return [(r["rule"], r["county"], r["plan_year"], r["period"], r["community_name"]) for r in csv.DictReader(f)]


def _predicted(con) -> list[Key]:
    from pipelines.signals.flags import flag_rows

    return [tuple("" if v is None else str(v) for v in (r[0], r[2], r[3], r[4], r[5])) for r in flag_rows(con)]


def score(pred: list[Key], truth: list[Key]) -> dict[str, dict[str, float]]:
    """Per rule: tp, fp, fn, precision, recall, f1 (multiset matching)."""
    from pipelines.signals import RULES

    p_all, t_all = collections.Counter(pred), collections.Counter(truth)
    out = {}
    for rule, _ in RULES:
        p = collections.Counter({k: v for k, v in p_all.items() if k[0] == rule})
        t = collections.Counter({k: v for k, v in t_all.items() if k[0] == rule})
        tp, fp, fn = sum((p & t).values()), sum((p - t).values()), sum((t - p).values())
        prec = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
        rec = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[rule] = dict(tp=tp, fp=fp, fn=fn, precision=prec, recall=rec, f1=f1,
                         misses=[k for k in (t - p)], extras=[k for k in (p - t)])
    return out


def _print_scores(title: str, scores: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'rule':22s} {'truth':>5s} {'found':>5s} {'tp':>4s} {'fp':>4s} {'fn':>4s} {'prec':>6s} {'recall':>6s} {'F1':>6s}")
    for rule, s in scores.items():
        print(f"{rule:22s} {s['tp'] + s['fn']:5d} {s['tp'] + s['fp']:5d} {s['tp']:4d} {s['fp']:4d} {s['fn']:4d} "
              f"{s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f}")
    tp = sum(s["tp"] for s in scores.values())
    fp = sum(s["fp"] for s in scores.values())
    fn = sum(s["fn"] for s in scores.values())
    print(f"{'ALL':22s} {tp + fn:5d} {tp + fp:5d} {tp:4d} {fp:4d} {fn:4d} "
          f"{tp / max(tp + fp, 1):6.3f} {tp / max(tp + fn, 1):6.3f} {2 * tp / max(2 * tp + fp + fn, 1):6.3f}")
    print(f"rules with F1 < 0.95: {[r for r, s in scores.items() if s['f1'] < 0.95] or 'none'}")
    for rule, s in scores.items():
        for k in s["extras"][:5]:
            print(f"   extra {k}")
        for k in s["misses"][:5]:
            print(f"   missed {k}")


def _timed_refresh(db: Path, settings=None) -> tuple[float, float, dict]:
    """(identity seconds, signal seconds, identity stats) of one run on a copy of the warehouse."""
    from pipelines import identity, signals
    from pipelines.warehouse import connect

    con = connect(db)
    con.execute("begin transaction")
    t = time.perf_counter()
    stats = identity.refresh(con, settings)
    t_identity = time.perf_counter() - t
    t = time.perf_counter()
    signals.refresh(con)
    t_signals = time.perf_counter() - t
    con.execute("commit")
    con.close()
    return t_identity, t_signals, stats


def _before(rev: str, files: list[Path], work: Path) -> Path:
    """Ingest the same workbooks with the code of git revision ``rev`` (read with git archive into a
    folder of its own; the worktree is not touched); returns its warehouse."""
    src = work / f"before-{rev[:12]}"
    if not (src / "pipelines").is_dir():
        src.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    db = work / f"before-{rev[:12]}.duckdb"
    db.unlink(missing_ok=True)
    code = ("import sys, pathlib, logging; logging.basicConfig(level=logging.WARNING)\n"
            "from pipelines.ingest import ingest_paths\n"
            "ingest_paths([pathlib.Path(p) for p in sys.argv[2:]], db_path=pathlib.Path(sys.argv[1]))")
    env = {**os.environ, "PYTHONPATH": str(src), "GX_ANALYTICS_ENABLED": "False"}
    subprocess.run([sys.executable, "-c", code, str(db), *map(str, files)], cwd=src, env=env, check=True,
                   capture_output=True)
    return db


def replicate(db: Path, scale: int) -> dict[str, int]:
    """Make the core tables ``scale`` times as large: copy k gets ids suffixed #k, file ids offset,
    and its own counties (code-k, added to staging.counties), so that copies are not duplicates of
    each other but other communities of the same kind."""
    from pipelines.warehouse import connect

    con = connect(db)
    con.execute("begin transaction")
    base = con.execute("select max(file_id) + 1 from raw.submissions").fetchone()[0] or 1
    n_counties = con.execute("select count(*) from staging.counties").fetchone()[0]
    for k in range(1, scale):
        suffix = f"#{k}"
        con.execute(
            "insert into staging.counties select * replace (county_code || ? as county_code, county_name || ? as county_name, "
            "sort_order + ? as sort_order) from staging.counties where county_code not like '%-%'",
            [f"-{k}", f"{k}", k * n_counties],
        )
        con.execute(
            "insert into raw.submissions select * replace (file_id + ? as file_id, file_hash || ? as file_hash) "
            "from raw.submissions where file_id < ?", [k * base, suffix, base])
        con.execute(
            "insert into raw.source_rows select * replace (file_id + ? as file_id) from raw.source_rows where file_id < ?",
            [k * base, base])
        con.execute(
            "insert into raw.row_issues select * replace (file_id + ? as file_id) from raw.row_issues where file_id < ?",
            [k * base, base])
        for table, (ids, has_county, has_file) in CORE_IDS.items():
            repl = [f"{c} || '{suffix}' as {c}" for c in ids]
            if has_county:
                repl.append(f"county_code || '-{k}' as county_code")
                cols = [r[0] for r in con.execute(f"describe {table}").fetchall()]
                if "county_name" in cols:
                    repl.append(f"county_name || '{k}' as county_name")
                if "file_hash" in cols:
                    repl.append(f"file_hash || '{suffix}' as file_hash")
            if has_file:
                repl.append(f"file_id + {k * base} as file_id")
            if table in ADDRESSED:  # the same names elsewhere: other communities, not copies of these
                repl.append(f"regexp_replace(address, '(\\d+)', '{k}0\\1', 'g') as address")
            where = f"where file_id < {base}" if has_file else f"where {ids[0]} not like '%#%'"
            con.execute(f"insert into {table} select * replace ({', '.join(repl)}) from {table} {where}")
    sizes = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in CORE_IDS}
    con.execute("commit")
    con.close()
    return sizes


def _f1_table(results: dict[int, dict[str, dict]], labels: list[str]) -> None:
    """Per rule and seed, F1 of each engine (labels), and the lowest over the seeds."""
    from pipelines.signals import RULES

    seeds = list(results)
    print("\nF1 per rule — " + " / ".join(labels) + " — seeds " + ", ".join(map(str, seeds)))
    print(f"{'rule':22s} " + " ".join(f"{seed:>{8 * len(labels)}d}" for seed in seeds))
    for rule, _ in RULES:
        cells = []
        for seed in seeds:
            cells.append(" ".join(f"{results[seed][lab][rule]['f1']:7.3f}" if lab in results[seed] else "      —"
                                  for lab in labels))
        print(f"{rule:22s} " + "  ".join(cells))


def _scale_run(db: Path, scale: int) -> int:
    big = db.with_name(f"bench-x{scale}.duckdb")
    shutil.copy(db, big)
    sizes = replicate(big, scale)
    print(f"\nx{scale}: " + ", ".join(f"{t.split('.')[1]} {n}" for t, n in sizes.items()))
    # a fresh process, as `renovation ingest` / `renovation flags` would run it: imports (GX, pinyin,
    # OpenCC) and the Data Docs update included
    code = ("import time, json; t0 = time.perf_counter()\n"
            "from pipelines import identity, signals\nfrom pipelines.warehouse import connect\n"
            f"con = connect({str(big)!r}); con.execute('set enable_progress_bar = false')\n"
            "con.execute('begin transaction'); t1 = time.perf_counter(); timings = {}\n"
            "stats = identity.refresh(con, timings=timings); t2 = time.perf_counter()\n"
            "signals.refresh(con); con.execute('commit'); t3 = time.perf_counter()\n"
            "print(json.dumps(dict(imports=t1 - t0, identity=t2 - t1, signals=t3 - t2, stats=stats, timings=timings)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
        return 1
    import json

    r = json.loads(proc.stdout.strip().splitlines()[-1])
    from pipelines.warehouse import connect

    con = connect(big, read_only=True)
    n = con.execute("select count(*) from marts.signals").fetchone()[0]
    con.close()
    steps = ", ".join(f"{k.split('.')[-1]} {v:.1f}" for k, v in r["timings"].items())
    print(f"identity engine at x{scale}: {r['identity']:.1f} s ({steps}; {r['stats']['pairs_compared']} plan pairs "
          f"compared); signal run {r['signals']:.1f} s ({n} signals); imports {r['imports']:.1f} s"
          f"{'  — over 60 s!' if r['identity'] + r['signals'] >= 60 else ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default=None, help="demo seed(s), comma-separated (default: a fresh random one)")
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--methods", default="rules,splink")
    ap.add_argument("--before", default=None, help="git revision whose engine to run on the same workbooks")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--db", type=Path, default=None, help="use an already ingested demo warehouse (with --truth)")
    ap.add_argument("--truth", type=Path, default=None)
    ap.add_argument("--quiet", action="store_true", help="only the summary tables")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

    from pipelines.identity import load_settings
    from pipelines.warehouse import connect

    work = args.workdir or Path(tempfile.mkdtemp(prefix="signals-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    seeds = [int(x) for x in args.seed.split(",")] if args.seed else [secrets.randbelow(10**6) + 10_000]
    methods = [m for m in args.methods.split(",") if m]
    labels = (["before"] if args.before else []) + methods
    results: dict[int, dict[str, dict]] = {}
    db = None
    for seed in seeds:
        seed_dir = work / str(seed)
        seed_dir.mkdir(exist_ok=True)
        if args.db:
            db, truth_path, files = args.db, args.truth, []
            print(f"warehouse {db}, truth {truth_path}")
        else:
            from demogen import generate
            from pipelines.ingest import ingest_paths

            print(f"\n=== demo seed {seed}  (workdir {seed_dir})")
            t = time.perf_counter()
            files = generate(seed_dir / "demo", seed=seed)
            db = seed_dir / "demo.duckdb"
            db.unlink(missing_ok=True)
            ingest_paths(files, db_path=db)
            print(f"generated and ingested {len(files)} files in {time.perf_counter() - t:.1f} s")
            truth_path = seed_dir / "demo" / "truth.csv"
        truth = _truth(truth_path)
        results[seed] = {}
        if args.before and files:
            t = time.perf_counter()
            before_db = _before(args.before, files, seed_dir)
            con = connect(before_db, read_only=True)
            results[seed]["before"] = score(_predicted(con), truth)
            con.close()
            if not args.quiet:
                _print_scores(f"before ({args.before}): ingest {time.perf_counter() - t:.1f} s", results[seed]["before"])
        for method in methods:
            if method == "splink":
                try:
                    import splink  # noqa: F401
                except ImportError:
                    print("splink is not installed: skipped (uv run --with splink python benchmarks/signals.py)")
                    continue
            copy = seed_dir / f"bench-{method}.duckdb"
            shutil.copy(db, copy)
            try:
                t_id, t_sig, stats = _timed_refresh(copy, dataclasses.replace(load_settings(), method=method))
            except Exception as exc:  # a method that fails is reported, not fatal to the comparison
                print(f"\nidentity method {method} failed: {type(exc).__name__}: {exc}")
                continue
            con = connect(copy, read_only=True)
            results[seed][method] = score(_predicted(con), truth)
            con.close()
            print(f"{method}: identity engine {t_id:.2f} s ({stats['plans']} plan rows, {stats['reports']} report rows, "
                  f"{stats['pairs_compared']} plan pairs compared), signal run {t_sig:.1f} s")
            if not args.quiet:
                _print_scores(f"identity method {method}", results[seed][method])
    _f1_table(results, labels)
    for lab in labels:
        worst = {seed: min(r[lab].values(), key=lambda s: s["f1"])["f1"] for seed, r in results.items() if lab in r}
        print(f"  {lab:8s} lowest rule F1 per seed: {worst}")
    if args.scale > 1 and db is not None:
        return _scale_run(db, args.scale)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
