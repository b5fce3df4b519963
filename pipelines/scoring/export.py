"""``scores.csv`` (evaluation.md, "Export") and the ``renovation scores`` command."""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.clock import clock_text
from pipelines.read.exports import scores_csv
from pipelines.scoring.scheme import load_scheme
from pipelines.scoring.store import open_for_year, scores_for

__all__ = ["run_scores"]


def run_scores(db_path: Path, year: int, kind: str, out: Path | None) -> int:
    """CLI ``renovation scores``: write scores.csv; 1 when the year has no data."""
    scheme = load_scheme()
    if kind not in ("annual", "biennial"):
        print(f"用法错误:--kind 只能是 annual 或 biennial,收到 {kind}", file=sys.stderr)
        return 2
    if kind == "biennial" and year < scheme.biennial_first_year:
        print(f"用法错误:两年评估自 {scheme.biennial_first_year} 年起进行,{year} 年不适用。", file=sys.stderr)
        return 2
    con = open_for_year(db_path, year, "得分")
    if con is None:
        return 1
    try:
        scores = scores_for(con, year, kind, scheme)
        clock = clock_text(con)
    finally:
        con.close()
    text = scores_csv(scores)
    if out is None:
        sys.stdout.buffer.write(("\ufeff" + text).encode("utf-8"))
        sys.stdout.flush()
    else:
        Path(out).write_text(text, encoding="utf-8-sig", newline="")
    label = next((s.as_of_label for s in scores if s.as_of_label), "")
    kind_name = "年度体检" if kind == "annual" else "两年评估"
    where = f"已写入 {out}" if out is not None else "已输出"
    print(f"{year} 年{kind_name}得分:{len({s.county_code for s in scores})} 个县市"
          f"{'(' + label + ')' if label else ''},评分方案 {scheme.version};{where}。{clock}。", file=sys.stderr)
    return 0

