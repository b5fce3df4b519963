"""One home per number: every setting lives in one TOML of pipelines/config, is published to
marts.settings, and a change to it reaches every place that uses it (SQL marts, signals, scores,
page captions, exports). Each case edits a temporary copy of the configuration folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from signals_fixtures import KRL, LT, Warehouse
from streamlit.testing.v1 import AppTest

from pipelines import constants, scoring
from pipelines import settings as paths
from pipelines.clock import read_clock
from pipelines.signals import rules

ROOT = Path(__file__).resolve().parent.parent


def world() -> Warehouse:
    """库尔勒市 plans 幸福小区 (180 households against the ledger's 100: INFLATED_SCALE, high) and 建设小区
    (built 2003: POST_2000); 轮台县 plans 团结小区 and never starts it (it lags). Reports January–June,
    filed on the 3rd of the next month, but 轮台县's March report on 8 April; a 2022 plan filed on 7 July
    is the newest 填报日期: June's deadline (07-05) has passed, so June is the latest due month."""
    w = Warehouse()
    w.ledger(KRL, [dict(name="幸福小区", households=100), dict(name="建设小区", build_year=2003)])
    w.ledger(LT, [dict(name="团结小区")])
    w.plan(KRL, 2021, [dict(name="幸福小区", households=180), dict(name="建设小区", build_year=2003)])
    w.plan(LT, 2021, [dict(name="团结小区")])
    for m in range(1, 7):
        rows = [dict(name="幸福小区", households=180, start_date="2021-01-10", pct_progress=15.0 * m,
                     invest_done_wan_yuan=40.0 * m, paid_wan_yuan=30.0 * m),
                dict(name="建设小区", start_date="2021-02-01", pct_progress=10.0 * m, invest_done_wan_yuan=30.0 * m)]
        w.report(KRL, f"2021-{m:02d}", rows, fill_date=f"2021-{m + 1:02d}-03")
        w.report(LT, f"2021-{m:02d}", [dict(name="团结小区")],
                 fill_date="2021-04-08" if m == 3 else f"2021-{m + 1:02d}-03")
    w.plan(KRL, 2022, [dict(name="幸福小区", households=100)], fill_date="2021-07-07")
    w.build()
    scoring.refresh(w.con)
    return w


def save(w: Warehouse, path: Path) -> Path:
    w.con.execute(f"attach '{path}' as f")  # a test-local path
    w.con.execute("copy from database memory to f")
    w.con.execute("detach f")
    return path


def one(w: Warehouse, sql: str, params: list | None = None):
    return w.con.execute(sql, params or []).fetchone()[0]


def page_text(db: Path, page: str, monkeypatch) -> str:
    """Everything a page shows as text (captions, headers, notices) and its sidebar caption."""
    monkeypatch.setenv("RENOVATION_DB", str(db))
    from pipelines.read.connection import clear_caches

    clear_caches()
    from access_helpers import login, make_users

    make_users(db)
    at = login(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run(), "admin1")
    if page != "progress":
        at = at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    parts = []
    # a page in lazy tabs shows each tab's text when that tab is chosen: every tab, in turn
    for tab in ([t.label for t in at.tabs] if page in TAB_KEYS else []) or [None]:
        if tab is not None:
            at.session_state[TAB_KEYS[page]] = tab
            at = at.run()
            assert not at.exception, [e.value for e in at.exception]
        parts += [x.value for x in at.caption] + [x.value for x in at.sidebar.caption] + [x.value for x in at.subheader] + \
            [x.body for x in at.warning] + [x.body for x in at.success] + [x.value for x in at.markdown]
    clear_caches()
    return "\n".join(str(p) for p in parts)


# the session-state key of each page's lazy tabs (app_pages/)
TAB_KEYS = {"progress": "progress_tab", "risk": "risk_tab", "quality": "quality_tab"}


# --- what each setting decides, at its default and changed ------------------------------------


def _due_day(w: Warehouse, changed: bool) -> dict:
    late = sorted(s["period"] for s in w.signals("LATE_REPORT"))
    return {
        # the deadline of June moves from 07-05 (passed on 07-07) to 07-10: May is the latest due month
        "latest_due_month": str(read_clock(w.con).latest_due_month),
        # 轮台县's March report (filed 04-08) is late only with the 5th
        "late": late,
        "reporting_rate_LT": one(w, "select value from marts.scores where county_code = ? and year = 2021 and "
                                    "kind = 'annual' and indicator = 'reporting_rate'", [LT]),
        "label": one(w, "select any_value(as_of_label) from marts.scores where year = 2021"),
        "rule_text": one(w, "select description from marts.signal_rules where rule = 'LATE_REPORT'"),
    }


def _notice(w: Warehouse, changed: bool) -> dict:
    return {
        # every plan row has a 15-working-day notice: enough for 14, short of 20
        "notice_short": len(w.signals("NOTICE_SHORT")),
        "notice_ok": one(w, "select sum(count_notice_ok) from intermediate.score_inputs where score_year = 2021"),
        "rule_text": one(w, "select description from marts.signal_rules where rule = 'NOTICE_SHORT'"),
    }


def _built_until(w: Warehouse, changed: bool) -> dict:
    return {
        # 建设小区 (2003) is outside the goal at 2000 and inside it at 2005
        "post_2000": len(w.signals("POST_2000")),
        "target": one(w, "select sum(target_households) from marts.progress_projection"),
        "ledger_old": one(w, "select sum(sum_ledger_households_old) from intermediate.score_inputs where score_year = 2021"),
        "rule_text": one(w, "select description from marts.signal_rules where rule = 'POST_2000'"),
    }


def _severity_high(w: Warehouse, changed: bool) -> dict:
    return {
        # 幸福小区: INFLATED_SCALE (2021) and DUP_CROSS_YEAR (its 2022 plan), both high: 2 × 3 points, or 2 × 7
        "points": one(w, "select severity_points from marts.risk_communities where community_name = '幸福小区'"),
    }


def _grade(w: Warehouse, changed: bool) -> dict:
    return {"grades": sorted(r[0] for r in w.con.execute(
        "select grade from marts.scores where year = 2021 and kind = 'annual' and indicator = 'total'").fetchall())}


def _lagging(w: Warehouse, changed: bool) -> dict:
    return {"lagging": sorted(r[0] for r in w.con.execute(
        "select county_code from marts.progress_county where plan_year = 2021 and is_lagging").fetchall())}


# key, file, text replaced, replacement, what it decides, (page, caption text) at the default and changed,
# text of the flags export's thresholds note at the default and changed
CASES = [
    pytest.param("clock.report_due_day", "program.toml", "report_due_day = { value = 5,", "report_due_day = { value = 10,",
                 _due_day, ("upload", "次月 5 日", "次月 10 日"), ("due_day=5", "due_day=10"), id="report-due-day"),
    pytest.param("notice.min_working_days", "program.toml", "min_working_days = { value = 14,",
                 "min_working_days = { value = 20,", _notice, None, ("min_working_days=14", "min_working_days=20"),
                 id="notice-days"),
    pytest.param("goal.built_until", "program.toml", "built_until = { value = 2000,", "built_until = { value = 2005,",
                 _built_until, ("progress", "2000 年底前建成", "2005 年底前建成"),
                 ("last_build_year=2000", "last_build_year=2005"), id="goal-built-until"),
    pytest.param("severity_weights.high", "thresholds.toml", "high = 3", "high = 7", _severity_high,
                 ("risk", "高 3 /", "高 7 /"), ("high=3", "high=7"), id="severity-high"),
    pytest.param("grades.优秀", "scoring.toml", "min_total = 95", "min_total = 20", _grade,
                 ("annual", "优秀 ≥ 95", "优秀 ≥ 20"), None, id="grade-cutoff"),
    # 落后 is one rule for 进度总览 and 月度通报: the pace tier's yellow line
    pytest.param("progress.yellow_points_behind", "program.toml", "yellow_points_behind = { value = 5,",
                 "yellow_points_behind = { value = -10,", _lagging,
                 ("progress", "落后计划应达进度 5 个百分点及以上", "落后计划应达进度 -10 个百分点及以上"),
                 None, id="lagging-line"),
]


@pytest.fixture(scope="module")
def default_world() -> Warehouse:
    return world()


@pytest.fixture(scope="module")
def default_db(default_world, tmp_path_factory) -> Path:
    return save(default_world, tmp_path_factory.mktemp("settings-default") / "w.duckdb")


@pytest.mark.parametrize(("key", "source", "old", "new", "decides", "caption", "export"), CASES)
def test_a_changed_setting_is_seen_everywhere(key, source, old, new, decides, caption, export, default_world,
                                              default_db, tmp_path, monkeypatch):
    config = tmp_path / "config"
    shutil.copytree(paths.CONFIG_DIR, config)
    text = (config / source).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{source} holds {old!r} once"
    (config / source).write_text(text.replace(old, new), encoding="utf-8")
    before = constants.value(key)
    monkeypatch.setattr(paths, "CONFIG_DIR", config)
    after = constants.value(key)
    assert after != before

    changed = world()
    # published: marts.settings holds the new value, from its file, with that file's new version
    row = changed.con.execute("select value, source, version from marts.settings where key = ?", [key]).fetchone()
    assert row[0] == after and row[1] == source and row[2] == constants.file_version(source)
    # the SQL marts, signals and scores it decides move
    was, now = decides(default_world, False), decides(changed, True)
    for what in was:
        assert was[what] != now[what], f"{key}: {what} stayed {was[what]!r}"
    # the pages quote it
    if caption is not None:
        page, old_text, new_text = caption
        shown = page_text(save(changed, tmp_path / "changed.duckdb"), page, monkeypatch)
        assert new_text in shown and old_text not in shown
        # a page quotes the mart its data was computed with, not the file as it is now
        assert old_text in page_text(default_db, page, monkeypatch)
    # the exports state it
    if export is not None:
        old_text, new_text = export
        note = rules.thresholds_text()
        assert new_text in note and old_text not in note


def test_the_expected_effects_at_the_defaults(default_world):
    # the hand-worked defaults of the cases above
    assert _due_day(default_world, False)["latest_due_month"] == "2021-06-01"
    assert _due_day(default_world, False)["late"] == ["2021-03"]
    assert _notice(default_world, False)["notice_short"] == 0
    assert _built_until(default_world, False)["post_2000"] == 1
    assert _severity_high(default_world, False)["points"] == 6
    assert _lagging(default_world, False)["lagging"] == [LT]


def test_every_setting_lives_in_one_file_and_is_described():
    all_ = constants.all_settings()
    keys = [s.key for s in all_]
    assert len(keys) == len(set(keys))
    assert {s.source for s in all_} == set(constants.SOURCES)
    for s in all_:
        assert s.description and re.search(r"[\u4e00-\u9fff]", s.description), s.key
    # the facts the rules share with the scores are not repeated in the rules' own file
    cfg = rules.load_config()
    for code, shared in rules.SHARED.items():
        for name in shared:
            assert name not in cfg["rules"][code], f"thresholds.toml repeats {code}.{name}"


# Literal copies of a setting in production SQL and Python: each pattern once was one.
FORBIDDEN = [
    (r"getvariable\(", "score_inputs.sql read the scheme through variables with literal fallbacks"),
    (r"interval 4 day", "the report due day (5th) as a literal interval"),
    (r"date '20(19|25)-12-01'", "the goal's start or end month as a literal"),
    (r"build_year <= 2000", "the goal's build year as a literal"),
    (r"\b72\b", "the goal's 72 months as a literal"),
    (r"when 'high' then 3", "the severity weights as literals"),
    (r"GRADE_ORDER|GRADES = \(", "the grades as a Python literal"),
    (r"\(75, \"合格\"\)", "the grade cut-offs as a Python literal"),
    (r"优秀 ?≥ ?95|优秀≥95", "the grade cut-offs in a caption"),
    (r"低于全州 10 个", "the lagging line in a caption"),
    (r"高 3 / 中 2 / 低 1", "the severity weights in a caption"),
    (r"date\(2025, 12, 1\)", "the goal month as a Python literal"),
    (r"次月5日|次月 5 日", "the report due day in a caption"),
]


def _production_files() -> list[Path]:
    files = list((ROOT / "warehouse").rglob("*.sql")) + list((ROOT / "pipelines").rglob("*.py"))
    files += list((ROOT / "app_pages").glob("*.py")) + [ROOT / "dashboard.py"]
    return [f for f in files if "_bundle" not in f.parts]


@pytest.mark.parametrize(("pattern", "what"), FORBIDDEN)
def test_no_literal_copy_of_a_setting(pattern, what):
    hits = [f"{f.relative_to(ROOT)}:{i}" for f in _production_files()
            for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(pattern, line) and not line.lstrip().startswith(("#", "--"))
            and "default" not in line]  # a docstring may name the default it documents
    assert not hits, f"{what}: {hits}"


def test_the_settings_mart_matches_the_files(default_world):
    rows = default_world.con.execute("select key, value, unit, description, source, version from marts.settings").pl()
    want = pl.DataFrame([s.__dict__ for s in constants.all_settings()])
    assert rows.sort("key").equals(want.select(rows.columns).sort("key"))


def test_a_warehouse_records_the_settings_it_was_computed_with(default_db):
    con = duckdb.connect(str(default_db), read_only=True)
    try:
        assert con.execute("select value from marts.settings where key = 'clock.report_due_day'").fetchone() == (5.0,)
        assert con.execute("select report_due_day from marts.data_clock").fetchone() == (5,)
    finally:
        con.close()
