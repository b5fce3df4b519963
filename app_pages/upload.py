"""数据上报 — counties: upload workbooks, see at once what was accepted or rejected and why; history; missing and late reports."""

import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded
from pipelines import charts as ch
from pipelines import templates
from pipelines.read import actions
from pipelines.read import clock as qc
from pipelines.read import submissions as qsub

STATUS = {"accepted": "已入库", "duplicate": "已存在(重复文件)", "rejected": "已拒收"}
KIND = {"ledger": "台账", "plan": "计划", "monthly": "月报"}

f = filters()
st.header(f"数据上报 · {f.unit_name}")

# empty templates with the expected header and a sheet of instructions (pipelines.templates)
t = st.columns([1.4, 1, 1, 1], vertical_alignment="center")
t[0].caption("下载空白模板(含「填表说明」工作表):")
for col, kind in zip(t[1:], templates.KIND_TITLES):
    col.download_button(f"{KIND[kind]}模板", templates.template_getter(kind), file_name=templates.template_file_name(kind),
                        mime=templates.XLSX_MIME, icon=":material/download:", on_click="ignore", width="stretch")

limit = actions.max_upload_bytes()
with st.form("upload_form", clear_on_submit=True):
    files = st.file_uploader(
        f"上传台账、年度计划或月报工作簿(可多选;.xlsx / .xls / .csv;单个文件不超过 {limit // 1024 // 1024} MB)",
        type=["xlsx", "xls", "csv"], accept_multiple_files=True)
    submitted = st.form_submit_button("开始导入", type="primary")

if submitted:
    if not files:
        st.warning("请先选择要上传的文件。")
    else:
        too_big = [u.name for u in files if u.size > limit]
        ok = [u for u in files if u.size <= limit]
        results = [{"文件": n, "状态": STATUS["rejected"], "类型": "—", "县市": "—", "期间": "—", "入库行数": 0,
                    "隔离行数": 0, "说明": f"文件超过 {limit // 1024 // 1024} MB,未导入"} for n in too_big]
        details = []
        if ok:
            try:
                with tempfile.TemporaryDirectory(prefix="upload-") as tmp, st.spinner(f"正在导入 {len(ok)} 个文件 …"):
                    paths = []
                    for i, u in enumerate(ok):
                        # one folder per file keeps the submitted name even when two uploads share it
                        d = Path(tmp) / f"{i:03d}"
                        d.mkdir()
                        p = d / Path(u.name).name
                        p.write_bytes(u.getbuffer())
                        paths.append(p)
                    out = actions.ingest_files(paths)
                for r in out:
                    name = Path(r.file).name
                    results.append({"文件": name, "状态": STATUS.get(r.status, r.status), "类型": KIND.get(r.kind, "未识别"),
                                    "县市": getattr(r, "county", None) or "—", "期间": getattr(r, "period", None) or "—",
                                    "入库行数": r.rows, "隔离行数": r.rejected_rows,
                                    "说明": r.messages[0] if r.messages else ""})
                    if r.messages:
                        details.append((name, r.status, r.messages))
            except Exception:
                import logging

                logging.getLogger("dashboard").exception("upload failed")
                st.error("导入失败:数据仓库暂时无法写入(可能有其他导入正在进行),已导入的数据未受影响。请稍后重试。")
        st.session_state["upload_results"] = (results, details)

if "upload_results" in st.session_state:
    results, details = st.session_state["upload_results"]
    n = {k: sum(1 for r in results if r["状态"] == v) for k, v in STATUS.items()}
    st.subheader(f"本次导入结果:已入库 {n['accepted']} 个,重复 {n['duplicate']} 个,拒收 {n['rejected']} 个")
    st.dataframe(pl.DataFrame(results), hide_index=True, width="stretch")
    for name, status, messages in details:
        icon = {"accepted": ":material/check_circle:", "duplicate": ":material/content_copy:"}.get(status, ":material/block:")
        with st.expander(f"{STATUS.get(status, status)}:{name}({len(messages)} 条说明)", expanded=status == "rejected",
                         icon=icon):
            st.markdown("\n".join(f"- {m}" for m in messages))

with guarded("报送情况"):
    clock = qc.data_clock()
    if clock:
        st.subheader("数据时钟与各县市最新报送月份")
        st.caption(f"{qc.clock_caption(clock)}。某月月报的截止日为次月 {clock['report_due_day']} 日;截止日不晚于"
                   "所收报表中最新的填报日期(任一县市、任一类报表)时,该月为应报月份。提前报送的县市不会使其他县市显示为缺报。")
        st.dataframe(
            qc.county_clock(f.unit), hide_index=True, width="stretch",
            column_config={"county_name": "县市",
                           "latest_report_month": st.column_config.DateColumn("最新报送月份", format="YYYY-MM"),
                           "latest_fill_date": st.column_config.DateColumn("最新填报日期", format="YYYY-MM-DD"),
                           "count_months_reported": "已报月数",
                           "latest_due_month": st.column_config.DateColumn("应报至", format="YYYY-MM"),
                           "is_up_to_date": st.column_config.CheckboxColumn("已报至应报月份"),
                           "count_months_behind": "落后月数"})
    if f.year is not None:
        st.subheader(f"{f.year} 年月报报送情况")
        rep = qsub.reporting_status(f.year, f.unit)
        missing = rep.filter(~pl.col("has_report"))
        late = rep.filter(pl.col("is_late"))
        c = st.columns(3)
        c[0].metric("应报月报", ch.fmt_count(rep.height, "期"), border=True)
        c[1].metric("缺报", ch.fmt_count(missing.height, "期"), border=True)
        c[2].metric("迟报", ch.fmt_count(late.height, "期"), border=True)
        st.plotly_chart(ch.reporting_figure(rep), width="stretch", config={"displaylogo": False})
        if missing.height or late.height:
            st.dataframe(
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
    t1, t2 = st.tabs(["已入库文件(按县市、类型、期间)", "导入日志(含拒收与重复)"])
    hist = qsub.submission_history(f.year, f.unit)
    t1.dataframe(
        hist.with_columns(pl.col("kind").replace_strict(KIND, default="未识别")), hide_index=True, width="stretch",
        height=320,
        column_config={"county_name": "县市", "kind": "类型", "period": "期间", "file_name": "文件",
                       "fill_date": st.column_config.DateColumn("填报日期", format="YYYY-MM-DD"), "ingested_at": st.column_config.DatetimeColumn("入库时间", format="YYYY-MM-DD HH:mm"),
                       "row_count": "行数", "rejected_row_count": "隔离行数", "submission_rank": "版本(1=现行)",
                       "is_current": st.column_config.CheckboxColumn("现行"),
                       "is_first_submission": st.column_config.CheckboxColumn("首次报送"),
                       "count_submissions": "报送次数"})
    log = qsub.ingest_log(f.unit)
    t2.dataframe(
        log.with_columns(pl.col("status").replace_strict(STATUS, default=""), pl.col("kind").replace_strict(KIND, default="未识别")),
        hide_index=True, width="stretch", height=320,
        column_config={"logged_at": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm"), "batch_id": "批次",
                       "file_name": "文件", "status": "状态", "kind": "类型", "county_name": "县市",
                       "report_month": "报告期", "rows": "入库行数", "rejected_rows": "隔离行数", "messages": "说明"})
