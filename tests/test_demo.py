"""The demo data set: deterministic, at the prefecture's scale, every rule planted, truth in format.

Files are read back here with python-calamine and csv, not with the project's reader, so that
these tests say something about the files themselves.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from demogen import generate
from demogen.render import ALIASES
from demogen.truth import HEADER, RULES, SEVERITY, compute_truth
from demogen.world import COUNTIES, build_world

SEED = 2021


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, seed=SEED)


# ---- a minimal reader for the tests: find the header row, read a few columns


def _norm(h) -> str:
    h = unicodedata.normalize("NFKC", str(h or ""))
    return re.sub(r"\s+", "", h)


def _strip_unit(h: str) -> str:
    return re.sub(r"\([^)]*\)$", "", h)


FIELD_OF = {}
for _field, _names in ALIASES.items():
    for _n in _names:
        FIELD_OF[_norm(_n)] = _field


def _field(h) -> str | None:
    h = _norm(h)
    return FIELD_OF.get(h) or FIELD_OF.get(_strip_unit(h))


def _sheets(path: Path) -> list[list[list]]:
    if path.suffix == ".csv":
        raw = path.read_bytes()
        text = raw[3:].decode("utf-8") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("gb18030")
        return [list(csv.reader(io.StringIO(text)))]
    wb = CalamineWorkbook.from_path(str(path))
    return [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]


def _table(path: Path) -> tuple[list[str | None], list[list]]:
    """(fields of the columns, data rows) of the first sheet with a header row."""
    for rows in _sheets(path):
        for i, row in enumerate(rows[:10]):
            fields = [_field(c) for c in row]
            if sum(f is not None for f in fields) >= 4:
                data = []
                for r in rows[i + 1:]:
                    first = next((str(c).strip() for c in r if str(c).strip()), "")
                    if not first or first.startswith(("合计", "总计", "小计", "填表人", "审核人", "联系电话", "注", "制表")):
                        continue
                    data.append(r)
                return fields, data
    raise AssertionError(f"no header row in {path}")


def _num(v) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    s = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "")
    s = re.sub(r"(万元|万|元)$", "", s)
    return float(s)


def _column(fields, rows, field) -> list:
    i = fields.index(field)
    return [r[i] if i < len(r) else "" for r in rows]


def _current(paths: list[Path], kind_dir: str) -> list[Path]:
    """Files of one kind, the resubmission in place of the file it replaces."""
    files = [p for p in paths if p.parent.name == kind_dir]
    resub = [p for p in files if "(重报)" in p.stem or "(更新)" in p.stem]
    replaced = set()
    for r in resub:
        base = r.stem.replace("(重报)", "").replace("(更新)", "")
        replaced |= {p for p in files if p.stem == base}
    return [p for p in files if p not in replaced]


# ---- determinism


def test_same_seed_gives_identical_bytes(demo, tmp_path):
    out, paths = demo
    again = generate(tmp_path / "again", seed=SEED)

    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    assert [p.relative_to(out) for p in paths] == [p.relative_to(tmp_path / "again") for p in again]
    assert digest(out) == digest(tmp_path / "again")


def test_another_seed_gives_other_names_figures_and_cases():
    a, b = build_world(SEED, "2025-10"), build_world(SEED + 1, "2025-10")
    names_a = {r.name for r in a.ledger.values()}
    names_b = {r.name for r in b.ledger.values()}
    assert names_a != names_b
    assert sorted(r.households for r in a.ledger.values()) != sorted(r.households for r in b.ledger.values())
    key = lambda r: (r["rule"], r["county"], r["plan_year"], r["period"], r["community_name"])  # noqa: E731
    ta, tb = {key(r) for r in compute_truth(a)}, {key(r) for r in compute_truth(b)}
    assert len(ta & tb) < len(ta) / 2


# ---- scale


def test_ledger_households_at_the_prefecture_scale(demo):
    out, paths = demo
    by_county: dict[str, int] = {}
    ledgers = _current(paths, "台账")
    assert len(ledgers) == 10  # one current ledger per reporting unit
    for p in ledgers:
        fields, rows = _table(p)
        county = p.parts[-3]
        years = [_num(x) for x in _column(fields, rows, "build_year")]
        hh = [_num(x) for x in _column(fields, rows, "households")]
        by_county[county] = int(sum(h for y, h in zip(years, hh) if y <= 2000))
    total = sum(by_county.values())
    assert 54_000 <= total <= 66_000, total  # about 60,000 households built up to 2000
    ranked = sorted(by_county, key=by_county.get, reverse=True)
    assert ranked[0] == "库尔勒市" and by_county["库尔勒市"] > 3 * by_county[ranked[1]]
    assert set(by_county) == set(COUNTIES)


@pytest.mark.parametrize("year, communities, households", [(2020, 156, 19_400), (2021, 192, 21_500)])
def test_plan_totals_match_the_implementation_plan(demo, year, communities, households):
    out, paths = demo
    plans = [p for p in _current(paths, "计划") if f"{year}年" in p.stem]
    assert len(plans) == 10
    n = hh = 0
    for p in plans:
        fields, rows = _table(p)
        assert {_num(y) for y in _column(fields, rows, "plan_year")} == {year}
        n += len(rows)
        hh += sum(_num(x) for x in _column(fields, rows, "households"))
    assert abs(n - communities) <= 0.03 * communities, n
    assert abs(hh - households) <= 0.03 * households, hh


def test_plan_files_carry_the_world_s_figures_in_their_units(demo):
    """Households, area and investment read back from every current plan (元 and 万平方米 headers
    converted) add up to the generator's own figures: no digits lost in any format."""
    out, paths = demo
    w = build_world(SEED, "2025-10")
    for p in _current(paths, "计划"):
        year = int(re.search(r"(20\d\d)年", p.stem).group(1))
        county = p.parts[-3]
        rows_w = [r for r in w.plans.values() if r.county == county and r.year == year]
        fields, rows = _table(p)
        headers = next(r for s in _sheets(p) for r in s[:10] if sum(_field(c) is not None for c in r) >= 4)
        for field, attr in (("households", "households"), ("area", "area"), ("total", "total")):
            i = fields.index(field)
            scale = 1e4 if "万平方米" in _norm(headers[i]) else 1e-4 if "(元)" in _norm(headers[i]) else 1
            got = sum(_num(r[i]) for r in rows) * scale
            want = sum(getattr(r, attr) for r in rows_w)
            assert got == pytest.approx(want, rel=1e-6, abs=0.01), (p.name, field)


def test_every_pre_2001_community_is_planned_by_2025():
    w = build_world(SEED, "2025-10")
    planned = {p.cid for p in w.plans.values()}
    targets = [r for r in w.ledger.values() if r.kind == "target"]
    assert all(r.cid in planned for r in targets)


def test_file_kinds_and_formats(demo):
    out, paths = demo
    kinds = {k: len([p for p in paths if p.parent.name == k or p.parent.parent.name == k]) for k in ("台账", "计划", "月报")}
    assert kinds["台账"] == 11 and kinds["计划"] == 61  # one ledger and one plan resubmitted
    assert kinds["月报"] >= 10 * 70 - 10
    suffixes = [p.suffix for p in paths]
    assert suffixes.count(".xlsx") > 0.9 * len(paths)
    assert ".xls" in suffixes and ".csv" in suffixes
    encodings = set()
    for p in paths:
        if p.suffix == ".csv":
            encodings.add("utf-8-sig" if p.read_bytes().startswith(b"\xef\xbb\xbf") else "gb18030")
    assert encodings == {"utf-8-sig", "gb18030"}


def test_every_file_has_a_header_row_and_data(demo):
    out, paths = demo
    for p in paths:
        fields, rows = _table(p)
        assert "name" in fields and "county" in fields and rows, p


def test_files_carry_the_documented_mess(demo):
    """Each kind of mess of input-formats.md appears somewhere in the set."""
    out, paths = demo
    seen = set()
    for p in paths:
        sheets = _sheets(p)
        fields, rows = _table(p)
        top = [str(c) for s in sheets[:2] for r in s[:5] for c in r]
        text = " ".join(str(c) for r in rows for c in r)
        checks = {
            "percent sign": "%" in text or "％" in text,
            "thousands separator": re.search(r"\d,\d{3}\.\d", text) is not None,
            "full-width digits": re.search("[０-９]", text) is not None,
            "unit suffix": re.search(r"\d万(\s|$)", text) is not None or any(str(c).endswith("万") for r in rows for c in r),
            "merged county": any(str(r[fields.index("county")]).strip() == "" for r in rows),
            "month in title": any(re.search(r"月报[(（]20\d\d年\d+月[)）]", c) for c in top),
            "fill date in title": any(re.match("填报日期[:：]", c) for c in top),
            "fill date column": "fill_date" in fields,
            "group header row": any(c in ("基本情况", "投资及资金情况") for c in top),
            "yuan header": any("(元)" in _norm(c) for c in top),
            "wan m2 header": any("万平方米" in c for c in top),
            "extra sheet": len(sheets) > 1,
            "totals row": any(str(next((c for c in r if str(c).strip()), "")).startswith(("合计", "总计"))
                              for s in sheets[:1] for r in s),
            "footer": any(c.startswith(("填表人", "联系电话")) for s in sheets[:1] for r in s[-4:] for c in map(str, r)),
            "text dates": any(re.fullmatch(r"20\d\d(年\d+月\d+日|\.\d+\.\d+|/\d+/\d+|\d{4})", str(c)) for r in rows for c in r),
        }
        seen |= {k for k, v in checks.items() if v}
        if p.parent.parent.name == "月报" and "report_month" not in fields and not any(re.search(r"20\d\d年\d+月", c) for c in top):
            seen.add("month only in file name")
        if p.parent.parent.name == "月报" and "fill_date" not in fields and not any(c.startswith("填报日期") for c in top):
            seen.add("no fill date")
        if p.suffix == ".xlsx" and b"<f>" in _xml(p):
            seen.add("formula")
    assert seen == {"percent sign", "thousands separator", "full-width digits", "unit suffix", "merged county",
                    "month in title", "fill date in title", "fill date column", "group header row", "yuan header",
                    "wan m2 header", "extra sheet", "totals row", "footer", "text dates", "month only in file name",
                    "no fill date", "formula"}


def _xml(p: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(p) as z:
        return b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


# ---- truth


def test_truth_format_and_every_rule(demo):
    out, _ = demo
    raw = (out / "truth.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))
    assert tuple(rows[0]) == HEADER
    body = [dict(zip(HEADER, r)) for r in rows[1:]]
    assert {r["rule"] for r in body} == set(RULES)
    for r in body:
        assert r["severity"] == SEVERITY[r["rule"]]
        assert r["county"] in COUNTIES
        monthly = r["rule"] not in ("DUP_CROSS_YEAR", "DUP_SAME_YEAR", "INFLATED_COST", "NOT_IN_LEDGER", "POST_2000",
                                    "NOTICE_SHORT") and not (r["rule"] == "INFLATED_SCALE" and not r["period"])
        assert bool(re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", r["period"])) == monthly, r
        county_level = r["rule"] in ("MISSING_REPORT", "LATE_REPORT", "TOTALS_MISMATCH")
        assert (r["community_name"] == "") == county_level and (r["plan_year"] == "") == county_level, r
        assert r["evidence"]
    counts = {rule: sum(r["rule"] == rule for r in body) for rule in RULES}
    assert all(n >= 5 for n in counts.values()), counts  # enough cases per rule to measure F1


def test_truth_names_are_written_in_the_flagged_files(demo):
    """A plan-level signal names a row as written in that county's plan of that year."""
    out, paths = demo
    raw = (out / "truth.csv").read_bytes()
    body = [dict(zip(HEADER, r)) for r in list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))[1:]]
    plans = _current(paths, "计划")
    names: dict[tuple[str, str], set[str]] = {}
    for p in plans:
        fields, rows = _table(p)
        year = re.search(r"(20\d\d)年", p.stem).group(1)
        names[(p.parts[-3], year)] = {str(x).strip() for x in _column(fields, rows, "name")}
    for r in body:
        if r["rule"] in ("DUP_CROSS_YEAR", "DUP_SAME_YEAR", "NOT_IN_LEDGER", "POST_2000", "NOTICE_SHORT", "INFLATED_COST"):
            assert r["community_name"] in names[(r["county"], r["plan_year"])], r


def test_clean_data_trips_no_rule_only_planted_cases_do():
    """With the default seed every signal of the truth is one that was planted on purpose."""
    w = build_world(SEED, "2025-10")
    planted = set(w.notes.values())
    for r in compute_truth(w):
        assert r["evidence"].split(";台账")[0] in planted, r


def test_near_misses_are_not_signals():
    """Rows planted just under a threshold stay out of the truth."""
    w = build_world(SEED, "2025-10")
    truth = compute_truth(w)
    flagged_plan = {(r["county"], r["plan_year"], r["community_name"]) for r in truth if not r["period"]}
    near = [p for p in w.plans.values() if p.role == "near"]
    assert len(near) >= 8
    assert not [p for p in near if (p.county, str(p.year), p.name) in flagged_plan]


def test_ledger_names_cannot_be_turned_into_each_other():
    """No two estates of a county differ only by 住宅 or by a (一期)-style suffix, except the
    planted look-alikes; otherwise a clerk's variant would be ambiguous even to a person."""
    w = build_world(SEED, "2025-10")
    for county in COUNTIES:
        keys = {}
        for r in w.ledger.values():
            if r.county != county or r.name in ("雪莲花园一期", "雪莲花园二期"):
                continue
            key = re.sub(r"(住宅)?小区$", "小区", r.name)
            assert key not in keys, (county, r.name, keys.get(key))
            keys[key] = r.name


def test_a_new_run_replaces_the_workbooks_of_an_earlier_one(tmp_path):
    from demogen import _remove_stale

    old = tmp_path / "轮台县" / "月报" / "2021" / "轮台县202105月报.xlsx"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"old")
    mine = tmp_path / "notes.txt"
    mine.write_text("kept")
    _remove_stale(tmp_path)
    assert not old.exists() and mine.exists()


def test_report_near_misses_are_not_signals():
    """Projects and months planted just under a threshold (exactly 80 points, 0.5 points down,
    two idle months, filled on the 5th, 0.3% off, revised within M+1 …) stay out of the truth."""
    w = build_world(SEED, "2025-10")
    truth = compute_truth(w)
    near = [k for k in w.notes if k[0] == "NEAR"]
    assert {k[1] for k in near} >= {"OVERDUE", "PROGRESS_JUMP", "FUNDS_IDLE", "PAID_EXCEEDS_WORK", "PROGRESS_REGRESSION",
                                     "INVEST_EXCEEDS_PLAN", "INFLATED_SCALE", "LATE_REPORT", "TOTALS_MISMATCH",
                                     "RETRO_REVISION"}
    from demogen.world import month_label

    for k in near:
        rule = k[1]
        if len(k) == 3:  # a project
            p = w.plans[k[2]]
            names = {r.name for r in w.states[p.pid].values()}
            hits = [r for r in truth if r["rule"] == rule and r["county"] == p.county
                    and r["plan_year"] == str(p.year) and r["community_name"] in names]
        else:  # a county and month
            hits = [r for r in truth if r["rule"] == rule and r["county"] == k[2] and r["period"] == month_label(k[3])]
        assert not hits, (k, hits)


def test_the_half_point_near_miss_is_exact_in_floats():
    """0.5 points down must read as exactly 0.5 whatever the float arithmetic of a rule engine."""
    w = build_world(SEED, "2025-10")
    for k in [k for k in w.notes if k[:2] == ("NEAR", "PROGRESS_REGRESSION")]:
        rows = [r for _, r in sorted(w.states[k[2]].items())]
        drops = [a.progress - b.progress for a, b in zip(rows, rows[1:]) if b.progress < a.progress]
        assert drops == [0.5]


@pytest.mark.parametrize("seed", [1, 7, 4242])
def test_any_seed_plants_every_rule_at_least_five_times(seed):
    """The signals benchmark uses an unseen seed: nothing may depend on the default one."""
    w = build_world(seed, "2025-10")
    truth = compute_truth(w)
    counts = {rule: sum(r["rule"] == rule for r in truth) for rule in RULES}
    assert min(counts.values()) >= 5, counts
    planted = set(w.notes.values())
    assert all(r["evidence"].split(";台账")[0] in planted for r in truth)


def test_an_earlier_last_month_gives_a_world_that_ends_there():
    from demogen.world import month_end, mi

    w = build_world(SEED, "2021-06")
    end = month_end(mi(2021, 6))
    assert max(f.month for f in w.report_files) == mi(2021, 6)
    assert all(f.fill_date <= end for f in w.plan_files + w.ledger_files)
    assert {p.year for p in w.plans.values()} == {2020, 2021}
    truth = compute_truth(w)
    assert all(r["period"] <= "2021-06" for r in truth)
