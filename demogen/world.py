"""The demo world: the true state of the prefecture's old communities, plans and projects.

``build_world`` draws ledgers, annual plans and monthly project states from one seed, then
plants irregularities (see ``flags.md``) and near misses on purpose. Every planted case is
kept in ``World.notes`` so that the truth file can say what was planted; the truth itself is
computed from this model by :mod:`demogen.truth`, with the true identity of every row
at hand (no entity resolution needed).

What is planted (default last month 2025-10; counts hold for any seed):

- plans: DUP_CROSS_YEAR (5 in a county, 2 through the ledger's 已改造年度, 1 Korla → zone),
  DUP_SAME_YEAR (5 in one file, 1 Korla + zone), INFLATED_SCALE (7: households, buildings,
  area), INFLATED_COST (6 at 4–5× the median), NOT_IN_LEDGER (6 invented), POST_2000 (5),
  NOTICE_SHORT (4 short, 2 without notice); one plan and one ledger resubmitted;
- reports: FUNDS_IDLE, PAID_EXCEEDS_WORK, PROGRESS_REGRESSION, PROGRESS_JUMP,
  INVEST_EXCEEDS_PLAN, INFLATED_SCALE (5 each), OVERDUE (8, one hidden by a missing November
  report), MISSING_REPORT (6), LATE_REPORT (6), TOTALS_MISMATCH (6), RETRO_REVISION (3 late
  resubmissions changing 2–3 rows each);
- near misses that must stay silent: +9% / +4 households, 2.5–2.7× cost, exactly 14 working
  days, exactly 80 points, exactly 0.5 points down, two idle months, paid = work + 25%, 108%
  investment, finished on 30 November, filled on the 5th, a 合计 0.3% off, a superseded file with
  a wrong 合计, a resubmission within M+1 with changes, a late one without; and look-alikes
  (团结小区 / 团结北小区, 雪莲花园一期 / 二期 in one year, 建设局大院 / 建设局住宅楼, 幸福小区 in two
  counties in one year, the boundary estate planned by Korla only).

Nothing here writes files; :mod:`demogen.render` turns the world into workbooks.
"""

from __future__ import annotations

import copy
from difflib import SequenceMatcher
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from demogen import names as nm

COUNTIES = (
    "库尔勒市", "轮台县", "尉犁县", "若羌县", "且末县", "焉耆回族自治县", "和静县", "和硕县", "博湖县",
    "库尔勒经济技术开发区",
)
CODES = dict(zip(COUNTIES, ("652801", "652822", "652823", "652824", "652825", "652826", "652827", "652828", "652829", "652871")))
KORLA, ZONE = "库尔勒市", "库尔勒经济技术开发区"

# Households in communities built up to 2000 that are still to renovate, per unit (≈ 59,600),
# and the mean community size: Korla holds nearly half the old stock.
TARGET_HH = {
    "库尔勒市": 28000, "轮台县": 5200, "尉犁县": 3600, "若羌县": 1500, "且末县": 1700,
    "焉耆回族自治县": 5800, "和静县": 5900, "和硕县": 3300, "博湖县": 3000, "库尔勒经济技术开发区": 1600,
}
MEAN_HH = {
    "库尔勒市": 125, "轮台县": 85, "尉犁县": 85, "若羌县": 60, "且末县": 60, "焉耆回族自治县": 85,
    "和静县": 85, "和硕县": 85, "博湖县": 85, "库尔勒经济技术开发区": 90,
}
# Spec README: 2020 156 communities / 19,400 households; 2021 192 / 21,500.
PLAN_TARGETS = {2020: (156, 19400), 2021: (192, 21500)}
LATER_YEAR_WEIGHTS = {2022: 0.31, 2023: 0.27, 2024: 0.23, 2025: 0.19}
YEARS = (2020, 2021, 2022, 2023, 2024, 2025)
CATEGORY_SETS = (("基础类",), ("基础类", "完善类"), ("基础类", "完善类", "提升类"))
COST_PER_HH = {1: (2.0, 3.3), 2: (2.6, 4.2), 3: (3.3, 5.0)}  # 万元 per household, by set size


def mi(year: int, month: int) -> int:
    """Month index: 0 is 2020-01."""
    return (year - 2020) * 12 + month - 1


def ym(idx: int) -> tuple[int, int]:
    return 2020 + idx // 12, idx % 12 + 1


def month_label(idx: int) -> str:
    y, m = ym(idx)
    return f"{y}-{m:02d}"


def month_end(idx: int) -> date:
    y, m = ym(idx + 1)
    return date(y, m, 1) - timedelta(days=1)


def weekdays(start: date, end: date) -> int:
    """Mon–Fri days from start to end inclusive."""
    n, d = 0, start
    while d <= end:
        n += d.weekday() < 5
        d += timedelta(days=1)
    return n


def start_for_weekdays(end: date, k: int) -> date:
    """The start date such that weekdays(start, end) == k (end is a weekday)."""
    d, n = end, 0
    while True:
        if d.weekday() < 5:
            n += 1
            if n == k:
                return d
        d -= timedelta(days=1)


@dataclass
class LedgerRow:
    cid: int
    eid: int
    county: str
    street: str
    community: str
    name: str
    road: str
    number: int
    address: str
    build_year: int
    buildings: int
    households: int
    area: float
    owner: str
    landmark: str
    has_pm: bool | None
    pct_elderly: float | None
    pct_willing: float | None
    renovated_year: int | None = None
    kind: str = "target"  # target | post2000 | renovated | boundary | shared
    canonical: str = ""  # the estate's name; ``name`` is how the ledger writes it (a clerk's form)


@dataclass
class LedgerFile:
    county: str
    fill_date: date
    rows: list[LedgerRow]
    version: int = 1


@dataclass
class PlanRow:
    pid: int
    county: str
    year: int
    cid: int | None  # the ledger row of its county it truly is, None when invented
    eid: int  # the real community (shared by both boundary ledgers); invented rows get their own
    street: str
    community: str
    name: str
    address: str
    build_year: int
    buildings: int
    households: int
    area: float
    categories: tuple[str, ...]
    content: str
    total: float
    central: float
    region: float
    local: float
    resident: float
    social: float
    utility: float
    elevators: int
    planned_start: date
    planned_end: date
    notice_start: date | None
    notice_end: date | None
    notice_days_given: int | None
    code: str
    role: str = "clean"  # what was planted on it, for the choice of later plantings


@dataclass
class PlanFile:
    county: str
    year: int
    fill_date: date
    rows: list[PlanRow]
    version: int = 1


@dataclass
class ReportRow:
    pid: int
    plan_year: int
    code: str
    name: str
    households: int
    total: float
    central: float
    region: float
    start_date: date | None
    progress: float
    done: float
    paid: float
    finish_date: date | None
    accept_date: date | None
    satisfaction: float | None
    has_pm: bool | None
    elevators: int
    remark: str

    def values(self) -> tuple:
        return (self.plan_year, self.code, self.name, self.households, self.total, self.central, self.region,
                self.start_date, self.progress, self.done, self.paid, self.finish_date, self.accept_date,
                self.satisfaction, self.has_pm, self.elevators, self.remark)


@dataclass
class ReportFile:
    county: str
    month: int
    fill_date: date | None
    rows: list[ReportRow]
    version: int = 1
    totals_error: tuple[str, float] | None = None  # (field, relative error) of a wrong 合计 row
    force_totals: bool = False


@dataclass
class World:
    seed: int
    last_month: int
    ledger_files: list[LedgerFile]
    plan_files: list[PlanFile]
    report_files: list[ReportFile]
    ledger: dict[int, LedgerRow]  # current ledger rows by cid
    plans: dict[int, PlanRow]  # current plan rows by pid
    states: dict[int, dict[int, ReportRow]]  # current report row of a project, by month
    notes: dict[tuple, str] = field(default_factory=dict)  # (rule, key...) -> what was planted


# --------------------------------------------------------------------------------------------
# Ledger


def _build_year(rng: random.Random) -> int:
    if rng.random() < 0.06:
        return rng.randint(1965, 1974)
    return max(1975, min(2000, round(rng.gauss(1991, 6.5))))


def _sizes(rng: random.Random, n: int, total: int) -> list[int]:
    raw = [math.exp(rng.gauss(0, 0.6)) for _ in range(n)]
    s = sum(raw)
    out = [max(16, min(900, round(r / s * total))) for r in raw]
    diff = total - sum(out)
    order = sorted(range(n), key=lambda i: -out[i])
    i = 0
    while diff:
        step = 1 if diff > 0 else -1
        j = order[i % n]
        if out[j] + step >= 16:
            out[j] += step
            diff -= step
        i += 1
    return out


class _Namer:
    """Unique community names and addresses within a county.

    A county never holds two estates a clerk's variant could turn into each other: one estate per
    work unit, and one per stem and kind (X小区 / X住宅小区 are one kind; X花园, X新村 are others).
    """

    def __init__(self, rng: random.Random, county: str):
        self.rng, self.county = rng, county
        self.names: set[str] = set()
        self.keys: set[tuple[str, str]] = set()
        self.addresses: set[tuple[str, int]] = set()
        self.roads = rng.sample(nm.ROADS, k=min(len(nm.ROADS), 14 if county == KORLA else 6))

    def reserve(self, name: str, key: tuple[str, str] | None = None) -> None:
        self.names.add(name)
        if key:
            self.keys.add(key)

    def address(self, road: str | None = None) -> tuple[str, int]:
        while True:
            r = road or self.rng.choice(self.roads)
            n = self.rng.randint(1, 220)
            if (r, n) not in self.addresses and (r, n + 1) not in self.addresses and (r, n - 1) not in self.addresses:
                self.addresses.add((r, n))
                return r, n

    def name(self, modern: bool = False, also: _Namer | None = None) -> tuple[str, str, str]:
        """(name, owner, landmark); with ``also``, a name free in that county too (boundary estates)."""
        rng = self.rng
        for _ in range(2000):
            if not modern and rng.random() < 0.5:
                unit = rng.choice(nm.UNITS)
                name = unit + rng.choice(nm.UNIT_SUFFIXES)
                key = (unit, "unit")
                owner, landmark = unit, unit + "大院"
            else:
                stem = rng.choice(nm.STEMS)
                suffix = rng.choice(("花园", "家园", "苑", "小区", "公寓")) if modern else rng.choice(nm.NAMED_SUFFIXES)
                if suffix == "苑" and stem.endswith("苑"):
                    continue
                name = stem + suffix
                key = (stem, "小区" if suffix.endswith("小区") else suffix)
                owner, landmark = ("" if modern or rng.random() < 0.5 else "房产管理所"), ""
            others = [self] + ([also] if also else [])
            if all(name not in o.names and key not in o.keys for o in others):
                for o in others:
                    o.names.add(name)
                    o.keys.add(key)
                return name, owner, landmark
        raise RuntimeError("name space exhausted")


def _ledger_row(rng, cid, county, namer, street, community, households, *, name=None, owner="", landmark="",
                road=None, number=None, build_year=None, kind="target", modern=False) -> LedgerRow:
    if name is None:
        name, owner, landmark = namer.name(modern)
    if road is None:
        road, number = namer.address()
    hpb = rng.uniform(10, 30) if owner and not modern else rng.uniform(16, 40)
    return LedgerRow(
        cid=cid, eid=cid, county=county, street=street, community=community, name=name, road=road, number=number,
        address=nm.address(road, number), build_year=build_year or _build_year(rng),
        buildings=max(1, round(households / hpb)), households=households,
        area=round(households * rng.uniform(60, 90), 1 if rng.random() < 0.6 else 0),
        owner=owner, landmark=landmark, has_pm=rng.random() < 0.3 if rng.random() < 0.9 else None,
        pct_elderly=round(rng.uniform(12, 45), 1) if rng.random() < 0.8 else None,
        pct_willing=round(rng.uniform(72, 99), 1) if rng.random() < 0.8 else None, kind=kind,
    )


def build_ledgers(rng: random.Random) -> dict[str, list[LedgerRow]]:
    ledgers: dict[str, list[LedgerRow]] = {}
    cid = 0
    namers = {c: _Namer(rng, c) for c in COUNTIES}
    big = [KORLA, "轮台县", "焉耆回族自治县", "和静县"]
    # The look-alikes of flags.md, placed in counties drawn from the seed.
    tuanjie_c, jianshe_c, xuelian_c = rng.choice(big), rng.choice(big), rng.choice(big)
    xingfu_cs = rng.sample([c for c in COUNTIES if c != ZONE], 2)
    for c in COUNTIES:
        for reserved, key in (("团结小区", ("团结", "小区")), ("团结北小区", ("团结北", "小区")), ("建设局大院", None),
                              ("建设局住宅楼", None), ("雪莲花园一期", ("雪莲", "花园")), ("雪莲花园二期", None),
                              ("幸福小区", ("幸福", "小区"))):
            namers[c].reserve(reserved, key)
    for county in COUNTIES:
        rows: list[LedgerRow] = []
        namer = namers[county]
        streets = nm.STREETS[county]
        comms = {s: rng.sample(nm.COMMUNITY_STEMS, k=3 if county == KORLA else 2) for s in streets}
        n = round(TARGET_HH[county] / MEAN_HH[county])
        sizes = _sizes(rng, n, TARGET_HH[county])
        specials: list[dict] = []
        if county == tuanjie_c:
            road, num = namer.address()
            namer.addresses.update({(road, num + 2)})
            specials += [dict(name="团结小区", road=road, number=num), dict(name="团结北小区", road=road, number=num + 2)]
        if county == jianshe_c:
            road, num = namer.address()
            namer.addresses.add((road, num + 1))
            year = _build_year(rng)
            specials += [dict(name="建设局大院", owner="建设局", landmark="建设局大院", road=road, number=num, build_year=year, big=True),
                         dict(name="建设局住宅楼", owner="建设局", landmark="建设局大院", road=road,
                              number=num + rng.choice((0, 1)), build_year=year, big=False)]
        if county == xuelian_c:
            r1, n1 = namer.address()
            r2, n2 = namer.address()
            specials += [dict(name="雪莲花园一期", road=r1, number=n1), dict(name="雪莲花园二期", road=r2, number=n2)]
        if county in xingfu_cs:
            r1, n1 = namer.address()
            specials.append(dict(name="幸福小区", road=r1, number=n1))
        # give the specials their sizes; 建设局大院 clearly larger than 建设局住宅楼
        order = sorted(range(n), key=lambda i: sizes[i])
        for sp in specials:
            if sp.get("big") is True:
                sp["households"] = sizes[order[-(len(specials) + 2)]]
            elif sp.get("big") is False:
                sp["households"] = sizes[order[len(specials) + 2]]
        used = {sp["households"] for sp in specials if "households" in sp}
        pool = [s for s in sizes]
        for u in used:
            pool.remove(u)
        rng.shuffle(pool)
        for sp in specials:
            if "households" not in sp:
                sp["households"] = pool.pop()
        for sp in specials:
            street = rng.choice(streets)
            cid += 1
            rows.append(_ledger_row(rng, cid, county, namer, street, rng.choice(comms[street]) + "社区", sp["households"],
                                    name=sp["name"], owner=sp.get("owner", ""), landmark=sp.get("landmark", ""),
                                    road=sp["road"], number=sp["number"], build_year=sp.get("build_year")))
        for h in pool:
            street = rng.choice(streets)
            cid += 1
            rows.append(_ledger_row(rng, cid, county, namer, street, rng.choice(comms[street]) + "社区", h))
        # communities already renovated before the programme (已改造年度), not targets
        for _ in range(3 if county == KORLA else 1):
            street = rng.choice(streets)
            cid += 1
            r = _ledger_row(rng, cid, county, namer, street, rng.choice(comms[street]) + "社区",
                            rng.randint(40, 260), kind="renovated")
            r.renovated_year = rng.randint(2016, 2019)
            rows.append(r)
        # communities built after 2000: in the ledger, not targets
        for _ in range(rng.randint(6, 10) if county == KORLA else rng.randint(2, 5)):
            street = rng.choice(streets)
            cid += 1
            rows.append(_ledger_row(rng, cid, county, namer, street, rng.choice(comms[street]) + "社区",
                                    rng.randint(60, 420), build_year=rng.randint(2001, 2012), kind="post2000", modern=True))
        ledgers[county] = rows
    # estates on the Korla / development-zone boundary, listed by both
    for _ in range(3):
        street = rng.choice(nm.STREETS[KORLA])
        cid += 1
        h = rng.randint(120, 380)
        name, owner, landmark = namers[KORLA].name(also=namers[ZONE])
        a = _ledger_row(rng, cid, KORLA, namers[KORLA], street, rng.choice(nm.COMMUNITY_STEMS) + "社区", h, name=name,
                        owner=owner, landmark=landmark, kind="boundary")
        cid += 1
        b = copy.copy(a)
        b.cid, b.county = cid, ZONE
        b.street, b.community = nm.STREETS[ZONE][0], rng.choice(nm.COMMUNITY_STEMS) + "社区"
        b.households = a.households + rng.randint(-4, 4)
        b.area = round(a.area * rng.uniform(0.98, 1.02), 1)
        ledgers[KORLA].append(a)
        ledgers[ZONE].append(b)
    # estates between two other counties, listed by both (a duplicate claim across any two counties,
    # not only Korla / the zone): the first planned by both in one year, the second a later year
    others = [c for c in COUNTIES if c not in (KORLA, ZONE)]
    for _ in range(2):
        ca, cb = rng.sample(others, 2)
        street = rng.choice(nm.STREETS[ca])
        cid += 1
        name, owner, landmark = namers[ca].name(also=namers[cb])
        a = _ledger_row(rng, cid, ca, namers[ca], street, rng.choice(nm.COMMUNITY_STEMS) + "社区", rng.randint(80, 300),
                        name=name, owner=owner, landmark=landmark, kind="shared")
        cid += 1
        b = copy.copy(a)
        b.cid, b.county, b.street = cid, cb, rng.choice(nm.STREETS[cb])
        b.households = a.households + rng.randint(-4, 4)
        b.area = round(a.area * rng.uniform(0.98, 1.02), 1)
        ledgers[ca].append(a)
        ledgers[cb].append(b)
    # ledgers write some of their estates the way clerks do (county or town in front, a unit
    # abbreviated, traditional or full-width characters); the look-alikes keep their names
    specials = {"团结小区", "团结北小区", "建设局大院", "建设局住宅楼", "雪莲花园一期", "雪莲花园二期", "幸福小区"}
    for county in COUNTIES:
        for r in ledgers[county]:
            r.canonical = r.name
            if r.name not in specials and rng.random() < 0.12:
                r.name = nm.ledger_form(r.name, rng, county, r.street if r.street.endswith("镇") else "")
    for county in COUNTIES:
        ledgers[county].sort(key=lambda r: (nm.STREETS[county].index(r.street) if r.street in nm.STREETS[county] else 0, r.community, r.cid))
    return ledgers


# --------------------------------------------------------------------------------------------
# Plan years


def _pick(rng: random.Random, pool: list[LedgerRow], k: int, target: int) -> list[LedgerRow]:
    """k rows of pool whose households sum close to target (random start, improving swaps)."""
    k = max(0, min(k, len(pool)))
    idx = list(range(len(pool)))
    rng.shuffle(idx)
    inside, outside = idx[:k], idx[k:]
    total = sum(pool[i].households for i in inside)
    for _ in range(400):
        diff = target - total
        if abs(diff) <= max(5, target * 0.002) or not inside or not outside:
            break
        a = rng.randrange(len(inside))
        ha = pool[inside[a]].households
        best = min(range(len(outside)), key=lambda j: abs(diff - (pool[outside[j]].households - ha)))
        hb = pool[outside[best]].households
        if abs(diff - (hb - ha)) < abs(diff):
            inside[a], outside[best] = outside[best], inside[a]
            total += hb - ha
    return [pool[i] for i in inside]


def assign_years(rng: random.Random, ledgers: dict[str, list[LedgerRow]]) -> dict[int, int]:
    """Plan year of every target community (cid -> year); boundary estates go to Korla's copy."""
    years: dict[int, int] = {}
    boundary = [r for r in ledgers[KORLA] if r.kind == "boundary"]
    # roles: [0] planned by Korla only, [1] planned again by the zone a later year, [2] by both the same year
    years[boundary[0].cid] = rng.choice(YEARS)
    years[boundary[1].cid] = rng.choice((2020, 2021, 2022, 2023))
    years[boundary[2].cid] = rng.choice((2021, 2022, 2023, 2024, 2025))
    # estates of two other counties' ledgers: the first county plans them (2022+, so that the 2020/2021
    # totals stay those of the spec); the second plans the first the same year, the second later
    shared = [r for c in COUNTIES for r in ledgers[c] if r.kind == "shared" and r.eid == r.cid]
    years[shared[0].cid] = rng.randint(2022, 2025)
    years[shared[1].cid] = rng.randint(2022, 2024)
    # look-alikes that are different communities, planned so that only true identity separates
    # them: the pairs of one county in the same year (建设局's estates in consecutive years), the
    # two 幸福小区 of two counties in the same year
    named = {(r.county, r.name): r for c in COUNTIES for r in ledgers[c] if r.kind == "target"}
    for a, b, gap in (("团结小区", "团结北小区", 0), ("雪莲花园一期", "雪莲花园二期", 0), ("建设局大院", "建设局住宅楼", 1)):
        for c in COUNTIES:
            if (c, a) in named and (c, b) in named:
                y = rng.randint(2022, 2025 - gap)
                years[named[(c, a)].cid], years[named[(c, b)].cid] = y, y + gap
    xingfu = [r for (c, n), r in named.items() if n == "幸福小区"]
    y = rng.randint(2022, 2025)
    for r in xingfu:
        years[r.cid] = y
    pool_by_county = {c: [r for r in ledgers[c] if r.kind == "target" and r.cid not in years] for c in COUNTIES}
    for c in COUNTIES:  # each unit has work in every year
        rng.shuffle(pool_by_county[c])
        for y in YEARS:
            years[pool_by_county[c].pop().cid] = y
    pool = [r for c in COUNTIES for r in pool_by_county[c]]
    for y in (2020, 2021):
        count, hh = PLAN_TARGETS[y]
        fixed = [cid for cid, yy in years.items() if yy == y]
        fixed_hh = sum(r.households for c in COUNTIES for r in ledgers[c] if r.cid in fixed and r.county != ZONE)
        chosen = _pick(rng, pool, count - len(fixed), hh - fixed_hh)
        ids = {r.cid for r in chosen}
        for r in chosen:
            years[r.cid] = y
        pool = [r for r in pool if r.cid not in ids]
    later = list(LATER_YEAR_WEIGHTS)
    for r in pool:
        years[r.cid] = rng.choices(later, weights=list(LATER_YEAR_WEIGHTS.values()))[0]
    return years


# --------------------------------------------------------------------------------------------
# Plan rows


def _town(led: LedgerRow) -> str:
    """The town a ledger row lies in, when its street is one (轮台镇), for a clerk's prefix."""
    return led.street if led.street.endswith("镇") else ""


class _PlanMaker:
    def __init__(self, rng: random.Random, ledgers: dict[str, list[LedgerRow]], slow: set[str]):
        self.rng = rng
        self.slow = slow
        self.ledgers = ledgers
        self.names = {c: {r.name for r in ledgers[c]} | {r.canonical for r in ledgers[c]} for c in COUNTIES}
        self.pid = 0
        self.seq: dict[tuple[str, int], int] = {}

    def fill_date(self, county: str, year: int) -> date:
        return date(year - 1, 10, self.rng.randint(8, 30))

    def notice(self, fill: date, k: int | None = None) -> tuple[date, date, int]:
        end = fill - timedelta(days=self.rng.randint(1, 12))
        while end.weekday() >= 5:
            end -= timedelta(days=1)
        k = k or self.rng.randint(14, 20)
        return start_for_weekdays(end, k), end, k

    def funding(self, total: float, central: bool) -> dict[str, float]:
        rng = self.rng
        parts = {"central": 0.0, "region": 0.0, "resident": 0.0, "social": 0.0, "utility": 0.0}
        if central:
            parts["central"] = round(total * rng.uniform(0.40, 0.60), 2)
            parts["region"] = round(total * rng.uniform(0.08, 0.15), 2)
        elif rng.random() < 0.5:
            parts["region"] = round(total * rng.uniform(0.2, 0.3), 2)
        if rng.random() < 0.5:
            parts["utility"] = round(total * rng.uniform(0.03, 0.10), 2)
        if rng.random() < 0.4:
            parts["resident"] = round(total * rng.uniform(0.01, 0.04), 2)
        if rng.random() < 0.1:
            parts["social"] = round(total * rng.uniform(0.02, 0.08), 2)
        parts["local"] = round(total - sum(parts.values()), 2)
        return parts

    def row(self, led: LedgerRow | None, county: str, year: int, fill: date, *, variant: bool = True,
            exact: bool = False) -> PlanRow:
        rng = self.rng
        self.pid += 1
        self.seq[(county, year)] = self.seq.get((county, year), 0) + 1
        name, addr, by = led.name, led.address, led.build_year
        hh, bld, area = led.households, led.buildings, led.area
        if variant and not exact:
            if rng.random() < 0.4:
                name = nm.name_variant(led.canonical or led.name, rng, self.names[county], county, _town(led))
            u = rng.random()
            if u < 0.35:
                addr = nm.address_variant(led.address, led.road, led.number, led.street, led.landmark, rng)
            elif u < 0.45:
                addr = ""
            if rng.random() < 0.4:
                by = led.build_year + rng.choice((-3, -2, -1, 1, 2, 3))
                if led.build_year <= 2000:
                    by = min(by, 2000)
                else:
                    by = max(by, 2001)
            if rng.random() < 0.3:
                hh = max(1, min(math.floor(led.households * 1.08), round(led.households * rng.uniform(0.95, 1.08))))
            if rng.random() < 0.05 and bld > 2:
                bld -= 1
            if rng.random() < 0.4:
                area = round(min(led.area * 1.07, led.area * rng.uniform(0.96, 1.07)), 1)
        weights = (0.55, 0.35, 0.10) if year <= 2021 else (0.25, 0.5, 0.25)
        cats = rng.choices(CATEGORY_SETS, weights=weights)[0]
        elevators = rng.randint(1, 4) if "完善类" in cats and rng.random() < 0.08 else 0
        cost = rng.uniform(*COST_PER_HH[len(cats)])
        total = round(hh * cost, 2)
        f = self.funding(total, rng.random() < (0.72 if county in self.slow else 0.93))
        ns, ne, k = self.notice(fill)
        return PlanRow(
            pid=self.pid, county=county, year=year, cid=led.cid, eid=led.eid, street=led.street,
            community=led.community, name=name, address=addr, build_year=by, buildings=bld, households=hh,
            area=area, categories=cats, content=nm.content_for(cats, elevators, rng), total=total,
            central=f["central"], region=f["region"], local=f["local"], resident=f["resident"],
            social=f["social"], utility=f["utility"], elevators=elevators,
            planned_start=date(year, rng.choice((3, 4, 5)), rng.randint(1, 28)),
            planned_end=date(year, rng.choice((9, 10, 11)), rng.randint(1, 20)),
            notice_start=ns, notice_end=ne, notice_days_given=k,
            code=f"{CODES[county]}-{year}-{self.seq[(county, year)]:03d}",
        )

    def reprice(self, p: PlanRow, total: float) -> None:
        p.total = round(total, 2)
        f = self.funding(p.total, p.central > 0)
        p.central, p.region, p.local = f["central"], f["region"], f["local"]
        p.resident, p.social, p.utility = f["resident"], f["social"], f["utility"]


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def build_plans(rng: random.Random, ledgers, years, notes, slow: set[str]) -> tuple[list[PlanFile], dict[int, PlanRow]]:
    mk = _PlanMaker(rng, ledgers, slow)
    by_cid = {r.cid: r for c in COUNTIES for r in ledgers[c]}
    fills = {(c, y): mk.fill_date(c, y) for c in COUNTIES for y in YEARS}
    kb = [r for r in ledgers[KORLA] if r.kind == "boundary"]
    # the estate both plan in one year: the zone files its plan after Korla, so that its entry is
    # "the later one" by fill date as well as by the order of counties.csv
    y_both = years[kb[2].cid]
    fills[(KORLA, y_both)] = date(y_both - 1, 10, rng.randint(8, 18))
    fills[(ZONE, y_both)] = date(y_both - 1, 10, rng.randint(22, 30))
    rows: dict[tuple[str, int], list[PlanRow]] = {(c, y): [] for c in COUNTIES for y in YEARS}
    for c in COUNTIES:
        for led in ledgers[c]:
            y = years.get(led.cid)
            if y is not None and led.county == c:
                rows[(c, y)].append(mk.row(led, c, y, fills[(c, y)]))

    lookalike = ("团结小区", "团结北小区", "雪莲花园一期", "雪莲花园二期", "建设局大院", "建设局住宅楼", "幸福小区")
    for ps in rows.values():
        for p in ps:
            if by_cid[p.cid].name in lookalike:
                p.role = "lookalike"

    def clean(year_from=2020, year_to=2025, county=None, pred=lambda p: True) -> list[PlanRow]:
        out = [p for (c, y), ps in rows.items() for p in ps
               if year_from <= y <= year_to and (county is None or c == county) and p.role == "clean"
               and by_cid[p.cid].kind == "target" and pred(p)]
        return out

    def take(cands: list[PlanRow], k: int) -> list[PlanRow]:
        return rng.sample(cands, k=min(k, len(cands)))

    def add_dup(orig: PlanRow, county: str, year: int, led: LedgerRow, role: str, insert_after: bool) -> PlanRow:
        p = mk.row(led, county, year, fills[(county, year)], variant=False)
        p.name = nm.name_variant(led.canonical or led.name, rng, mk.names[county] | {orig.name}, county, _town(led))
        street = led.street
        p.address = nm.address_variant(led.address, led.road, led.number, street, led.landmark, rng)
        by = led.build_year + rng.choice((-4, -3, -2, -1, 1, 2, 3, 4))
        p.build_year = min(by, 2000) if led.build_year <= 2000 else max(by, 2001)
        p.households = max(1, min(math.floor(led.households * 1.08), round(led.households * rng.uniform(1.0, 1.08))))
        p.area = round(min(led.area * 1.07, led.area * rng.uniform(1.0, 1.07)), 1)
        p.role = role
        lst = rows[(county, year)]
        if insert_after and orig in lst:
            lst.insert(lst.index(orig) + rng.randint(1, len(lst) - lst.index(orig)), p)
        else:
            lst.insert(rng.randint(0, len(lst)), p)
        return p

    # DUP_CROSS_YEAR within a county: planned again in a later year (2022+ so that the 2020/2021
    # totals stay those of the spec), the second time written another way
    for orig in take(clean(2020, 2023), 5):
        y2 = rng.randint(max(2022, orig.year + 1), 2025)
        orig.role = "dup_first"
        p = add_dup(orig, orig.county, y2, by_cid[orig.cid], "dup_cross", False)
        notes[("DUP_CROSS_YEAR", p.pid)] = f"{orig.year}年计划已列入「{orig.name}」,{y2}年再次申报为「{p.name}」"
    # DUP_CROSS_YEAR through the ledger's 已改造年度
    renovated = [r for c in COUNTIES for r in ledgers[c] if r.kind == "renovated"]
    for led in take(renovated, 2):
        y2 = rng.randint(2022, 2025)
        p = add_dup(led, led.county, y2, led, "dup_renovated", False)
        notes[("DUP_CROSS_YEAR", p.pid)] = f"台账标注「{led.name}」已于{led.renovated_year}年改造,{y2}年又列入计划「{p.name}」"
    # DUP_SAME_YEAR within one county's plan: the same community twice in one file
    for orig in take(clean(2022, 2025), 5):
        orig.role = "dup_first"
        p = add_dup(orig, orig.county, orig.year, by_cid[orig.cid], "dup_same", True)
        notes[("DUP_SAME_YEAR", p.pid)] = f"同一计划中「{orig.name}」与「{p.name}」为同一小区"
    # Boundary estates: the zone plans them too
    zb = [next(z for z in ledgers[ZONE] if z.kind == "boundary" and z.eid == k.eid) for k in kb]
    orig1 = next(p for p in rows[(KORLA, years[kb[1].cid])] if p.cid == kb[1].cid)
    y2 = rng.randint(max(2022, orig1.year + 1), 2025)
    p = add_dup(orig1, ZONE, y2, zb[1], "dup_cross", False)
    notes[("DUP_CROSS_YEAR", p.pid)] = f"边界小区:库尔勒市{orig1.year}年计划已列入「{orig1.name}」,经开区{y2}年再次申报「{p.name}」"
    orig2 = next(p for p in rows[(KORLA, years[kb[2].cid])] if p.cid == kb[2].cid)
    p = add_dup(orig2, ZONE, orig2.year, zb[2], "dup_same", False)
    notes[("DUP_SAME_YEAR", p.pid)] = f"边界小区:库尔勒市与经开区{orig2.year}年计划均列入「{orig2.name}」/「{p.name}」"
    orig1.role = orig2.role = "dup_first"
    # estates listed by two other counties: planned by the second too, the same year and a later one
    first_copies = [r for c in COUNTIES for r in ledgers[c] if r.kind == "shared" and r.eid == r.cid]
    for i, sa in enumerate(first_copies):
        sb = next(r for c in COUNTIES for r in ledgers[c] if r.kind == "shared" and r.eid == sa.eid and r.cid != sa.cid)
        orig = next(p for p in rows[(sa.county, years[sa.cid])] if p.cid == sa.cid)
        y2 = orig.year if i == 0 else rng.randint(orig.year + 1, 2025)
        p = add_dup(orig, sb.county, y2, sb, "dup_same" if i == 0 else "dup_cross", False)
        orig.role = "dup_first"
        rule = "DUP_SAME_YEAR" if i == 0 else "DUP_CROSS_YEAR"
        note = f"两县市台账均列入的小区:{orig.county}{orig.year}年计划「{orig.name}」,{sb.county}{y2}年计划「{p.name}」"
        notes[(rule, p.pid)] = notes[(rule, orig.pid)] = note  # same year: the later filed of the two is flagged
    # one work unit's estate written with another kind word (家属院 for 住宅楼) but the same address,
    # build year and size as the ledger: the same community, not NOT_IN_LEDGER
    def swappable(p: PlanRow) -> bool:
        led = by_cid[p.cid]
        return bool(led.owner) and led.canonical.endswith(nm.UNIT_SUFFIXES) and "建设局" not in led.canonical

    for p in take(clean(pred=swappable), 2):
        led = by_cid[p.cid]
        suffix = next(x for x in nm.UNIT_SUFFIXES if led.canonical.endswith(x))
        p.name = led.canonical[: -len(suffix)] + rng.choice([x for x in nm.UNIT_SUFFIXES if x != suffix])
        p.address, p.build_year = led.address, led.build_year
        p.households, p.buildings, p.area = led.households, led.buildings, led.area
        p.role = "kind_swap"

    # NOT_IN_LEDGER: invented communities, names and addresses unlike anything in the county's ledger
    for _ in range(6):
        county = rng.choice(COUNTIES[:-1])
        y = rng.randint(2022, 2025)
        for _ in range(500):  # a name unlike every name of the county's ledger
            name = rng.choice(nm.FAKE_STEMS) + rng.choice(("小区", "花园", "新村", "家园"))
            if name not in mk.names[county] and all(SequenceMatcher(None, name, o).ratio() <= 0.5 for o in mk.names[county]):
                break
        road = rng.choice([r for r in nm.ROADS if r not in {r.road for r in ledgers[county]}] or nm.ROADS)
        fake = LedgerRow(cid=-1, eid=-1, county=county, street=rng.choice(nm.STREETS[county]), community="",
                         name=name, road=road, number=rng.randint(230, 400), address="", build_year=rng.randint(1986, 1999),
                         buildings=0, households=rng.randint(60, 240), area=0, owner="", landmark="", has_pm=None,
                         pct_elderly=None, pct_willing=None)
        fake.address = nm.address(road, fake.number)
        fake.buildings = max(1, round(fake.households / rng.uniform(16, 30)))
        fake.area = round(fake.households * rng.uniform(60, 88), 1)
        fake.community = rng.choice(nm.COMMUNITY_STEMS) + "社区"
        p = mk.row(fake, county, y, fills[(county, y)], variant=False)
        p.cid, p.eid, p.role = None, -p.pid, "not_in_ledger"
        mk.names[county].add(name)
        rows[(county, y)].insert(rng.randint(0, len(rows[(county, y)])), p)
        notes[("NOT_IN_LEDGER", p.pid)] = f"虚构小区「{name}」({fake.address}),{county}台账无此小区"
    # POST_2000: communities built after 2000 put into a plan
    post = [r for c in COUNTIES for r in ledgers[c] if r.kind == "post2000"]
    for led in take(post, 5):
        y = rng.randint(2022, 2025)
        p = mk.row(led, led.county, y, fills[(led.county, y)])
        p.role = "post2000"
        rows[(led.county, y)].insert(rng.randint(0, len(rows[(led.county, y)])), p)
        notes[("POST_2000", p.pid)] = f"「{p.name}」台账建成年份{led.build_year}年,晚于2000年"

    # INFLATED_SCALE (plan vs ledger)
    for i, p in enumerate(take(clean(pred=lambda p: by_cid[p.cid].households >= 40 and p.year >= 2021), 7)):
        led = by_cid[p.cid]
        p.role = "inflated"
        if i < 4:
            p.households = math.ceil(led.households * rng.uniform(1.25, 1.6))
            what = f"计划户数{p.households} > 台账户数{led.households}"
        elif i < 6:
            p.buildings = led.buildings + rng.randint(2, 4)
            what = f"计划楼栋数{p.buildings} > 台账楼栋数{led.buildings}"
        else:
            p.area = round(led.area * rng.uniform(1.25, 1.5), 1)
            what = f"计划建筑面积{p.area} > 台账{led.area}平方米"
        mk.reprice(p, p.households * rng.uniform(*COST_PER_HH[len(p.categories)]))
        notes[("INFLATED_SCALE", p.pid)] = f"{what},虚报规模"
    # near misses: +9% (≥5 households) and +4 households (>10%)
    for p in take(clean(pred=lambda p: by_cid[p.cid].households >= 60), 3):
        p.households = math.floor(by_cid[p.cid].households * 1.09)
        p.role = "near"
    for p in take(clean(pred=lambda p: 20 <= by_cid[p.cid].households <= 39), 2):
        p.households = by_cid[p.cid].households + 4
        p.role = "near"

    # INFLATED_COST: 4–5 times the median cost per household of the year's same-category plans
    all_rows = [p for ps in rows.values() for p in ps]

    def med(year, cats):
        return _median([p.total / p.households for p in all_rows if p.year == year and p.categories == cats])

    def med_m2(year, cats):
        return _median([p.total / p.area for p in all_rows if p.year == year and p.categories == cats])

    for p in take(clean(2021, 2025), 6):
        m = med(p.year, p.categories)
        mk.reprice(p, p.households * m * rng.uniform(4.0, 5.0))
        p.role = "cost"
        notes[("INFLATED_COST", p.pid)] = f"户均投资{p.total / p.households:.2f}万元,约为同年同类中位数{m:.2f}万元的{p.total / p.households / m:.1f}倍"
    for p in take(clean(2021, 2025), 3):
        t = rng.uniform(2.5, 2.7)  # just under 3 times the median, per household and per m²
        mk.reprice(p, min(p.households * med(p.year, p.categories) * t, p.area * med_m2(p.year, p.categories) * t))
        p.role = "near"

    # NOTICE_SHORT: too short, or no notice at all
    for i, p in enumerate(take(clean(), 6)):
        p.role = "notice"
        if i < 4:
            p.notice_start, p.notice_end, p.notice_days_given = mk.notice(fills[(p.county, p.year)], rng.randint(6, 12))
            notes[("NOTICE_SHORT", p.pid)] = f"公示{p.notice_days_given}个工作日,不足14个工作日"
        else:
            p.notice_start = p.notice_end = p.notice_days_given = None
            notes[("NOTICE_SHORT", p.pid)] = "无公示记录"
    for p in take(clean(), 3):  # exactly 14 working days: not short
        p.notice_start, p.notice_end, p.notice_days_given = mk.notice(fills[(p.county, p.year)], 14)
        p.role = "near"

    files = [PlanFile(c, y, fills[(c, y)], rows[(c, y)]) for c in COUNTIES for y in YEARS if rows[(c, y)]]
    # a plan resubmitted in November: the first version had other investments and one row without notice
    cands = [f for f in files if f.year >= 2022 and len([p for p in f.rows if p.role == "clean"]) >= 3 and f.county != ZONE]
    f2 = rng.choice(cands)
    f1 = PlanFile(f2.county, f2.year, f2.fill_date, [copy.copy(p) for p in f2.rows])
    f2.fill_date = date(f2.year - 1, 11, rng.randint(8, 25))
    f2.version = 2
    changed = rng.sample([p for p in f1.rows if p.role == "clean"], 3)
    for p in changed[:2]:
        p.total = round(p.total * rng.uniform(0.85, 0.95), 2)
        p.local = round(p.total - p.central - p.region - p.resident - p.social - p.utility, 2)
        if p.local < 0:
            p.total, p.local = round(p.total - p.local, 2), 0.0
    changed[2].notice_start = changed[2].notice_end = changed[2].notice_days_given = None
    files.insert(files.index(f2), f1)
    notes[("PLAN_RESUBMIT", f2.county, f2.year)] = "计划重报"
    plans = {p.pid: p for f in files if f.version == 2 or not any(g.county == f.county and g.year == f.year and g.version == 2 for g in files) for p in f.rows}
    return files, plans


# --------------------------------------------------------------------------------------------
# Projects


CONSTRUCTION = (3, 4, 5, 6, 7, 8, 9, 10, 11)


def _construction_months(year: int, start_month: int, k: int) -> list[int]:
    out, y, m = [], year, start_month
    while len(out) < k:
        if m in CONSTRUCTION:
            out.append(mi(y, m))
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def _curve(rng: random.Random, k: int, cap: float | None) -> list[float]:
    vals, prev = [], 0.0
    for i in range(1, k + 1):
        x = i / k
        v = 100.0 if i == k else round(100 * (3 * x * x - 2 * x * x * x) * rng.uniform(0.95, 1.05), 1)
        v = max(v, prev + 0.5 if i < k else v)
        if cap is not None and v - prev > cap:
            v = round(prev + cap, 1)
        v = min(v, 99.0) if i < k else 100.0
        vals.append(v)
        prev = v
    return vals


@dataclass
class Schedule:
    start: date
    months: list[int]  # construction month indexes
    curve: list[float]
    finish: date
    ratio: float  # final investment / plan investment
    q: float  # how far payment lags
    accept_days: int
    satisfaction: float
    pm: bool


def schedule(rng: random.Random, p: PlanRow, *, slow: bool = False, overdue: bool = False, nov30: bool = False,
             start_month: int | None = None) -> Schedule:
    """When and how a project is built; ``slow`` for a county that lags (late starts of projects
    without central subsidy, slower payment, fewer property managers, less satisfied residents)."""
    hh = p.households
    if start_month is None:
        start_month = rng.choices((3, 4, 5, 6), weights=(0.15, 0.4, 0.3, 0.15))[0]
        if p.central == 0 and rng.random() < (0.7 if slow else 0.3):
            start_month = rng.choice((7, 8, 9) if slow else (6, 7, 8))
    lo, hi = (2, 4) if hh < 100 else (3, 5) if hh < 200 else (4, 6)
    k = rng.randint(lo, hi)
    if p.central > 0 and not overdue:
        k = min(k, 12 - start_month)
    if p.central == 0 and start_month >= 6:
        k = rng.randint(lo + 1, hi + 2)
    if overdue:
        k = 12 - start_month + rng.randint(1, 3)
    if nov30:
        k = 12 - start_month
    k = max(k, 4 if hh >= 200 else 1)
    months = _construction_months(p.year, start_month, k)
    fy, fm = ym(months[-1])
    finish = date(fy, fm, 30 if nov30 else rng.randint(5, 28))
    start = date(p.year, start_month, rng.randint(1, 25))
    if len(months) == 1:
        start = date(p.year, start_month, rng.randint(1, 8))
        finish = date(fy, fm, rng.randint(max(start.day + 10, 20), 28))
    return Schedule(start=start, months=months, curve=_curve(rng, k, 38.0 if hh >= 200 else None), finish=finish,
                    ratio=rng.uniform(0.93, 1.04), q=rng.uniform(0.35, 0.6) if slow else rng.uniform(0.55, 0.85),
                    accept_days=rng.randint(25, 60),
                    satisfaction=round(rng.uniform(85, 93) if slow else rng.uniform(87, 99), rng.choice((0, 1))),
                    pm=rng.random() < (0.5 if slow else 0.85))


def listing_months(p: PlanRow, s: Schedule, last: int) -> list[int]:
    first = mi(p.year, 1)
    fin = mi(s.finish.year, s.finish.month)
    end = max(mi(p.year, 12), fin) if s.finish.year == p.year else fin
    return list(range(first, min(end, last) + 1))


def trajectory(p: PlanRow, s: Schedule, last: int) -> dict[int, ReportRow]:
    out: dict[int, ReportRow] = {}
    accept = s.finish + timedelta(days=s.accept_days)
    start_idx = mi(s.start.year, s.start.month)
    fin_idx = mi(s.finish.year, s.finish.month)
    acc_idx = mi(accept.year, accept.month)
    prog, done_prev, paid = 0.0, 0.0, 0.0
    cap = round(p.total * 0.98, 2)
    for m in listing_months(p, s, last):
        if m in s.months:
            prog = s.curve[s.months.index(m)]
        done = round(p.total * s.ratio * prog / 100, 2)
        if m >= start_idx:
            target = done_prev * s.q
            if m >= fin_idx:
                target = done * 0.8
            if m >= acc_idx:
                target = done * 0.95
            paid = max(paid, round(min(done, target, cap), 2))
        _, mm = ym(m)
        remark = ""
        if m >= acc_idx:
            remark = "已验收"
        elif m >= fin_idx:
            remark = "已完工"
        elif m >= start_idx and mm in (12, 1, 2):
            remark = "冬季停工"
        out[m] = ReportRow(
            pid=p.pid, plan_year=p.year, code=p.code, name=p.name, households=p.households, total=p.total,
            central=p.central, region=p.region, start_date=s.start if m >= start_idx else None, progress=prog,
            done=done, paid=paid, finish_date=s.finish if m >= fin_idx else None,
            accept_date=accept if m >= acc_idx else None,
            satisfaction=s.satisfaction if m >= acc_idx else None, has_pm=s.pm if m >= acc_idx else None,
            elevators=p.elevators, remark=remark,
        )
        done_prev = done
    return out


def _set_progress(st: dict[int, ReportRow], p: PlanRow, m: int, prog: float, ratio: float) -> None:
    r = st[m]
    r.progress = prog
    r.done = round(p.total * ratio * prog / 100, 2)


def build_projects(rng: random.Random, plans: dict[int, PlanRow], last: int, notes: dict,
                   slow: set[str]) -> tuple[dict, dict]:
    """Schedules and month states of every current plan row, with report-level plantings."""
    pids = sorted(plans)
    eligible = [pid for pid in pids if plans[pid].role in ("clean", "dup_first")]
    rng.shuffle(eligible)
    special: dict[int, str] = {}

    def grab(k: int, role: str, pred) -> list[int]:
        got = []
        for pid in eligible:
            if len(got) == k:
                break
            if pid not in special and pred(plans[pid]):
                special[pid] = role
                got.append(pid)
        return got

    def ok_year(p: PlanRow, lo: int = 2020, hi: int = 2025) -> bool:
        return lo <= p.year <= hi and mi(p.year, 12) <= last

    # (how many, role, which projects qualify); a project carries one role at most
    for k, role, pred in (
        (8, "overdue", lambda p: p.central > 0 and ok_year(p, 2020, 2024)),
        (2, "nov30", lambda p: p.central > 0 and ok_year(p, 2020, 2024) and p.households < 200),
        (5, "jump", lambda p: p.households >= 200 and ok_year(p)),
        (1, "jump_near80", lambda p: p.households >= 200 and ok_year(p)),
        (1, "jump_near_small", lambda p: 150 <= p.households < 200 and ok_year(p)),
        (5, "idle", lambda p: ok_year(p, 2021)),
        (2, "idle_near", lambda p: ok_year(p, 2021)),
        (5, "paid", lambda p: ok_year(p) and p.households >= 60),
        (2, "paid_near", lambda p: ok_year(p) and p.households >= 60),
        (5, "regress", lambda p: ok_year(p) and p.households >= 100),
        (2, "regress_near", lambda p: ok_year(p) and p.households >= 100),
        (5, "invest", lambda p: ok_year(p)),
        (2, "invest_near", lambda p: ok_year(p)),
        (5, "scale", lambda p: ok_year(p) and 40 <= p.households < 170),
        (2, "scale_near", lambda p: ok_year(p) and p.households >= 80),
    ):
        grab(k, role, pred)

    schedules: dict[int, Schedule] = {}
    states: dict[int, dict[int, ReportRow]] = {}
    for pid in pids:
        p = plans[pid]
        role = special.get(pid, "")
        s = schedule(rng, p, slow=p.county in slow, overdue=role == "overdue", nov30=role == "nov30",
                     start_month=rng.choice((5, 6)) if role in ("idle", "idle_near") else
                     rng.choice((3, 4, 5)) if role in ("regress", "regress_near", "paid", "paid_near") else None)
        while role in ("paid", "paid_near") and (len(s.months) < 3 or s.curve[1] > 60):
            s = schedule(rng, p, slow=p.county in slow, start_month=rng.choice((3, 4, 5)))
        if role in ("regress", "regress_near") and len(s.months) < 4:
            s = schedule(rng, p, slow=p.county in slow, start_month=4)
            while len(s.months) < 4:
                s = schedule(rng, p, slow=p.county in slow, start_month=4)
        if role.startswith("jump"):
            hi, lo = {"jump": (rng.uniform(93, 98), rng.uniform(2, 9)), "jump_near80": (90.0, 10.0),
                      "jump_near_small": (95.0, 5.0)}[role]
            start_month = rng.choice((4, 5, 6))
            s.months = _construction_months(p.year, start_month, 3)
            s.curve = [round(lo, 1), round(hi, 1), 100.0]
            s.start = date(p.year, start_month, rng.randint(1, 25))
            s.finish = date(p.year, start_month + 2, rng.randint(5, 28))
        if role == "invest":
            s.ratio = rng.uniform(1.16, 1.3)
        if role == "invest_near":
            s.ratio = 1.08
        schedules[pid] = s
        states[pid] = trajectory(p, s, last)

    near_rule = {"nov30": "OVERDUE", "jump_near80": "PROGRESS_JUMP", "jump_near_small": "PROGRESS_JUMP",
                 "idle_near": "FUNDS_IDLE", "paid_near": "PAID_EXCEEDS_WORK", "regress_near": "PROGRESS_REGRESSION",
                 "invest_near": "INVEST_EXCEEDS_PLAN", "scale_near": "INFLATED_SCALE"}
    for pid, role in special.items():
        p, s, st = plans[pid], schedules[pid], states[pid]
        if role in near_rule:  # planted just under the threshold: must not become a signal
            notes[("NEAR", near_rule[role], pid)] = role
        months = sorted(st)
        if role == "overdue":
            nov = mi(p.year, 11)
            notes[("OVERDUE", pid)] = f"有中央补助资金{p.central:.2f}万元,{p.year}年11月底形象进度{st[nov].progress:g}%未完工"
        elif role == "jump":
            a, b = s.months[0], s.months[1]
            notes[("PROGRESS_JUMP", pid)] = f"{p.households}户项目形象进度{st[a].progress:g}%→{st[b].progress:g}%,一月跃升超80个百分点"
        elif role in ("idle", "idle_near"):
            start_idx = mi(s.start.year, s.start.month)
            n_idle = 3 if role == "idle" else 2
            amount = round(p.total * rng.uniform(0.08, 0.22), 2)
            for m in range(start_idx - n_idle, start_idx):
                st[m].paid = amount
            for m in months:
                if m >= start_idx:
                    st[m].paid = max(st[m].paid, amount)
            if role == "idle":
                notes[("FUNDS_IDLE", pid)] = f"已拨付{amount:.2f}万元但连续3个月未开工、形象进度为0"
        elif role in ("paid", "paid_near"):
            m = s.months[1]
            r = st[m]
            if role == "paid":
                extra = rng.uniform(0.4, 0.6) if rng.random() < 0.7 else None
                new = round(r.done + extra * p.total, 2) if extra else round(p.total * rng.uniform(1.02, 1.1), 2)
            else:
                new = round(r.done + 0.25 * p.total, 2)
            for mm in months:
                if mm >= m:
                    st[mm].paid = max(st[mm].paid, new)
            if role == "paid":
                notes[("PAID_EXCEEDS_WORK", pid)] = f"累计拨付{new:.2f}万元,累计完成投资仅{r.done:.2f}万元(计划总投资{p.total:.2f}万元)"
        elif role in ("regress", "regress_near"):
            m_prev, m = s.months[1], s.months[2]
            a = st[m_prev]
            if role == "regress":
                if rng.random() < 0.6:
                    _set_progress(st, p, m, round(max(0.0, a.progress - rng.uniform(2, 8)), 1), s.ratio)
                    notes[("PROGRESS_REGRESSION", pid)] = f"形象进度由{a.progress:g}%降至{st[m].progress:g}%"
                else:
                    st[m].progress = a.progress
                    st[m].done = round(a.done * rng.uniform(0.8, 0.95), 2)
                    notes[("PROGRESS_REGRESSION", pid)] = f"累计完成投资由{a.done:.2f}万元降至{st[m].done:.2f}万元"
            else:  # exactly 0.5 points down, in values whose difference is exact in binary floats
                _set_progress(st, p, m_prev, float(math.ceil(a.progress)), s.ratio)
                st[m].progress = a.progress - 0.5
                st[m].done = a.done
        elif role == "invest":
            first = next((mm for mm in months if st[mm].done > 1.1 * p.total), None)
            if first is not None:
                notes[("INVEST_EXCEEDS_PLAN", pid)] = f"累计完成投资{st[first].done:.2f}万元超计划总投资{p.total:.2f}万元10%以上"
        elif role in ("scale", "scale_near"):
            m0 = s.months[0] if role == "scale" else months[0]
            hh = math.ceil(p.households * rng.uniform(1.2, 1.45)) if role == "scale" else math.floor(p.households * 1.08)
            for mm in months:
                if mm >= m0:
                    st[mm].households = hh
            if role == "scale":
                notes[("INFLATED_SCALE", pid)] = f"月报户数{hh} > 计划户数{p.households},虚报受益户数"
    # the reports of many projects write the name unlike the plan (any form of input-formats.md:
    # brackets, (原), 一期, 住宅, the county in front, abbreviations, traditional or full-width
    # characters, numerals), the same way every month
    for pid in pids:
        p = plans[pid]
        if p.role == "kind_swap" or rng.random() >= 0.3:
            continue
        forms = [f for f in nm.clerk_forms(p.name, p.county) if f.count("原") <= 1 and f.count("期") <= 1]
        if forms:
            name = rng.choice(forms)
            for r in states[pid].values():
                r.name = name
    return schedules, states


# --------------------------------------------------------------------------------------------
# Monthly report files


def _fill(rng: random.Random, month: int, late: bool = False, day: int | None = None) -> date:
    y, m = ym(month + 1)
    if day is None:
        day = rng.randint(8, 25) if late else rng.choices((1, 2, 3, 4, 5), weights=(2, 3, 3, 2, 2))[0]
    return date(y, m, day)


def build_reports(rng: random.Random, plans: dict[int, PlanRow], states, last: int, notes: dict) -> list[ReportFile]:
    by_cm: dict[tuple[str, int], list[ReportRow]] = {}
    order = {pid: i for i, pid in enumerate(sorted(plans, key=lambda q: (plans[q].year, plans[q].pid)))}
    for pid in sorted(plans, key=order.get):
        for m, r in states[pid].items():
            by_cm.setdefault((plans[pid].county, m), []).append(r)
    keys = [(c, m) for c in COUNTIES for m in range(last + 1)]
    for k in keys:
        by_cm.setdefault(k, [])
    # months whose counties have projects in that year's plan
    has_plan = {(p.county, p.year) for p in plans.values()}
    used: set[tuple[str, int]] = set()

    def pick(pred, k: int) -> list[tuple[str, int]]:
        cands = [x for x in keys if x not in used and by_cm[x] and pred(x)]
        got = rng.sample(cands, k=min(k, len(cands)))
        used.update(got)
        return got

    # MISSING_REPORT: forgotten January / December reports (no construction then), and one November
    missing = pick(lambda x: ym(x[1])[1] in (1, 12) and (x[0], ym(x[1])[0]) in has_plan and x[1] < last, 5)
    def unfinished(x):
        return sum(r.central > 0 and r.finish_date is None and r.plan_year == ym(x[1])[0] for r in by_cm[x])

    # the November report missing where one subsidised project is late: no OVERDUE, MISSING_REPORT instead
    nov_overdue = [x for x in keys if ym(x[1])[1] == 11 and x not in used and unfinished(x) == 1]
    if nov_overdue:
        x = rng.choice(nov_overdue)
        used.add(x)
        missing.append(x)
    missing_set = set(missing)
    for c, m in missing:
        notes[("MISSING_REPORT", c, m)] = f"{month_label(m)}月报未报送"
    # reports without any fill date: one county for a whole year
    nofill_county, nofill_year = rng.choice(COUNTIES[1:]), rng.choice(YEARS[:-1])
    late = pick(lambda x: x[1] < last and not (x[0] == nofill_county and ym(x[1])[0] == nofill_year), 6)
    on5 = pick(lambda x: not (x[0] == nofill_county and ym(x[1])[0] == nofill_year), 3)
    # resubmissions: construction-season months with payments behind work
    def revisable(x):
        c, m = x
        return (ym(m)[1] in range(4, 11) and m <= last - 3 and not (c == nofill_county and ym(m)[0] == nofill_year)
                and sum(1 for r in by_cm[x] if r.done - r.paid >= 1 and r.finish_date is None) >= 3)
    retro = pick(revisable, 3)
    ontime_resub = pick(revisable, 1)
    late_same = pick(lambda x: revisable(x), 1)
    totals_bad = pick(lambda x: x[1] < last and not (x[0] == nofill_county and ym(x[1])[0] == nofill_year), 6)
    totals_near = pick(lambda x: True, 2)
    late_set, on5_set = set(late), set(on5)
    for c, m in on5:
        notes[("NEAR", "LATE_REPORT", c, m)] = "filled on the 5th"
    for c, m in totals_near:
        notes[("NEAR", "TOTALS_MISMATCH", c, m)] = "合计 0.3% off"
    for c, m in ontime_resub + late_same:
        notes[("NEAR", "RETRO_REVISION", c, m)] = "changed within M+1" if (c, m) in ontime_resub else "late, unchanged"

    files: list[ReportFile] = []
    for c, m in keys:
        if (c, m) in missing_set or not by_cm[(c, m)]:
            continue
        rows = by_cm[(c, m)]
        if (c, m) in late_set:
            fd = _fill(rng, m, late=True)
            notes[("LATE_REPORT", c, m)] = f"{month_label(m)}月报于{fd.isoformat()}填报,晚于次月5日"
        elif (c, m) in on5_set:
            fd = _fill(rng, m, day=5)
        elif c == nofill_county and ym(m)[0] == nofill_year:
            fd = None
        else:
            fd = _fill(rng, m)
        f = ReportFile(c, m, fd, rows)
        if (c, m) in totals_bad:
            fld = rng.choice(("households", "done", "total", "paid"))
            err = rng.uniform(0.02, 0.08) * rng.choice((1, -1))
            f.totals_error, f.force_totals = (fld, err), True
            notes[("TOTALS_MISMATCH", c, m)] = f"合计行与明细之和相差约{abs(err) * 100:.1f}%"
        elif (c, m) in totals_near:
            f.totals_error, f.force_totals = (rng.choice(("done", "total")), 0.003), True
        files.append(f)
        if (c, m) in retro or (c, m) in ontime_resub or (c, m) in late_same:
            # the first submission had lower payments on some rows; the resubmission corrects them
            orig = ReportFile(c, m, fd or _fill(rng, m), [copy.copy(r) for r in rows])
            if (c, m) in ontime_resub:
                f.fill_date = orig.fill_date + timedelta(days=rng.randint(3, 12))
            else:
                y2, m2 = ym(m + 2)
                f.fill_date = date(y2, m2, rng.randint(3, 25))
            f.version = 2
            if (c, m) not in late_same:
                cands = [r for r in orig.rows if r.done - r.paid >= 1 and r.finish_date is None]
                for r in rng.sample(cands, k=min(len(cands), rng.randint(2, 3))):
                    cur = next(x for x in rows if x.pid == r.pid)
                    cur.paid = round(r.paid + (r.done - r.paid) * rng.uniform(0.3, 0.8), 2)
                    if (c, m) in retro:
                        notes[("RETRO_REVISION", c, m, r.pid)] = f"逾期重报修改累计拨付资金{r.paid:.2f}→{cur.paid:.2f}万元"
                    # keep the next months' payments at least as high
                    for mm in range(m + 1, last + 1):
                        nxt = states[r.pid].get(mm)
                        if nxt is not None and nxt.paid < cur.paid:
                            nxt.paid = cur.paid
            # a superseded file with a wrong 合计 row: not a signal (current files only)
            if rng.random() < 0.5 and (c, m) not in totals_bad:
                orig.totals_error, orig.force_totals = ("done", 0.05), True
            files.insert(len(files) - 1, orig)
    return files


# --------------------------------------------------------------------------------------------


def build_world(seed: int, last_month: str) -> World:
    rng = random.Random(seed)
    ly, lm = (int(x) for x in last_month.split("-"))
    last = mi(ly, lm)
    notes: dict[tuple, str] = {}
    ledgers = build_ledgers(rng)
    years = assign_years(rng, ledgers)
    # two units that lag behind the others, for the leadership's view to find
    slow = set(rng.sample([c for c in COUNTIES if c not in (KORLA, ZONE)], 2))
    plan_files, plans = build_plans(rng, ledgers, years, notes, slow)
    # a ledger resubmitted by one county: one community added late (补录), years of renovation marked
    re_county = rng.choice([c for c in COUNTIES if c not in (KORLA, ZONE)])
    later = [p for p in plans.values() if p.county == re_county and p.year >= 2023 and p.role == "clean"]
    late_added = rng.choice(later).cid if later else None
    first = LedgerFile(re_county, date(2019, rng.randint(6, 9), rng.randint(1, 28)),
                       [copy.copy(r) for r in ledgers[re_county] if r.cid != late_added])
    cur_rows = [copy.copy(r) for r in ledgers[re_county]]
    for r in cur_rows:
        planned = [p.year for p in plans.values() if p.cid == r.cid and p.year <= 2021]
        if planned and r.renovated_year is None:
            r.renovated_year = min(planned)
    second = LedgerFile(re_county, date(2022, 3, rng.randint(1, 28)), cur_rows, version=2)
    ledger_files = []
    for c in COUNTIES:
        if c == re_county:
            ledger_files.append(first)
            if second.fill_date <= month_end(last):
                ledger_files.append(second)
                ledgers[re_county] = cur_rows
                notes[("LEDGER_RESUBMIT", re_county)] = "台账重报"
            else:
                ledgers[re_county] = first.rows
        else:
            ledger_files.append(LedgerFile(c, date(2019, rng.randint(6, 9), rng.randint(1, 28)), ledgers[c]))
    # nothing is handed in after the last month (an earlier last_month gives a smaller world)
    plan_files = [f for f in plan_files if f.fill_date <= month_end(last)]
    current: dict[tuple[str, int], PlanFile] = {}
    for f in plan_files:
        if (f.county, f.year) not in current or f.fill_date > current[(f.county, f.year)].fill_date:
            current[(f.county, f.year)] = f
    plans = {p.pid: p for f in current.values() for p in f.rows}
    _, states = build_projects(rng, plans, last, notes, slow)
    report_files = build_reports(rng, plans, states, last, notes)
    ledger = {r.cid: r for c in COUNTIES for r in ledgers[c]}
    return World(seed=seed, last_month=last, ledger_files=ledger_files, plan_files=plan_files,
                 report_files=report_files, ledger=ledger, plans=plans, states=states, notes=notes)
