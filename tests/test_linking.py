"""Identity: name variants must be joined, look-alikes must not (flags.md, input-formats.md)."""

from __future__ import annotations

import pytest

from pipelines.linking import _best, compare
from pipelines.names import address_similarity, name_similarity

LEDGER = [
    {"community_id": "tj", "name": "团结小区", "address": "团结路12号", "build_year": 1995, "buildings": 8, "households": 260, "area_m2": 18200},
    {"community_id": "tjb", "name": "团结北小区", "address": "团结路14号", "build_year": 1998, "buildings": 6, "households": 180, "area_m2": 12600},
    {"community_id": "xf", "name": "幸福小区", "address": "文化路3号", "build_year": 1990, "buildings": 5, "households": 120, "area_m2": 8400},
    {"community_id": "jsd", "name": "建设局大院", "address": "人民路20号", "build_year": 1988, "buildings": 4, "households": 96, "area_m2": 6700},
    {"community_id": "jsz", "name": "建设局住宅楼", "address": "人民路21号", "build_year": 1988, "buildings": 2, "households": 40, "area_m2": 2800},
    {"community_id": "xl1", "name": "雪莲花园一期", "address": "天山路1号", "build_year": 1999, "buildings": 6, "households": 200, "area_m2": 15000},
    {"community_id": "xl2", "name": "雪莲花园二期", "address": "天山路9号", "build_year": 2000, "buildings": 5, "households": 150, "area_m2": 11000},
    {"community_id": "sh", "name": "石化大院", "address": "人民东路8号", "build_year": 1985, "buildings": 10, "households": 320, "area_m2": 22000},
]


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        # name variants of flags.md, with the address rewritten and the year a few years off
        ({"name": "幸福小区(一期)", "address": "文化路3号院", "build_year": 1992, "households": 120}, "xf"),
        ({"name": "幸福住宅小区", "address": None, "build_year": 1988, "households": 126}, "xf"),
        ({"name": "（原）幸福小区", "address": "轮台镇文化路3号", "build_year": 1990, "households": 120}, "xf"),
        ({"name": "辛福小区", "address": "文化路3号", "build_year": 1990, "households": 120}, "xf"),    # one-character slip
        ({"name": "人民东路石化大院", "address": "人民东路石化大院", "build_year": 1987, "households": 330}, "sh"),
        # inflated sizes must still link, so that INFLATED_SCALE can fire
        ({"name": "团结小区", "address": "团结路12号", "build_year": 1995, "households": 412, "buildings": 12}, "tj"),
        # look-alikes keep their own community
        ({"name": "团结北小区", "address": "团结路14号", "build_year": 1998, "households": 180}, "tjb"),
        ({"name": "建设局住宅楼", "address": "人民路21号", "build_year": 1988, "households": 40}, "jsz"),
        ({"name": "建设局大院", "address": "人民路20号", "build_year": 1988, "households": 96}, "jsd"),
        ({"name": "雪莲花园二期", "address": "天山路9号", "build_year": 2000, "households": 150}, "xl2"),
        ({"name": "雪莲花园(一期)", "address": "天山路1号", "build_year": 1999, "households": 200}, "xl1"),
    ],
)
def test_plan_rows_link_to_the_right_ledger_community(plan, expected):
    cid, cmp, _ = _best(plan, LEDGER, "community_id")
    assert cid == expected, cmp.explained if cmp else None


@pytest.mark.parametrize(
    "plan",
    [
        {"name": "团结南小区", "address": "团结路30号", "build_year": 1996, "households": 150},  # a direction word: another community
        {"name": "雪莲花园三期", "address": "天山路15号", "build_year": 2003, "households": 120},  # a phase the ledger lacks
        {"name": "胜利小区", "address": "胜利路1号", "build_year": 1992, "households": 100},
    ],
)
def test_communities_not_in_the_ledger_stay_unlinked(plan):
    cid, _, method = _best(plan, LEDGER, "community_id")
    assert (cid, method) == (None, "none")


def test_lookalike_names_score_zero_and_variants_high():
    assert name_similarity("团结小区", "团结北小区")[0] == 0.0
    assert name_similarity("雪莲花园一期", "雪莲花园二期")[0] == 0.0
    assert name_similarity("幸福小区", "幸福住宅小区")[0] >= 0.9
    assert name_similarity("幸福小区", "（原）幸福小区")[0] >= 0.9


def test_address_forms():
    assert address_similarity("人民东路12号", "库尔勒市萨依巴格街道人民东路12号院")[0] == 1.0
    assert address_similarity("人民东路12-16号", "人民东路14号")[0] >= 0.9   # a number inside the range
    assert address_similarity(None, "人民东路14号")[0] is None               # missing is unknown, not a mismatch


def test_link_explains_which_fields_agreed():
    cmp = compare({"name": "幸福住宅小区", "address": "文化路3号院", "build_year": 1992, "households": 132},
                  LEDGER[2])
    text = cmp.explained
    assert "名称去后缀后一致" in text and "地址一致" in text and "差2年" in text and "+10%" in text


@pytest.mark.parametrize(
    ("name", "core"),
    [("巴州医院家属院", "巴州医院"),            # 院 alone is no suffix, and 巴州 is part of an institution's name
     ("（原）轮台县幸福小区", "幸福"), ("轮台县（原）幸福小区", "幸福"), ("石化大院", "石化")],
)
def test_name_cores(name, core):
    from pipelines.names import name_key

    assert name_key(name).core == core


def test_county_seat_town_in_an_address():
    from pipelines.names import address_key

    assert address_key("若羌镇南市区路12号").road == address_key("若羌县若羌镇南市区路12号").road == "南市区路"
