"""Blocking: which pairs get the full comparison. No all-pairs work: rows meet only through a key
they share, within their group (a county; a county and plan year; across counties, the same road
and house number).

Keys of a name (after normalisation): the body, its pinyin, the core without its kind word, the
first two characters, the last two of the core with the kind; for short cores also the first or
last character with the length. A one-character slip or a homophone therefore still meets its
community, and one work unit's estates of different kinds meet too (to be told apart by
:func:`pipelines.identity.compare.everything_else_equal`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from pipelines.identity.normalise import parse_address, parse_name

__all__ = ["name_keys", "place_keys", "Index", "pairs"]


@lru_cache(maxsize=200_000)
def name_keys(name: str | None, strong_only: bool = False) -> frozenset[str]:
    """Blocking keys of a name; ``strong_only``: those of a name equal after normalisation, in
    pinyin or in its first characters (used across counties, with the road)."""
    n = parse_name(name)
    body = n.body or n.plain
    if not body:
        return frozenset()
    keys = {f"b:{body}", f"p:{n.pinyin}", f"c:{n.core}", f"h:{body[:2]}"}
    if n.short and n.short != body:  # units in their short form (a slip inside an abbreviation still meets its estate)
        keys |= {f"b:{n.short}", f"h:{n.short[:2]}", f"p:{n.short_pinyin}"}
    if not strong_only:
        keys.add(f"t:{n.core[-2:]}|{n.kind}")
        if len(n.core) <= 2:
            keys |= {f"h1:{n.core[:1]}|{len(n.core)}|{n.kind}", f"t1:{n.core[-1:]}|{len(n.core)}|{n.kind}"}
    return frozenset(keys)


def place_keys(address: str | None, max_range: int = 20) -> list[str]:
    """Where an address is, as keys that two addresses share when they are the same place: the road's
    last three characters (人民东路 / 镇人民东路) with each house number it covers, or the whole
    address when it has no number (a landmark)."""
    a = parse_address(address)
    if not a.full:
        return []
    if a.road and a.numbers and a.numbers[1] - a.numbers[0] <= max_range:
        return [f"{a.road[-3:]}#{n}" for n in range(a.numbers[0], a.numbers[1] + 1)]
    return [a.full]


class Index:
    """Rows by (group, key): the candidates of a row are the rows sharing one of its keys."""

    def __init__(self, rows: Iterable[dict], group: Callable[[dict], str], keys: Callable[[dict], Iterable[str]],
                 block_max: int = 2000):
        self._blocks: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self._block_max = block_max
        for r in rows:
            g = group(r)
            for k in keys(r):
                self._blocks[(g, k)].append(r)

    def candidates(self, group: str, keys: Iterable[str], id_key: str) -> list[dict]:
        seen: dict[str, dict] = {}
        for k in keys:
            block = self._blocks.get((group, k), ())
            if len(block) > self._block_max:  # a degenerate key would make everything a candidate
                continue
            for r in block:
                seen.setdefault(r[id_key], r)
        return list(seen.values())


def pairs(rows: Sequence[dict], keyed: Callable[[dict], Iterable[str]], block_max: int = 2000) -> set[tuple[int, int]]:
    """Index pairs (i < j) of rows sharing a key (keys already carry their group)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        for k in keyed(r):
            blocks[k].append(i)
    out: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > block_max:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                out.add((members[x], members[y]))
    return out
