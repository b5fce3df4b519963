"""The identity engine through the signals: names in clerks' forms are not phantoms, two counties that
are not the Korla / zone pair planning one estate is a duplicate claim, one work unit's estate with
another kind word but all else equal is in the ledger, and the explanation reaches the evidence and
the drill-down from the same link that decided the community."""

from __future__ import annotations

import pytest

from backends import env, persist
from signals_fixtures import KRL, Warehouse, YL

pytestmark = pytest.mark.warehouse

L = dict
YQ, HJ, RQ = "652826", "652827", "652824"


@pytest.fixture(scope="module")
def w() -> Warehouse:
    w = Warehouse()
    w.ledger(KRL, [
        L(name="工商银行家属院", address="人民路8号", build_year=1990, buildings=4, households=100, area_m2=8000.0),
        L(name="物资局家属院", address="人民路5号", build_year=1988, buildings=4, households=96, area_m2=6700.4),
        L(name="光华小区", address="文化路3号", build_year=1992, buildings=5, households=120, area_m2=9000.0),
        L(name="第二中学住宅楼", address="育才路2号", build_year=1994, buildings=3, households=60, area_m2=4500.0),
    ])
    w.ledger(HJ, [L(name="农机公司家属院", address="北环路8号", build_year=1989, buildings=5, households=120, area_m2=9000.0)])
    w.ledger(YQ, [L(name="农机公司家属院", address="北环路8号", build_year=1989, buildings=5, households=118, area_m2=8950.0)])
    w.ledger(YL, [L(name="粮食局大院", address="团结路3号", build_year=1985, buildings=6, households=150, area_m2=11000.0)])
    w.ledger(RQ, [L(name="粮食局大院", address="团结路3号", build_year=1985, buildings=6, households=152, area_m2=11100.0)])
    w.plan(KRL, 2021, [L(name="光华小区", address="文化路3号", build_year=1992, buildings=5, households=120, area_m2=9000.0)])
    w.plan(KRL, 2022, [
        # an abbreviation, and 40% more households than the ledger: INFLATED_SCALE, not NOT_IN_LEDGER
        L(name="工行家属院", address="人民路8号", build_year=1990, buildings=4, households=140, area_m2=8000.0),
        # the work unit's estate with another kind word, all else equal: in the ledger
        L(name="物资局住宅楼", address="人民路5号院", build_year=1988, buildings=4, households=96, area_m2=6700.0),
        # … another estate of the unit elsewhere, smaller and newer: not in the ledger
        L(name="物资局小区", address="人民路30号", build_year=1996, buildings=2, households=40, area_m2=2800.0),
        L(name="库尔勒市二中住宅楼", address="育才路2号", build_year=1994, buildings=3, households=60, area_m2=4500.0),
    ])
    # pasted from a traditional-character source the year after: the same community again
    w.plan(KRL, 2023, [L(name="光華小區", address="文化路３号", build_year=1991, buildings=5, households=124, area_m2=9100.0)])
    # two counties that are not the Korla / zone pair both plan one estate: the same year, and a later one
    w.plan(HJ, 2022, [L(name="农机公司家属院", address="北环路8号", build_year=1989, buildings=5, households=120,
                       area_m2=9000.0)], fill_date="2021-10-10")
    w.plan(YQ, 2022, [L(name="焉耆县农机公司家属院", address="北环路8号院", build_year=1989, buildings=5, households=118,
                       area_m2=8950.0)], fill_date="2021-10-20")
    w.plan(YL, 2022, [L(name="粮食局大院", address="团结路3号", build_year=1985, buildings=6, households=150, area_m2=11000.0)])
    w.plan(RQ, 2024, [L(name="粮食局大院小区", address=None, build_year=1986, buildings=6, households=152, area_m2=11100.0)])
    w.build()
    return w


def _flagged(w: Warehouse, rule: str) -> list[tuple]:
    return sorted((s["county_code"], s["plan_year"], s["community_name"]) for s in w.signals(rule))


def _evidence(w: Warehouse, rule: str, name: str) -> str:
    return next(s["evidence"] for s in w.signals(rule) if s["community_name"] == name)


def test_names_in_clerks_forms_are_not_phantoms(w):
    assert _flagged(w, "NOT_IN_LEDGER") == [(KRL, 2022, "物资局小区")]
    assert "名称:同名不同类型「小区」/「家属院」;视为不同小区" in _evidence(w, "NOT_IN_LEDGER", "物资局小区")


def test_the_kind_word_does_not_override_agreement_on_everything_else(w):
    link = w.con.execute(
        "select l.is_match, l.explanation, c.name from core.identity_links l join core.plan_rows p on p.plan_row_id = l.from_id "
        "left join core.ledger_communities c on c.community_id = l.to_id where l.kind = 'plan_ledger' and p.name = '物资局住宅楼'"
    ).fetchone()
    assert link[0] and link[2] == "物资局家属院"
    assert "其余一致(地址、建成年份、户数、楼栋数、建筑面积相同)" in link[1]


def test_two_counties_other_than_korla_and_the_zone_are_a_duplicate_claim(w):
    assert _flagged(w, "DUP_SAME_YEAR") == [(YQ, 2022, "焉耆县农机公司家属院")]
    assert (RQ, 2024, "粮食局大院小区") in _flagged(w, "DUP_CROSS_YEAR")
    ev = _evidence(w, "DUP_SAME_YEAR", "焉耆县农机公司家属院")
    assert "识别依据:跨县市,地址相符" in ev


def test_the_explanation_of_the_names_reaches_the_evidence(w):
    assert "匹配依据:名称:缩写一致「工行」=「工商银行」" in _evidence(w, "INFLATED_SCALE", "工行家属院")
    assert _flagged(w, "DUP_CROSS_YEAR") == sorted([(KRL, 2023, "光華小區"), (RQ, 2024, "粮食局大院小区")])
    assert "识别依据:同一台账小区;名称:繁简一致「光華小區」=「光华小区」" in _evidence(w, "DUP_CROSS_YEAR", "光華小區")


def test_the_drill_down_takes_community_and_explanation_from_one_link(w, tmp_path, monkeypatch):
    from pipelines.access.scope import Scope
    from pipelines.read import audit, connection

    for name, value in env(persist(w.con, tmp_path)).items():
        monkeypatch.setenv(name, value)
    connection.clear_caches()
    sid = next(s["signal_id"] for s in w.signals("INFLATED_SCALE") if s["community_name"] == "工行家属院")
    d = audit.signal_detail(Scope("auditor"), sid)
    plan = d["plan"].row(0, named=True)
    ledger = d["ledger"].filter(d["ledger"]["community_id"] == plan["community_id"]).row(0, named=True)
    assert ledger["name"] == "工商银行家属院"
    assert plan["link_fields"].startswith("名称:缩写一致「工行」=「工商银行」")
    assert plan["link_fields"] in d["signal"]["evidence"]
    connection.clear_caches()
