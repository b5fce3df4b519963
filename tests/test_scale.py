"""`renovation demo --scale N`: generated prefectures with their own county names and codes, known
to the warehouse they are loaded into and not to the configuration."""

from __future__ import annotations

import csv

import pytest

from backends import new_location, open_db
from conftest import TODAY
from demogen import scale
from demogen.world import COUNTIES
from pipelines import counties
from pipelines.ingest import ingest_paths
from pipelines.reading.files import read_file
from pipelines.reading.staging import stage
from pipelines.warehouse import add_units, connect, transaction

pytestmark = pytest.mark.warehouse


def test_units_are_distinct_across_copies_and_unlike_the_real_ones():
    units = [u for k in range(2, 302) for u in scale.units_for(k)]  # national size: 300 generated prefectures
    real = [t for c in counties.load_counties() for t in (c.code, c.name, *c.aliases)]
    assert len({u.code for u in units}) == len({u.name for u in units}) == len(units) == 3000
    for u in units:
        assert len(u.code) == 6 and u.code.startswith("9")
        assert not any(u.name in t or t in u.name for t in real)
        # the resolver finds a name inside a longer text when only one name fits: no name of another
        # unit may hide inside this one
        assert u.aliases[0] == u.name[:2]
    stems = [u.name[:2] for u in units]
    assert len(set(stems)) == len(stems)
    assert {u.stands_for for u in scale.units_for(7)} == set(COUNTIES)


@pytest.fixture(scope="module")
def copy2(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale") / "州002"
    return root, scale._copy(root, 2, 2021, "2025-10"), scale.units_for(2)


def test_a_generated_prefecture_names_only_its_own_units(copy2):
    root, paths, units = copy2
    names = {u.name for u in units}
    rows = list(csv.DictReader((root / "truth.csv").open(encoding="utf-8-sig")))
    assert rows and {r["county"] for r in rows} <= names
    assert {p.relative_to(root).parts[0] for p in paths} == names
    texts = "".join(p.name for p in paths)
    assert not any(c in texts for c in COUNTIES)  # no file of the copy names a demo unit


def test_generated_units_resolve_once_the_warehouse_holds_them(copy2, tmp_path):
    root, paths, units = copy2
    monthly = next(p for p in sorted(paths) if "月报" in str(p) and p.suffix == ".xlsx")
    counties.use_units([])
    assert stage(read_file(monthly), monthly.name).county_code is None  # the configuration alone: unknown
    loc = new_location(tmp_path)
    con = connect(loc)
    with transaction(con):
        assert add_units(con, [(u.code, u.name, u.aliases, u.seat_lat, u.seat_lon) for u in units]) == 10
        assert add_units(con, [(u.code, u.name, u.aliases, u.seat_lat, u.seat_lon) for u in units]) == 0
    con.close()
    ledger = next(p for p in paths if "台账" in str(p))
    unit_dir = ledger.relative_to(root).parts[0]
    plan = next(p for p in sorted(paths) if "计划" in str(p) and p.relative_to(root).parts[0] == unit_dir)
    results = ingest_paths([ledger, plan], db_path=loc, today=TODAY)
    assert [r.status for r in results] == ["accepted", "accepted"], [r.messages for r in results]
    unit = next(u for u in units if u.name == unit_dir)
    assert {r.county for r in results} == {unit.name}
    con = open_db(loc)
    try:
        assert con.execute("select distinct county_code from core.plan_rows").fetchall() == [(unit.code,)]
        assert con.execute("select count(*) from staging.counties").fetchone()[0] == 20
        # the configuration is untouched: counties.csv still lists the real prefecture only
        assert len(counties.load_counties()) == 10
    finally:
        con.close()
    counties.use_units([])
