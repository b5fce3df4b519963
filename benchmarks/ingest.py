"""Ingest benchmark: the full demo set through the whole pipeline, against a bare read.

The bare read (Polars' read_excel with the calamine engine, read_csv for .csv: every sheet of
every file, nothing else) is the ceiling the ingest cannot beat; the ratio says how much the
layout, parsing, validation, loading and refresh cost on top. Each phase runs in a fresh
process (imports of the modules that call it excluded, Great Expectations included), so that
its time is a first ingest's and its peak memory its own. The two alternate ``--repeat``
times (this machine's timings vary by a fifth from run to run); the median ratio is the figure.
The CPU seconds of the import process and of the GX service give the floor no scheduling on this
machine's cores can beat, however the work were spread: (import + service) / cores.

    uv run python benchmarks/ingest.py [--seed N] [--dir DIR] [--repeat N] [--baseline CHECKOUT]

With ``--baseline`` (a checkout of an earlier commit, e.g. ``git clone . /tmp/old && git -C
/tmp/old checkout <commit>``), the ingest of that code runs too, alternating with the other two
in the same run, so that a change is measured against its "before" under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_bare(files: list[Path]) -> dict:
    import polars as pl

    t = time.perf_counter()
    rows = 0
    for f in files:
        if f.suffix.lower() == ".csv":
            raw = f.read_bytes()
            enc = "utf8" if raw[:3] == b"\xef\xbb\xbf" else "utf8-lossy"
            try:
                df = pl.read_csv(raw, has_header=False, infer_schema=False, encoding=enc, truncate_ragged_lines=True)
            except Exception:
                df = pl.read_csv(raw.decode("gb18030").encode(), has_header=False, infer_schema=False,
                                 truncate_ragged_lines=True)
            rows += df.height
        else:
            sheets = pl.read_excel(f, sheet_id=0, engine="calamine", has_header=False, infer_schema_length=0)
            rows += sum(df.height for df in sheets.values())
    return {"seconds": time.perf_counter() - t, "rows": rows, "peak_mib": _peak_mib()}


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def phase_ingest(files: list[Path], db: Path) -> dict:
    from pipelines.ingest import TIMINGS, ingest_paths

    t, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    results = ingest_paths(files, db_path=db)
    seconds = time.perf_counter() - t
    return {"phases": dict(TIMINGS),
        # CPU seconds of this process over the ingest, and of the GX service (a child: counted once it has exited)
        "cpu": _cpu(resource.RUSAGE_SELF) - cpu, "service_cpu": _cpu(resource.RUSAGE_CHILDREN),
        "seconds": seconds, "rows": sum(r.rows for r in results), "rejected_files": sum(r.status == "rejected" for r in results),
        "rejected_rows": sum(r.rejected_rows for r in results), "peak_mib": _peak_mib(),
        # the GX service process, when the batch was large enough to start one
        "service_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _child(phase: str, files_json: Path, db: Path, root: Path | None = None) -> dict:

    env = dict(os.environ)
    if root is not None:  # the code of another checkout, ahead of this one on the path
        env["PYTHONPATH"] = str(root)
    out = subprocess.run([sys.executable, __file__, "--phase", phase, "--files", str(files_json), "--db", str(db)]
                         + (["--root", str(root)] if root is not None else []),
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--phase", choices=["bare", "ingest"])
    ap.add_argument("--files", type=Path)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", type=Path, default=None, help="a checkout whose ingest runs as the 'before'")
    ap.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.root is not None:
        sys.path.insert(0, str(args.root))
    if args.phase:
        files = [Path(p) for p in json.loads(args.files.read_text())]
        res = phase_bare(files) if args.phase == "bare" else phase_ingest(files, args.db)
        print(json.dumps(res))
        return

    from demogen import generate

    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    out = args.dir or tmp / "demo"
    t = time.perf_counter()
    files = generate(out, seed=args.seed)
    gen = time.perf_counter() - t
    files_json = tmp / "files.json"
    files_json.write_text(json.dumps([str(f) for f in files]))
    size = sum(f.stat().st_size for f in files)
    print(f"演示数据(种子 {args.seed}):{len(files)} 个文件,{size / 2**20:.1f} MiB,生成 {gen:.1f} 秒")
    print(f"{'':12}{'秒':>8}{'行':>10}{'行/秒':>10}{'峰值内存 MiB':>14}")
    ratios, before, floors = [], [], []
    for i in range(args.repeat):
        bare = _child("bare", files_json, tmp / "unused.duckdb")
        full = _child("ingest", files_json, tmp / f"bench{i}.duckdb")
        shown = [(f"裸读取 #{i + 1}", bare), (f"完整导入 #{i + 1}", full)]
        if args.baseline is not None:
            old = _child("ingest", files_json, tmp / f"before{i}.duckdb", args.baseline)
            before.append(old["seconds"] / bare["seconds"])
            shown.append((f"改动前导入 #{i + 1}", old))
        for name, r in shown:
            peak = f"{r['peak_mib']:.0f}" + (f" + {r['service_peak_mib']:.0f}" if r.get("service_peak_mib") else "")
            print(f"{name:10}{r['seconds']:8.2f}{r['rows']:10d}{r['rows'] / r['seconds']:10.0f}{peak:>14}")
        print("    各阶段(秒):" + ",".join(f"{PHASES.get(k, k)} {v:.2f}" for k, v in full["phases"].items()))
        # the work done, not the wait: what no scheduling on this machine's cores can undo
        floor = (full["cpu"] + full["service_cpu"]) / CORES
        floors.append(floor / bare["seconds"])
        print(f"    CPU 时间(秒):导入进程 {full['cpu']:.2f},GX 服务进程 {full['service_cpu']:.2f};"
              f"{CORES} 个核上完整导入至少需 {floor:.2f} 秒 = 裸读取的 {floors[-1]:.2f} 倍")
        ratios.append(full["seconds"] / bare["seconds"])
        print(f"    完整导入 / 裸读取 = {ratios[-1]:.2f} 倍;拒收文件 {full['rejected_files']},"
              f"未通过校验的行 {full['rejected_rows']}")
    print(f"完整导入 / 裸读取,{args.repeat} 次的中位数 = {statistics.median(ratios):.2f} 倍"
          f"(各次 {'、'.join(f'{r:.2f}' for r in ratios)};目标 ≤ 2 倍,且 < 60 秒;"
          f"按 CPU 时间在 {CORES} 个核上的下限,中位数 {statistics.median(floors):.2f} 倍)")
    if before:
        print(f"改动前({args.baseline})导入 / 裸读取,中位数 = {statistics.median(before):.2f} 倍"
              f"(各次 {'、'.join(f'{r:.2f}' for r in before)})")
    print("峰值内存「A + B」:A 为导入进程,B 为 Great Expectations 服务进程")


CORES = os.cpu_count() or 1

PHASES = {
    "read": "读取与整理", "load": "写入", "refresh": "更新(合计)", "refresh.core": "核心层", "refresh.links": "识别关联",
    "refresh.marts": "汇总表", "refresh.signals": "审计线索", "refresh.verdicts": "等待校验结论", "refresh.scores": "评分",
    "validate": "校验", "validate_wait": "等待校验结果(校验与写入、更新同时进行)", "commit": "提交",
    "close": "关闭 GX 服务与数据仓库",
}


if __name__ == "__main__":
    main()
