"""Entity resolution for the duplicate rules: which plan rows are "the same community" (flags.md).

Plan rows of every year and county are grouped into entities. Two rows are the same community
when

* both are linked (``core.link_plan_ledger``) to the same ledger community of one county and
  their names do not name different phases — the ledger is the authority on what is one
  community (``雪莲花园一期`` / ``二期``, ``建设局大院`` / ``建设局住宅楼`` stay apart because the
  ledger lists them apart);
* or, where the ledger cannot decide (a row not linked, or rows of two counties — boundary
  estates of 库尔勒市 / 经开区), their names agree after Chinese normalisation
  (``pipelines.names``: suffixes 小区/花园/家属院/生活区/住宅楼, 一期/二期, brackets, （原）, full/half
  width, pinyin for homophone slips) and nothing else contradicts it: the build year within a
  few years, the address on the same road and house numbers close (or not given), and the size
  not clearly smaller (sizes of a resubmitted community change, mostly upwards).

Two rows linked to different ledger communities of the same county are never joined, also not
through a third row (clusters keep at most one ledger community per county).

Two methods produce the pairs: ``rapidfuzz`` (blocking on name keys + the rules above) and
``splink`` (a Fellegi–Sunter model over the same normalised fields, DuckDB backend; optional
package). ``benchmarks/signals.py`` measures both on demo truth; thresholds.toml
``[entity].method`` chooses.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.names import address_key, address_similarity, name_key, name_similarity

__all__ = ["EntitySettings", "Pair", "compare_rows", "candidate_pairs", "resolve", "refresh", "load_settings"]

log = logging.getLogger(__name__)

THRESHOLDS_TOML = Path(__file__).parent / "config" / "thresholds.toml"
BOUNDARY_COUNTIES = frozenset({"652801", "652871"})  # 库尔勒市 / 库尔勒经济技术开发区

_COLUMNS = (
    "plan_row_id", "county_code", "plan_year", "name", "address", "build_year", "buildings", "households",
    "area_m2", "fill_date", "file_id", "row_number",
)


@dataclass(frozen=True)
class EntitySettings:
    method: str = "rapidfuzz"
    name_min: float = 0.86
    name_strict: float = 0.95
    build_year_tolerance: int = 5
    size_ratio_min: float = 0.5


def load_settings(path: Path = THRESHOLDS_TOML) -> EntitySettings:
    with path.open("rb") as f:
        cfg = tomllib.load(f).get("entity", {})
    known = EntitySettings.__dataclass_fields__
    return EntitySettings(**{k: v for k, v in cfg.items() if k in known})


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float
    why: str
    method: str


def _size_ok(a: dict, b: dict, s: EntitySettings) -> tuple[bool, str]:
    """Sizes may grow between entries; one clearly smaller than the other is another community."""
    parts = []
    for key, label in (("households", "户数"), ("buildings", "楼栋"), ("area_m2", "面积")):
        x, y = a.get(key), b.get(key)
        if not x or not y:
            continue
        ratio = min(x, y) / max(x, y)
        parts.append(f"{label} {x:g}/{y:g}")
        if ratio < s.size_ratio_min:  # clearly different size: a different estate
            return False, f"{label}差异过大 {x:g}/{y:g}"
    return True, ",".join(parts)


def compare_rows(a: dict, b: dict, s: EntitySettings = EntitySettings()) -> tuple[bool, float, str]:
    """Whether two plan rows denote the same community, how strongly (0–1), and why (Chinese)."""
    name_sim, name_why = name_similarity(a.get("name"), b.get("name"))
    if name_why == "分期不同" or name_sim == 0.0:
        return False, 0.0, name_why
    same_county = a.get("county_code") == b.get("county_code")
    ca, cb = a.get("community_id"), b.get("community_id")
    if same_county and ca and cb:
        if ca == cb:
            return True, max(0.9, name_sim), f"同一台账小区;{name_why}"
        return False, 0.0, "台账中为不同小区"
    if name_sim < s.name_min and not (name_sim >= 0.8 and _slip(a.get("name"), b.get("name"))):
        return False, name_sim, name_why
    why = [f"名称:{name_why}({name_sim:.2f})"]
    ya, yb = a.get("build_year"), b.get("build_year")
    if ya and yb:
        if abs(ya - yb) > s.build_year_tolerance:
            return False, 0.0, f"建成年份相差 {abs(ya - yb)} 年"
        why.append(f"年份 {ya}/{yb}")
    ok, size_why = _size_ok(a, b, s)
    if not ok:
        return False, 0.0, size_why
    if size_why:
        why.append(size_why)
    addr, addr_why = address_similarity(a.get("address"), b.get("address"))
    if addr is not None:
        ka, kb = address_key(a.get("address")), address_key(b.get("address"))
        if ka.road and kb.road and ka.road != kb.road:
            return False, 0.0, f"道路不同 {ka.road}/{kb.road}"
        if addr < 0.5:
            return False, 0.0, f"地址不符 {addr_why}"
        why.append(f"地址:{addr_why}")
    # what the name alone cannot carry, the address (or the ledger) must
    strong_name = name_sim >= s.name_strict
    if not same_county:
        # two counties' communities of one name are common; only a boundary estate with an
        # agreeing address is the same one
        if {a.get("county_code"), b.get("county_code")} != set(BOUNDARY_COUNTIES) or addr is None or addr < 0.75:
            return False, 0.0, "跨县市且地址不能证实"
    elif not strong_name and (addr is None or addr < 0.75) and not (ya and yb):
        return False, name_sim, "名称近似但无地址或年份佐证"
    score = name_sim if addr is None else 0.7 * name_sim + 0.3 * addr
    return True, round(min(1.0, score), 3), ";".join(why)


def _slip(a: str | None, b: str | None) -> bool:
    """A one-character slip between the cores (same length, one substitution)."""
    ka, kb = name_key(a), name_key(b)
    if len(ka.core) != len(kb.core) or len(ka.core) < 2:
        return False
    return sum(x != y for x, y in zip(ka.core, kb.core)) == 1


def _block_keys(row: dict) -> set[str]:
    k = name_key(row.get("name"))
    core = k.core or k.full
    keys = {f"py:{k.pinyin}", f"h:{core[:2]}", f"t:{core[-2:]}"}
    if len(core) <= 2:
        keys |= {f"h1:{core[:1]}|{len(core)}", f"t1:{core[-1:]}|{len(core)}"}
    return keys


def candidate_pairs(rows: list[dict]) -> set[tuple[int, int]]:
    """Index pairs of rows sharing a blocking key (name pinyin, first or last two core characters)."""
    blocks: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        for key in _block_keys(r):
            blocks.setdefault(key, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) > 2000:  # a degenerate key (empty name) would make every pair a candidate
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pairs.add((members[x], members[y]))
    return pairs


def _pairs_rapidfuzz(rows: list[dict], s: EntitySettings) -> list[Pair]:
    out = []
    for i, j in candidate_pairs(rows):
        ok, score, why = compare_rows(rows[i], rows[j], s)
        if ok:
            out.append(Pair(rows[i]["plan_row_id"], rows[j]["plan_row_id"], score, why, "rapidfuzz"))
    return out


def _pairs_splink(rows: list[dict], s: EntitySettings, threshold: float = 0.9) -> list[Pair]:
    """Splink (DuckDB backend) over normalised fields; the ledger veto of compare_rows still applies."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    recs = []
    for r in rows:
        k = name_key(r.get("name"))
        ak = address_key(r.get("address"))
        recs.append({
            "unique_id": r["plan_row_id"], "core": k.core or k.full, "pinyin": k.pinyin,
            "core_head": (k.core or k.full)[:2], "core_tail": (k.core or k.full)[-2:],
            "road": ak.road, "house_no": ak.numbers[0] if ak.numbers else None,
            "build_year": r.get("build_year"), "county_code": r.get("county_code"),
            "households": float(r["households"]) if r.get("households") else None,
        })
    df = pd.DataFrame(recs)
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("pinyin"), block_on("core_head"), block_on("core_tail")],
        comparisons=[
            cl.JaroWinklerAtThresholds("core", [0.95, 0.8]),
            cl.ExactMatch("pinyin"),
            cl.ExactMatch("road"),
            cl.AbsoluteDifferenceAtThresholds("build_year", [0, 3, 6]) if hasattr(cl, "AbsoluteDifferenceAtThresholds")
            else cl.ExactMatch("build_year"),
            cl.ExactMatch("county_code"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(df, settings, db_api=DuckDBAPI())
    linker.training.estimate_u_using_random_sampling(max_pairs=2e5)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("pinyin"))
    preds = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    by_id = {r["plan_row_id"]: r for r in rows}
    out = []
    for rec in preds.itertuples():
        a, b = by_id[rec.unique_id_l], by_id[rec.unique_id_r]
        same_county = a.get("county_code") == b.get("county_code")
        if same_county and a.get("community_id") and b.get("community_id") and a["community_id"] != b["community_id"]:
            continue
        if name_similarity(a.get("name"), b.get("name"))[1] == "分期不同":
            continue
        out.append(Pair(a["plan_row_id"], b["plan_row_id"], round(float(rec.match_probability), 3),
                        f"Splink 匹配概率 {rec.match_probability:.2f}", "splink"))
    # rows linked to one ledger community are one entity whatever the model says
    for i, j in candidate_pairs(rows):
        a, b = rows[i], rows[j]
        if a.get("community_id") and a.get("community_id") == b.get("community_id") and a["county_code"] == b["county_code"]:
            ok, score, why = compare_rows(a, b, s)
            if ok:
                out.append(Pair(a["plan_row_id"], b["plan_row_id"], score, why, "ledger"))
    return out


@dataclass
class _Cluster:
    members: list[str] = field(default_factory=list)
    ledger: dict[str, str] = field(default_factory=dict)  # county_code -> community_id


def resolve(rows: list[dict], s: EntitySettings = EntitySettings(), method: str | None = None) -> pl.DataFrame:
    """Group plan rows into communities; one output row per plan row (see marts.signal_entities)."""
    method = method or s.method
    pairs = _pairs_splink(rows, s) if method == "splink" else _pairs_rapidfuzz(rows, s)
    by_id = {r["plan_row_id"]: r for r in rows}
    parent = {r["plan_row_id"]: r["plan_row_id"] for r in rows}
    clusters = {
        r["plan_row_id"]: _Cluster([r["plan_row_id"]], {r["county_code"]: r["community_id"]} if r.get("community_id") else {})
        for r in rows
    }
    joined: dict[str, Pair] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in sorted(pairs, key=lambda p: (-p.score, p.a, p.b)):
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
        return (r.get("plan_year") or 0, str(r.get("fill_date") or "9999"), r.get("file_id") or 0, r.get("row_number") or 0, pid)

    out = []
    for root, c in clusters.items():
        entity_id = min(c.members, key=order)
        for m in c.members:
            p = joined.get(m)
            alone = len(c.members) == 1
            out.append({
                "plan_row_id": m,
                "entity_id": entity_id,
                "community_id": by_id[m].get("community_id"),
                "match_score": 1.0 if alone or p is None else p.score,
                "matched_row_id": None if alone or p is None else (p.b if p.a == m else p.a),
                "matched_fields": "" if alone or p is None else p.why,
                "method": "alone" if alone else (p.method if p and "同一台账小区" not in p.why else "ledger"),
            })
    return pl.DataFrame(out, schema={
        "plan_row_id": pl.String, "entity_id": pl.String, "community_id": pl.String, "match_score": pl.Float64,
        "matched_row_id": pl.String, "matched_fields": pl.String, "method": pl.String,
    })


def plan_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Current plan rows with their ledger link, as dicts."""
    cols = ", ".join(f"p.{c}" for c in _COLUMNS)
    return con.sql(
        f"select {cols}, l.community_id from core.plan_rows as p "
        "left join core.link_plan_ledger as l using (plan_row_id) order by p.plan_year, p.file_id, p.row_number"
    ).pl().to_dicts()


def refresh(con: duckdb.DuckDBPyConnection, method: str | None = None) -> pl.DataFrame:
    """Rebuild marts.signal_entities from the current plan rows and ledger links."""
    s = load_settings()
    frame = resolve(plan_rows(con), s, method)
    arrow = frame.to_arrow()  # noqa: F841 — read by DuckDB below
    con.execute("delete from marts.signal_entities")
    con.execute("insert into marts.signal_entities by name select * from arrow")
    log.info("entities: %d plan rows in %d communities", frame.height, frame["entity_id"].n_unique() if frame.height else 0)
    return frame
