"""The links of the one identity engine, from the current core tables to ``core.identity_links``
(plan → ledger, report → plan, plan ↔ plan) and ``core.identity_entities`` (plan rows grouped
into communities, for the duplicate rules).

* plan → ledger: the best ledger community of the plan row's county that
  :func:`~pipelines.identity.compare.plan_ledger` accepts; when none does, the closest candidate
  is kept (not a match) so that NOT_IN_LEDGER can say how close the ledger came.
* report → plan: the best plan row of the report row's county and plan year
  (:func:`~pipelines.identity.compare.report_plan`); a row whose name finds nothing takes the plan
  row of the other rows with its 项目编号 (a strong hint, not proof: only when the name is silent).
* plan ↔ plan: pairs from blocking within a county and, across any two counties, at the same address;
  compared by :func:`~pipelines.identity.compare.plan_plan` (or Splink, ``method = "splink"``).
  Clusters keep at most one ledger community per county, also through a third row.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from pipelines.identity import blocking
from pipelines.identity.compare import Comparison, compare_names, plan_ledger, plan_plan, report_plan
from pipelines.identity.normalise import parse_name
from pipelines.identity.settings import Settings, load_settings

__all__ = ["refresh", "refresh_reports", "link_plans_to_ledger", "link_reports_to_plans", "plan_pairs", "cluster", "Link",
           "LINK_SCHEMA", "ENTITY_SCHEMA"]

log = logging.getLogger(__name__)

LINK_SCHEMA = {"kind": pl.String, "from_id": pl.String, "to_id": pl.String, "is_match": pl.Boolean,
               "score": pl.Float64, "agreed": pl.List(pl.String), "explanation": pl.String, "method": pl.String,
               "candidates": pl.Int32, "project_key": pl.String}
ENTITY_SCHEMA = {"plan_row_id": pl.String, "entity_id": pl.String, "matched_row_id": pl.String,
                 "link_from": pl.String, "link_to": pl.String, "method": pl.String}


@dataclass(frozen=True)
class Link:
    kind: str
    from_id: str
    to_id: str | None
    cmp: Comparison | None
    method: str
    candidates: int = 0
    project_key: str | None = None
    note: str = ""

    def row(self) -> dict[str, Any]:
        c = self.cmp
        return {"kind": self.kind, "from_id": self.from_id, "to_id": self.to_id, "is_match": bool(c and c.is_match),
                "score": c.score if c else 0.0, "agreed": list(c.agreed) if c and c.is_match else [],
                "explanation": ((c.explanation if c else "") + self.note).lstrip(";"), "method": self.method,
                "candidates": self.candidates, "project_key": self.project_key}


def _best(row: dict, cands: list[dict], id_key: str, fn, s: Settings) -> tuple[dict | None, Comparison | None]:
    """The accepted candidate with the highest score (ties: the smaller id), else the closest one."""
    scored = sorted(((fn(row, c, s), c) for c in cands), key=lambda t: (not t[0].is_match, -t[0].score, t[1][id_key]))
    if not scored:
        return None, None
    return scored[0][1], scored[0][0]


# --- plan → ledger ----------------------------------------------------------------------------

def link_plans_to_ledger(plans: list[dict], ledger: list[dict], s: Settings) -> dict[str, Link]:
    idx = blocking.Index(ledger, lambda r: r["county_code"], lambda r: blocking.name_keys(r.get("name")), s.block_max)
    counts = Counter(r["county_code"] for r in ledger)
    out: dict[str, Link] = {}
    for p in plans:
        cands = idx.candidates(p["county_code"], blocking.name_keys(p.get("name")), "community_id")
        best, cmp = _best(p, cands, "community_id", plan_ledger, s)
        note = "" if cands else (";本县市台账无现行小区" if not counts.get(p["county_code"]) else ";本县市台账中无名称相近的小区")
        out[p["plan_row_id"]] = Link("plan_ledger", p["plan_row_id"], best["community_id"] if best else None, cmp,
                                     "rules" if cmp and cmp.is_match else "none", len(cands), note=note)
    return out


# --- report → plan ----------------------------------------------------------------------------

def link_reports_to_plans(reports: list[dict], plans: list[dict], s: Settings) -> list[Link]:
    idx = blocking.Index(plans, lambda r: f"{r['county_code']}|{r['plan_year']}",
                         lambda r: blocking.name_keys(r.get("name")), s.block_max)
    cache: dict[tuple, tuple[dict | None, Comparison | None, int]] = {}
    first: list[tuple[dict, dict | None, Comparison | None, int]] = []
    for r in reports:
        sig = (r["county_code"], r["plan_year"], r.get("name"), r.get("households"), r.get("total_invest_wan_yuan"))
        if sig not in cache:
            cands = idx.candidates(f"{r['county_code']}|{r['plan_year']}", blocking.name_keys(r.get("name")),
                                   "plan_row_id")
            best, cmp = _best(r, cands, "plan_row_id", report_plan, s)
            cache[sig] = (best, cmp, len(cands))
        first.append((r, *cache[sig]))
    # 项目编号: the plan row most of a code's name-linked rows went to
    by_code: dict[tuple, Counter] = {}
    for r, best, cmp, _ in first:
        if r.get("project_code") and cmp is not None and cmp.is_match:
            by_code.setdefault((r["county_code"], r["plan_year"], str(r["project_code"]).strip()), Counter())[
                best["plan_row_id"]] += 1
    out = []
    for r, best, cmp, n in first:
        county, year = r["county_code"], r["plan_year"]
        if cmp is not None and cmp.is_match:
            pid = best["plan_row_id"]
            out.append(Link("report_plan", r["report_row_id"], pid, cmp, "rules", n, pid))
            continue
        code = (county, year, str(r["project_code"]).strip()) if r.get("project_code") else None
        if code in by_code:
            pid = by_code[code].most_common(1)[0][0]
            via = Comparison(True, 0.9, ("项目编号",), (f"项目编号:{code[2]}一致(名称未能确认)",))
            out.append(Link("report_plan", r["report_row_id"], pid, via, "project_code", n, pid))
            continue
        key = f"U:{county}:{year}:{parse_name(r.get('name')).body}"
        note = "" if n else ";该县市该年度计划中无名称相近的项目"
        out.append(Link("report_plan", r["report_row_id"], best["plan_row_id"] if best else None, cmp, "none", n, key,
                        note=note))
    return out


# --- plan ↔ plan ------------------------------------------------------------------------------

def _pair_keys(row: dict) -> list[str]:
    """Blocking keys of a plan row, by its own name and its ledger community's."""
    led = row.get("ledger") or {}
    names = [row.get("name")] + ([led["name"]] if led.get("name") else [])
    keys = [f"{row['county_code']}|{k}" for n in names for k in blocking.name_keys(n)]
    # across counties: a name equal after normalisation (or in its first characters), at the same road
    # and house number — compare.plan_plan needs that much for two counties' entries
    places = blocking.place_keys(led.get("address") or row.get("address"))
    strong = {k for n in names for k in blocking.name_keys(n, strong_only=True)}
    keys += [f"x|{p}|{k}" for p in places for k in strong]
    return keys


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    cmp: Comparison
    method: str


def _kept(a: dict, b: dict, cmp: Comparison, s: Settings) -> bool:
    """Pairs worth keeping in the link table: matches, and names close enough to need a reason."""
    if cmp.is_match:
        return True
    name = compare_names(a.get("name"), b.get("name"), s)
    return name.level not in ("fuzzy", "missing") or name.score >= s.name_min


def plan_pairs(plans: list[dict], s: Settings, method: str | None = None) -> tuple[list[Pair], int]:
    """(kept pairs, number of pairs compared)."""
    method = method or s.method
    candidates = blocking.pairs(plans, _pair_keys, s.block_max)
    out: list[Pair] = []
    for i, j in candidates:
        a, b = plans[i], plans[j]
        if a["plan_row_id"] > b["plan_row_id"]:
            a, b = b, a
        cmp = plan_plan(a, b, s)
        if _kept(a, b, cmp, s):
            out.append(Pair(a["plan_row_id"], b["plan_row_id"], cmp, "rules"))
    if method == "splink":
        from pipelines.identity.splink_pairs import splink_pairs

        ledger_decided = [p for p in out if p.cmp.parts and p.cmp.parts[0] in ("同一台账小区", "台账中为不同小区")]
        out = ledger_decided + splink_pairs(plans, s)
    return out, len(candidates)


@dataclass
class _Cluster:
    members: list[str] = field(default_factory=list)
    ledger: dict[str, str] = field(default_factory=dict)  # county_code -> community_id


def cluster(plans: list[dict], pairs: list[Pair]) -> pl.DataFrame:
    """Plan rows grouped into communities; one output row per plan row (core.identity_entities)."""
    by_id = {r["plan_row_id"]: r for r in plans}
    parent = {pid: pid for pid in by_id}
    clusters = {pid: _Cluster([pid], {r["county_code"]: r["community_id"]} if r.get("community_id") else {})
                for pid, r in by_id.items()}
    joined: dict[str, Pair] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in sorted((p for p in pairs if p.cmp.is_match), key=lambda p: (-p.cmp.score, p.a, p.b)):
        ra, rb = find(p.a), find(p.b)
        if ra == rb:
            continue
        ca, cb = clusters[ra], clusters[rb]
        if any(cb.ledger.get(c, v) != v for c, v in ca.ledger.items()):
            continue  # would join two ledger communities of one county
        if len(ca.members) < len(cb.members):
            ra, rb, ca, cb = rb, ra, cb, ca
        parent[rb] = ra
        ca.members += cb.members
        ca.ledger.update(cb.ledger)
        del clusters[rb]
        for m in (p.a, p.b):
            joined.setdefault(m, p)

    def order(pid: str) -> tuple:
        r = by_id[pid]
        return (r.get("plan_year") or 0, str(r.get("fill_date") or "9999"), r.get("file_id") or 0,
                r.get("row_number") or 0, pid)

    out = []
    for c in clusters.values():
        entity_id = min(c.members, key=order)
        for m in c.members:
            p = None if len(c.members) == 1 else joined.get(m)
            method = "alone" if p is None else ("ledger" if p.cmp.parts[:1] == ("同一台账小区",) else p.method)
            out.append({"plan_row_id": m, "entity_id": entity_id,
                        "matched_row_id": None if p is None else (p.b if p.a == m else p.a),
                        "link_from": None if p is None else p.a, "link_to": None if p is None else p.b,
                        "method": method})
    return pl.DataFrame(out, schema=ENTITY_SCHEMA)


# --- the refresh step -------------------------------------------------------------------------

_LEDGER_SQL = ("select community_id, county_code, name, address, build_year, buildings, households, area_m2 "
               "from core.ledger_communities order by community_id")
_PLAN_SQL = ("select plan_row_id, county_code, plan_year, name, address, build_year, buildings, households, area_m2, "
             "total_invest_wan_yuan, fill_date, file_id, row_number from core.plan_rows "
             "order by plan_year, file_id, row_number")
_REPORT_SQL = ("select report_row_id, county_code, plan_year, project_code, name, households, total_invest_wan_yuan "
               "from core.report_rows_history order by report_month, report_row_id")


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, select: str) -> None:
    """Replace the table's rows: made anew from its DDL (deleting every row of an indexed table
    row by row costs more than the insert), then filled from the frame."""
    from pipelines.warehouse import models

    ddl = next(m.sql for m in models() if m.table == table)
    arrow = frame.to_arrow()  # noqa: F841 — read by DuckDB below
    con.execute(f"drop table if exists {table}")
    con.execute(ddl)
    con.execute(f"insert into {table} by name select {select} from arrow")


def refresh_reports(con: duckdb.DuckDBPyConnection, county: str, settings: Settings | None = None,
                    timings: dict[str, float] | None = None) -> dict[str, int]:
    """The report → plan links of one county's report rows, recomputed (the incremental refresh
    of an import of that county's monthly reports, pipelines.incremental): they are blocked by
    county and plan year, so that they equal those of :func:`refresh`; the other links stay."""
    s = settings or load_settings()
    t0 = time.perf_counter()
    of_county = " where county_code = ? order by"
    plans = con.execute(_PLAN_SQL.replace(" order by", of_county), [county]).pl().to_dicts()
    reports = con.execute(_REPORT_SQL.replace(" order by", of_county), [county]).pl().to_dicts()
    to_plan = link_reports_to_plans(reports, plans, s)
    rows = [link.row() for link in to_plan]
    links = pl.DataFrame({c: [r[c] for r in rows] for c in LINK_SCHEMA}, schema=LINK_SCHEMA).to_arrow()  # noqa: F841
    con.execute("delete from core.identity_links where kind = 'report_plan' and from_id in "
                "(select report_row_id from core.report_rows_history where county_code = ?)", [county])
    con.execute("insert into core.identity_links by name select "
                "md5(kind || '|' || from_id || '|' || coalesce(to_id, '')) as link_id, * from links")
    if timings is not None:
        timings["identity.report_plan"] = time.perf_counter() - t0
    return {"reports": len(reports), "report_plan": sum(1 for k in to_plan if k.method != "none")}


def refresh(con: duckdb.DuckDBPyConnection, settings: Settings | None = None, method: str | None = None,
            timings: dict[str, float] | None = None) -> dict[str, int]:
    """Rebuild core.identity_links and core.identity_entities from the current core tables."""
    s = settings or load_settings()
    t = {} if timings is None else timings
    t0 = time.perf_counter()
    ledger = con.sql(_LEDGER_SQL).pl().to_dicts()
    plans = con.sql(_PLAN_SQL).pl().to_dicts()
    reports = con.sql(_REPORT_SQL).pl().to_dicts()
    t["identity.read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    to_ledger = link_plans_to_ledger(plans, ledger, s)
    ledger_by_id = {c["community_id"]: c for c in ledger}
    for p in plans:
        link = to_ledger[p["plan_row_id"]]
        cid = link.to_id if link.cmp is not None and link.cmp.is_match else None
        p["community_id"], p["ledger"] = cid, ledger_by_id.get(cid) if cid else None
    t["identity.plan_ledger"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    to_plan = link_reports_to_plans(reports, plans, s)
    t["identity.report_plan"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    pairs, compared = plan_pairs(plans, s, method)
    entities = cluster(plans, pairs)
    t["identity.plan_plan"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows = [link.row() for link in to_ledger.values()] + [link.row() for link in to_plan]
    rows += [Link("plan_plan", p.a, p.b, p.cmp, p.method).row() for p in pairs]
    links = pl.DataFrame({c: [r[c] for r in rows] for c in LINK_SCHEMA}, schema=LINK_SCHEMA)  # by column: fast
    _write(con, "core.identity_links", links,
           "md5(kind || '|' || from_id || '|' || coalesce(to_id, '')) as link_id, *")
    _write(con, "core.identity_entities", entities,
           "plan_row_id, entity_id, matched_row_id, "
           "case when link_from is not null then md5('plan_plan|' || link_from || '|' || link_to) end as link_id, method")
    t["identity.write"] = time.perf_counter() - t0
    stats = {"plan_ledger": sum(1 for k in to_ledger.values() if k.cmp and k.cmp.is_match), "plans": len(plans),
             "report_plan": sum(1 for k in to_plan if k.method != "none"), "reports": len(reports),
             "pairs_compared": compared, "pairs_kept": len(pairs),
             "entities": entities["entity_id"].n_unique() if entities.height else 0}
    log.info("identity: %s", stats)
    return stats
