"""The plan rules of flags.md (duplicate, inflation, object, procedure) on a hand-made warehouse.

Every case is a literal row; each rule has a positive and a near-miss just under its threshold;
lookalike communities must not be joined and name variants must be. The expected signals are
listed in full, so that an extra signal fails a test as much as a missing one.
"""

from __future__ import annotations

import pytest

from signals_fixtures import JKQ, KRL, LT, YL, Warehouse

pytestmark = pytest.mark.warehouse

L = dict  # a literal row


@pytest.fixture(scope="module")
def w() -> Warehouse:
    w = Warehouse()
    w.ledger(KRL, [
        L(name="幸福小区", address="人民东路12号", build_year=1995, buildings=8, households=260, area_m2=20000.0),
        L(name="团结小区", address="团结南路3号", build_year=1998, buildings=6, households=200, area_m2=15000.0),
        L(name="团结北小区", address="团结南路9号", build_year=1998, buildings=6, households=210, area_m2=15500.0),
        L(name="建设局大院", address="建设路5号", build_year=1990, buildings=8, households=300, area_m2=22000.0),
        L(name="建设局住宅楼", address="建设路7号", build_year=1990, buildings=3, households=90, area_m2=6000.0),
        L(name="雪莲花园一期", address="天山东路10号", build_year=1996, buildings=5, households=150, area_m2=12000.0),
        L(name="雪莲花园二期", address="天山西路20号", build_year=1999, buildings=6, households=180, area_m2=14000.0),
        L(name="光明小区", address="光明路1号", build_year=1994, buildings=4, households=100, area_m2=8000.0),
        L(name="胜利小区", address="胜利路2号", build_year=1992, renovated_year=2019),
        L(name="和平小区", address="和平路4号", build_year=1993, buildings=4, households=36, area_m2=3000.0),
        L(name="石化大院", address="石化大道8号", build_year=1997, buildings=10, households=400, area_m2=30000.0),
        L(name="育才小区", address="育才路6号", build_year=2001),
        L(name="朝阳小区", address="朝阳路3号", build_year=2000),
    ])
    w.ledger(LT, [L(name="幸福小区", address="人民东路12号", build_year=1996, buildings=5, households=150, area_m2=11000.0)])
    w.ledger(JKQ, [L(name="石化大院", address="石化大道8号", build_year=1997, buildings=10, households=400, area_m2=30000.0)])
    w.ledger(YL, [L(name=n, address=f"文化路{i}号") for i, n in enumerate(["友谊小区", "民主小区", "红星小区", "向阳小区", "康乐小区"], 1)])

    w.plan(KRL, 2021, [
        L(name="幸福小区", address="人民东路12号", build_year=1995, buildings=8, households=412, area_m2=20000.0),
        L(name="团结小区", address="团结南路3号", build_year=1998, buildings=6, households=200, area_m2=15000.0),
        L(name="建设局大院", address="建设路5号", build_year=1990, buildings=8, households=300, area_m2=22000.0),
        L(name="雪莲花园一期", address="天山东路10号", build_year=1996, buildings=5, households=150, area_m2=12000.0),
        L(name="光明小区", address="光明路1号", build_year=1994, buildings=4, households=110, area_m2=8000.0),
        L(name="胜利小区", address="胜利路2号", build_year=1992),
        L(name="和平小区", address="和平路4号", build_year=1993, buildings=4, households=40, area_m2=3000.0,
          total_invest_wan_yuan=100.0),
        L(name="石化大院", address="石化大道8号", build_year=1997, buildings=10, households=400, area_m2=30000.0),
        L(name="新建小区", address="新华路99号", build_year=1996),
        L(name="育才小区", address="育才路6号", build_year=2001, notice_days=13),
    ])
    w.plan(KRL, 2022, [
        L(name="（原）幸福小区", address="新城街道人民东路12号院", build_year=1993, buildings=8, households=270, area_m2=20000.0),
        L(name="团结北小区", address="团结南路9号", build_year=1998, buildings=6, households=210, area_m2=15500.0),
        L(name="雪莲花园二期", address="天山西路20号", build_year=1999, buildings=6, households=180, area_m2=14000.0, notice_days=14),
        L(name="建设局住宅楼", address="建设路7号", build_year=1990, buildings=3, households=90, area_m2=6000.0),
        L(name="朝阳小区", address="朝阳路3号", build_year=2000, notice_days=None, notice_days_given=None),
        L(name="幸福住宅小区", address="人民东路12号", build_year=1995, buildings=8, households=260, area_m2=20000.0),
    ])
    w.plan(KRL, 2023, [
        L(name="幸富小区", address="人民东路12号", build_year=1995, buildings=8, households=280, area_m2=20000.0),
        L(name="团结小区(一期)", address="团结南路3号", build_year=1998, buildings=6, households=200, area_m2=15000.0),
    ])
    # 幸福小区 of 轮台县: same name and road name as 库尔勒市's, another community
    w.plan(LT, 2021, [L(name="幸福小区", address="人民东路12号", build_year=1996, buildings=5, households=150, area_m2=11000.0)])
    # 石化大院 on the boundary, planned by 经开区 five days after 库尔勒市
    w.plan(JKQ, 2021, [L(name="石化大院小区", address="石化大道8号院", build_year=1997, buildings=10, households=400,
                         area_m2=30000.0)], fill_date="2020-10-25")
    # INFLATED_COST: per household 2, 2, 2, 6, 6.4 万元 → median 2; 6 = 3.0× (not more), 6.4 = 3.2×
    w.plan(YL, 2021, [
        L(name=n, address=f"文化路{i}号", categories="基础类+提升类", total_invest_wan_yuan=t)
        for i, (n, t) in enumerate(zip(["友谊小区", "民主小区", "红星小区", "康乐小区", "向阳小区"], [200, 200, 200, 600, 640]), 1)
    ])
    w.build()
    return w


def _flagged(w: Warehouse, rule: str) -> list[tuple]:
    return sorted((s["county_code"], s["plan_year"], s["community_name"]) for s in w.signals(rule))


def test_dup_cross_year_sees_through_variants(w):
    # (原) prefix + 街道/号院 address + build year 2 off; 住宅小区 suffix; a one-character slip (福→富);
    # (一期) added; and a plan row of a community the ledger marks renovated in 2019
    assert _flagged(w, "DUP_CROSS_YEAR") == sorted([
        (KRL, 2021, "胜利小区"),
        (KRL, 2022, "（原）幸福小区"),
        (KRL, 2022, "幸福住宅小区"),
        (KRL, 2023, "幸富小区"),
        (KRL, 2023, "团结小区(一期)"),
    ])


def test_dup_same_year_within_and_across_counties(w):
    # 幸福住宅小区 repeats (原)幸福小区 in 2022; 经开区 plans 库尔勒市's boundary estate 石化大院 again
    assert _flagged(w, "DUP_SAME_YEAR") == sorted([(KRL, 2022, "幸福住宅小区"), (JKQ, 2021, "石化大院小区")])


def test_lookalikes_are_not_joined(w):
    ent = dict(w.con.execute(
        "select p.county_code || ' ' || p.plan_year || ' ' || p.name, e.entity_id "
        "from core.identity_entities e join core.plan_rows p using (plan_row_id)").fetchall())
    assert ent[f"{KRL} 2021 团结小区"] != ent[f"{KRL} 2022 团结北小区"]
    assert ent[f"{KRL} 2021 建设局大院"] != ent[f"{KRL} 2022 建设局住宅楼"]
    assert ent[f"{KRL} 2021 雪莲花园一期"] != ent[f"{KRL} 2022 雪莲花园二期"]
    assert ent[f"{KRL} 2021 幸福小区"] != ent[f"{LT} 2021 幸福小区"]
    # and the variants are
    assert ent[f"{KRL} 2021 幸福小区"] == ent[f"{KRL} 2022 （原）幸福小区"] == ent[f"{KRL} 2023 幸富小区"]
    assert ent[f"{KRL} 2021 石化大院"] == ent[f"{JKQ} 2021 石化大院小区"]


def test_inflated_scale_plan_against_ledger(w):
    # 412 > 260 × 1.1 and +152 ≥ 5 → flagged; 光明 110 = 100 × 1.1 (not more); 和平 40 vs 36 is +11% but only +4
    assert _flagged(w, "INFLATED_SCALE") == [(KRL, 2021, "幸福小区")]
    (s,) = w.signals("INFLATED_SCALE")
    assert s["evidence"].startswith("计划户数 412 > 台账户数 260(+58%);台账: 库尔勒市 幸福小区 1995年 8栋")
    assert s["severity"] == "high" and s["class"] == "虚报"
    assert (s["file_name"], s["sheet_name"], s["row_number"]) == (f"{KRL}2021年计划.xlsx", "计划", 3)


def test_inflated_cost_against_median(w):
    # 640 / 100 = 6.4 万元/户 = 3.2 × the median 2.0; 600 / 100 = 3.0 × is not more than 3
    assert _flagged(w, "INFLATED_COST") == [(YL, 2021, "向阳小区")]
    (s,) = w.signals("INFLATED_COST")
    assert "户均投资 6.40 万元 = 中位数 2.00 万元的 3.2 倍" in s["evidence"]


def test_not_in_ledger(w):
    assert _flagged(w, "NOT_IN_LEDGER") == [(KRL, 2021, "新建小区")]


def test_post_2000_and_notice_short(w):
    # built 2001 → flagged, 2000 → not; notice 13 days and no notice → flagged, 14 → not
    assert _flagged(w, "POST_2000") == [(KRL, 2021, "育才小区")]
    assert _flagged(w, "NOTICE_SHORT") == sorted([(KRL, 2021, "育才小区"), (KRL, 2022, "朝阳小区")])
    ev = {s["community_name"]: s["evidence"] for s in w.signals("NOTICE_SHORT")}
    assert ev["朝阳小区"].startswith("无公示记录")
    assert ev["育才小区"].startswith("公示 13 个工作日 < 14")


def test_signal_ids_stable_and_unique(w):
    ids = [r[0] for r in w.con.execute("select signal_id from marts.signals").fetchall()]
    assert len(ids) == len(set(ids))
    from pipelines import signals

    signals.refresh(w.con)
    assert sorted(ids) == sorted(r[0] for r in w.con.execute("select signal_id from marts.signals").fetchall())


def test_coverage_counts_per_rule(w):
    cov = {r[0]: r[1:] for r in w.con.execute(
        "select rule, count_assessable, count_flagged, is_warning from marts.coverage_signals").fetchall()}
    # 10 + 6 + 2 + 1 + 1 + 5 = 25 plan rows; NOT_IN_LEDGER could assess all (every county has a ledger)
    assert cov["NOT_IN_LEDGER"] == (25, 1, False)
    assert cov["NOTICE_SHORT"][:2] == (25, 2)
    # DUP_CROSS_YEAR fires on 5 of 25 = 20%: not more than 20%, no warning
    assert cov["DUP_CROSS_YEAR"] == (25, 5, False)


def test_every_expectation_and_rule_has_a_chinese_description():
    from expectations.signals import SIGNAL_EXPECTATIONS
    from pipelines.signals import RULES, describe_rule

    for cls in SIGNAL_EXPECTATIONS:
        text = cls.__fields__["description"].default
        assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text), cls.__name__
    for rule, _ in RULES:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in describe_rule(rule))


def test_suite_results_stored(w):
    rows = w.con.execute(
        "select expectation, rule, success, unexpected_count from marts.signal_suite_results order by expectation"
    ).fetchall()
    by = {r[0]: r for r in rows}
    assert by["expect_plan_households_within_ledger"][1:] == ("INFLATED_SCALE", False, 1)
    assert by["expect_plan_in_ledger"][1:] == ("NOT_IN_LEDGER", False, 1)
    # every stored result says in Chinese what it checked, with the thresholds in force (GX leaves out
    # a description equal to its class default: those defaults carry no threshold of their own)
    described = dict(w.con.execute("select expectation, description from marts.signal_suite_results").fetchall())
    assert all(described.values()), [e for e, d in described.items() if not d]
    assert "14 个工作日" in described["expect_plan_notice_long_enough"]


def test_not_in_ledger_without_any_ledger():
    # a county that handed in no ledger: its plan rows match no ledger community (flags.md, literally)
    w = Warehouse()
    w.plan(LT, 2021, [dict(name="幸福小区")])
    w.build()
    (s,) = w.signals("NOT_IN_LEDGER")
    assert s["evidence"].startswith("轮台县 无现行摸底台账")
    assert w.counts("NOT_IN_LEDGER") == (1, 1)


def test_inflated_scale_buildings_and_area_margins():
    # (ledger, plan) per measure; flagged only when more than 10% AND at least 1 building / 200 m² over
    cases = {
        "楼栋十": (dict(buildings=10), dict(buildings=11), False),         # +10%, not more
        "楼栋四": (dict(buildings=4), dict(buildings=5), True),            # +25% and +1
        "面积甲": (dict(area_m2=1500.0), dict(area_m2=1700.0), True),      # +13% and +200
        "面积乙": (dict(area_m2=1500.0), dict(area_m2=1690.0), False),     # +12.7% but +190
        "面积丙": (dict(area_m2=2000.0), dict(area_m2=2200.0), False),     # +200 but +10%, not more
    }
    w = Warehouse()
    w.ledger(KRL, [dict(name=f"{n}小区", address=f"建国路{i}号", **led) for i, (n, (led, _, _)) in enumerate(cases.items(), 1)])
    w.plan(KRL, 2021, [dict(name=f"{n}小区", address=f"建国路{i}号", categories="完善类", **plan)
                       for i, (n, (_, plan, _)) in enumerate(cases.items(), 1)])
    w.build()
    assert sorted(s["community_name"] for s in w.signals("INFLATED_SCALE")) == sorted(
        f"{n}小区" for n, (_, _, hit) in cases.items() if hit)
    ev = {s["community_name"]: s["evidence"] for s in w.signals("INFLATED_SCALE")}
    assert ev["楼栋四小区"].startswith("计划楼栋数 5 > 台账楼栋数 4(+25%)")
    assert ev["面积甲小区"].startswith("计划建筑面积 1700 ㎡ > 台账建筑面积 1500 ㎡(+13%)")


def test_inflated_cost_per_square_metre():
    # same cost per household (3 万元) everywhere; per m² 375, 375, 375, 375 元 and one of 1,200 元
    # (300 万元 on 2,500 m²) = 3.2 × the median 375 → flagged by the per-m² expectation alone
    w = Warehouse()
    names = ["甲", "乙", "丙", "丁", "戊"]
    w.ledger(KRL, [dict(name=f"{n}字小区", address=f"光明路{i}号", area_m2=2500.0 if n == "戊" else 8000.0)
                   for i, n in enumerate(names, 1)])
    w.plan(KRL, 2021, [dict(name=f"{n}字小区", address=f"光明路{i}号", categories="提升类",
                            area_m2=2500.0 if n == "戊" else 8000.0) for i, n in enumerate(names, 1)])
    w.build()
    assert [s["community_name"] for s in w.signals("INFLATED_COST")] == ["戊字小区"]
    (s,) = w.signals("INFLATED_COST")
    assert "每平方米 1200 元 = 中位数 375 元的 3.2 倍" in s["evidence"]
    hits = w.con.execute("select expectation, unexpected_count from marts.signal_suite_results where rule = 'INFLATED_COST'").fetchall()
    assert dict(hits) == {"expect_plan_cost_per_household_near_median": 0, "expect_plan_cost_per_area_near_median": 1}
