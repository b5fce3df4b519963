"""One normaliser for community names and addresses, as clerks really write them (input-formats.md).

A name goes through these steps, each recorded (:class:`Step`) so that a comparison can say which
of them made two names agree:

1. cosmetic — Unicode NFKC (full-width digits, letters and brackets: ``２号楼`` → ``2号楼``), spaces
   dropped, bracket forms made one, traditional → simplified characters (OpenCC ``t2s``:
   ``光華小區`` → ``光华小区``), Chinese and capital numerals → Arabic (``二`` / ``贰`` → ``2``;
   values from the Unicode numeric property);
2. prefixes dropped for comparison (kept for display): ``(原)``, the prefecture's, a county's
   (with or without 县/市) or a town's name (with 镇/乡), a 街道, a road (``人民东路石化大院``);
3. a report's project words (``改造项目``), the phase (``(一期)`` → phase 1), bracketed notes, the
   estate word (``小区`` / ``住宅小区``) at the end;
4. abbreviations of offices and work units expanded (``工行`` → ``工商银行``, ``二中`` → ``第2中学``,
   ``塔指`` → ``塔里木石油勘探开发指挥部``; names.toml, each entry with its source);
5. the kind of estate split off the end (``家属院`` / ``住宅楼`` / ``大院`` …): one work unit's estates
   of different kinds are different communities unless everything else agrees (compare.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from pypinyin import lazy_pinyin

from pipelines.identity.settings import Vocabulary, vocabulary

__all__ = ["Step", "Name", "Address", "parse_name", "parse_address", "cosmetic", "to_simplified", "arabic_numerals"]

_WS = re.compile(r"\s+")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "{": "(", "}": ")",
                           "﹙": "(", "﹚": ")", "〈": "(", "〉": ")", "《": "(", "》": ")"})
_NUMERAL_RUN = re.compile(r"[零〇一二三四五六七八九十壹贰叁肆伍陆柒捌玖拾]+")
_PHASE = re.compile(r"\(?第?(\d+)期(?:工程)?\)?")
_BRACKETED = re.compile(r"\([^()]*\)")
_STREET = re.compile(r"^[\u4e00-\u9fa5]{2,6}?(?:街道办事处|街道办|街道)")
_ROAD_PREFIX = re.compile(r"^[\u4e00-\u9fa5]{2,6}?(?:大道|大街|路|街|巷)")
_ADDRESS_AREA = re.compile(r"^[\u4e00-\u9fa5]{1,8}(?:街道办事处|街道|镇|乡)(?=.)")
_ROAD = re.compile(r"([\u4e00-\u9fa5a-z0-9]{1,12}?(?:路|街|道|巷|大道|大街|胡同))")
_HOUSE_NUMBERS = re.compile(r"(\d+)(?:[-~至到—](\d+))?号")


@dataclass(frozen=True)
class Step:
    """One normalisation that changed the text: what it was called, what it saw, what it made."""
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Name:
    written: str         # as written (kept for display)
    plain: str           # after the cosmetic steps only
    body: str            # compared: without prefixes, phase, notes and estate word; abbreviations expanded
    short: str           # body with every known unit in its shortest form (a slip inside one: 共销社 / 供销社)
    core: str            # body without its kind word
    kind: str            # the kind word ('' for a plain estate)
    phase: int | None
    pinyin: str          # of body
    short_pinyin: str    # of short
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Address:
    written: str
    full: str
    road: str | None
    numbers: tuple[int, int] | None   # a house number or a range


@cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC, phrase-aware)."""
    return _converter().convert(text) if text else text


def _numeral_value(ch: str) -> int:
    return 10 if ch in "十拾" else int(unicodedata.numeric(ch))


def _run_to_arabic(run: str) -> str:
    tens = [i for i, ch in enumerate(run) if ch in "十拾"]
    if not tens:
        return "".join(str(_numeral_value(ch)) for ch in run)
    if len(tens) == 1 and len(run) <= 3:
        i = tens[0]
        high = _numeral_value(run[i - 1]) if i > 0 else 1
        low = _numeral_value(run[i + 1]) if i + 1 < len(run) else 0
        if (i <= 1) and high < 10 and low < 10:
            return str(high * 10 + low)
    return "".join(str(_numeral_value(ch)) for ch in run)


def arabic_numerals(text: str) -> str:
    """Chinese and capital numerals as Arabic ones: 二中 → 2中, 贰号 → 2号, 十二 → 12, 二十一 → 21.
    两/百/千/万 are left alone (两河, 百货, 千禧, 万达 are words, not numbers)."""
    return _NUMERAL_RUN.sub(lambda m: _run_to_arabic(m.group(0)), text)


def cosmetic(text: object) -> tuple[str, tuple[Step, ...]]:
    """NFKC, spaces, brackets, traditional → simplified, numerals; with the steps that changed something."""
    raw = "" if text is None else str(text)
    steps: list[Step] = []
    t = unicodedata.normalize("NFKC", raw)
    if t != raw:
        steps.append(Step("全角半角", raw.strip(), t.strip()))
    u = _WS.sub("", t)
    if u != t.strip():
        steps.append(Step("空格", t.strip(), u))
    v = u.translate(_BRACKETS)
    if v != u:
        steps.append(Step("括号写法", u, v))
    w = to_simplified(v)
    if w != v:
        steps.append(Step("繁简", v, w))
    x = arabic_numerals(w)
    if x != w:
        runs = [m.group(0) for m in _NUMERAL_RUN.finditer(w)]
        steps.append(Step("数字写法", "".join(runs), "".join(_run_to_arabic(r) for r in runs)))
    return x.lower(), tuple(steps)


@cache
def _place_words() -> tuple[tuple[str, str], ...]:
    v = vocabulary()
    words = ([(w, "去掉州名") for w in v.prefecture_names] + [(w, "去掉县市名") for w in v.county_names]
             + [(w, "去掉乡镇名") for w in v.town_names])
    return tuple(sorted(((cosmetic(w)[0], label) for w, label in words), key=lambda t: -len(t[0])))


@cache
def _vocab_plain() -> dict[str, tuple[str, ...]]:
    """The vocabulary's words through the same cosmetic steps as the names."""
    v = vocabulary()
    return {k: tuple(cosmetic(w)[0] for w in getattr(v, k))
            for k in ("estate_words", "kind_words", "original_marks", "project_words")}


def _plain_form(text: str) -> str:
    """A vocabulary entry through the cosmetic steps, its ``{n}`` placeholder kept."""
    return "{n}".join(cosmetic(part)[0] for part in text.split("{n}"))


@cache
def _abbreviations() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern over every form (and every full name, which stays as it is), longest first."""
    v: Vocabulary = vocabulary()
    alternatives: list[tuple[int, str, str]] = []  # (length, regex, group name)
    targets: dict[str, str] = {}
    for i, a in enumerate(v.abbreviations):
        full = _plain_form(a.full)
        before = "".join(f"(?!{re.escape(cosmetic(w)[0])})" for w in a.not_before)
        after = "".join(f"(?<!{re.escape(cosmetic(w)[0])})" for w in a.not_after)
        for j, form in enumerate((a.full, *a.forms)):
            text = _plain_form(form)
            group = f"a{i}_{j}"
            if "{n}" in text:
                head, tail = text.split("{n}", 1)
                rx = f"{after}(?<!\\d){re.escape(head)}(?P<{group}n>\\d+){re.escape(tail)}{before}"
            else:
                rx = f"{after}{re.escape(text)}{before}"
            alternatives.append((len(text), f"(?P<{group}>{rx})", group))
            targets[group] = full
    alternatives.sort(key=lambda t: -t[0])
    return re.compile("|".join(rx for _, rx, _ in alternatives)), targets


@cache
def _contractions() -> tuple[re.Pattern[str], dict[str, str]]:
    """Full names → their shortest form, to compare names whose abbreviation has a slip."""
    parts, targets = [], {}
    for i, a in enumerate(vocabulary().abbreviations):
        full, short = _plain_form(a.full), min((_plain_form(f) for f in a.forms), key=len)
        group = f"c{i}"
        rx = re.escape(full).replace(re.escape("{n}"), f"(?P<{group}n>\\d+)")
        parts.append((len(full), f"(?P<{group}>{rx})"))
        targets[group] = short
    parts.sort(key=lambda t: -t[0])
    return re.compile("|".join(rx for _, rx in parts)), targets


def _contract(text: str) -> str:
    pattern, targets = _contractions()

    def repl(m: re.Match[str]) -> str:
        number = m.groupdict().get(f"{m.lastgroup}n")
        return targets[m.lastgroup].replace("{n}", number) if number else targets[m.lastgroup]

    return pattern.sub(repl, text)


def _expand_abbreviations(text: str) -> tuple[str, list[Step]]:
    pattern, targets = _abbreviations()
    steps: list[Step] = []

    def repl(m: re.Match[str]) -> str:
        group = m.lastgroup
        assert group is not None
        number = m.groupdict().get(f"{group}n")
        full = targets[group].replace("{n}", number) if number else targets[group]
        if m.group(0) != full:
            steps.append(Step("缩写", m.group(0), full))
        return full

    return pattern.sub(repl, text), steps


def _strip_places(text: str, steps: list[Step], keep: int = 2, roads: bool = True) -> str:
    """Drop (原), the prefecture's, a county's or a town's name and a 街道 in front, in any order,
    as long as ``keep`` characters of the name remain."""
    marks = _vocab_plain()["original_marks"]
    estate = _vocab_plain()["estate_words"]

    kinds = _vocab_plain()["kind_words"]

    def rest_ok(rest: str, strict: bool = False) -> bool:
        """Enough of a name left; ``strict`` (a road taken off): a core besides the estate or kind word."""
        if strict:
            rest = _PHASE.sub("", _BRACKETED.sub("", rest))
        for w in estate:
            if rest.endswith(w):
                rest = rest[: -len(w)]
                break
        if strict:
            rest = next((rest[: -len(k)] for k in kinds if rest.endswith(k)), rest)
        return len(rest) >= keep

    for _ in range(4):
        changed = False
        for m in marks:
            if text.startswith(m) and rest_ok(text[len(m):]):
                steps.append(Step("去掉(原)", m, ""))
                text, changed = text[len(m):], True
                break
        for word, label in _place_words():
            if text.startswith(word) and rest_ok(text[len(word):]):
                steps.append(Step(label, word, ""))
                text, changed = text[len(word):], True
                break
        for rx, label in ((_STREET, "去掉街道名"), (_ROAD_PREFIX, "去掉路名"))[: 2 if roads else 1]:
            m = rx.match(text)
            if m and rest_ok(text[m.end():], strict=label == "去掉路名"):
                steps.append(Step(label, m.group(0), ""))
                text, changed = text[m.end():], True
        if not changed:
            break
    return text


@lru_cache(maxsize=200_000)
def parse_name(written: str | None) -> Name:
    """A community name as clerks write it, taken apart for comparison (cached)."""
    plain, cosmetic_steps = cosmetic(written)
    steps = list(cosmetic_steps)
    text = _strip_places(plain, steps)
    words = _vocab_plain()
    for w in words["project_words"]:
        if text.endswith(w) and len(text) > len(w) + 1:
            steps.append(Step("去掉项目字样", w, ""))
            text = text[: -len(w)]
            break
    phase = None
    m = _PHASE.search(text)
    if m and len(text) - len(m.group(0)) >= 2:
        phase = int(m.group(1))
        steps.append(Step("分期", m.group(0), ""))
        text = text[: m.start()] + text[m.end():]
    notes = _BRACKETED.findall(text)
    if notes and len(_BRACKETED.sub("", text)) >= 2:
        steps.append(Step("去掉括号注", "".join(notes), ""))
        text = _BRACKETED.sub("", text)
    text = text.replace("(", "").replace(")", "")
    for w in words["estate_words"]:
        if text.endswith(w) and len(text) > len(w):
            steps.append(Step("小区字样", w, ""))
            text = text[: -len(w)]
            break
    text, abbreviation_steps = _expand_abbreviations(text)
    steps += abbreviation_steps
    short = _contract(text)
    core, kind = text, ""
    for k in words["kind_words"]:
        if text.endswith(k) and len(text) > len(k):
            core, kind = text[: -len(k)], k
            break
    return Name(written="" if written is None else str(written).strip(), plain=plain, body=text, short=short, core=core,
                kind=kind, phase=phase, pinyin="".join(lazy_pinyin(text)),
                short_pinyin="".join(lazy_pinyin(short)) if short != text else "".join(lazy_pinyin(text)),
                steps=tuple(steps))


@lru_cache(maxsize=200_000)
def parse_address(written: str | None) -> Address:
    """An address taken apart: road and house number(s), after places, 街道 and 号院 are read away."""
    plain, _ = cosmetic(written)
    text = _strip_places(plain, [], keep=1, roads=False)
    text = _ADDRESS_AREA.sub("", text)
    text = text.replace("号院", "号")
    road = None
    m = _ROAD.search(text)
    if m:
        road = m.group(1)
    numbers = None
    m = _HOUSE_NUMBERS.search(text)
    if m:
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        numbers = (min(lo, hi), max(lo, hi))
    return Address("" if written is None else str(written).strip(), text, road, numbers)
