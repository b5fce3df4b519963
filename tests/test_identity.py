"""The one identity engine on hand-written pairs: every form of input-formats.md joins, with the
normalisation that made the names agree in its explanation; look-alikes of one work unit, phases,
direction words and two counties' namesakes stay apart, with the reason."""

from __future__ import annotations

import dataclasses
import random

import pytest

from pipelines.identity import compare_names, load_settings, parse_address, parse_name, plan_ledger, plan_plan
from pipelines.identity.links import plan_pairs
from pipelines.identity.normalise import arabic_numerals, to_simplified
from pipelines.identity.settings import vocabulary

S = load_settings()
KRL, LT, YQ, HJ = "652801", "652822", "652826", "652827"


def _row(name, address="人民路5号", year=1988, households=96, buildings=4, area=6700.0, county=KRL, pid="p", cid=None,
         ledger=None):
    return dict(plan_row_id=pid, community_id=cid, county_code=county, name=name, address=address, build_year=year,
                households=households, buildings=buildings, area_m2=area, ledger=ledger)


# --- the tools ---------------------------------------------------------------------------------

def test_opencc_converts_copied_traditional_text():
    assert to_simplified("光華小區") == "光华小区"
    assert to_simplified("團結北小區") == "团结北小区"


def test_chinese_and_capital_numerals_are_read_as_arabic():
    assert arabic_numerals("二中") == "2中" and arabic_numerals("贰号楼") == "2号楼"
    assert arabic_numerals("十二中") == "12中" and arabic_numerals("二十一号") == "21号"
    assert arabic_numerals("两河百货千禧万达") == "两河百货千禧万达"  # words, not numbers


def test_prefixes_are_stripped_for_comparison_but_kept_for_display():
    n = parse_name("且末县邮政局小区")
    assert (n.written, n.body) == ("且末县邮政局小区", "邮政局")


@pytest.mark.parametrize("entry", vocabulary().abbreviations, ids=lambda a: a.full)
def test_every_abbreviation_of_the_configuration_expands_to_its_full_name(entry):
    assert entry.source.strip()
    full = parse_name(entry.full.replace("{n}", "二") + "家属院").body
    for form in entry.forms:
        assert parse_name(form.replace("{n}", "二") + "家属院").body == full, form


# --- must join, each with the normalisation that made the names agree ----------------------------

JOIN = [
    # (plan, ledger, what the explanation says)
    ("光華小區", "光华小区", "名称:繁简一致「光華小區」=「光华小区」"),
    ("第２中学家属院", "第二中学家属院", "全角半角「第２中学家属院」=「第2中学家属院」"),
    ("幸福小区（１期）", "幸福小区", "全角半角「幸福小区（１期）」=「幸福小区(1期)」"),
    ("工行家属院", "工商银行家属院", "名称:缩写一致「工行」=「工商银行」"),
    ("中国农业银行宿舍", "农行宿舍", "缩写一致「中国农业银行」=「农业银行」"),
    ("二中家属院", "第二中学家属院", "缩写一致「2中」=「第2中学」"),
    ("一小住宅楼", "第一小学住宅楼", "缩写一致「1小」=「第1小学」"),
    ("塔指大院", "塔里木石油勘探开发指挥部大院", "缩写一致「塔指」=「塔里木石油勘探开发指挥部」"),
    ("贰中家属院", "二中家属院", "数字写法「贰」=「2」"),
    ("雪莲花园2期", "雪莲花园二期", "数字写法「二」=「2」"),
    ("巴州水利局家属院", "水利局家属院", "去掉州名「巴州」"),
    ("且末县邮政局小区", "邮政局小区", "去掉县市名「且末县」"),
    ("且末邮政局小区", "邮政局小区", "去掉县市名「且末」"),
    ("轮台镇水利局大院", "水利局大院", "去掉乡镇名「轮台镇」"),
    ("新城街道团结小区", "团结小区", "去掉街道名「新城街道」"),
    ("人民东路石化大院", "石化大院", "去掉路名「人民东路」"),
    ("幸福住宅小区", "幸福小区", "小区字样「住宅小区」=「小区」"),
    ("建设局大院小区", "建设局大院", "去掉「小区」"),
    ("（原）幸福小区", "幸福小区", "去掉「(原)」"),
    ("幸福小区(一期)", "幸福小区", "一方注明分期「(1期)」"),
    ("【原】幸福小区", "幸福小区", "括号写法「【原】幸福小区」=「(原)幸福小区」"),
    ("幸福 小区", "幸福小区", "去掉空格「幸福 小区」"),
    ("幸富小区", "幸福小区", "名称:同音「富」/「福」"),
    ("银河小区", "金河小区", "名称:错一字「银」/「金」"),
    ("共销社大院", "供销合作社大院", "同音「共」/「供」"),
    ("且末縣郵政局小區", "邮政局小区", "去掉县市名「且末县」"),
]


@pytest.mark.parametrize(("plan", "ledger", "why"), JOIN, ids=[j[0] for j in JOIN])
def test_every_form_of_a_name_joins_and_says_why(plan, ledger, why):
    cmp = plan_ledger(_row(plan), _row(ledger), S)
    assert cmp.is_match, cmp.explanation
    assert why in cmp.explanation, cmp.explanation
    assert "名称" in cmp.agreed


def test_several_forms_at_once_are_all_named():
    text = compare_names("且末縣郵政局小區", "邮政局小区", S).text
    assert "繁简一致「且末縣郵政局小區」=「且末县邮政局小区」" in text and "去掉县市名「且末县」" in text


def test_address_forms():
    assert parse_address("库尔勒市萨依巴格街道人民东路12号院").full == parse_address("人民東路１２号").full == "人民东路12号"
    assert parse_address("若羌镇南市区路12号").road == "南市区路"
    assert parse_address("人民东路12-16号").numbers == (12, 16)


# --- must not join: look-alikes, with the reason ---------------------------------------------

APART = [
    ("团结北小区", "团结小区", "名称:差方位/序号字「北」"),
    ("雪莲花园二期", "雪莲花园一期", "名称:分期不同(2期/1期)"),
    ("东苑小区", "西苑小区", "名称:方位/序号字不同「东」/「西」"),
    ("二建公司大院", "一建公司大院", "名称:方位/序号字不同「2」/「1」"),
    ("梨香花园", "梨香苑", "名称:同名不同类型「花园」/「苑」"),
    ("友谊小区", "和平小区", "名称:相似"),
]


@pytest.mark.parametrize(("plan", "ledger", "why"), APART, ids=[a[0] for a in APART])
def test_lookalike_names_stay_apart_and_say_why(plan, ledger, why):
    # the other community stands on the same road, a few numbers on, of another size and era
    cmp = plan_ledger(_row(plan), _row(ledger, address="人民路9号", year=1993, households=150, buildings=6, area=10000.0), S)
    assert not cmp.is_match
    assert why in cmp.explanation, cmp.explanation


# --- the work-unit line: both sides -------------------------------------------------------------

WUZI = dict(address="人民路5号", year=1988, households=96, buildings=4, area=6700.4)


def test_one_unit_s_estate_with_another_kind_word_but_all_else_equal_is_the_same_community():
    # same address (written 号院), build year, households, buildings; area within the rounding of the files
    plan = _row("物资局住宅楼", **{**WUZI, "address": "人民路5号院", "area": 6700.0})
    cmp = plan_ledger(plan, _row("物资局小区", **WUZI), S)
    assert cmp.is_match
    assert "名称:同名不同类型「住宅楼」/「小区」,其余一致(地址、建成年份、户数、楼栋数、建筑面积相同)" in cmp.explanation


@pytest.mark.parametrize(("change", "why"), [
    (dict(address="人民路30号"), "视为不同小区(地址不同或不详)"),                       # another address
    (dict(households=40, buildings=2, area=2800.0), "视为不同小区(户数、楼栋数、建筑面积不同或不详)"),  # another size
    (dict(year=1998), "视为不同小区(建成年份不同或不详)"),                                # another era
    (dict(address=None), "视为不同小区(地址不同或不详)"),                                # nothing to prove it
])
def test_one_unit_s_estates_that_differ_in_address_size_or_era_stay_apart(change, why):
    plan = _row("物资局住宅楼", **{**WUZI, **change})
    cmp = plan_ledger(plan, _row("物资局小区", **WUZI), S)
    assert not cmp.is_match
    assert "名称:同名不同类型「住宅楼」/「小区」" in cmp.explanation and why in cmp.explanation


def test_jianshe_bureau_yard_and_flats_on_one_road_stay_apart():
    # flags.md: one work unit's estates on the same road, the next number, the same years, clearly different size
    a = _row("建设局大院", address="建设路5号", year=1990, households=300, buildings=8, area=22000.0, pid="a")
    b = _row("建设局住宅楼", address="建设路6号", year=1990, households=90, buildings=3, area=6000.0, pid="b")
    cmp = plan_plan(a, b, S)
    assert not cmp.is_match and "视为不同小区(地址、户数、楼栋数、建筑面积不同或不详)" in cmp.explanation


def test_two_phases_listed_apart_by_the_ledger_stay_apart_even_when_written_alike():
    ledger = [dict(community_id="x1", county_code=KRL, name="雪莲花园一期", address="天山路1号", build_year=1999,
                   households=200, buildings=6, area_m2=15000.0),
              dict(community_id="x2", county_code=KRL, name="雪莲花园二期", address="天山路9号", build_year=2000,
                   households=150, buildings=5, area_m2=11000.0)]
    a = _row("雪蓮花園(一期)", address="天山路1号", year=1999, pid="a", cid="x1", ledger=ledger[0])
    b = _row("雪莲花园（２期）", address="天山路9号", year=2000, pid="b", cid="x2", ledger=ledger[1])
    cmp = plan_plan(a, b, S)
    assert not cmp.is_match and "名称:分期不同(1期/2期)" in cmp.explanation


# --- across counties: any two counties, on the evidence -------------------------------------------

def test_two_non_boundary_counties_planning_one_estate_are_a_duplicate():
    a = _row("农机公司家属院", address="北环路8号", county=HJ, pid="a")
    b = _row("和静县农机公司家属院", address="北环路8号院", households=99, county=YQ, pid="b")
    cmp = plan_plan(a, b, S)
    assert cmp.is_match, cmp.explanation
    assert cmp.explanation.startswith("跨县市,地址相符;名称:去掉县市名「和静县」")


@pytest.mark.parametrize(("change", "why"), [
    (dict(households=150, buildings=5), "跨县市且户数不符"),
    (dict(address="人民路9号"), "跨县市且地址不能证实"),
    (dict(address=None), "跨县市且地址不能证实"),
])
def test_two_counties_namesakes_stay_apart(change, why):
    a = _row("幸福小区", address="人民路5号", county=KRL, pid="a")
    b = _row("幸福小区", county=LT, pid="b", **{"address": "人民路5号", **change})
    cmp = plan_plan(a, b, S)
    assert not cmp.is_match and why in cmp.explanation


# --- configuration and scale ----------------------------------------------------------------------

def test_thresholds_come_from_the_configuration():
    assert plan_ledger(_row("银河小区"), _row("金河小区"), S).is_match  # a slip: 0.85 ≥ name_min
    stricter = dataclasses.replace(S, name_min=0.9)
    assert not plan_ledger(_row("银河小区"), _row("金河小区"), stricter).is_match
    slip_worth_more = dataclasses.replace(stricter, name_levels={**S.name_levels, "slip": 0.95})
    assert plan_ledger(_row("银河小区"), _row("金河小区"), slip_worth_more).is_match


def test_blocking_compares_far_fewer_pairs_than_all():
    rng = random.Random(5)
    stems = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 400))
    rows = [_row(rng.choice(stems) + rng.choice(stems) + rng.choice(("小区", "花园", "家属院")),
                 address=f"路{i}号", county=str(652801 + i % 9), pid=f"p{i}") for i in range(3000)]
    _, compared = plan_pairs(rows, S)
    assert compared < 0.005 * len(rows) * (len(rows) - 1) / 2


def test_a_report_goes_to_the_plan_entry_whose_investment_it_carries():
    # the same community twice in one year's plan (DUP_SAME_YEAR): the report written like the first
    # entry's name but carrying the second's 计划总投资 belongs to the second
    from pipelines.identity import report_plan

    first = dict(plan_row_id="p1", name="博斯腾花园", households=116, total_invest_wan_yuan=407.7)
    second = dict(plan_row_id="p2", name="(原)博斯腾花园", households=120, total_invest_wan_yuan=416.61)
    report = dict(name="博斯腾花园(一期)", households=125, total_invest_wan_yuan=407.7)
    a, b = report_plan(report, first, S), report_plan(report, second, S)
    assert a.is_match and b.is_match and a.score > b.score
    assert "总投资:407.7万元一致" in a.explanation and "总投资" in a.agreed
