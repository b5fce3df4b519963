"""Compare the full warehouse dump of the demo between two versions of the code.

    uv run python benchmarks/dump_compare.py [--old main] [--new WORKTREE] [--seed 2021]

1. checks the old commit out into a temporary worktree (``git worktree add --detach``; no other
   worktree is touched) and generates the demo files there, once: both versions ingest the same
   files;
2. ingests them into one warehouse per version, each in a fresh process that imports the
   version's own ``pipelines`` (the version's folder first on ``sys.path``);
3. compares every table of raw, staging, core and marts present in either warehouse: sorted rows
   as multisets over the columns both versions have, leaving out what differs by nature between
   two runs (timestamps, batch ids, file paths); prints per table the rows only in the old and
   only in the new warehouse, with a few examples, and the tables and columns only one has
   (doubles rounded to 6 decimals: a parallel sum's last bits vary from run to run).

The exit status is 0 when the dumps are identical, 1 otherwise (differences are not errors:
read them against the changes you meant to make).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ("raw", "staging", "core", "intermediate", "marts")
# columns that differ between any two runs: when and in which batch or folder a run happened
VOLATILE = {"batch_id", "file_path", "ingested_at", "computed_at", "logged_at", "validated_at", "decided_at",
            "first_seen_at", "run_time"}


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stderr[-3000:]}")
    return proc.stdout


def _tree_for(ref: str, work: Path) -> Path:
    """A folder holding ``ref``: the folder itself when it is one, else a detached worktree."""
    path = Path(ref)
    if path.is_dir():
        return path.resolve()
    sha = _run(["git", "rev-parse", ref], ROOT).strip()
    tree = work / f"tree-{sha[:10]}"
    if not tree.exists():
        _run(["git", "worktree", "add", "--detach", str(tree), sha], ROOT)
    return tree


def _python(tree: Path, code: str) -> str:
    """Run ``code`` with this interpreter, importing the packages of ``tree`` (not the installed ones)."""
    env = dict(os.environ, PYTHONPATH=str(tree), GX_ANALYTICS_ENABLED="False")
    return _run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree)!r})\n{code}"], tree, env)


def build(tree: Path, files: Path, db: Path) -> None:
    """Ingest the demo files into a new warehouse with the code of ``tree``."""
    if db.exists():
        db.unlink()
    _python(tree, "import logging; logging.disable(logging.WARNING)\n"
                  "import pipelines; assert pipelines.__file__.startswith(sys.path[0]), pipelines.__file__\n"
                  "from pipelines.ingest import ingest_paths\n"
                  f"r = ingest_paths([{str(files)!r}], db_path={str(db)!r})\n"
                  "print(sum(x.status == 'accepted' for x in r), len(r))")


def _tables(con, alias: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema in ('raw', 'staging', 'core', 'marts') order by ordinal_position",
        [alias]).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for schema, table, col, typ in rows:
        out.setdefault(f"{schema}.{table}", []).append((col, typ))
    return out


def compare(old_db: Path, new_db: Path, examples: int = 3) -> dict[str, dict]:
    """Per table: rows in each, rows only in old / only in new, columns only in one; tables only in one."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach '{old_db}' as old (read_only)")
    con.execute(f"attach '{new_db}' as new (read_only)")
    old_t, new_t = _tables(con, "old"), _tables(con, "new")
    report: dict[str, dict] = {}
    for table in sorted(set(old_t) | set(new_t)):
        if table not in old_t or table not in new_t:
            report[table] = {"only_in": "old" if table in old_t else "new"}
            continue
        old_cols = {c: t for c, t in old_t[table]}
        new_cols = {c: t for c, t in new_t[table]}
        cols = [c for c, t in old_t[table]
                if c in new_cols and c not in VOLATILE and not t.startswith("TIMESTAMP")]
        # sums of doubles depend on the order DuckDB's threads add them in: compare to 1e-6
        sel = ", ".join(f'round("{c}", 6) as "{c}"' if old_cols[c] in ("DOUBLE", "FLOAT") else f'"{c}"'
                        for c in cols)
        n_old = con.execute(f"select count(*) from old.{table}").fetchone()[0]
        n_new = con.execute(f"select count(*) from new.{table}").fetchone()[0]
        entry = {"rows_old": n_old, "rows_new": n_new,
                 "columns_only_old": sorted(set(old_cols) - set(new_cols)),
                 "columns_only_new": sorted(set(new_cols) - set(old_cols))}
        if cols:
            gone = f"select {sel} from old.{table} except all select {sel} from new.{table}"
            came = f"select {sel} from new.{table} except all select {sel} from old.{table}"
            entry["only_old"] = con.execute(f"select count(*) from ({gone})").fetchone()[0]
            entry["only_new"] = con.execute(f"select count(*) from ({came})").fetchone()[0]
            order = ", ".join(str(i + 1) for i in range(len(cols)))
            entry["examples_old"] = con.execute(f"{gone} order by {order} limit {examples}").fetchall()
            entry["examples_new"] = con.execute(f"{came} order by {order} limit {examples}").fetchall()
            entry["columns"] = cols
        report[table] = entry
    con.close()
    return report


def _short(row: tuple, cols: list[str], width: int = 220) -> str:
    text = ", ".join(f"{c}={v!r}" for c, v in zip(cols, row))
    return text if len(text) <= width else text[:width] + " …"


def print_report(report: dict[str, dict]) -> bool:
    """Print the differences; True when the dumps are identical."""
    same = True
    for table, e in report.items():
        if "only_in" in e:
            print(f"{table}: only in the {e['only_in']} warehouse")
            same = False
            continue
        changed = e.get("only_old", 0) or e.get("only_new", 0) or e["columns_only_old"] or e["columns_only_new"]
        if not changed:
            continue
        same = False
        print(f"{table}: {e['rows_old']} → {e['rows_new']} rows; only old {e.get('only_old', 0)}, "
              f"only new {e.get('only_new', 0)}")
        if e["columns_only_old"] or e["columns_only_new"]:
            print(f"   columns only old {e['columns_only_old']}, only new {e['columns_only_new']}")
        for r in e.get("examples_old", []):
            print(f"   - {_short(r, e['columns'])}")
        for r in e.get("examples_new", []):
            print(f"   + {_short(r, e['columns'])}")
    identical = [t for t, e in report.items() if "only_in" not in e and not (
        e.get("only_old", 0) or e.get("only_new", 0) or e["columns_only_old"] or e["columns_only_new"])]
    print(f"\n{len(identical)} of {len(report)} tables identical"
          + ("" if same else f"; differing: {', '.join(t for t in report if t not in identical)}"))
    return same


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", default="main", help="commit (or folder) of the old version (default: main)")
    ap.add_argument("--new", default=str(ROOT), help="commit or folder of the new version (default: this folder)")
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args(argv)
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="dump-compare-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    old_tree, new_tree = _tree_for(args.old, work), _tree_for(args.new, work)
    files = work / f"demo-{args.seed}"
    if not files.exists():
        _python(old_tree, f"from demogen import generate; generate({str(files)!r}, seed={args.seed})")
    print(f"old {old_tree}\nnew {new_tree}\ndemo files {files} (seed {args.seed})")
    for name, tree in (("old", old_tree), ("new", new_tree)):
        build(tree, files, work / f"{name}.duckdb")
    report = compare(work / "old.duckdb", work / "new.duckdb", args.examples)
    return 0 if print_report(report) else 1


if __name__ == "__main__":
    raise SystemExit(main())
