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

from pipelines import constants
from pipelines.clock import clock_text
from pipelines.read.exports import write_flags
from pipelines.refresh import refresh
from pipelines.signals.rules import thresholds_text, threshold_rows
from pipelines.backend import locate
from pipelines.warehouse import connect, init_schema

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


def _is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the signals are older than the newest submission, were never computed, or were
    computed with other thresholds or settings than the configuration holds now."""
    try:
        computed = con.execute("select max(computed_at) from marts.signal_rule_counts").fetchone()[0]
        ingested = con.execute("select max(ingested_at) from raw.submissions").fetchone()[0]
        in_force = set(con.execute("select key, value, version from marts.signal_thresholds").fetchall())
        settings = set(con.execute("select key, value, version from marts.settings").fetchall())
    except duckdb.Error:
        return True
    if ingested is None:
        return False
    wanted = {(k, v, ver) for k, _, _, v, ver in threshold_rows()}
    wanted_settings = {(s.key, s.value, s.version) for s in constants.all_settings()}
    return computed is None or computed < ingested or in_force != wanted or settings != wanted_settings


def run_flags(db_path: Path, out: Path | None) -> int:
    """Write flags.csv for the current data to ``out`` (stdout when None); exit status 0."""
    db_path = locate(db_path)
    if not db_path.exists():
        print(f"数据仓库 {db_path.display()} 不存在,导出空的 flags.csv", file=sys.stderr)
        con = duckdb.connect()
        init_schema(con)
    else:
        con = connect(db_path, read_only=True)
        if _is_stale(con):
            con.close()
            print("风险线索须按当前数据与阈值重新计算 …", file=sys.stderr)
            con = connect(db_path)
            con.execute("set enable_progress_bar = false")  # stdout may be the CSV itself
            con.execute("begin transaction")
            try:
                # the settings may have changed: everything that reads them, up to the signals
                refresh(con, only=("settings", "marts", "signals"))
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
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
