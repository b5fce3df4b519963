"""Ingest end to end: the layers, idempotency, resubmission, and every bad-input case."""

from __future__ import annotations

import io
import json
import zipfile

from msoffcrypto.format.ooxml import OOXMLFile
import pytest
import xlsxwriter

import workbooks as W
from backends import LAKE, copy_of, open_db
from conftest import TODAY
from pipelines import cli
from pipelines.ingest import ingest_paths


pytestmark = pytest.mark.warehouse


def q(db, sql, params=None):
    con = open_db(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def counts(db):
    return {t: q(db, f"select count(*) from {t}")[0][0]
            for t in ("raw.submissions", "raw.source_rows", "staging.ledger_rows", "staging.plan_rows",
                      "staging.report_rows", "core.report_rows", "core.plan_rows")}


def test_layers_hold_every_row_with_its_origin(small_db):
    # 7 ledger + 3 plan + 6×3 report rows, plus the plan's totals row in raw
    assert counts(small_db) == {
        "raw.submissions": 8, "raw.source_rows": 7 + 4 + 18, "staging.ledger_rows": 7, "staging.plan_rows": 3,
        "staging.report_rows": 18, "core.report_rows": 18, "core.plan_rows": 3,
    }
    cells = q(small_db, "select cells from raw.source_rows join raw.submissions using (file_id) "
                        "where kind = 'plan' and row_type = 'data' order by row_number limit 1")[0][0]
    assert json.loads(cells)["小区名称"] == "团结小区"
    # every core row points back to its file, sheet and row
    assert q(small_db, "select file_name, sheet_name, row_number from core.plan_rows order by row_number limit 1") == [
        ("轮台县2021年改造计划.xlsx", "计划", 4)
    ]


def test_plan_and_reports_are_linked(small_db):
    links = q(small_db, "select p.name, c.name, l.explanation from core.plan_rows p "
                        "join core.identity_links l on l.kind = 'plan_ledger' and l.from_id = p.plan_row_id "
                        "left join core.ledger_communities c on l.is_match and c.community_id = l.to_id order by p.row_number")
    assert [(p, c) for p, c, _ in links] == [("团结小区", "团结小区"), ("幸福住宅小区", "幸福小区"), ("雪莲花园（二期）", "雪莲花园二期")]
    assert links[1][2].startswith("名称:小区字样「住宅小区」=「小区」")
    unlinked = q(small_db, "select count(*) from core.identity_links where kind = 'report_plan' and not is_match")[0][0]
    assert unlinked == 0


def test_same_file_twice_changes_nothing(small_set, db_copy):
    before = counts(db_copy)
    results = ingest_paths([small_set], db_path=db_copy, today=TODAY)
    assert {r.status for r in results} == {"duplicate"}
    assert counts(db_copy) == before


def test_resubmission_replaces_in_current_view_and_keeps_the_old(tmp_path, db_copy):
    rows = W.monthly_rows(6)
    rows[0][8] = 70  # 团结小区 形象进度 60 -> 70 in a resubmission filled later
    new = W.monthly(tmp_path, 6, fill="2021年7月20日", name="轮台县月报2021-06(更正).xlsx", rows=rows)
    [r] = ingest_paths([new], db_path=db_copy, today=TODAY)
    assert r.status == "accepted"
    current = q(db_copy, "select pct_progress, file_name from core.report_rows "
                         "where name = '团结小区' and report_month = date '2021-06-01'")
    assert current == [(70.0, "轮台县月报2021-06(更正).xlsx")]
    history = q(db_copy, "select pct_progress, submission_rank from core.report_rows_history "
                         "where name = '团结小区' and report_month = date '2021-06-01' order by submission_rank")
    assert history == [(70.0, 1), (60.0, 2)]


def test_an_older_fill_date_does_not_replace_a_newer_one(tmp_path, db_copy):
    rows = W.monthly_rows(6)
    rows[0][8] = 10
    old = W.monthly(tmp_path, 6, fill="2021年7月1日", name="轮台县月报2021-06(早).xlsx", rows=rows)
    ingest_paths([old], db_path=db_copy, today=TODAY)  # ingested later, but filled before 2021-07-03
    assert q(db_copy, "select pct_progress from core.report_rows where name = '团结小区' "
                      "and report_month = date '2021-06-01'") == [(60.0,)]


def _bad_files(d):
    """One file per bad-input case of input-formats.md; name -> words its message must hold."""
    cases = {}
    (d / "说明.pdf").write_bytes(b"%PDF-1.4 not a workbook")
    cases["说明.pdf"] = "不支持的文件类型"  # given by name: folders are searched for workbooks only
    (d / "伪装.xlsx").write_bytes(b"%PDF-1.4 a pdf renamed")
    cases["伪装.xlsx"] = "损坏"
    (d / "损坏.xlsx").write_bytes(b"PK\x03\x04 this is not a zip at all")
    cases["损坏.xlsx"] = "损坏"
    # a web page a system exported as .xls, a WPS file that is no workbook: the clerk is told what to do
    (d / "网页导出.xls").write_bytes("<html><table><tr><td>县市</td></tr></table></html>".encode())
    cases["网页导出.xls"] = "另存为 .xlsx 后重新提交"
    (d / "WPS表格.et").write_bytes(b"\x00\x01 not a workbook of any format")
    cases["WPS表格.et"] = "另存为 .xlsx 后重新提交"
    plain = W.ledger(d, "待加密.xlsx")
    enc = io.BytesIO()
    with plain.open("rb") as f:
        OOXMLFile(f).encrypt("123456", enc)
    (d / "加密台账.xlsx").write_bytes(enc.getvalue())
    plain.unlink()
    cases["加密台账.xlsx"] = "密码"
    wb = xlsxwriter.Workbook(str(d / "空表.xlsx"))
    wb.add_worksheet("台账")
    wb.close()
    cases["空表.xlsx"] = "没有任何数据"
    W.write_xlsx(d / "无表头.xlsx", ["说明"], [["本表数据见附件"], ["谢谢"]])
    cases["无表头.xlsx"] = "找不到表头行"
    header = [h for h in W.LEDGER_HEADER if h != "户数"]
    W.write_xlsx(d / "缺列台账.xlsx", header, [r[:7] + r[8:] for r in W.LEDGER_ROWS])
    cases["缺列台账.xlsx"] = "缺少必填列 「户数」"
    W.write_xlsx(d / "重复表头台账.xlsx", W.LEDGER_HEADER + ["居民户数"], [r + [1] for r in W.LEDGER_ROWS])
    cases["重复表头台账.xlsx"] = "表头重复"
    with zipfile.ZipFile(d / "压缩炸弹.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (30 * 2**20))  # 30 MiB of zeros in ~30 KiB
    cases["压缩炸弹.xlsx"] = "压缩炸弹"
    return cases


def test_every_bad_file_is_rejected_cleanly_and_the_batch_still_loads(tmp_path, small_db):
    db = copy_of(small_db, tmp_path)
    before = counts(db)
    d = tmp_path / "batch"
    d.mkdir()
    cases = _bad_files(d)
    good = W.monthly(d, 7)  # a good file in the same batch
    results = {r.file.split("/")[-1]: r for r in ingest_paths([d, d / "说明.pdf"], db_path=db, today=TODAY)}
    assert results[good.name].status == "accepted" and results[good.name].rows == 3
    for name, words in cases.items():
        r = results[name]
        assert r.status == "rejected", name
        assert any(words in m and f"文件「{name}」" in m for m in r.messages), (name, r.messages)
    after = counts(db)
    assert after["raw.submissions"] == before["raw.submissions"] + 1
    assert after["staging.report_rows"] == before["staging.report_rows"] + 3
    assert after["staging.ledger_rows"] == before["staging.ledger_rows"]
    logged = q(db, "select status, count(*) from raw.ingest_log where file_name in (select unnest(?)) group by 1",
               [list(cases)])
    assert logged == [("rejected", len(cases))]


def test_a_workbook_saved_by_wps_as_et_in_a_folder_is_loaded_not_skipped(tmp_path, db_copy):
    """WPS 表格 names its files .et; one holding an Excel workbook loads like any other, and a folder
    import does not pass it over unseen."""
    d = tmp_path / "folder"
    d.mkdir()
    book = W.monthly(d, 7)
    et = book.rename(book.with_suffix(".et"))
    [r] = ingest_paths([d], db_path=db_copy, today=TODAY)
    assert r.file.endswith(et.name) and r.status == "accepted" and r.rows == 3, r


def test_a_future_fill_date_in_the_title_is_located_in_the_title_not_in_a_column(tmp_path, db_copy):
    """填报日期 written above the header (no such column) and in the future (2062 for 2026): each row is
    refused, and the message says where the date was written instead of naming a column ``?``."""
    book = W.monthly(tmp_path, 7, fill="2062年8月3日", name="轮台县月报2021-07.xlsx")
    [r] = ingest_paths([book], db_path=db_copy, today=TODAY)
    assert r.status == "rejected"
    rows = [m for m in r.messages if "第 " in m and " 行" in m]
    assert rows and all("? 列" not in m for m in r.messages), r.messages
    assert all("取自表头上方的标题行" in m and "2062年8月3日" in m and "不能是未来的日期" in m for m in rows), rows


def test_bad_values_reject_their_row_only_with_a_located_message(tmp_path, db_copy):
    rows = W.monthly_rows(7)
    rows[0][4] = "二百六十"      # text in a number column (户数, column E)
    rows[1][9] = -5              # negative 累计完成投资 (column J)
    rows[2][8] = 120             # 形象进度 over 100 (column I)
    path = W.monthly(tmp_path, 7, rows=rows + [
        ["轮台县", 2021, "", "团结北小区", 180, 500, 0, "2031-01-01", 10, 10, 0, "", "", ""],  # 开工日期 in the future
        ["轮台县", 2021, "", "文化小区", 90, 300, 0, "1948-12-31", 10, 10, 0, "", "", ""],    # before 1949
        ["乌鲁木齐市", 2021, "", "外地小区", 90, 300, 0, "", 0, 0, 0, "", "", ""],          # unknown county
        ["轮台县", 2021, "", "好小区", 90, 300, 0, "2021-05-01", 50, 150, 20, "", "", ""],    # good
    ])
    [r] = ingest_paths([path], db_path=db_copy, today=TODAY)
    assert (r.status, r.rows, r.rejected_rows) == ("accepted", 1, 6)
    text = "\n".join(r.messages)
    sheet = f"文件「{path.name}」,工作表「月报」"
    assert f"{sheet},第 4 行,E 列「户数」:应为数字,实际为「二百六十」" in text
    assert f"{sheet},第 5 行,J 列「累计完成投资(万元)」:「累计完成投资」应在 0–50000 万元之间,实际为「-5」" in text
    assert f"{sheet},第 6 行,I 列「形象进度(%)」:「形象进度」应在 0–100% 之间,实际为「120」" in text
    assert "第 7 行,H 列「开工日期」" in text and "不能是未来的日期" in text
    assert "第 8 行,H 列「开工日期」" in text and "1949-01-01" in text
    assert "第 9 行,A 列「县市」:「乌鲁木齐市」不是巴州的县市" in text
    issues = q(db_copy, "select row_number, field from raw.row_issues join raw.submissions using (file_id) "
                        "where file_name = ? and severity = 'reject' order by row_number", [path.name])
    assert issues == [(4, "households"), (5, "invest_done_wan_yuan"), (6, "pct_progress"), (7, "start_date"),
                      (8, "start_date"), (9, "county")]
    assert q(db_copy, "select name from core.report_rows where report_month = date '2021-07-01'") == [("好小区",)]


def test_impossible_month_in_column_rejects_the_row(tmp_path, db_copy):
    header = ["报告期", *W.MONTHLY_HEADER]
    rows = [["2021-13", *W.monthly_rows(7)[0]], ["2021-07", *W.monthly_rows(7)[1]]]
    [r] = ingest_paths([W.write_xlsx(tmp_path / "轮台县月报.xlsx", header, rows)], db_path=db_copy, today=TODAY)
    assert (r.status, r.rows, r.rejected_rows) == ("accepted", 1, 1)
    assert any("A 列「报告期」:月份不存在:2021年13月" in m for m in r.messages)


def test_huge_sheet_is_rejected(tmp_path, db_copy):
    path = tmp_path / "巨大台账.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, W.LEDGER_HEADER)
    for i in range(1, 100_001):
        ws.write_row(i, 0, ["轮台县", "", "", f"小区{i}", "", 1990, 1, 10, 700, ""])
    wb.close()
    [r] = ingest_paths([path], db_path=db_copy, today=TODAY)
    assert r.status == "rejected" and "超过上限" in r.messages[0]


def test_a_file_that_fails_while_loading_leaves_nothing(tmp_path, db_copy, monkeypatch):
    import pipelines.loading as loading

    before = counts(db_copy)
    monkeypatch.setitem(loading.STAGING_TABLE, "monthly", "staging.no_such_table")
    [r] = ingest_paths([W.monthly(tmp_path, 8)], db_path=db_copy, today=TODAY)
    assert r.status == "rejected" and "未入库" in r.messages[0]
    assert counts(db_copy) == before


def test_cli_exit_codes_and_json(tmp_path, db_copy, capsys):
    good = W.monthly(tmp_path, 9)
    assert cli.main(["ingest", "--db", str(db_copy), "--json", str(good)]) == 0
    line = json.loads(capsys.readouterr().out.strip())
    assert {k: line[k] for k in ("status", "kind", "rows", "rejected_rows")} == {
        "status": "accepted", "kind": "monthly", "rows": 3, "rejected_rows": 0}
    (tmp_path / "坏.xlsx").write_bytes(b"garbage")
    assert cli.main(["ingest", "--db", str(db_copy), "--json", str(good), str(tmp_path / "坏.xlsx")]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [x["status"] for x in lines] == ["duplicate", "rejected"]
    with pytest.raises(SystemExit) as e:
        cli.main(["ingest", "--db", str(db_copy)])  # no path: a usage error
    assert e.value.code == 2
    assert "用法错误" in capsys.readouterr().err


def _hold(db, seconds: float, read_only: bool = True):
    """Another process (the dashboard, say) holding the warehouse open for ``seconds``."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}, "
                               f"read_only={read_only}); print('ok', flush=True); time.sleep({seconds})"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ok"
    return holder


@pytest.mark.skipif(LAKE, reason="an embedded file's lock; a DuckLake has readers and writers at once")
def test_cli_waits_for_a_warehouse_held_by_another_program(tmp_path, db_copy, capsys):
    holder = _hold(db_copy, 3)
    try:
        code = cli.main(["ingest", "--db", str(db_copy), str(W.monthly(tmp_path, 10))])
    finally:
        holder.kill()
    err = capsys.readouterr().err
    assert code == 0 and "等待数据仓库空闲" in err and "已入库" in err and "Traceback" not in err
    assert q(db_copy, "select count(*) from raw.submissions")[0][0] == 9


@pytest.mark.skipif(LAKE, reason="an embedded file's lock; a DuckLake has readers and writers at once")
def test_cli_gives_up_on_a_busy_warehouse_after_its_wait_changing_nothing(tmp_path, db_copy, capsys, monkeypatch):
    from pipelines import locking

    monkeypatch.setattr(locking, "waits", lambda: {"writer_wait_seconds": 1.0, "reader_wait_seconds": 1.0})
    holder = _hold(db_copy, 60)
    try:
        code = cli.main(["ingest", "--db", str(db_copy), str(W.monthly(tmp_path, 10))])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 1 and "正忙" in err and "已等待 1 秒" in err and "Traceback" not in err
    assert q(db_copy, "select count(*) from raw.submissions")[0][0] == 8


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, db_copy, monkeypatch):
    import pipelines.ingest as ingest

    big = tmp_path / "大文件.xlsx"
    big.write_bytes(b"PK\x03\x04" + b"\0" * 4096)
    monkeypatch.setattr(ingest, "limits", lambda: {"max_file_bytes": 1024})
    monkeypatch.setattr(ingest, "_sha256", lambda p: pytest.fail("an oversized file must not be read"))
    [r] = ingest_paths([big], db_path=db_copy, today=TODAY)
    assert r.status == "rejected" and "文件过大" in r.messages[0] and "文件「大文件.xlsx」" in r.messages[0]


def test_a_command_line_import_prints_only_chinese_lines(tmp_path, db_copy):
    """GX sets some of its own loggers to INFO; their English lines (Created temporary directory …
    for ephemeral docs site) no longer reach the operator's output past the program's WARNING level."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from backends import env

    root = Path(__file__).resolve().parent.parent
    book = W.monthly(tmp_path, 7)
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", "--db", str(db_copy), str(book)], cwd=root,
                         capture_output=True, text=True, timeout=300, env={**os.environ, **env(db_copy)})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert lines and all(re.search(r"[\u4e00-\u9fff]", x) for x in lines), lines
    assert not any("INFO" in x or "great_expectations" in x for x in lines), lines


def test_the_command_line_help_and_usage_errors_are_in_chinese(capsys):
    """argparse's own texts (positional arguments, options, the following arguments are required …)
    are shown in Chinese, like the descriptions beside them."""
    import re

    english = re.compile(r"positional arguments|options:|show this help|arguments are required|invalid choice|"
                         r"unrecognized arguments|usage:")
    for argv in (["--help"], ["ingest", "--help"], ["users", "add", "--help"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert "用法:" in out and "显示本帮助并退出" in out and not english.search(out), out
    for argv, words in ((["ingest"], "缺少必需的参数"), (["nosuch"], "无效的取值 'nosuch'"),
                        (["ingest", "x.xlsx", "--nosuch"], "无法识别的参数:--nosuch")):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "用法错误:" in err and words in err and not english.search(err), err
