"""The hostile-input corpus (tests/hostile.py) through the real ingest, each file into a fresh
warehouse of its own: every file ends loaded or clearly rejected in Chinese, naming file, sheet,
row and column where they apply, with no trace of a Python error; and no file takes the
process past 1 GiB.

The files are ingested by a child process, which reports its peak memory after each: the peak
grows with every file, so the last figure bounds every file's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hostile
from conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent
GIB = 1 << 30

CHILD = r"""
import datetime as dt, json, resource, sys
from pathlib import Path
# the child must not take the machine with it should a reader regress: 6 GiB of address space at most
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
sys.path.insert(0, sys.argv[1])
from pipelines.ingest import ingest_paths
from pipelines.reading.sheets import peak_rss_mib
today = dt.date.fromisoformat(sys.argv[2])
for line in sys.stdin:
    path, db = json.loads(line)
    [r] = ingest_paths([Path(path)], db_path=Path(db), today=today)
    peak = peak_rss_mib() * 2**20  # not ru_maxrss: it counts the parent's memory at the fork
    print(json.dumps({"file": path, "status": r.status, "rows": r.rows, "rejected_rows": r.rejected_rows,
                      "messages": r.messages, "peak": peak}, ensure_ascii=False), flush=True)
"""

_TRACE = re.compile(r"Traceback|Error\b|Exception|File \"|line \d+|\bNone\b|0x[0-9a-f]{6,}")
_ROW_MESSAGE = re.compile(r"^文件「[^」]+」,工作表「[^」]+」,第 \d+ 行,[A-Z]+ 列「[^」]+」:.*[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> tuple[list[hostile.Case], dict[str, dict]]:
    d = tmp_path_factory.mktemp("hostile")
    cases = hostile.build(d / "files")
    lines = "".join(json.dumps([str(c.path), str(d / "db" / f"{i}.duckdb")]) + "\n" for i, c in enumerate(cases))
    (d / "db").mkdir()
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), TODAY.isoformat()], input=lines, text=True,
                         capture_output=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return cases, {Path(r["file"]).name: r for r in results}


def test_corpus_is_large_and_covers_the_issue(outcomes):
    cases, _ = outcomes
    assert len(cases) >= 40
    names = " ".join(c.name for c in cases)
    for needed in ("XFD1048576", "blank_rows_100000", "control_characters", "1e308", "2pow63", "mixed_encoding",
                   "cell_10MB", "day_numbers", "zip_bomb", "password", "duplicate_headers", "rows_100000", ".xls"):
        assert needed in names, needed


def test_every_file_ends_as_expected(outcomes):
    cases, results = outcomes
    wrong = []
    for c in cases:
        r = results.get(c.name)
        if r is None:
            wrong.append(f"{c.name}: no result (the child died on it?)")
            continue
        text = "\n".join(r["messages"])
        if r["status"] != c.status:
            wrong.append(f"{c.name}: {r['status']} instead of {c.status}: {text[:400]}")
        if c.rows is not None and r["rows"] != c.rows:
            wrong.append(f"{c.name}: {r['rows']} rows instead of {c.rows}")
        if c.rejected_rows is not None and r["rejected_rows"] != c.rejected_rows:
            wrong.append(f"{c.name}: {r['rejected_rows']} rejected rows instead of {c.rejected_rows}")
        for w in c.words:
            if w not in text:
                wrong.append(f"{c.name}: 「{w}」 not in {text[:600]}")
    assert not wrong, "\n".join(wrong)


def test_messages_are_chinese_located_and_without_traces(outcomes):
    cases, results = outcomes
    for c in cases:
        r = results[c.name]
        if r["status"] == "rejected" and not r["rejected_rows"]:
            assert r["messages"], c.name
        for m in r["messages"]:
            assert m.startswith(f"文件「{c.name}」"), (c.name, m)
            assert re.search(r"[\u4e00-\u9fff]", m), (c.name, m)
            assert not _TRACE.search(m), (c.name, m)
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", m), (c.name, m)
            assert len(m) < 2000, (c.name, len(m))
        # a rejected row names its sheet, row and column
        for m in r["messages"]:
            if re.search(r"第 \d+ 行,[A-Z]+ 列", m):
                assert _ROW_MESSAGE.match(m), (c.name, m)


def test_no_file_takes_the_process_past_one_gib(outcomes):
    cases, results = outcomes
    peaks = {name: r["peak"] for name, r in results.items()}
    assert len(peaks) == len(cases)
    worst = max(peaks, key=peaks.get)
    assert peaks[worst] < GIB, f"{worst}: {peaks[worst] / 2**20:.0f} MiB"
