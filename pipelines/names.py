"""Normalising Chinese community names and addresses for matching.

Clerks write the same community many ways: ``幸福小区`` / ``幸福小区(一期)`` / ``幸福住宅小区`` /
``（原）幸福小区`` / a one-character slip. The functions here reduce a name to a comparable core,
keep the phase (一期/二期) apart, and tell slips from names that differ by a direction word
(``团结小区`` / ``团结北小区`` are two communities).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein

from pipelines.counties import load_counties

__all__ = ["NameKey", "name_key", "name_similarity", "AddressKey", "address_key", "address_similarity", "norm"]

_WS = re.compile(r"\s+")
# generic words that say "a residential community" and are often added or dropped
SUFFIXES = (
    "住宅小区", "居民小区", "小区", "花园", "家属院", "家属区", "家属楼", "生活区", "住宅楼", "住宅区", "宿舍楼",
    "宿舍区", "宿舍", "大院", "新村", "公寓", "片区",
)
PREFIXES = ("(原)", "原")
_PHASE = re.compile(r"\(?(?:第)?([一二三四五六七八九十\d]+)期(?:工程)?\)?")
_BRACKETS = re.compile(r"\([^()]*\)")
# characters that make a different community when one name has them and the other does not
DISTINGUISHING = set("东西南北中新老前后上下一二三四五六七八九十甲乙丙丁小大外内")
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def norm(text: object) -> str:
    """NFKC, no whitespace, half-width brackets, lower case."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = _WS.sub("", text).lower()
    return text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")


PREFECTURE_WORDS = ("巴州", "巴音郭楞蒙古自治州", "巴音郭楞州", "新疆")


@cache
def _place_prefixes(prefecture: bool = True) -> tuple[str, ...]:
    # a name keeps 巴州 (巴州医院家属院 is not 医院家属院); an address loses it
    words = set(PREFECTURE_WORDS) if prefecture else set()
    for c in load_counties():
        words.add(c.name)
        words.update(c.aliases)
    return tuple(sorted(words, key=len, reverse=True))


def _strip_place(text: str, prefecture: bool = True) -> str:
    """Drop a leading county name; 若羌镇 is the county seat's town, not 若羌 + 镇…"""
    for p in _place_prefixes(prefecture):
        if text.startswith(p) and len(text) > len(p) + 1:
            rest = text[len(p):]
            return rest[1:] if rest[0] in "镇乡" and len(rest) > 2 else rest
    return text


def _strip_prefixes(text: str) -> str:
    """(原) and place words, in either order: （原）轮台县幸福小区, 轮台县(原)幸福小区."""
    for _ in range(2):
        for p in PREFIXES:
            if text.startswith(p) and len(text) > len(p) + 1:
                text = text[len(p):]
        text = _strip_place(text, prefecture=False)
    return text


def _phase_number(text: str) -> int:
    return int(text) if text.isdigit() else _CN_NUM.get(text, 0)


@dataclass(frozen=True)
class NameKey:
    full: str          # normalised name as written
    core: str          # without place prefix, (原), phase and generic suffixes
    phase: int | None  # 1 for 一期 …
    pinyin: str


@cache
def name_key(name: str | None) -> NameKey:
    text = norm(name)
    full = text
    text = _strip_prefixes(text)
    phase = None
    m = _PHASE.search(text)
    if m:
        phase = _phase_number(m.group(1)) or None
        text = text[: m.start()] + text[m.end():]
    text = _BRACKETS.sub("", text)
    changed = True
    while changed:
        changed = False
        for s in SUFFIXES:
            if text.endswith(s) and len(text) > len(s):
                text = text[: -len(s)]
                changed = True
                break
    return NameKey(full, text, phase, "".join(lazy_pinyin(text)))


def _differs_by_distinguishing(a: str, b: str) -> bool:
    """True when the cores differ only by direction/ordinal characters (团结 / 团结北 / 团结南)."""
    if (set(a) ^ set(b)) - DISTINGUISHING:
        # a character outside DISTINGUISHING that only one core has is touched by every edit
        # script (inserted, deleted or substituted): no need to compute one
        return False
    ops = Levenshtein.editops(a, b)
    if not ops:
        return False
    for op in ops:
        if op.tag == "insert":
            chars = [b[op.dest_pos]]
        elif op.tag == "delete":
            chars = [a[op.src_pos]]
        else:
            chars = [a[op.src_pos], b[op.dest_pos]]
        if not all(ch in DISTINGUISHING for ch in chars):
            return False
    return True


@cache
def name_similarity(a: str | None, b: str | None) -> tuple[float, str]:
    """How likely two names denote the same community (0–1), and why, in Chinese."""
    ka, kb = name_key(a), name_key(b)
    if not ka.full or not kb.full:
        return 0.0, "名称缺失"
    if ka.phase is not None and kb.phase is not None and ka.phase != kb.phase:
        return 0.0, "分期不同"
    if ka.full == kb.full:
        return 1.0, "名称一致"
    if ka.core == kb.core and ka.core:
        return 0.95, "名称去后缀后一致"
    if _differs_by_distinguishing(ka.core, kb.core):
        return 0.0, "名称差一个方位/序号字"
    lev = Levenshtein.normalized_similarity(ka.core, kb.core)
    py = Levenshtein.normalized_similarity(ka.pinyin, kb.pinyin)
    sim = max(lev, 0.9 * py)
    if len(ka.core) >= 2 and len(kb.core) >= 2 and Levenshtein.distance(ka.core, kb.core) == 1 and len(ka.core) == len(kb.core):
        sim = max(sim, 0.8)  # a one-character slip in the core
    if ka.core and kb.core and (ka.core in kb.core or kb.core in ka.core):
        sim = max(sim, 0.85 if min(len(ka.core), len(kb.core)) >= 2 else sim)
    return round(sim, 3), f"名称相似 {sim:.2f}"


_ROAD = re.compile(r"([\u4e00-\u9fa5a-z0-9]{1,12}?(?:路|街|道|巷|大道|大街|胡同))")
_NUMBERS = re.compile(r"(\d+)(?:\s*[-~至到—]\s*(\d+))?\s*号")


@dataclass(frozen=True)
class AddressKey:
    full: str
    road: str | None
    numbers: tuple[int, int] | None   # a house number or a range


@cache
def address_key(address: str | None) -> AddressKey:
    text = _strip_place(norm(address))
    text = re.sub(r"^[\u4e00-\u9fa5]{1,8}(?:街道办事处|街道|镇|乡)(?=.)", "", text)
    text = text.replace("号院", "号").replace("號", "号")
    road = None
    m = _ROAD.search(text)
    if m:
        road = m.group(1)
    nums = None
    m = _NUMBERS.search(text)
    if m:
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        nums = (min(lo, hi), max(lo, hi))
    return AddressKey(text, road, nums)


def address_similarity(a: str | None, b: str | None) -> tuple[float | None, str]:
    """0–1 when both addresses are known, None when either is missing."""
    ka, kb = address_key(a), address_key(b)
    if not ka.full or not kb.full:
        return None, "地址缺失"
    if ka.full == kb.full:
        return 1.0, "地址一致"
    if ka.road and kb.road and ka.road == kb.road:
        if ka.numbers and kb.numbers:
            lo, hi = max(ka.numbers[0], kb.numbers[0]), min(ka.numbers[1], kb.numbers[1])
            if lo <= hi:
                return 0.95, "同路同门牌"
            gap = lo - hi
            return (0.75 if gap <= 2 else 0.5), f"同路门牌差 {gap}"
        return 0.8, "同路"
    sim = Levenshtein.normalized_similarity(ka.full, kb.full)
    if ka.full in kb.full or kb.full in ka.full:
        sim = max(sim, 0.8)
    return round(sim, 3), f"地址相似 {sim:.2f}"
