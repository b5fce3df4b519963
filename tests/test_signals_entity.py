"""Entity resolution for the duplicate rules: Chinese name variants are joined, look-alikes are not."""

from __future__ import annotations

import pytest

from pipelines.entity import EntitySettings, community_name, compare_rows, link_ledger, name_match, resolve

KRL, JKQ, LT = "652801", "652871", "652822"


@pytest.mark.parametrize("a, b", [
    ("幸福小区", "幸福小区(一期)"),
    ("幸福小区", "幸福住宅小区"),
    ("幸福小区", "（原）幸福小区"),
    ("幸福小区", "(原)幸福小区"),
    ("幸福小区", "幸富小区"),            # homophone slip
    ("银河小区", "金河小区"),            # one-character slip
    ("建设局大院", "建设局大院小区"),    # 小区 appended to a unit estate
    ("法院家属楼", "法院佳属楼"),        # slip inside the kind word
    ("巴州医院家属院", "(原)巴州医院家属院"),
    ("巴州医院生活区", "巴州医苑生活区"),
    ("雪莲花园（一期）", "雪莲花园(一期)"),
    ("幸 福 小 区", "幸福小区"),
])
def test_variants_match(a, b):
    sim, why = name_match(a, b)
    assert sim >= 0.85, why


@pytest.mark.parametrize("a, b", [
    ("团结小区", "团结北小区"),          # a direction word makes another community
    ("东苑小区", "西苑小区"),
    ("雪莲花园一期", "雪莲花园二期"),    # phases the ledger lists apart
    ("建设局大院", "建设局住宅楼"),      # one work unit's estates
    ("法院家属院", "法院家属楼"),
    ("梨香花园", "梨香苑"),
    ("友谊小区", "和平小区"),
])
def test_lookalikes_do_not_match(a, b):
    sim, why = name_match(a, b)
    assert sim < 0.85, why


def test_name_parts():
    n = community_name("（原）巴州医院家属院（二期）")
    assert (n.body, n.core, n.kind, n.phase) == ("医院家属院", "医院", "家属院", 2)
    assert community_name("幸福住宅小区").body == "幸福"


def _row(pid, county, name, address=None, year=1995, households=100, cid=None, plan_year=2021):
    return dict(plan_row_id=pid, county_code=county, plan_year=plan_year, name=name, address=address, build_year=year,
                buildings=4, households=households, area_m2=8000.0, fill_date=None, file_id=1, row_number=3,
                community_id=cid)


def test_compare_rows_rules():
    s = EntitySettings()
    # address rewritten (街道 prefix, 号院), build year 3 years off, size up: same community
    ok, _, _ = compare_rows(_row("a", KRL, "幸福小区", "人民东路12号"),
                            _row("b", KRL, "（原）幸福小区", "新城街道人民东路12号院", year=1992, households=130), s)
    assert ok
    # same road, the next number, same years, clearly different size: 建设局大院 / 建设局住宅楼
    ok, _, why = compare_rows(_row("a", KRL, "建设局大院", "建设路5号", households=300),
                              _row("b", KRL, "建设局住宅楼", "建设路7号", households=90), s)
    assert not ok, why
    # the same name in two counties that share no boundary: two communities
    ok, _, why = compare_rows(_row("a", KRL, "幸福小区", "人民东路12号"), _row("b", LT, "幸福小区", "人民东路12号"), s)
    assert not ok, why
    # a boundary estate planned by 库尔勒市 and 经开区 at one address: the same community
    ok, _, _ = compare_rows(_row("a", KRL, "石化大院", "石化大道8号"), _row("b", JKQ, "石化大院小区", "石化大道8号院"), s)
    assert ok
    # … but not without an address to prove it
    ok, _, _ = compare_rows(_row("a", KRL, "石化大院", None), _row("b", JKQ, "石化大院", None), s)
    assert not ok
    # linked to two ledger communities of one county: never the same
    ok, _, why = compare_rows(_row("a", KRL, "雪莲花园", cid="L1"), _row("b", KRL, "雪莲花园", cid="L2"), s)
    assert not ok and why == "台账中为不同小区"
    # different roads contradict a similar name
    ok, _, why = compare_rows(_row("a", KRL, "幸福小区", "人民东路12号"), _row("b", KRL, "幸福小区", "团结南路3号"), s)
    assert not ok, why


def test_clusters_keep_ledger_communities_apart():
    # a, b linked to two ledger communities; c (unlinked, same name) may join one of them, never both
    rows = [_row("a", KRL, "雪莲花园", "天山东路10号", cid="L1"), _row("b", KRL, "雪莲花园", "天山东路10号", cid="L2", plan_year=2022),
            _row("c", KRL, "雪莲花园", "天山东路10号", plan_year=2023)]
    out = {r["plan_row_id"]: r["entity_id"] for r in resolve(rows).to_dicts()}
    assert out["a"] != out["b"]
    assert out["c"] in (out["a"], out["b"])


def test_link_ledger_prefers_the_name_as_written():
    ledger = [dict(community_id="L1", county_code=KRL, name="银河小区", address="解放路135号", build_year=1990, households=76),
              dict(community_id="L2", county_code=KRL, name="银河住宅小区", address="东环路63号", build_year=1989, households=147)]
    plans = [_row("p1", KRL, "银河小区", None, year=1988, households=76),
             _row("p2", KRL, "(原)银河住宅小区", "东环路63号", year=1989, households=147),
             _row("p3", KRL, "惠民新村", "兴盛路243号")]
    links = link_ledger(plans, ledger)
    assert links["p1"][0] == "L1" and links["p2"][0] == "L2" and "p3" not in links
