"""flags.csv exactly as flags.md specifies; auditors' verdicts that survive refresh and
re-ingestion; the risk ranking with its parts."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import signals
from pipelines.read import exports
from pipelines.signals import flags
from signals_fixtures import KRL, LT, Warehouse
from backends import env, open_db, persist

pytestmark = pytest.mark.warehouse


def _world() -> Warehouse:
    w = Warehouse()
    w.ledger(KRL, [dict(name="幸福小区", households=100), dict(name="=HYPERLINK(1)小区", households=100),
                   dict(name="团结小区", households=100)])
    w.plan(KRL, 2021, [
        dict(name="幸福小区", households=180, central_subsidy_wan_yuan=200.0),   # INFLATED_SCALE
        dict(name="=HYPERLINK(1)小区", notice_days=3, notice_days_given=3),     # NOTICE_SHORT, a formula-like name
        dict(name="团结小区", central_subsidy_wan_yuan=50.0, notice_days=None, notice_days_given=None),
    ])
    w.ledger(LT, [dict(name="胜利小区", build_year=2005)])
    w.plan(LT, 2021, [dict(name="胜利小区", build_year=2005)])                  # POST_2000
    w.report(KRL, "2021-01", [dict(name="幸福小区", households=180, start_date="2021-01-10", pct_progress=5.0)],
             fill_date="2021-02-09")                                            # LATE_REPORT
    return w


@pytest.fixture(scope="module")
def w(tmp_path_factory) -> Warehouse:
    w = _world()
    w.build()
    return w


def test_flags_csv_format(w, tmp_path):
    rows = flags.flag_rows(w.con)
    buf = io.StringIO(newline="")
    n = exports.write_flags(rows, buf)
    data = buf.getvalue().encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "rule,severity,county,plan_year,period,community_name,score,evidence"
    recs = list(csv.DictReader(io.StringIO(text)))
    assert len(recs) == n == len(rows)
    by_rule = {}
    for r in recs:
        by_rule.setdefault(r["rule"], []).append(r)
    # canonical county names, plan year, empty period for plan rules, score with two decimals
    (scale,) = by_rule["INFLATED_SCALE"]
    assert (scale["county"], scale["plan_year"], scale["period"], scale["community_name"]) == ("库尔勒市", "2021", "", "幸福小区")
    assert 0 <= float(scale["score"]) <= 1 and len(scale["score"].split(".")[1]) == 2
    assert scale["evidence"].startswith("计划户数 180 > 台账户数 100(+80%)")
    (late,) = by_rule["LATE_REPORT"]
    assert (late["county"], late["plan_year"], late["period"], late["community_name"]) == ("库尔勒市", "", "2021-01", "")
    # formula escaping: the name starts with '=' → a leading '
    names = {r["community_name"] for r in by_rule["NOTICE_SHORT"]}
    assert names == {"'=HYPERLINK(1)小区", "团结小区"}
    # rule order of flags.md
    order = [code for code, _ in signals.RULES]
    seen = [order.index(r["rule"]) for r in recs]
    assert seen == sorted(seen)
    assert all("\n" not in r["evidence"] for r in recs)


@pytest.mark.parametrize("cell, expected", [
    ("=1+1", "'=1+1"), ("+86", "'+86"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("幸福小区", "幸福小区"), ("", ""), (None, ""), ("a=b", "a=b"),
])
def test_escape_cell(cell, expected):
    assert exports.escape_cell(cell) == expected


def test_run_flags_cli_writes_file_and_thresholds(tmp_path):
    w = _world()
    w.build()
    db = persist(w.con, tmp_path)
    out = tmp_path / "flags.csv"
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "flags", "--db", str(db), "--out", str(out)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    side = flags.thresholds_path(out)
    assert side.name == "flags.thresholds.txt"
    text = side.read_text(encoding="utf-8-sig")
    assert "INFLATED_SCALE" in text and "pct_over=0.1" in text and "min_working_days=14" in text
    assert "风险线索阈值" in proc.stderr and "已导出" in proc.stderr


def test_verdicts_survive_refresh_and_reingestion():
    w = _world()
    w.build()
    sid = w.con.execute("select signal_id from marts.signals where rule = 'INFLATED_SCALE'").fetchone()[0]  # high
    other = w.con.execute("select signal_id from marts.signals where rule = 'POST_2000'").fetchone()[0]  # low
    # a high-severity 已确认 is a proposal until a second auditor confirms it (复核)
    assert signals.set_verdict(w.con, sid, "已确认", "zhangsan", note="现场核实户数 100", display_name="审计局 张三")
    assert not signals.set_verdict(w.con, other, "已排除", "lisi", note="建成年份填错", display_name="审计局 李四")
    row = w.con.execute("select verdict, status, proposed_verdict, proposed_by from marts.verdict_current where signal_id = ?",
                        [sid]).fetchone()
    assert row == ("待核查", "待复核", "已确认", "审计局 张三(zhangsan)")
    with pytest.raises(ValueError, match="另一名审计人员"):
        signals.review_verdict(w.con, sid, True, "zhangsan")
    assert signals.review_verdict(w.con, sid, True, "lisi", note="同意", display_name="审计局 李四") == "已确认"
    with pytest.raises(ValueError, match="没有待复核"):
        signals.review_verdict(w.con, sid, True, "wangwu")
    with pytest.raises(ValueError):
        signals.set_verdict(w.con, sid, "确认", "zhangsan")
    with pytest.raises(ValueError):
        signals.set_verdict(w.con, "no-such-signal", "已确认", "zhangsan")
    with pytest.raises(ValueError):
        signals.set_verdict(w.con, sid, "已确认", " ")
    # a new file arrives (another county's ledger) and everything is rebuilt
    w.ledger("652823", [dict(name="友谊小区")])
    w.build()
    v = dict(w.con.execute("select signal_id, verdict from marts.verdict_current").fetchall())
    assert v[sid] == "已确认" and v[other] == "已排除"
    text = w.con.execute("select status_text from marts.verdict_current where signal_id = ?", [sid]).fetchone()[0]
    assert "审计局 张三(zhangsan) 提出" in text and "审计局 李四(lisi)" in text and "复核同意" in text
    summary = {r[0]: r[1:] for r in w.con.execute(
        "select rule, count_signals, count_confirmed, count_cleared, pct_confirmed, pct_cleared from marts.verdict_rule_summary"
    ).fetchall()}
    assert summary["INFLATED_SCALE"] == (1, 1, 0, 1.0, 0.0)
    assert summary["POST_2000"] == (1, 0, 1, 0.0, 1.0)
    # a later verdict appends and is in force (需补充材料 needs no review); the history keeps every act
    signals.set_verdict(w.con, sid, "需补充材料", "zhangsan", note="请补充竣工资料", display_name="审计局 张三")
    assert w.con.execute("select verdict from marts.verdict_current where signal_id = ?", [sid]).fetchone() == ("需补充材料",)
    assert w.con.execute("select count(*) from raw.verdicts where signal_id = ?", [sid]).fetchone() == (3,)
    history = w.con.execute("select from_status, to_status, decided_by from marts.verdict_history where signal_id = ?"
                            " order by act_seq", [sid]).fetchall()
    assert history == [("待核查", "待复核", "zhangsan"), ("待复核", "已确认", "lisi"), ("已确认", "需补充材料", "zhangsan")]


def test_a_rejected_review_leaves_the_verdict_in_force(w):
    sid = w.con.execute("select signal_id from marts.signals where severity = 'high' limit 1").fetchone()[0]
    signals.set_verdict(w.con, sid, "需补充材料", "a1")
    signals.set_verdict(w.con, sid, "已排除", "a1", note="拟排除")
    assert w.con.execute("select status, verdict from marts.verdict_current where signal_id = ?", [sid]).fetchone() == (
        "待复核", "需补充材料")
    signals.review_verdict(w.con, sid, False, "a2", note="证据不足")
    assert w.con.execute("select status, verdict, is_cleared from marts.verdict_current where signal_id = ?",
                         [sid]).fetchone() == ("需补充材料", "需补充材料", False)


def test_a_review_of_a_proposal_since_replaced_is_refused(w):
    """The review names the proposal it answers (marts.verdict_current.proposed_act_id): one replaced
    in the meantime by another auditor is not confirmed in its stead."""
    sid = w.con.execute("select signal_id from marts.signals where severity = 'high' order by signal_id desc limit 1"
                        ).fetchone()[0]
    signals.set_verdict(w.con, sid, "已排除", "a1", display_name="审计甲")
    shown = w.con.execute("select proposed_act_id from marts.verdict_current where signal_id = ?", [sid]).fetchone()[0]
    assert shown
    signals.set_verdict(w.con, sid, "已确认", "a1", display_name="审计甲")
    reviews = "select count(*) from raw.verdicts where signal_id = ? and act = 'review'"
    before = w.con.execute(reviews, [sid]).fetchone()  # the module's warehouse is shared with the tests above
    with pytest.raises(ValueError, match="已有变动.*审计甲.*「已确认」"):
        signals.review_verdict(w.con, sid, True, "a2", expected_act=shown)
    assert w.con.execute(reviews, [sid]).fetchone() == before
    now = w.con.execute("select proposed_act_id from marts.verdict_current where signal_id = ?", [sid]).fetchone()[0]
    assert now != shown
    assert signals.review_verdict(w.con, sid, True, "a2", expected_act=now) == "已确认"
    assert w.con.execute("select verdict_in_force from marts.verdict_current where signal_id = ?", [sid]).fetchone() == (
        "已确认",)


def test_verdicts_from_before_accounts_are_kept_and_read(tmp_path):
    import duckdb

    from pipelines.warehouse import connect

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("""create table raw.verdicts (signal_id varchar not null, verdict varchar not null
                   check (verdict in ('已核实', '已排除', '待核查')), note varchar, decided_by varchar not null,
                   decided_at timestamp not null, rule varchar)""")
    con.execute("insert into raw.verdicts values ('s1', '已核实', 'n', '州审计局 张科长', timestamp '2025-01-02 10:00', 'X')")
    con.close()
    con = connect(path)  # the upgrade keeps the row as written, in the table of today
    assert con.execute("select signal_id, verdict, decided_by, act from raw.verdicts").fetchall() == [
        ("s1", "已核实", "州审计局 张科长", "verdict")]
    con.close()


def test_risk_ranking_parts(w):
    rows = w.con.execute(
        "select community_name, severity_points, central_subsidy_wan_yuan, money_share, money_factor, count_classes, "
        "coincidence_factor, risk_score from marts.risk_communities order by risk_rank, community_name"
    ).fetchall()
    top = rows[0]
    # 幸福小区: INFLATED_SCALE (high 3); subsidy 200 is the largest → money factor 1 + 1 × 1 = 2; one class
    # → 3 × 2 × 1 = 6
    assert top == ("幸福小区", 3, 200.0, 1.0, 2.0, 1, 1.0, 6.0)
    for name, points, money, share, factor, classes, coincidence, score in rows:
        assert score == pytest.approx(points * factor * coincidence)
    counties = {r[0]: r[1:] for r in w.con.execute(
        "select county_name, severity_points, count_classes, coincidence_factor from marts.risk_counties").fetchall()}
    # 库尔勒市: INFLATED_SCALE 3 + NOTICE_SHORT 1 + 1 + LATE_REPORT 1 = 6; classes 虚报, 程序, 报送 → 1 + 0.5 × 2
    assert counties["库尔勒市"] == (6, 3, 2.0)
    # 轮台县: POST_2000 1 + MISSING_REPORT 2 (a plan for 2021, no report for January) = 3; two classes → 1.5
    assert counties["轮台县"] == (3, 2, 1.5)


def test_verdict_carries_over_to_a_resubmitted_file():
    w = _world()
    w.build()
    old = w.con.execute("select signal_id from marts.signals where rule = 'INFLATED_SCALE'").fetchone()[0]
    signals.set_verdict(w.con, old, "已排除", "wangwu", note="台账漏登两栋")
    signals.review_verdict(w.con, old, True, "zhaoliu")
    # 库尔勒市 resubmits its 2021 plan later (another file, the same rows): new row ids, new signal ids
    w.plan(KRL, 2021, [
        dict(name="幸福小区", households=180, central_subsidy_wan_yuan=200.0),
        dict(name="=HYPERLINK(1)小区", notice_days=3, notice_days_given=3),
        dict(name="团结小区", central_subsidy_wan_yuan=50.0, notice_days=None, notice_days_given=None),
    ], fill_date="2020-11-20", name="库尔勒市2021年计划(重报).xlsx")
    w.build()
    new, verdict, carried = w.con.execute(
        "select signal_id, verdict, is_verdict_carried_over from marts.verdict_current where rule = 'INFLATED_SCALE'"
    ).fetchone()
    assert new != old and verdict == "已排除" and carried
    # a cleared signal leaves the risk ranking
    assert "幸福小区" not in [r[0] for r in w.con.execute("select community_name from marts.risk_communities").fetchall()]


def test_the_report_and_the_page_show_the_same_verdict_in_force(tmp_path, monkeypatch):
    # a verdict given before a resubmission is carried over to the same finding (marts.verdict_current);
    # the annual report once recomputed the verdict in force from raw.verdicts by signal_id, and so
    # listed as open a finding the page shows as 已排除
    import polars as pl

    from pipelines import scoring
    from pipelines.read import audit, connection
    from pipelines.report import collect

    w = _world()
    w.build()
    old = w.con.execute("select signal_id from marts.signals where rule = 'INFLATED_SCALE'").fetchone()[0]
    signals.set_verdict(w.con, old, "已排除", "wangwu", note="台账漏登两栋")
    signals.review_verdict(w.con, old, True, "zhaoliu")  # high severity: in force once reviewed
    w.plan(KRL, 2021, [
        dict(name="幸福小区", households=180, central_subsidy_wan_yuan=200.0),
        dict(name="=HYPERLINK(1)小区", notice_days=3, notice_days_given=3),
        dict(name="团结小区", central_subsidy_wan_yuan=50.0, notice_days=None, notice_days_given=None),
    ], fill_date="2020-11-20", name="库尔勒市2021年计划(重报).xlsx")
    w.build()
    scoring.refresh(w.con)
    path = persist(w.con, tmp_path)

    con = open_db(path)
    try:
        data = collect(con, 2021)
    finally:
        con.close()
    for name, value in env(path).items():
        monkeypatch.setenv(name, value)
    connection.clear_caches()
    try:
        from pipelines.access.scope import Scope

        page = audit.signals(Scope("auditor"), 2021, None)
    finally:
        connection.clear_caches()
    shown = {r["community_name"]: r["verdict"] for r in page.filter(pl.col("rule") == "INFLATED_SCALE").iter_rows(named=True)}
    assert shown == {"幸福小区": "已排除"}
    # the report's open signals are exactly the page's 待核查 ones
    page_open = sorted((r["county_name"], r["community_name"] or "", r["period"] or "")
                       for r in page.filter(pl.col("verdict") == "待核查").iter_rows(named=True))
    report_open = sorted((r[0], r[1] or "", r[6] or "") for r in data.signals)
    assert report_open == page_open and ("库尔勒市", "幸福小区", "") not in report_open
    assert sum(r[3] for r in data.signal_summary) == len(page_open)
