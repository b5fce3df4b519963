"""One comparison: field by field, by levels (thresholds.toml ``[identity]``), with the reason in Chinese.

Names are compared after :mod:`pipelines.identity.normalise`; the explanation names each
normalisation that made two names agree (``名称:缩写一致「工行」=「工商银行」``, ``繁简一致``,
``全角半角``, ``去掉县市名「且末县」`` …). Three decisions use the same field levels:

* :func:`plan_ledger` — a plan row against a ledger community of its county;
* :func:`report_plan` — a monthly-report row against a plan row of its county and plan year;
* :func:`plan_plan` — two plan rows (any years, any two counties): the same community?

Vetoes that no other field outweighs: another phase (一期/二期), a direction or ordinal word
(团结 / 团结北), two ledger communities of one county. The kind of a work unit's estate
(家属院 / 住宅楼) separates two entries unless everything else agrees: the same address, build year,
households and buildings, and the area within the rounding of the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein

from pipelines.identity.normalise import Name, Step, parse_address, parse_name
from pipelines.identity.settings import Settings, vocabulary

__all__ = ["NameAgreement", "Comparison", "compare_names", "explain_steps", "address_agreement", "plan_ledger",
           "report_plan", "plan_plan", "everything_else_equal", "VETOES"]

VETOES = frozenset({"missing", "phase", "direction"})
_SIZES = (("households", "户数", "户"), ("buildings", "楼栋数", "栋"), ("area_m2", "建筑面积", "㎡"))


@dataclass(frozen=True)
class NameAgreement:
    level: str     # exact | normalised | unit_kind | homophone | slip | fuzzy | phase | direction | missing
    score: float
    text: str      # Chinese, starts with 名称:


@dataclass(frozen=True)
class Comparison:
    is_match: bool
    score: float
    agreed: tuple[str, ...]     # the fields that agreed (Chinese field names)
    parts: tuple[str, ...]      # why, field by field (Chinese)

    @property
    def explanation(self) -> str:
        return ";".join(p for p in self.parts if p)


# --- names ------------------------------------------------------------------------------------

_STEP_TEXT = {
    "全角半角": "全角半角「{b}」=「{a}」", "空格": "去掉空格「{b}」", "括号写法": "括号写法「{b}」=「{a}」",
    "繁简": "繁简一致「{b}」=「{a}」", "数字写法": "数字写法「{b}」=「{a}」", "缩写": "缩写一致「{b}」=「{a}」",
    "去掉(原)": "去掉「{b}」", "去掉州名": "去掉州名「{b}」", "去掉县市名": "去掉县市名「{b}」",
    "去掉乡镇名": "去掉乡镇名「{b}」", "去掉街道名": "去掉街道名「{b}」", "去掉路名": "去掉路名「{b}」",
    "去掉项目字样": "去掉「{b}」", "分期": "一方注明分期「{b}」", "去掉括号注": "去掉括号注「{b}」",
    "小区字样": "去掉「{b}」",
}


def explain_steps(a: Name, b: Name) -> str:
    """The normalisations that one name needed and the other did not, in Chinese."""
    sa, sb = set(a.steps), set(b.steps)
    only: list[Step] = [s for s in a.steps if s not in sb] + [s for s in b.steps if s not in sa]
    estate = [s for s in only if s.label == "小区字样"]
    texts: list[str] = []
    if len(estate) == 2:  # 幸福住宅小区 / 幸福小区: both dropped an estate word, different ones
        texts.append(f"小区字样「{estate[0].before}」=「{estate[1].before}」")
        only = [s for s in only if s.label != "小区字样"]
    for s in only:
        text = _STEP_TEXT.get(s.label, s.label + "「{b}」").format(b=s.before, a=s.after)
        if text not in texts:
            texts.append(text)
    return "、".join(texts)


def _diff_chars(a: str, b: str) -> tuple[str, str]:
    ops = Levenshtein.editops(a, b)
    return ("".join(a[o.src_pos] for o in ops if o.tag != "insert"),
            "".join(b[o.dest_pos] for o in ops if o.tag != "delete"))


def _inserted_distinguishing(a: str, b: str, chars: frozenset[str]) -> str | None:
    """The direction/ordinal characters one text has on top of the other (团结 / 团结北 → 北)."""
    if len(a) == len(b):
        return None
    short, long_ = sorted((a, b), key=len)
    ops = Levenshtein.editops(short, long_)
    if ops and all(o.tag == "insert" and long_[o.dest_pos] in chars for o in ops):
        return "".join(long_[o.dest_pos] for o in ops)
    return None


def _swapped_distinguishing(a: str, b: str, chars: frozenset[str]) -> tuple[str, str] | None:
    """Same length, every difference a direction/ordinal word that sounds different (东苑 / 西苑)."""
    if len(a) != len(b):
        return None
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    if diff and all(x in chars and y in chars and lazy_pinyin(x) != lazy_pinyin(y) for x, y in diff):
        return "".join(x for x, _ in diff), "".join(y for _, y in diff)
    return None


def _one_slip(a: str, b: str) -> bool:
    if len(a) != len(b) or len(a) < 2:
        return False
    return sum(x != y for x, y in zip(a, b)) == 1


@lru_cache(maxsize=500_000)
def _compare_names(a_written: str | None, b_written: str | None, levels: tuple[tuple[str, float], ...]) -> NameAgreement:
    lv = dict(levels)
    a, b = parse_name(a_written), parse_name(b_written)
    chars = vocabulary().distinguishing
    if not a.body or not b.body:
        return NameAgreement("missing", 0.0, "名称:缺失")
    if a.phase is not None and b.phase is not None and a.phase != b.phase:
        return NameAgreement("phase", 0.0, f"名称:分期不同({a.phase}期/{b.phase}期)")
    steps = explain_steps(a, b)
    if a.plain == b.plain:
        return NameAgreement("exact", lv["exact"], "名称:" + (steps or "一致"))
    if a.body == b.body:
        return NameAgreement("normalised", lv["normalised"], "名称:" + (steps or "去掉前后缀后一致"))
    if a.core == b.core and a.kind != b.kind:
        return NameAgreement("unit_kind", 0.0, f"名称:同名不同类型「{a.kind or '小区'}」/「{b.kind or '小区'}」")
    extra = _inserted_distinguishing(a.body, b.body, chars) or _inserted_distinguishing(a.core, b.core, chars)
    if extra:
        return NameAgreement("direction", 0.0, f"名称:差方位/序号字「{extra}」")
    swapped = _swapped_distinguishing(a.body, b.body, chars)
    if swapped:
        return NameAgreement("direction", 0.0, f"名称:方位/序号字不同「{swapped[0]}」/「{swapped[1]}」")
    tail = ("、" + steps) if steps else ""
    # a slip may sit inside an abbreviation (共销社 for 供销社): compare the short forms too
    for x_body, y_body, x_py, y_py in ((a.body, b.body, a.pinyin, b.pinyin), (a.short, b.short, a.short_pinyin, b.short_pinyin)):
        if x_py == y_py and x_body != y_body:
            x, y = _diff_chars(x_body, y_body)
            return NameAgreement("homophone", lv["homophone"], f"名称:同音「{x}」/「{y}」{tail}")
        if _one_slip(x_body, y_body) and not _swapped_distinguishing(x_body, y_body, chars):
            x, y = _diff_chars(x_body, y_body)
            return NameAgreement("slip", lv["slip"], f"名称:错一字「{x}」/「{y}」{tail}")
    sim = round(Levenshtein.normalized_similarity(a.body, b.body), 3)
    return NameAgreement("fuzzy", sim, f"名称:相似 {sim:.2f}「{a.body}」/「{b.body}」")


def compare_names(a: str | None, b: str | None, s: Settings) -> NameAgreement:
    """How surely two names denote one community, and which normalisation made them agree."""
    return _compare_names(a, b, tuple(sorted(s.name_levels.items())))


# --- other fields -----------------------------------------------------------------------------

def _roads_agree(a: str, b: str) -> bool:
    """One road name is the other with a prefix left over (镇南市区路 / 南市区路)."""
    return a == b or (min(len(a), len(b)) >= 2 and (a.endswith(b) or b.endswith(a)))


def address_agreement(a: str | None, b: str | None, s: Settings) -> tuple[float | None, str, bool]:
    """(score or None when either is missing, why, whether they contradict)."""
    ka, kb = parse_address(a), parse_address(b)
    lv = s.address_levels
    if not ka.full or not kb.full:
        return None, "地址:缺失", False
    if ka.full == kb.full:
        return lv["same"], "地址:一致", False
    if ka.road and kb.road:
        if not _roads_agree(ka.road, kb.road):
            return 0.0, f"地址:道路不同「{ka.road}」/「{kb.road}」", True
        if ka.numbers and kb.numbers:
            lo, hi = max(ka.numbers[0], kb.numbers[0]), min(ka.numbers[1], kb.numbers[1])
            if lo <= hi:
                return lv["same_number"], "地址:同路同门牌", False
            gap = lo - hi
            near = gap <= lv["near_number_gap"]
            return (lv["near_number"] if near else lv["far_number"]), f"地址:同路门牌差 {gap}", False
        return lv["same_road"], "地址:同路", False
    sim = Levenshtein.normalized_similarity(ka.full, kb.full)
    if ka.full in kb.full or kb.full in ka.full:
        sim = max(sim, lv["same_road"])
    sim = round(sim, 3)
    if sim < 0.5:
        return sim, f"地址:不符(相似 {sim:.2f})", True
    return sim, f"地址:相似 {sim:.2f}", False


def year_agreement(a: int | None, b: int | None, tolerance: float) -> tuple[float | None, str, bool]:
    if not a or not b:
        return None, "", False
    d = abs(a - b)
    text = f"建成年份:{a}/{b}" + ("" if d == 0 else f"(差{d}年)")
    return max(0.0, 1 - d / (tolerance + 1)), text, d > tolerance


def _ratio(a, b) -> float | None:
    return None if a is None or b is None or not a or not b else min(a, b) / max(a, b)


def _sizes_text(a: dict, b: dict) -> tuple[list[str], list[str]]:
    """(texts, fields within 10%) of households, buildings and area."""
    texts, agreed = [], []
    for key, label, unit in _SIZES:
        x, y = a.get(key), b.get(key)
        if x is None or y is None or not y:
            continue
        texts.append(f"{label}:{x:g}/{y:g}{unit}({(x / y - 1) * 100:+.0f}%)")
        if abs(x / y - 1) <= 0.1:
            agreed.append(label)
    return texts, agreed


def everything_else_equal(a: dict, b: dict, s: Settings) -> tuple[bool, str]:
    """Same address, build year, households and buildings, and the area within the files' rounding:
    one work unit's estate written with another kind word is then the same community."""
    addr, _, _ = address_agreement(a.get("address"), b.get("address"), s)
    differ = []
    if addr is None or addr < s.address_levels["same_number"]:
        differ.append("地址")
    if not a.get("build_year") or a.get("build_year") != b.get("build_year"):
        differ.append("建成年份")
    for key, label, _ in _SIZES[:2]:
        if a.get(key) is None or a.get(key) != b.get(key):
            differ.append(label)
    if a.get("area_m2") is None or b.get("area_m2") is None or abs(a["area_m2"] - b["area_m2"]) > s.area_rounding_m2:
        differ.append("建筑面积")
    if differ:
        return False, f"视为不同小区({'、'.join(differ)}不同或不详)"
    return True, "其余一致(地址、建成年份、户数、楼栋数、建筑面积相同)"


def _no(score: float, *parts: str) -> Comparison:
    return Comparison(False, round(score, 4), (), tuple(parts))


# --- plan → ledger ----------------------------------------------------------------------------

def plan_ledger(plan: dict, ledger: dict, s: Settings) -> Comparison:
    """A plan row against a ledger community of its county. The size only breaks ties: an inflated
    plan is still the same community, and INFLATED_SCALE needs it linked."""
    name = compare_names(plan.get("name"), ledger.get("name"), s)
    if name.level in VETOES:
        return _no(0.0, name.text)
    name_text, name_score = name.text, name.score
    if name.level == "unit_kind":
        ok, why = everything_else_equal(plan, ledger, s)
        if not ok:
            return _no(0.0, name.text, why)
        name_score, name_text = s.name_levels["unit_kind"], f"{name.text},{why}"
    if name_score < s.name_min:
        return _no(name_score, name_text)
    year, year_text, year_off = year_agreement(plan.get("build_year"), ledger.get("build_year"), s.build_year_tolerance)
    if year_off:
        return _no(name_score * 0.5, name_text, year_text + ",超出容差")
    addr, addr_text, addr_off = address_agreement(plan.get("address"), ledger.get("address"), s)
    if addr_off:
        # an address rewritten beyond recognition does not hide a community whose name and build
        # year agree; it only weakens the link
        if name_score < s.name_strict or year is None:
            return _no(name_score * 0.5, name_text, addr_text)
        addr, addr_text = 0.0, addr_text + "(名称与年份一致)"
    if name_score < s.name_strict and (addr is None or addr < s.address_support) and year is None:
        return _no(name_score * 0.5, name_text, "名称近似但无地址或年份佐证")
    w = s.plan_ledger
    pn, ln = parse_name(plan.get("name")), parse_name(ledger.get("name"))
    same_phase = w["same_phase"] if pn.phase is not None and pn.phase == ln.phase else 0.0
    written = next((pn.plain[len(m):] for m in ("(原)", "原") if pn.plain.startswith(m)), pn.plain)
    as_written = w["as_written"] if pn.plain == ln.plain or written == ln.plain else 0.0
    size = _ratio(plan.get("households"), ledger.get("households"))
    score = (w["name"] * name_score + w["address"] * (addr if addr is not None else w["address_unknown"])
             + w["build_year"] * (year if year is not None else 1.0) + same_phase + as_written
             + w["size"] * (size if size is not None else 0.5))
    sizes, size_agreed = _sizes_text(plan, ledger)
    agreed = ["名称"] + (["地址"] if addr is not None and addr >= s.address_support else []) \
        + (["建成年份"] if year is not None else []) + size_agreed
    return Comparison(True, round(min(score, 1.0), 4), tuple(agreed), (name_text, addr_text, year_text, *sizes))


# --- report → plan ----------------------------------------------------------------------------

def _ratio_level(r: float | None, s: Settings) -> float | None:
    """Agreement of two amounts by their ratio: equal 1, within 5% near, within 20% far, else other."""
    w = s.report_plan
    if r is None:
        return None
    return 1.0 if r == 1 else w["near"] if r >= 0.95 else w["far"] if r >= 0.8 else w["other"]


def _money_level(a, b, s: Settings) -> tuple[float | None, str]:
    if a is None or b is None:
        return None, ""
    if abs(a - b) <= s.money_rounding_wan_yuan:
        return 1.0, f"总投资:{a:g}万元一致"
    return _ratio_level(_ratio(a, b) or 0.0, s), f"总投资:{a:g}/{b:g}万元"


def report_plan(report: dict, plan: dict, s: Settings) -> Comparison:
    """A monthly-report row against a plan row of its county and plan year."""
    name = compare_names(report.get("name"), plan.get("name"), s)
    if name.level in VETOES:
        return _no(0.0, name.text)
    money, money_text = _money_level(report.get("total_invest_wan_yuan"), plan.get("total_invest_wan_yuan"), s)
    hh_r = _ratio(report.get("households"), plan.get("households"))
    hh = _ratio_level(hh_r, s)
    name_text, name_score = name.text, name.score
    if name.level == "unit_kind":
        if money != 1.0 or hh != 1.0:
            return _no(0.0, name.text, "视为不同小区(总投资或户数不同)")
        name_score, name_text = s.name_levels["unit_kind"], f"{name.text},总投资与户数相同"
    if name_score < s.name_min:
        return _no(name_score, name_text)
    w = s.report_plan
    score = (w["name"] * name_score + w["total_invest"] * (money if money is not None else 0.5)
             + w["households"] * (hh if hh is not None else 0.5))
    hh_text = ""
    if hh_r is not None:
        hh_text = f"户数:{report['households']:g}/{plan['households']:g}户"
    agreed = ["名称"] + (["总投资"] if money == 1.0 else []) + (["户数"] if hh == 1.0 else [])
    return Comparison(True, round(score, 4), tuple(agreed), (name_text, money_text, hh_text))


# --- plan ↔ plan ------------------------------------------------------------------------------

def _effective(row: dict) -> dict:
    """The values to compare a plan row by: its linked ledger community's (the reference; a plan may
    inflate its size, be a few years off or write its address as a landmark), else its own."""
    led = row.get("ledger") or {}
    out = dict(row)
    for key in ("build_year", "households", "buildings", "area_m2"):
        if led.get(key) is not None:
            out[key] = led[key]
    out["address"] = led.get("address") or row.get("address")
    out["year_from_ledger"] = led.get("build_year") is not None
    return out


def _plan_names(a: dict, b: dict, s: Settings) -> NameAgreement:
    """Two plan rows' names; where a row is linked, its ledger community's name is the reference
    (both linked: the ledger names decide; one linked: the better of the two readings)."""
    la, lb = (a.get("ledger") or {}).get("name"), (b.get("ledger") or {}).get("name")
    if la and lb:
        return compare_names(la, lb, s)
    plain = compare_names(a.get("name"), b.get("name"), s)
    if not (la or lb):
        return plain
    via = compare_names(la or a.get("name"), lb or b.get("name"), s)
    return via if via.score > plain.score else plain


def plan_plan(a: dict, b: dict, s: Settings) -> Comparison:
    """Whether two plan rows are the same community. Two counties' entries are compared like any
    others (no list of boundary counties), but need their address to agree."""
    written = compare_names(a.get("name"), b.get("name"), s)
    if written.level in VETOES:
        return _no(0.0, written.text)
    name = _plan_names(a, b, s)
    if name.level in VETOES:
        return _no(0.0, name.text + "(台账名称)")
    same_county = a.get("county_code") == b.get("county_code")
    ca, cb = a.get("community_id"), b.get("community_id")
    if same_county and ca and cb:
        if ca == cb:
            return Comparison(True, round(max(0.9, name.score), 4), ("台账小区", "名称"), ("同一台账小区", written.text))
        return _no(0.0, "台账中为不同小区", written.text)
    ea, eb = _effective(a), _effective(b)
    name_text, name_score = name.text, name.score
    if name is not written and name.text != written.text:  # decided on the ledger's names: show both
        name_text = f"{written.text}(台账名称 {name.text.removeprefix('名称:')})"
    if name.level == "unit_kind":
        ok, why = everything_else_equal(ea, eb, s)
        if not ok:
            return _no(0.0, name.text, why)
        name_score, name_text = s.name_levels["unit_kind"], f"{name.text},{why}"
    if name_score < s.name_min:
        return _no(name_score, name_text)
    parts, agreed = [name_text], ["名称"]
    # two plan entries may each be a few years off the truth, in opposite directions
    tolerance = s.build_year_tolerance * (1 if ea["year_from_ledger"] or eb["year_from_ledger"] else 2)
    year, year_text, year_off = year_agreement(ea.get("build_year"), eb.get("build_year"), tolerance)
    if year_off:
        return _no(0.0, name_text, year_text + ",超出容差")
    if year is not None:
        parts.append(year_text)
        agreed.append("建成年份")
    for key, label, _ in _SIZES:
        r = _ratio(ea.get(key), eb.get(key))
        if r is not None and r < s.size_ratio_min:  # sizes grow between entries; half is another estate
            return _no(0.0, name_text, f"{label}差异过大 {ea[key]:g}/{eb[key]:g}")
    sizes, size_agreed = _sizes_text(ea, eb)
    parts += sizes
    agreed += size_agreed
    addr, addr_text, addr_off = address_agreement(ea.get("address"), eb.get("address"), s)
    if addr_off:
        return _no(0.0, name_text, addr_text)
    if addr is not None:
        parts.append(addr_text)
        if addr >= s.address_support:
            agreed.append("地址")
    if not same_county:
        # the same address text exists in many towns: two counties' entries are one estate only when
        # the address, the build year and the size all agree
        if addr is None or addr < s.cross_county_address:
            return _no(0.0, name_text, "跨县市且地址不能证实(须同路同门牌)")
        if year is None:
            return _no(0.0, name_text, "跨县市且建成年份不详")
        for key, label, _ in _SIZES[:2]:
            r = _ratio(ea.get(key), eb.get(key))
            if r is None or r < s.cross_county_size_ratio:
                return _no(0.0, name_text, f"跨县市且{label}不符")
    if same_county and name_score < s.name_strict and (addr is None or addr < s.address_support) and year is None:
        return _no(name_score, name_text, "名称近似但无地址或年份佐证")
    w = s.plan_plan
    score = name_score if addr is None else w["name"] * name_score + w["address"] * addr
    if not same_county:
        parts.insert(0, "跨县市,地址相符")
    return Comparison(True, round(min(score, 1.0), 4), tuple(agreed), tuple(parts))
