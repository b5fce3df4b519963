"""Identity links: plan rows to ledger communities, report rows to plan rows.

There is no community key across files (input-formats.md). A plan row is linked to the ledger
community of its county that its name, address, build year and size agree with best; a report
row to the plan row of its county and plan year. Every link keeps its score and which fields
agreed, in Chinese, so that an auditor can see why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.names import address_similarity, name_key, name_similarity, norm

__all__ = ["link_all", "compare", "Comparison", "LINK_THRESHOLD", "NAME_THRESHOLD"]

log = logging.getLogger(__name__)

NAME_THRESHOLD = 0.75     # below this the names are not the same community, whatever else agrees
LINK_THRESHOLD = 0.62     # the combined score a link needs
WEIGHTS = {"name": 0.55, "address": 0.15, "year": 0.10, "size": 0.20}


@dataclass(frozen=True)
class Comparison:
    score: float
    name: float
    parts: tuple[str, ...]

    @property
    def explained(self) -> str:
        return ";".join(self.parts)


def _ratio_part(label: str, unit: str, a, b) -> tuple[float | None, str | None]:
    if a is None or b is None or not b:
        return None, None
    ratio = a / b
    dev = abs(ratio - 1)
    sim = 1.0 if dev <= 0.05 else 0.8 if dev <= 0.15 else 0.5 if dev <= 0.5 else 0.1
    return sim, f"{label}:{a:g}{unit} vs {b:g}{unit}({(ratio - 1) * 100:+.0f}%)"


def compare(a: dict, b: dict) -> Comparison:
    """How well row ``a`` (plan or report) agrees with row ``b`` (ledger or plan)."""
    name_sim, why = name_similarity(a.get("name"), b.get("name"))
    parts = [f"名称:{why}({name_sim:.2f})"]
    scores = {"name": name_sim}
    addr, addr_why = address_similarity(a.get("address"), b.get("address"))
    if addr is not None:
        scores["address"] = addr
        parts.append(f"地址:{addr_why}({addr:.2f})")
    if a.get("build_year") and b.get("build_year"):
        d = abs(a["build_year"] - b["build_year"])
        scores["year"] = 1.0 if d == 0 else 0.85 if d <= 3 else 0.5 if d <= 6 else 0.0
        parts.append(f"建成年份:{a['build_year']} vs {b['build_year']}(差{d}年)")
    sizes = []
    for key, label, unit in (("households", "户数", "户"), ("buildings", "楼栋", "栋"), ("area_m2", "面积", "㎡"),
                             ("total_invest_wan_yuan", "总投资", "万元")):
        sim, text = _ratio_part(label, unit, a.get(key), b.get(key))
        if sim is not None:
            sizes.append(sim)
            parts.append(text)
    if sizes:
        scores["size"] = sum(sizes) / len(sizes)
    weight = sum(WEIGHTS[k] for k in scores)
    score = sum(WEIGHTS[k] * v for k, v in scores.items()) / weight
    if name_sim < NAME_THRESHOLD:
        score = min(score, name_sim)
    return Comparison(round(score, 4), name_sim, tuple(parts))


def _by_full_name(candidates: list[dict]) -> dict[str, list[dict]]:
    """Candidates by their normalised full name, each list in the candidates' order."""
    out: dict[str, list[dict]] = {}
    for c in candidates:
        out.setdefault(name_key(c.get("name")).full, []).append(c)
    return out


def _best(row: dict, candidates: list[dict], id_key: str,
          by_full: dict[str, list[dict]] | None = None) -> tuple[str | None, Comparison | None, str]:
    """The best candidate, or none. An exact name match wins over fuzzy ones.

    ``by_full`` is :func:`_by_full_name` of ``candidates``, when the caller keeps one per group."""
    if not candidates:
        return None, None, "none"
    full = name_key(row.get("name")).full
    exact = (by_full if by_full is not None else _by_full_name(candidates)).get(full, [])
    # blocking: only names that may be the same community get the full comparison
    named = [(name_similarity(row.get("name"), c.get("name"))[0], c) for c in candidates] if not exact else []
    pool = exact or [c for sim, c in named if sim >= NAME_THRESHOLD]
    if not pool:
        closest = max(named, key=lambda t: t[0])[1]
        return None, compare(row, closest), "none"
    scored = sorted(((compare(row, c), c) for c in pool), key=lambda t: -t[0].score)
    best_cmp, best = scored[0]
    if best_cmp.score < LINK_THRESHOLD or best_cmp.name < NAME_THRESHOLD:
        return None, best_cmp, "none"
    return best[id_key], best_cmp, "exact_name" if exact else "fuzzy"


_LEDGER_COLS = ["community_id", "county_code", "name", "address", "build_year", "buildings", "households", "area_m2"]
_PLAN_COLS = ["plan_row_id", "county_code", "plan_year", "name", "address", "build_year", "buildings", "households",
              "area_m2", "total_invest_wan_yuan"]


def link_plans(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    ledger = con.sql(f"select {', '.join(_LEDGER_COLS)} from core.ledger_communities").pl()
    plans = con.sql(f"select {', '.join(_PLAN_COLS)} from core.plan_rows").pl()
    by_county: dict[str, list[dict]] = {}
    for r in ledger.iter_rows(named=True):
        by_county.setdefault(r["county_code"], []).append(r)
    by_full = {county: _by_full_name(cands) for county, cands in by_county.items()}
    out = []
    for p in plans.iter_rows(named=True):
        cands = by_county.get(p["county_code"], [])
        cid, cmp, method = _best(p, cands, "community_id", by_full.get(p["county_code"]))
        out.append({
            "plan_row_id": p["plan_row_id"], "community_id": cid,
            "score": cmp.score if cmp else 0.0,
            "matched_fields": cmp.explained if cmp else "本县市台账为空",
            "method": method, "candidates": len(cands),
        })
    return pl.DataFrame(out, schema={"plan_row_id": pl.String, "community_id": pl.String, "score": pl.Float64,
                                     "matched_fields": pl.String, "method": pl.String, "candidates": pl.Int32})


def link_reports(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    plans = con.sql(f"select {', '.join(_PLAN_COLS)} from core.plan_rows").pl()
    reports = con.sql(
        "select report_row_id, county_code, plan_year, project_code, name, households, total_invest_wan_yuan, report_month "
        "from core.report_rows_history"
    ).pl()
    by_key: dict[tuple, list[dict]] = {}
    for r in plans.iter_rows(named=True):
        by_key.setdefault((r["county_code"], r["plan_year"]), []).append(r)
    by_full = {key: _by_full_name(cands) for key, cands in by_key.items()}
    cache: dict[tuple, tuple] = {}
    code_to_plan: dict[tuple, str] = {}
    rows = list(reports.sort("report_month").iter_rows(named=True))
    out = []
    for r in rows:
        key = (r["county_code"], r["plan_year"], r["name"], r["households"], r["total_invest_wan_yuan"])
        if key not in cache:
            group = (r["county_code"], r["plan_year"])
            cache[key] = _best(r, by_key.get(group, []), "plan_row_id", by_full.get(group))
        pid, cmp, method = cache[key]
        code_key = (r["county_code"], r["plan_year"], norm(r["project_code"])) if r["project_code"] else None
        if pid is None and code_key and code_key in code_to_plan:
            # 项目编号 is a strong hint, not proof: used only when the names found nothing
            pid, method = code_to_plan[code_key], "project_code"
        if pid is not None and code_key and code_key not in code_to_plan:
            code_to_plan[code_key] = pid
        project_key = pid or f"U:{r['county_code']}:{r['plan_year']}:{name_key(r['name']).full}"
        out.append({
            "report_row_id": r["report_row_id"], "plan_row_id": pid, "project_key": project_key,
            "score": cmp.score if cmp else (0.0 if method == "none" else 0.9),
            "matched_fields": (cmp.explained if cmp else "该县市该年度计划为空")
            + (";项目编号一致" if method == "project_code" else ""),
            "method": method,
        })
    return pl.DataFrame(out, schema={"report_row_id": pl.String, "plan_row_id": pl.String, "project_key": pl.String,
                                     "score": pl.Float64, "matched_fields": pl.String, "method": pl.String})


def link_all(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild both link tables from the current core tables."""
    for table, frame in (("core.link_plan_ledger", link_plans(con)), ("core.link_report_plan", link_reports(con))):
        con.execute(f"delete from {table}")
        con.register("_links", frame.to_arrow())
        try:
            con.execute(f"insert into {table} by name select * from _links")
        finally:
            con.unregister("_links")
