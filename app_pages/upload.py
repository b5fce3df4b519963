"""数据上报 — counties: upload workbooks, see at once what was accepted or rejected and why; history; missing and late reports."""

import logging
from pathlib import Path

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, plain, require, table
from pipelines import charts as ch
from pipelines import templates
from pipelines.locking import WarehouseError
from pipelines.read import actions
from pipelines.read import clock as qc
from pipelines.read import submissions as qsub

STATUS = {"accepted": "已入库", "duplicate": "已存在(重复文件)", "rejected": "已拒收"}
KIND = {"ledger": "台账", "plan": "计划", "monthly": "月报"}

user = require("submissions")
sc = user.scope
f = filters()
st.header(f"数据上报 · {f.unit_name}")

# empty templates with the expected header and a sheet of instructions (pipelines.templates)
t = st.columns([1.4, 1, 1, 1], vertical_alignment="center")
t[0].caption("下载空白模板(含「填表说明」工作表):")
for col, kind in zip(t[1:], templates.KIND_TITLES):
    col.download_button(f"{KIND[kind]}模板", templates.template_getter(kind), file_name=templates.template_file_name(kind),
                        mime=templates.XLSX_MIME, icon=":material/download:", on_click="ignore", width="stretch")

limit = actions.max_upload_bytes()
submitted, files = False, []
if sc.can("upload"):  # county clerks, for their own county
    with st.form("upload_form", clear_on_submit=True):
        files = st.file_uploader(
            f"上传{f.unit_name}的台账、年度计划或月报工作簿(可多选;.xlsx / .xls / .csv;单个文件不超过 {limit // 1024 // 1024} MB;"
            "其他县市的数据行将被拒收)",
            type=actions.accepted_types(), accept_multiple_files=True)
        submitted = st.form_submit_button("开始导入", type="primary")
else:
    st.caption("工作簿由各县市填报员上传(本页为报送情况与上报记录)。")

if submitted:
    if not files:
        st.warning("请先选择要上传的文件。")
    else:
        too_big = [u.name for u in files if u.size > limit]
        ok = [u for u in files if u.size <= limit]
        results = [{"文件": n, "状态": STATUS["rejected"], "类型": "—", "县市": "—", "期间": "—", "入库行数": 0,
                    "隔离行数": 0, "说明": f"文件超过 {limit // 1024 // 1024} MB,未导入"} for n in too_big]
        details = []
        refused_ids: list[int] = []
        if ok:
            queue = st.empty()  # 排队中… while another import (here or on the command line) runs
            try:
                with st.spinner(f"正在导入 {len(ok)} 个文件 …"):
                    out = actions.ingest_uploads([(u.name, u.getvalue()) for u in ok], user,
                                                 on_wait=lambda m: queue.info(m, icon=":material/hourglass_top:"))
                queue.empty()
                for r in out:
                    name = Path(r.file).name
                    status = STATUS.get(r.status, r.status)
                    if r.status == "accepted" and r.rejected_rows:
                        status = "已入库(部分行被拒收)"
                        refused_ids.append(r.file_id)
                    results.append({"文件": name, "状态": status, "类型": KIND.get(r.kind, "未识别"),
                                    "县市": getattr(r, "county", None) or "—", "期间": getattr(r, "period", None) or "—",
                                    "入库行数": r.rows, "隔离行数": r.rejected_rows,
                                    "说明": r.messages[0] if r.messages else ""})
                    if r.messages:
                        details.append((name, r.status, r.messages))
            except WarehouseError as exc:  # busy past the wait, or damaged: nothing was written
                queue.empty()
                st.error(f"本次上传的文件均未导入:{exc}")
            except Exception:
                queue.empty()
                logging.getLogger("dashboard").exception("upload failed")
                st.error("导入出错(系统故障,详情已记入服务器日志)。每次导入要么全部入库、要么完全不入库;"
                         "请查看下方「上报记录」确认哪些文件已入库,再重新上传其余文件。")
        st.session_state["upload_results"] = (results, details, refused_ids)

if "upload_results" in st.session_state:
    results, details, refused_ids = st.session_state["upload_results"]
    n = {k: sum(1 for r in results if r["状态"].startswith(v)) for k, v in STATUS.items()}
    refused = sum(r["隔离行数"] for r in results if r["状态"] != STATUS["rejected"])
    head = f"本次导入结果:已入库 {n['accepted']} 个,重复 {n['duplicate']} 个,拒收 {n['rejected']} 个"
    # a file with refused rows is not a plain success: the headline says how many rows were refused
    st.subheader(head + (f";{refused:,} 行数据被拒收(未入库)" if refused else ""))
    if refused:
        st.warning(f"有 {refused:,} 行数据未通过校验、被拒收(未入库),其余行已入库。请按下表所列单元格和原因改正后,"
                   "重新上传该县市该期的完整文件;改正后的数据入库后,这些行在「数据质量」页标为「已更正」。",
                   icon=":material/warning:")
    table(st, pl.DataFrame(results), hide_index=True, width="stretch")
    if refused_ids:
        with guarded("被拒收的行"):
            rows = qsub.refused_rows(sc, tuple(refused_ids))
            st.markdown(f"**被拒收的行**(共 {rows.height:,} 处)")
            table(st, rows, hide_index=True, width="stretch",
                         column_config={"file_name": "文件", "sheet_name": "工作表", "row_number": "行",
                                        "column_name": "列(单元格)", "value": "原值", "message": "原因"})
    for name, status, messages in details:
        icon = {"accepted": ":material/check_circle:", "duplicate": ":material/content_copy:"}.get(status, ":material/block:")
        label = STATUS.get(status, status)
        has_refused = any(r["文件"] == name and r["状态"] == "已入库(部分行被拒收)" for r in results)
        if has_refused:
            label, icon = "已入库(部分行被拒收)", ":material/warning:"
        # file names and messages quote what was submitted: plain() keeps them from acting as Markdown
        with st.expander(f"{label}:{plain(name)}({len(messages)} 条说明)", expanded=status == "rejected" or has_refused,
                         icon=icon):
            st.markdown("\n".join(f"- {plain(m)}" for m in messages))

with guarded("报送情况"):
    clock = qc.data_clock(sc)
    if clock:
        st.subheader("数据时钟与各县市最新报送月份")
        st.caption(f"{qc.clock_caption(clock)}。某月月报的截止日为次月 {clock['report_due_day']} 日;截止日不晚于"
                   "所收报表中最新的填报日期(任一县市、任一类报表)时,该月为应报月份。提前报送的县市不会使其他县市显示为缺报。")
        table(st, 
            qc.county_clock(sc, f.unit, f.prefecture), hide_index=True, width="stretch",
            column_config={"county_name": "县市",
                           "latest_report_month": st.column_config.DateColumn("最新报送月份", format="YYYY-MM"),
                           "latest_fill_date": st.column_config.DateColumn("最新填报日期", format="YYYY-MM-DD"),
                           "count_months_reported": "已报月数",
                           "latest_due_month": st.column_config.DateColumn("应报至", format="YYYY-MM"),
                           "is_up_to_date": st.column_config.CheckboxColumn("已报至应报月份"),
                           "count_months_behind": "落后月数"})
    if f.year is not None:
        st.subheader(f"{f.year} 年月报报送情况")
        rep = qsub.reporting_status(sc, f.year, f.unit, f.prefecture)
        missing = rep.filter(~pl.col("has_report"))
        late = rep.filter(pl.col("is_late"))
        c = st.columns(3)
        c[0].metric("应报月报", ch.fmt_count(rep.height, "期"), border=True)
        c[1].metric("缺报", ch.fmt_count(missing.height, "期"), border=True)
        c[2].metric("迟报", ch.fmt_count(late.height, "期"), border=True)
        st.plotly_chart(ch.reporting_figure(rep), width="stretch", config=ch.CHART_CONFIG)
        if missing.height or late.height:
            table(st, 
                pl.concat([
                    missing.select("county_name", "report_month", pl.lit("缺报").alias("问题"), "due_date", "first_fill_date"),
                    late.select("county_name", "report_month", pl.lit("迟报").alias("问题"), "due_date", "first_fill_date"),
                ]).sort("county_name", "report_month"),
                hide_index=True, width="stretch",
                column_config={"county_name": "县市", "report_month": "报告期",
                               "due_date": st.column_config.DateColumn("截止日期", format="YYYY-MM-DD"),
                               "first_fill_date": st.column_config.DateColumn("首次填报日期", format="YYYY-MM-DD")})

with guarded("上报记录"):
    st.subheader("上报记录")
    # lazy tabs: only the chosen one is queried and drawn
    t1, t2 = st.tabs(["已入库文件(按县市、类型、期间)", "导入日志(含拒收与重复)"], key="upload_records_tab",
                     on_change="rerun")
    if t1.open:
        hist = qsub.submission_history(sc, f.year, f.unit, f.prefecture)
        table(t1, hist.with_columns(pl.col("kind").replace_strict(KIND, default="未识别")), hide_index=True,
              width="stretch", height=320,
              column_config={"county_name": "县市", "kind": "类型", "period": "期间", "file_name": "文件",
                             "fill_date": st.column_config.DateColumn("填报日期", format="YYYY-MM-DD"),
                             "ingested_at": st.column_config.DatetimeColumn("入库时间", format="YYYY-MM-DD HH:mm"),
                             "row_count": "行数", "rejected_row_count": "隔离行数", "submission_rank": "版本(1=现行)",
                             "is_current": st.column_config.CheckboxColumn("现行"),
                             "is_first_submission": st.column_config.CheckboxColumn("首次报送"),
                             "count_submissions": "报送次数"})
    if t2.open:
        log = qsub.ingest_log(sc, f.unit, prefecture=f.prefecture)
        table(t2, log.with_columns(pl.col("status").replace_strict(STATUS, default=""),
                                   pl.col("kind").replace_strict(KIND, default="未识别")),
              hide_index=True, width="stretch", height=320,
              column_config={"logged_at": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm"),
                             "batch_id": "批次", "file_name": "文件", "status": "状态", "kind": "类型",
                             "county_name": "县市", "report_month": "报告期", "rows": "入库行数",
                             "rejected_rows": "隔离行数", "messages": "说明"})
