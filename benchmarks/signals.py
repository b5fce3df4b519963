"""Benchmark of the audit signals against the demo truth (issue 3).

    uv run python benchmarks/signals.py [--seed N] [--scale 10] [--methods rapidfuzz,splink]

1. generates a demo data set with a seed not used in development (random unless given; printed),
   ingests it, and times one signal run (``pipelines.signals.refresh``);
2. per rule: precision, recall and F1 of the signals against ``truth.csv`` (a signal matches a
   truth row with the same rule, county, plan_year, period and community_name);
3. compares the entity-resolution methods (blocking + rapidfuzz rules, Splink) by the F1 of the
   duplicate rules and of all rules;
4. replicates the core tables ``--scale`` times (distinct ids, each copy its own set of counties)
   and times the signal run at that size.
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
    "core.link_plan_ledger": (("plan_row_id", "community_id"), False, False),
    "core.link_report_plan": (("report_row_id", "plan_row_id", "project_key"), False, False),
}


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


def _timed_refresh(db: Path, settings=None) -> float:
    from pipelines import signals
    from pipelines.warehouse import connect

    con = connect(db)
    t = time.perf_counter()
    con.execute("begin transaction")
    signals.refresh(con, settings)
    con.execute("commit")
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed


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
            "insert into staging.counties select county_code || ? , county_name || ?, aliases, seat_lat, seat_lon, "
            "sort_order + ? from staging.counties where county_code not like '%-%'",
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
            where = f"where file_id < {base}" if has_file else f"where {ids[0]} not like '%#%'"
            con.execute(f"insert into {table} select * replace ({', '.join(repl)}) from {table} {where}")
    sizes = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in CORE_IDS}
    con.execute("commit")
    con.close()
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None, help="demo seed (default: a fresh random one)")
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--methods", default="rapidfuzz,splink")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--db", type=Path, default=None, help="use an already ingested demo warehouse (with --truth)")
    ap.add_argument("--truth", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

    from pipelines import entity
    from pipelines.warehouse import connect

    work = args.workdir or Path(tempfile.mkdtemp(prefix="signals-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.db:
        db, truth_path = args.db, args.truth
        print(f"warehouse {db}, truth {truth_path}")
    else:
        from demogen import generate
        from pipelines.ingest import ingest_paths

        seed = args.seed if args.seed is not None else secrets.randbelow(10**6) + 10_000
        print(f"demo seed: {seed}  (workdir {work})")
        t = time.perf_counter()
        files = generate(work / "demo", seed=seed)
        db = work / "demo.duckdb"
        ingest_paths(files, db_path=db)
        print(f"generated and ingested {len(files)} files in {time.perf_counter() - t:.1f} s")
        truth_path = work / "demo" / "truth.csv"
    truth = _truth(truth_path)

    base_settings = entity.load_settings()
    results = {}
    for method in [m for m in args.methods.split(",") if m]:
        if method == "splink":
            try:
                import splink  # noqa: F401
            except ImportError:
                print("splink is not installed: skipped (uv run --with splink python benchmarks/signals.py)")
                continue
        copy = work / f"bench-{method}.duckdb"
        shutil.copy(db, copy)
        try:
            elapsed = _timed_refresh(copy, dataclasses.replace(base_settings, method=method))
        except Exception as exc:  # a method that fails is reported, not fatal to the comparison
            print(f"\nentity method {method} failed: {type(exc).__name__}: {exc}")
            continue
        con = connect(copy, read_only=True)
        scores = score(_predicted(con), truth)
        con.close()
        results[method] = (elapsed, scores)
        _print_scores(f"entity method {method}: signal run {elapsed:.1f} s", scores)

    print("\nentity resolution, F1 by method (DUP_CROSS_YEAR / DUP_SAME_YEAR / all rules):")
    for method, (elapsed, scores) in results.items():
        tp = sum(s["tp"] for s in scores.values())
        wrong = sum(s["fp"] + s["fn"] for s in scores.values())
        print(f"  {method:10s} {scores['DUP_CROSS_YEAR']['f1']:.3f} / {scores['DUP_SAME_YEAR']['f1']:.3f} / "
              f"{2 * tp / max(2 * tp + wrong, 1):.3f}   run {elapsed:.1f} s")

    if args.scale > 1:
        big = work / f"bench-x{args.scale}.duckdb"
        shutil.copy(db, big)
        sizes = replicate(big, args.scale)
        print(f"\nx{args.scale}: " + ", ".join(f"{t.split('.')[1]} {n}" for t, n in sizes.items()))
        # a fresh process, as `renovation ingest` / `renovation flags` would run it: imports (GX, pinyin)
        # and the Data Docs update included
        code = ("import time; t = time.perf_counter()\n"
                "from pipelines import signals\nfrom pipelines.warehouse import connect\n"
                f"con = connect({str(big)!r}); con.execute('set enable_progress_bar = false')\n"
                "con.execute('begin transaction'); signals.refresh(con); con.execute('commit')\n"
                "print(time.perf_counter() - t)")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            return 1
        elapsed = float(proc.stdout.strip().splitlines()[-1])
        con = connect(big, read_only=True)
        n = con.execute("select count(*) from marts.signals").fetchone()[0]
        con.close()
        print(f"signal run at x{args.scale} (fresh process, imports included): {elapsed:.1f} s ({n} signals)"
              f"{'  — over 60 s!' if elapsed >= 60 else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
