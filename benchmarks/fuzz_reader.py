"""Coverage-guided fuzz of the workbook reader and staging, for a bounded time.

Every input must end as a staged sheet or a Chinese :class:`ReadError`; any other exception, a
native abort, or more than 1 GiB of memory is a finding. With atheris (libFuzzer) installed the
fuzz is coverage-guided; without it, Hypothesis drives the same harness.

    uv run --with atheris python benchmarks/fuzz_reader.py [--seconds 300] [--out DIR]

The harness reads the fuzz input in four ways, chosen by its first byte: as a whole file
(.xlsx, .xls or .csv), as the worksheet XML of a valid .xlsx package, as its string table, or
as CSV text. Findings are written to ``--out`` (default tests/data/fuzz/, where the test suite
replays every file it finds; see tests/test_fuzz_reader.py).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

MODES = ("file.xlsx", "file.xls", "file.csv", "sheet.xml", "sst.xml", "text.csv")


def materialise(data: bytes, folder: Path) -> Path:
    """The file the harness reads for ``data`` (also used by the tests to replay a finding)."""
    import hostile

    mode = MODES[data[0] % len(MODES)] if data else MODES[0]
    body = data[1:]
    path = folder / f"fuzz_{mode.replace('.', '_')}{Path(mode).suffix}"
    if mode.startswith("file."):
        path.write_bytes(body)
    elif mode == "sheet.xml":
        hostile.write_parts(path, body.decode("utf-8", "replace"))
    elif mode == "sst.xml":
        hostile.write_parts(path, hostile.sheet_xml(hostile.ledger_rows()).replace(
            '<c r="D2" t="inlineStr"><is><t xml:space="preserve">团结小区</t></is></c>', '<c r="D2" t="s"><v>0</v></c>'),
            sst=body.decode("utf-8", "replace"))
    else:
        path.write_bytes(body)
    return path


def run_one(data: bytes, folder: Path) -> None:
    from pipelines.reading.staging import stage
    from pipelines.reading.files import ReadError, read_file

    path = materialise(data, folder)
    try:
        stage(read_file(path), path.name)
    except ReadError as e:
        assert e.messages and all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in e.messages), e.messages


def seeds(folder: Path) -> list[bytes]:
    """Valid inputs of every mode, for the fuzzer to start from."""
    import hostile
    import workbooks as W

    out = []
    x = W.write_xlsx(folder / "s.xlsx", W.LEDGER_HEADER, W.LEDGER_ROWS, sheet="台账")
    out.append(bytes([0]) + x.read_bytes())
    out.append(bytes([1]) + W.write_xls(folder / "s.xls", W.LEDGER_HEADER, W.LEDGER_ROWS).read_bytes())
    c = W.write_csv(folder / "s.csv", W.LEDGER_HEADER, W.LEDGER_ROWS)
    out.append(bytes([2]) + c.read_bytes())
    out.append(bytes([3]) + hostile.sheet_xml(hostile.ledger_rows()).encode())
    out.append(bytes([3]) + hostile.sheet_xml(hostile.ledger_rows(), ref=False).encode())
    out.append(bytes([4]) + b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                            b'count="1" uniqueCount="1"><si><t>\xe5\x9b\xa2\xe7\xbb\x93</t></si></sst>')
    out.append(bytes([5]) + c.read_bytes())
    for p in folder.iterdir():
        if p.is_file():
            p.unlink()
    return out


def _save(data: bytes, out: Path, why: str) -> Path:
    import hashlib

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{hashlib.sha1(data).hexdigest()[:16]}.bin"
    path.write_bytes(data)
    print(f"发现问题:{why},输入已保存到 {path}", file=sys.stderr)
    return path


def with_atheris(seconds: int, out: Path) -> None:
    import atheris

    import hostile  # noqa: F401 — the libraries first, uninstrumented: coverage is of our code
    import lxml.etree  # noqa: F401
    import openpyxl  # noqa: F401
    import polars  # noqa: F401
    import python_calamine  # noqa: F401
    import xlrd  # noqa: F401

    with atheris.instrument_imports(include=["pipelines"]):
        import pipelines.reading.staging  # noqa: F401
        import pipelines.reading.files  # noqa: F401
        import pipelines.reading.sheets  # noqa: F401
        import pipelines.reading.xlsx  # noqa: F401
    work = Path(tempfile.mkdtemp(prefix="fuzz_reader_"))
    corpus = work / "corpus"
    corpus.mkdir()
    for i, s in enumerate(seeds(work)):
        (corpus / f"seed{i}").write_bytes(s)
    out.mkdir(parents=True, exist_ok=True)

    def one(data: bytes) -> None:
        run_one(data, work)

    atheris.Setup([sys.argv[0], str(corpus), f"-max_total_time={seconds}", "-rss_limit_mb=1024", "-timeout=60",
                   f"-artifact_prefix={out}/", "-print_final_stats=1"], one)
    atheris.Fuzz()


def with_hypothesis(seconds: int, out: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    work = Path(tempfile.mkdtemp(prefix="fuzz_reader_"))
    start = seeds(work)
    found = 0
    runs = 0

    @st.composite
    def inputs(draw):
        base = bytearray(draw(st.sampled_from(start)))
        for _ in range(draw(st.integers(0, 8))):
            kind = draw(st.integers(0, 2))
            pos = draw(st.integers(1, max(1, len(base) - 1)))
            if kind == 0:
                base[pos] = draw(st.integers(0, 255))
            elif kind == 1:
                base[pos:pos] = draw(st.binary(min_size=1, max_size=64))
            else:
                del base[pos: pos + draw(st.integers(1, 64))]
        return bytes(base)

    @settings(max_examples=10**9, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(inputs())
    def fuzz(data):
        nonlocal runs, found
        runs += 1
        if time.monotonic() > stop:
            return
        try:
            run_one(data, work)
        except Exception as e:  # noqa: BLE001 — every other exception is a finding
            found += 1
            _save(data, out, f"{type(e).__name__}: {e}"[:200])

    stop = time.monotonic() + seconds
    try:
        fuzz()
    except Exception:  # noqa: BLE001 — Hypothesis stops on its own after the time is up
        pass
    print(f"Hypothesis 变异模糊测试:{runs} 个输入,{seconds} 秒,发现问题 {found} 个", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "fuzz")
    ap.add_argument("--hypothesis", action="store_true", help="不用 atheris")
    args = ap.parse_args()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    try:
        if args.hypothesis:
            raise ImportError
        import atheris  # noqa: F401
    except ImportError:
        with_hypothesis(args.seconds, args.out)
        return
    with_atheris(args.seconds, args.out)


if __name__ == "__main__":
    main()
