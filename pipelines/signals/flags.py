"""`renovation flags`: the audit signals as ``flags.csv`` (spec flags.md, "Export").

The file format is fixed (UTF-8 with BOM, header ``rule,severity,county,plan_year,period,
community_name,score,evidence``), so the thresholds it was made with are stated beside it: in
``<name>.thresholds.txt`` next to the file (``flags.thresholds.txt`` for ``flags.csv``) and on
stderr. Text cells that a spreadsheet would execute get a leading ``'``.
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import duckdb

from pipelines.clock import clock_text
from pipelines.locking import open_warehouse
from pipelines.read.exports import write_flags
from pipelines.backend import locate
from pipelines.signals.rules import thresholds_text
from pipelines.warehouse import init_schema

__all__ = ["flag_rows", "run_flags", "thresholds_path"]

log = logging.getLogger(__name__)


def flag_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The rows of flags.csv from marts.signals: flags.md rule order, then counties.csv order."""
    return con.execute(
        """
        select s.rule, s.severity, c.county_name, s.plan_year, s.period, s.community_name, s.score, s.evidence
        from marts.signals as s
        left join marts.signal_rules as r using (rule)
        left join staging.counties as c using (county_code)
        order by r.sort_order, c.sort_order, s.plan_year nulls first, s.period nulls first,
                 s.file_name, s.row_number, s.community_name, s.signal_id
        """
    ).fetchall()


def thresholds_path(out: Path) -> Path:
    """The sidecar stating the thresholds: flags.csv → flags.thresholds.txt."""
    return out.with_name(out.stem + ".thresholds.txt")


def run_flags(db_path: Path, out: Path | None) -> int:
    """Write flags.csv from ``marts.signals`` to ``out`` (stdout when None); exit status 0. The
    command (pipelines.cli) first makes sure the signals are not older than the data or the
    thresholds (``pipelines.operations.ensure_fresh``)."""
    db_path = locate(db_path)
    if not db_path.exists():
        print(f"数据仓库 {db_path.display()} 不存在,导出空的 flags.csv", file=sys.stderr)
        con = duckdb.connect()
        init_schema(con)
    else:
        con = open_warehouse(db_path, read_only=True)
    try:
        rows = flag_rows(con)
        clock = clock_text(con)
    finally:
        con.close()
    text = clock + "\n" + thresholds_text()
    buf = io.StringIO(newline="")
    n = write_flags(rows, buf)
    data = buf.getvalue().encode("utf-8-sig")
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        thresholds_path(out).write_text(text + "\n", encoding="utf-8-sig")
    print(f"已导出 {n} 条风险线索" + (f"到 {out}(阈值说明见 {thresholds_path(out)})" if out else ""), file=sys.stderr)
    print(text, file=sys.stderr)
    return 0
