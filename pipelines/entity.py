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
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein

from pipelines.names import address_key, address_similarity, norm
from pipelines.settings import config_path

__all__ = ["EntitySettings", "Pair", "CommunityName", "community_name", "name_match", "compare_rows", "link_ledger", "candidate_pairs", "resolve", "refresh", "load_settings"]

log = logging.getLogger(__name__)

THRESHOLDS_TOML = config_path("thresholds.toml")
BOUNDARY_COUNTIES = frozenset({"652801", "652871"})  # 库尔勒市 / 库尔勒经济技术开发区

# --- Chinese community names -------------------------------------------------------------
# A name is  [(原)] [place] body [phase]  where body = core + kind suffix. The kind suffix tells
# one work unit's estates apart (法院大院 / 法院家属院 / 法院住宅楼 are three communities), while the
# estate words 小区 / 住宅小区 / 居民小区 / 住宅区 are added and dropped freely (幸福小区 = 幸福住宅小区,
# 建设局大院 = 建设局大院小区).
ESTATE_WORDS = ("住宅小区", "居民小区", "住宅区", "小区")
KIND_SUFFIXES = ("家属院", "家属区", "家属楼", "住宅楼", "生活区", "宿舍楼", "宿舍区", "宿舍", "大院", "花园",
                 "新村", "公寓", "苑")
PLACE_WORDS = ("巴音郭楞蒙古自治州", "巴音郭楞州", "新疆", "巴州")
_ORIGINAL = re.compile(r"^[(（]?原[)）]")
_PHASE = re.compile(r"[(（]?第?([一二三四五六七八九十\d]+)期(?:工程)?[)）]?")
_STREET_PREFIX = re.compile(r"^[\u4e00-\u9fa5]{2,6}?(?:街道办事处|街道办|街道)")
_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# one name with these and the other without (or two of them swapped) are two communities
DISTINGUISHING = set("东西南北中新老前后上下一二三四五六七八九十甲乙丙丁外内")


@dataclass(frozen=True)
class CommunityName:
    full: str            # normalised as written
    body: str            # without (原), place words, phase and brackets; estate words dropped
    core: str            # body without its kind suffix
    kind: str            # the kind suffix ('' for a plain estate)
    phase: int | None
    pinyin: str          # of body


def _county_words() -> tuple[str, ...]:
    from pipelines.counties import load_counties

    words = set(PLACE_WORDS)
    for c in load_counties():
        words.add(c.name)
        words.update(a for a in c.aliases if len(a) >= 2)
    return tuple(sorted(words, key=len, reverse=True))


_NAME_CACHE: dict[str, CommunityName] = {}


def community_name(name: str | None) -> CommunityName:
    """Parse a community name as clerks write it (cached)."""
    key = name or ""
    hit = _NAME_CACHE.get(key)
    if hit is not None:
        return hit
    full = norm(key).replace("（", "(").replace("）", ")")
    text = full
    for _ in range(2):  # (原)巴州… and 巴州(原)…, 库尔勒市新城街道…
        text = _ORIGINAL.sub("", text)
        for w in _county_words():
            if text.startswith(w) and len(text) > len(w) + 1:
                text = text[len(w):]
                break
        m = _STREET_PREFIX.match(text)
        if m and len(text) - m.end() >= 2:
            text = text[m.end():]
    phase = None
    m = _PHASE.search(text)
    if m:
        num = m.group(1)
        phase = int(num) if num.isdigit() else _CN_NUM.get(num)
        text = text[: m.start()] + text[m.end():]
    text = _BRACKETED.sub("", text).strip("()")
    for w in ESTATE_WORDS:
        if text.endswith(w) and len(text) > len(w):
            text = text[: -len(w)]
            break
    body, core, kind = text, text, ""
    for k in KIND_SUFFIXES:
        if text.endswith(k) and len(text) > len(k):
            core, kind = text[: -len(k)], k
            break
    out = CommunityName(full, body, core, kind, phase, "".join(lazy_pinyin(body)))
    _NAME_CACHE[key] = out
    return out


def _one_slip(a: str, b: str) -> bool:
    """Same length, exactly one character different, and not two direction/ordinal words swapped."""
    if len(a) != len(b) or len(a) < 2:
        return False
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    if len(diff) != 1:
        return False
    x, y = diff[0]
    return not (x in DISTINGUISHING and y in DISTINGUISHING and lazy_pinyin(x) != lazy_pinyin(y))


def _inserted_distinguishing(a: str, b: str) -> bool:
    """One core is the other plus direction/ordinal characters (团结 / 团结北)."""
    if len(a) == len(b):
        return False
    short, long_ = sorted((a, b), key=len)
    ops = Levenshtein.editops(short, long_)
    return bool(ops) and all(op.tag == "insert" and long_[op.dest_pos] in DISTINGUISHING for op in ops)


def name_match(a: str | None, b: str | None) -> tuple[float, str]:
    """How surely two names denote one community (0–1), and why (Chinese)."""
    ka, kb = community_name(a), community_name(b)
    if not ka.body or not kb.body:
        return 0.0, "名称缺失"
    if ka.phase is not None and kb.phase is not None and ka.phase != kb.phase:
        return 0.0, "分期不同"
    if ka.body == kb.body:
        return 1.0, "名称一致" if ka.full == kb.full else "名称去前后缀后一致"
    if ka.core == kb.core and ka.kind != kb.kind:
        return 0.0, f"同一单位的不同小区({ka.kind or '小区'}/{kb.kind or '小区'})"
    if _inserted_distinguishing(ka.body, kb.body) or _inserted_distinguishing(ka.core, kb.core):
        return 0.0, "名称差方位/序号字"
    if ka.pinyin == kb.pinyin:
        return 0.9, "名称同音"
    if _one_slip(ka.body, kb.body):
        return 0.85, "名称错一字"
    sim = Levenshtein.normalized_similarity(ka.body, kb.body)
    return round(sim, 3), f"名称相似 {sim:.2f}"


_COLUMNS = (
    "plan_row_id", "county_code", "plan_year", "name", "address", "build_year", "buildings", "households",
    "area_m2", "fill_date", "file_id", "row_number",
)


@dataclass(frozen=True)
class EntitySettings:
    method: str = "rapidfuzz"
    name_min: float = 0.85
    name_strict: float = 0.95
    build_year_tolerance: int = 5
    size_ratio_min: float = 0.5
    ledger_source: str = "own"   # own | own_first | linking: whose plan→ledger link the signals use


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


def _build_year(row: dict) -> tuple[int | None, bool]:
    """The build year to compare: the linked ledger community's, else the row's (and whether from the ledger)."""
    led = row.get("ledger") or {}
    if led.get("build_year"):
        return led["build_year"], True
    return row.get("build_year"), False


def _sizes(row: dict) -> dict:
    """The sizes to compare: the linked ledger community's (a plan may inflate them), else the row's."""
    led = row.get("ledger") or {}
    return led if led.get("households") else row


def _address(row: dict) -> str | None:
    """The row's address, else the address of the ledger community it is linked to."""
    return row.get("address") or row.get("ledger_address")


def _roads_agree(a: str, b: str) -> bool:
    """One road name is the other with a prefix left over (镇南市区路 / 南市区路, 上库园区人民东路 / 人民东路)."""
    return a == b or (min(len(a), len(b)) >= 2 and (a.endswith(b) or b.endswith(a)))


def _address_check(a: dict, b: dict) -> tuple[bool, float | None, str]:
    """(consistent, similarity or None when unknown, why): two different roads contradict.

    Addresses are rewritten (街道 prefix, 号 / 号院, a house-number range, a landmark, left out):
    the same road and overlapping or close house numbers are the same place."""
    aa, ab = _address(a), _address(b)
    if not aa or not ab:
        return True, None, "地址缺失"
    ka, kb = address_key(aa), address_key(ab)
    if ka.full == kb.full:
        return True, 1.0, "地址一致"
    if ka.road and kb.road:
        if not _roads_agree(ka.road, kb.road):
            return False, 0.0, f"道路不同 {ka.road}/{kb.road}"
        if ka.numbers and kb.numbers:
            lo, hi = max(ka.numbers[0], kb.numbers[0]), min(ka.numbers[1], kb.numbers[1])
            if lo <= hi:
                return True, 0.95, "同路同门牌"
            gap = lo - hi
            if gap <= 2:
                return True, 0.75, f"同路门牌差 {gap}"
            return True, 0.5, f"同路门牌差 {gap}"
        return True, 0.8, "同路"
    sim, why = address_similarity(aa, ab)
    if sim is not None and sim < 0.5:
        return False, sim, f"地址不符 {why}"
    return True, sim, why


def compare_rows(a: dict, b: dict, s: EntitySettings = EntitySettings()) -> tuple[bool, float, str]:
    """Whether two plan rows denote the same community, how strongly (0–1), and why (Chinese)."""
    name_sim, name_why = name_match(a.get("name"), b.get("name"))
    if name_sim == 0.0:
        return False, 0.0, name_why
    same_county = a.get("county_code") == b.get("county_code")
    ca, cb = a.get("community_id"), b.get("community_id")
    if same_county and ca and cb:
        if ca == cb:
            return True, max(0.9, name_sim), f"同一台账小区;{name_why}"
        return False, 0.0, "台账中为不同小区"
    if name_sim < s.name_min:
        return False, name_sim, name_why
    why = [f"名称:{name_why}({name_sim:.2f})"]
    # the ledger's record of a linked row is the reference; two plan entries may each be a few
    # years off the truth, in opposite directions
    (ya, la), (yb, lb) = _build_year(a), _build_year(b)
    if ya and yb:
        tolerance = s.build_year_tolerance * (1 if la or lb else 2)
        if abs(ya - yb) > tolerance:
            return False, 0.0, f"建成年份相差 {abs(ya - yb)} 年"
        why.append(f"年份 {ya}/{yb}")
    ok, size_why = _size_ok(_sizes(a), _sizes(b), s)
    if not ok:
        return False, 0.0, size_why
    if size_why:
        why.append(size_why)
    ok, addr, addr_why = _address_check(a, b)
    if not ok:
        return False, 0.0, addr_why
    if addr is not None:
        why.append(f"地址:{addr_why}")
    strong_name = name_sim >= s.name_strict
    if not same_county:
        # two counties' communities of one name are common; only a boundary estate whose address
        # agrees is the same one
        if {a.get("county_code"), b.get("county_code")} != set(BOUNDARY_COUNTIES) or addr is None or addr < 0.75:
            return False, 0.0, "跨县市且地址不能证实"
    elif not strong_name and (addr is None or addr < 0.75) and not (ya and yb):
        return False, name_sim, "名称近似但无地址或年份佐证"
    score = name_sim if addr is None else 0.7 * name_sim + 0.3 * addr
    return True, round(min(1.0, score), 3), ";".join(why)


def _block_keys(row: dict) -> set[str]:
    k = community_name(row.get("name"))
    body = k.body or k.full
    keys = {f"b:{body}", f"py:{k.pinyin}", f"h:{body[:2]}", f"t:{k.core[-2:]}|{k.kind}"}
    if len(k.core) <= 2:
        keys |= {f"h1:{k.core[:1]}|{len(k.core)}|{k.kind}", f"t1:{k.core[-1:]}|{len(k.core)}|{k.kind}"}
    return keys


def _county_group(row: dict) -> str:
    """Rows are compared within a county, and across the boundary of 库尔勒市 / 经开区 (flags.md)."""
    code = row.get("county_code") or ""
    return "boundary" if code in BOUNDARY_COUNTIES else code


def candidate_pairs(rows: list[dict]) -> set[tuple[int, int]]:
    """Index pairs of rows of one county group sharing a blocking key (name body, its pinyin, first
    or last characters)."""
    blocks: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        group = _county_group(r)
        for key in _block_keys(r):
            blocks.setdefault(f"{group}|{key}", []).append(i)
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


def link_ledger(plans: list[dict], ledger: list[dict], s: EntitySettings = EntitySettings()) -> dict[str, tuple[str, float, str]]:
    """Plan row → ledger community of its county (plan_row_id → (community_id, score, why)).

    Name first (Chinese normalisation above), then the address (same road), the build year
    (within a few years); the size is left out on purpose: an inflated plan is still the same
    community, and INFLATED_SCALE needs it linked."""
    index: dict[tuple[str, str], list[dict]] = {}
    for c in ledger:
        for key in _block_keys(c):
            index.setdefault((c["county_code"], key), []).append(c)
    out: dict[str, tuple[str, float, str]] = {}
    for p in plans:
        seen: dict[str, dict] = {}
        for key in _block_keys(p):
            for c in index.get((p["county_code"], key), ()):
                seen[c["community_id"]] = c
        best: tuple[float, str, str] | None = None
        for cid, c in seen.items():
            name_sim, name_why = name_match(p.get("name"), c.get("name"))
            if name_sim < s.name_min:
                continue
            ya, yb = p.get("build_year"), c.get("build_year")
            if ya and yb and abs(ya - yb) > s.build_year_tolerance:
                continue
            ok, addr, addr_why = _address_check(p, c)
            if not ok:
                # an address rewritten beyond recognition does not hide a community whose name and
                # build year agree; it only weakens the link
                if name_sim < s.name_strict or not (ya and yb):
                    continue
                addr, addr_why = 0.0, f"{addr_why}(名称与年份一致)"
            if name_sim < s.name_strict and (addr is None or addr < 0.75) and not (ya and yb):
                continue
            pc, cc = community_name(p.get("name")), community_name(c.get("name"))
            phase_bonus = 0.05 if pc.phase is not None and pc.phase == cc.phase else 0.0
            # 银河小区 and 银河住宅小区 may both be in one ledger: the name as written breaks the tie
            exact_bonus = 0.05 if pc.full == cc.full or _ORIGINAL.sub("", pc.full) == cc.full else 0.0
            year_part = 1.0 if not (ya and yb) else max(0.0, 1 - abs(ya - yb) / (s.build_year_tolerance + 1))
            hp, hc = p.get("households"), c.get("households")
            size_part = min(hp, hc) / max(hp, hc) if hp and hc else 0.5
            score = (0.6 * name_sim + 0.25 * (addr if addr is not None else 0.6) + 0.15 * year_part
                     + phase_bonus + exact_bonus + 0.04 * size_part)
            why = f"名称:{name_why}({name_sim:.2f});地址:{addr_why}" + (f";年份 {ya}/{yb}" if ya and yb else "")
            if best is None or score > best[0]:
                best = (score, cid, why)
        if best is not None:
            out[p["plan_row_id"]] = (best[1], round(min(best[0], 1.0), 3), best[2])
    return out


def _pairs_splink(rows: list[dict], s: EntitySettings, threshold: float = 0.9) -> list[Pair]:
    """Splink (Fellegi–Sunter, DuckDB backend) over the normalised fields of this module, blocked
    like the rapidfuzz method; the ledger veto (two ledger communities of one county) and the
    phase / kind / direction-word veto of :func:`name_match` still apply."""
    import pandas as pd
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    recs = []
    for r in rows:
        k = community_name(r.get("name"))
        ak = address_key(_address(r))
        recs.append({
            "unique_id": r["plan_row_id"], "body": k.body or k.full, "pinyin": k.pinyin, "kind": k.kind,
            "head": (k.body or k.full)[:2], "tail": k.core[-2:], "county_group": _county_group(r),
            "road": ak.road, "house_no": float(ak.numbers[0]) if ak.numbers else None,
            "build_year": float(r["build_year"]) if r.get("build_year") else None,
            "households": float(r["households"]) if r.get("households") else None,
        })
    df = pd.DataFrame(recs)
    year = cl.CustomComparison(
        output_column_name="build_year",
        comparison_levels=[
            cll.NullLevel("build_year"),
            cll.ExactMatchLevel("build_year"),
            cll.AbsoluteDifferenceLevel("build_year", 3),
            cll.AbsoluteDifferenceLevel("build_year", 6),
            cll.ElseLevel(),
        ],
    )
    size = cl.CustomComparison(
        output_column_name="households",
        comparison_levels=[
            cll.NullLevel("households"),
            cll.PercentageDifferenceLevel("households", 0.1),
            cll.PercentageDifferenceLevel("households", 0.5),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("pinyin", "county_group"), block_on("head", "county_group"), block_on("tail", "county_group"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("body", [0.99, 0.85]),
            cl.ExactMatch("pinyin"),
            cl.ExactMatch("kind"),
            cl.ExactMatch("road"),
            year,
            size,
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(df, table_name="plan_rows"), settings)  # Splink 5: inputs are registered
    linker.training.estimate_probability_two_random_records_match([block_on("body", "county_group")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e5)
    for rule in (block_on("pinyin", "county_group"), block_on("road", "county_group")):
        try:  # EM may drive a level's m to 0 on small blocks; the other session still trains it
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as exc:
            log.warning("splink EM session skipped: %s", exc)
    preds = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    by_id = {r["plan_row_id"]: r for r in rows}
    out = []
    for rec in preds.itertuples():
        a, b = by_id[rec.unique_id_l], by_id[rec.unique_id_r]
        same_county = a.get("county_code") == b.get("county_code")
        if same_county and a.get("community_id") and b.get("community_id") and a["community_id"] != b["community_id"]:
            continue
        if name_match(a.get("name"), b.get("name"))[0] == 0.0:
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
    """Current plan rows with the ledger link of pipelines.linking, as dicts."""
    cols = ", ".join(f"p.{c}" for c in _COLUMNS)
    return con.sql(
        f"select {cols}, l.community_id as linked_community_id from core.plan_rows as p "
        "left join core.link_plan_ledger as l using (plan_row_id) order by p.plan_year, p.file_id, p.row_number"
    ).pl().to_dicts()


def ledger_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return con.sql(
        "select community_id, county_code, name, address, build_year, buildings, households, area_m2 "
        "from core.ledger_communities"
    ).pl().to_dicts()


def attach_ledger(rows: list[dict], ledger: list[dict], s: EntitySettings) -> list[dict]:
    """Choose each plan row's ledger community: ``s.ledger_source`` says whose link wins."""
    own = link_ledger(rows, ledger, s) if s.ledger_source != "linking" else {}
    by_id = {c["community_id"]: c for c in ledger}
    for r in rows:
        mine = own.get(r["plan_row_id"])
        theirs = r.get("linked_community_id")
        if s.ledger_source == "linking":
            cid = theirs
        elif s.ledger_source == "own":
            cid = mine[0] if mine else None
        else:  # own_first: ours where we found one, else the linker's
            cid = mine[0] if mine else theirs
        r["community_id"] = cid
        r["ledger"] = by_id.get(cid) if cid else None
        r["ledger_address"] = r["ledger"].get("address") if r["ledger"] else None
        r["ledger_link"] = mine
    return rows


def refresh(con: duckdb.DuckDBPyConnection, method: str | None = None,
            settings: EntitySettings | None = None) -> pl.DataFrame:
    """Rebuild marts.signal_entities from the current plan rows and ledger links."""
    s = settings or load_settings()
    rows = attach_ledger(plan_rows(con), ledger_rows(con), s)
    frame = resolve(rows, s, method or s.method)
    arrow = frame.to_arrow()  # noqa: F841 — read by DuckDB below
    con.execute("delete from marts.signal_entities")
    con.execute("insert into marts.signal_entities by name select * from arrow")
    log.info("entities: %d plan rows in %d communities", frame.height, frame["entity_id"].n_unique() if frame.height else 0)
    return frame
