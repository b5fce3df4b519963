"""The annual report (spec evaluation.md, "The report"): .docx content, PDF with readable Chinese."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from docx import Document
from backends import persist
from test_scoring_fixtures import LUNTAI, YULI, example_warehouse

from pipelines.backend import Location

from pipelines import report, scoring
from pipelines.report import document
from pipelines.warehouse import run_models

pytestmark = pytest.mark.warehouse

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")

SIGNALS_DDL = """
create table marts.signals (
    signal_id varchar not null, rule varchar, class varchar, severity varchar, county_code varchar,
    county_name varchar, plan_year integer, period varchar, community_name varchar, score double,
    evidence varchar, central_subsidy_wan_yuan double)
"""


def _save(con: duckdb.DuckDBPyConnection, path: Path) -> Location:
    return persist(con, path.parent, path.name)


def _with_log_and_signals(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Add the year's load log, one row issue and three signals (one settled) to the example."""
    now = datetime(2026, 1, 2)
    log_rows = [
        # accepted December report of 轮台县 (file 14 holds 2021-12), 4 rows, 1 quarantined
        ("b1", 1, "/in/a.xlsx", "a.xlsx", "h", "accepted", "monthly", LUNTAI, date(2021, 12, 1), None, 14, 4, 1),
        ("b1", 2, "/in/a2.xlsx", "a2.xlsx", "h", "duplicate", "monthly", LUNTAI, date(2021, 12, 1), None, 14, 0, 0),
        ("b1", 3, "/in/bad.xlsx", "bad.xlsx", None, "rejected", "monthly", YULI, date(2021, 6, 1), None, None, 0, 0),
        # a report of 2022: not in the 2021 summary
        ("b1", 4, "/in/c.xlsx", "c.xlsx", "h2", "rejected", "monthly", YULI, date(2022, 1, 1), None, None, 0, 0),
    ]
    for r in log_rows:
        con.execute("insert into raw.ingest_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?)", [*r, now])
    con.execute("insert into raw.row_issues values (14, '月报', 9, '形象进度', 'pct_progress', 'NOT_A_NUMBER', "
                "'reject', 'abc', '第9行 形象进度 不是数字', null)")
    # only the columns the report reads, whatever else the signal module's table holds
    con.execute("drop table if exists marts.signals")
    con.execute(SIGNALS_DDL)
    cols = ("signal_id", "rule", "class", "severity", "county_code", "county_name", "plan_year", "period",
            "community_name", "score", "evidence", "central_subsidy_wan_yuan")
    sigs = [
        ("s1", "DUP_SAME_YEAR", "重复申报", "high", LUNTAI, "轮台县", 2021, None, "幸福小区", 0.9,
         "同年重复申报:幸福小区 第3行与第5行", 10.0),
        ("s2", "NOTICE_SHORT", "程序", "low", LUNTAI, "轮台县", 2021, None, "雪莲花园", 0.3, "公示10个工作日 < 14", 20.0),
        ("s3", "LATE_REPORT", "报送", "low", LUNTAI, "轮台县", None, "2021-03", None, 0.2, "首次报送 2021-04-06", None),
        ("s4", "POST_2000", "对象不符", "low", YULI, "尉犁县", 2022, None, "东风小区", 0.1, "建成2005年", 0.0),
    ]
    for s in sigs:
        con.execute(f"insert into marts.signals ({', '.join(cols)}) values ({', '.join('?' * len(cols))})", list(s))
    # s2 has been settled by an auditor: no longer open
    con.execute("insert into raw.verdicts (signal_id, verdict, note, decided_by, decided_at, rule, act_id, severity)"
                " values ('s2', '已排除', '公示材料补齐', 'auditor1', ?, 'NOTICE_SHORT', 'a1', 'low')", [now])
    run_models(con, ["marts.verdict_history", "marts.verdict_current"])  # the verdict in force, as the signals step leaves it
    return con


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    con = _with_log_and_signals(example_warehouse())
    scoring.refresh(con)
    return _save(con, tmp_path_factory.mktemp("report") / "w.duckdb")


@pytest.fixture(scope="module")
def docx_text(db, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("docx") / "report.docx"
    assert report.run_report(db, 2021, out) == 0
    doc = Document(str(out))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    parts += [p.text for p in doc.sections[0].footer.paragraphs]
    return "\n".join(parts)


def test_docx_title_scheme_asof_and_time(docx_text):
    assert "巴州城镇老旧小区改造2021年度体检评估报告" in docx_text
    assert scoring.load_scheme().version in docx_text
    assert "2022-01" in docx_text  # the data as-of month
    assert "生成时间" in docx_text and str(date.today().year) in docx_text


def test_docx_scores_ranking_and_change(docx_text):
    # ranking row: 1 | 轮台县 | 65.81 | 差 | 上年未参评 | —
    assert "1 | 轮台县 | 65.81 | 差 | 上年未参评 | —" in docx_text
    assert "2 | 尉犁县 | 57.74 | 差" in docx_text
    # the prefecture pooled: its 2020 score (若羌县 alone) 6.25 and the change from it
    assert "全州(汇总)" in docx_text and "6.25" in docx_text
    # counties without a 2021 plan are named as not scored
    assert "若羌县" in docx_text.split("不参加本年度体检的县市")[1].splitlines()[0]


def test_docx_breakdown(docx_text):
    # 轮台县 points row: 15.00 | 6.67 | 11.79 | 7.69 | 12.50 | 3.00 | 2.50 | 2.50 | 4.17 | 65.81
    assert "轮台县 | 15.00 | 6.67 | 11.79 | 7.69 | 12.50 | 3.00 | 2.50 | 2.50 | 4.17 | 65.81" in docx_text
    assert "尉犁县 | 20.00 | 0.00 | 15.00 | 不适用 | 不适用 | 0.00 | 不适用 | 5.00 | 0.42 | 57.74" in docx_text
    # biennial section for 2020–2021: 轮台县 progress 90.0%, total 70.65
    assert "两年评估" in docx_text and "轮台县 | — | 65.81 | 65.81 | 90.0% | 70.65 | 差" in docx_text


def test_docx_open_signals_and_quality(docx_text):
    # open: s1 (high) and s3 (a county-level signal of 2021-03); s2 settled, s4 of 2022
    assert "DUP_SAME_YEAR" in docx_text and "LATE_REPORT" in docx_text
    assert "NOTICE_SHORT" not in docx_text and "POST_2000" not in docx_text
    assert "风险线索共2条" in docx_text
    # the 2021 submissions: 轮台县 1 accepted, 1 duplicate, 4 rows, 1 quarantined; 尉犁县 1 rejected
    assert "轮台县 | 1 | 1 | 0 | 4 | 1" in docx_text
    assert "尉犁县 | 0 | 0 | 1 | 0 | 0" in docx_text
    assert "NOT_A_NUMBER | 隔离 | 1 | 1" in docx_text
    # on-time monthly reports, from the indicators
    assert "轮台县 | 12 | 10 | 83.3%" in docx_text


def test_docx_has_charts(db, tmp_path):
    out = tmp_path / "r.docx"
    assert report.run_report(db, 2021, out) == 0
    assert len(Document(str(out)).inline_shapes) == 2


def test_report_without_signal_module(tmp_path):
    con = example_warehouse()
    con.execute("drop table if exists marts.signals")
    db = _save(con, tmp_path / "w.duckdb")  # scores mart empty too: computed from the indicators
    out = tmp_path / "r.docx"
    assert report.run_report(db, 2022, out) == 0
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "风险线索模块尚未产生结果" in text
    assert "截至2022-01" in text  # the year in progress


def test_report_year_without_data(db, tmp_path, capsys):
    assert report.run_report(db, 2019, tmp_path / "r.docx") == 1
    assert not (tmp_path / "r.docx").exists()
    assert "没有数据" in capsys.readouterr().err


def test_report_bad_suffix(db, tmp_path):
    assert report.run_report(db, 2021, tmp_path / "r.txt") == 2


def test_ranking_ties():
    s = [scoring.Score(c, 2021, "annual", (), t, "", "", c, 0) for c, t in (("a", 80), ("b", 90), ("c", 80), ("d", 70))]
    assert document._ranks(s) == {"b": 1, "a": 2, "c": 2, "d": 4}


@needs_soffice
@needs_poppler
def test_pdf_page1_not_blank_and_chinese_readable(db, tmp_path):
    from PIL import Image

    out = tmp_path / "r.pdf"
    assert report.run_report(db, 2021, out) == 0
    assert out.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(out), str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    img = Image.open(png).convert("L")
    dark = sum(img.histogram()[:200])  # pixels darker than light grey
    assert dark / (img.width * img.height) > 0.01  # text and tables, not an empty page
    # the Chinese is real text in an embedded CJK font, not tofu boxes
    text = subprocess.run(["pdftotext", "-l", "1", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "巴州城镇老旧小区改造2021年度体检评估报告" in text.replace(" ", "")
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts
