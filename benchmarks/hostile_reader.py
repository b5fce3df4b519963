"""Time and peak memory of reading the largest hostile files, against an ordinary ledger.

Each file is read and staged (read_file + stage, no warehouse) in a fresh process, so that its
peak memory is its own; the ordinary ledger of the test workbooks is the baseline, read the
same way. The files come from the seeded corpus of tests/hostile.py.

    uv run python benchmarks/hostile_reader.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import pipelines.reading.staging, pipelines.reading.files  # imports outside the timing
from pipelines.reading.staging import stage
from pipelines.reading.files import ReadError, read_file
from pipelines.reading.sheets import peak_rss_mib
before = peak_rss_mib()
t = time.perf_counter()
try:
    rows = stage(read_file(Path(sys.argv[2])), "x").height
except ReadError as e:
    rows = "拒收:" + e.messages[0][:40]
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": rows, "peak_mib": peak_rss_mib(),
                  "imports_mib": before}, ensure_ascii=False))
"""

FILES = ("huge_stray_cell_XFD1048576.xlsx", "huge_declared_dimension.xlsx", "blank_rows_100000.xlsx",
         "blank_rows_100000.csv", "data_after_300000_blank_rows.xlsx", "wide_row_1000000_columns.csv",
         "xls_stray_cell_IV65536.xls", "rows_100000.xlsx", "cell_10MB.xlsx", "zip_bomb_lying_about_its_size.xlsx")


def run(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import hostile
    import workbooks as W

    tmp = Path(tempfile.mkdtemp(prefix="bench_hostile_"))
    cases = {c.name: c for c in hostile.build(tmp / "files")}
    base = W.ledger(tmp)
    print(f"{'文件':40}{'大小 KiB':>10}{'秒(中位数)':>12}{'相对基线':>10}{'峰值 MiB':>10}{'其中导入':>10}  结果")
    baseline = None
    for name in ("基线:普通台账(7 行)", *FILES):
        path = base if name.startswith("基线") else cases[name].path
        runs = [run(path) for _ in range(args.repeat)]
        sec = statistics.median(r["seconds"] for r in runs)
        baseline = baseline or sec
        peak = max(r["peak_mib"] for r in runs)
        imports = min(r["imports_mib"] for r in runs)
        print(f"{name:40}{path.stat().st_size / 1024:10.0f}{sec:12.3f}{sec / baseline:9.0f}x{peak:10.0f}{imports:10.0f}  "
              f"{runs[0]['rows']}")


if __name__ == "__main__":
    main()
