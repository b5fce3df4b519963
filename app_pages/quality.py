"""数据质量 — validation results per submission (Great Expectations), quarantined rows and findings, and the Data Docs."""

import base64

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, require
from pipelines import charts as ch
from pipelines.read import quality as qq
from pipelines.read import submissions

KIND = {"ledger": "台账", "plan": "计划", "monthly": "月报"}

user = require("quality")
sc = user.scope
f = filters()
st.header(f"数据质量 · {f.unit_name}")

with guarded("校验结果"):
    vr = qq.validation_results(sc)
    issues = qq.row_issues(sc, f.unit)
    log = submissions.ingest_log(sc, f.unit, 1000)
    k = st.columns(5)
    k[0].metric("导入文件", ch.fmt_count(log.height), border=True)
    k[1].metric("拒收文件", ch.fmt_count(log.filter(pl.col("status") == "rejected").height), border=True)
    k[2].metric("隔离行", ch.fmt_count(issues.filter(pl.col("severity") == "reject").height, "行"), border=True)
    k[3].metric("数据问题提示", ch.fmt_count(issues.filter(pl.col("severity") != "reject").height, "条"), border=True)
    failed = vr.filter(~pl.col("success"))
    k[4].metric("未通过的校验", ch.fmt_count(failed.height, "项"), f"共 {vr.height} 项", delta_color="off", delta_arrow="off", border=True)

    # the Data Docs hold every county's values: not for a clerk
    tabs = ["各批次校验结果", "隔离行与问题", "拒收文件"] + (["Great Expectations 数据文档"] if sc.can("data_docs") else [])
    t1, t2, t3, *t4 = st.tabs(tabs)
    with t1:
        if vr.is_empty():
            st.info("尚无校验结果。")
        else:
            batches = (vr.group_by("batch_id", "kind", "suite_name")
                       .agg(pl.col("validated_at").max(), pl.len().alias("expectations"),
                            (~pl.col("success")).sum().alias("failed"), pl.col("unexpected_count").sum().alias("unexpected"))
                       .sort("validated_at", descending=True)
                       .with_columns(pl.col("kind").replace_strict(KIND, default="其他")))
            st.dataframe(batches, hide_index=True, width="stretch",
                         column_config={"batch_id": "批次", "kind": "类型", "suite_name": "校验套件",
                                        "validated_at": st.column_config.DatetimeColumn("校验时间", format="YYYY-MM-DD HH:mm"),
                                        "expectations": "校验项", "failed": "未通过", "unexpected": "异常值个数"})
            only_failed = st.toggle("只看未通过的校验项", value=True)
            shown = failed if only_failed else vr
            if shown.is_empty():
                st.success("所有批次的校验项均已通过。", icon=":material/check_circle:")
            st.dataframe(shown.drop("validated_at").with_columns(pl.col("kind").replace_strict(KIND, default="其他")),
                         hide_index=True, width="stretch",
                         column_config={"batch_id": "批次", "kind": "类型", "suite_name": "套件", "expectation": "校验项",
                                        "description": "说明", "column_name": "字段",
                                        "success": st.column_config.CheckboxColumn("通过"),
                                        "element_count": "检查行数", "unexpected_count": "异常行数"})
    with t2:
        st.dataframe(issues.drop("file_id").with_columns(
            pl.col("severity").replace_strict({"reject": "隔离(未入库)", "finding": "提示(已入库)"}, default="")),
            hide_index=True, width="stretch", height=380,
            column_config={"file_name": "文件", "county_name": "县市", "kind": "类型", "sheet_name": "工作表",
                           "row_number": "行", "column_name": "列", "code": "问题代码", "severity": "处理",
                           "value": "原值", "message": "说明"})
    with t3:
        rej = log.filter(pl.col("status") == "rejected")
        if rej.is_empty():
            st.success("没有被拒收的文件。")
        else:
            st.dataframe(rej.select("logged_at", "file_name", "county_name", "kind", "messages"), hide_index=True,
                         width="stretch", column_config={
                             "logged_at": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm"),
                             "file_name": "文件", "county_name": "县市", "kind": "类型", "messages": "拒收原因"})
    for tab in t4:  # none for a clerk
        with tab:
            with st.spinner("正在准备数据文档(Great Expectations Data Docs)…"):
                docs = qq.data_docs_dir(sc)
            index = docs / "index.html" if docs else None
            pages = sorted(docs.rglob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True) if docs else []
            if not pages:
                st.info("数据文档尚未生成(导入数据后由 Great Expectations 渲染在数据仓库旁的 gx 目录中)。",
                        icon=":material/info:")
            else:
                names = [p.relative_to(docs).as_posix() for p in pages]
                if index.exists():  # the index fills its lists by script (from a CDN): the newest validation run first
                    names.remove("index.html")
                    names.append("index.html")
                chosen = st.selectbox(f"文档页面(共 {len(names)} 页,最新的在前)", names[:300])
                st.caption(f"本机路径:{docs / chosen}(在浏览器中直接打开可使用文档内的链接)")
                # a data: URL gives the page an opaque origin: whatever a validated cell holds, its
                # HTML cannot reach the app (an HTML string or file would be embedded same-origin)
                html = (docs / chosen).read_bytes()
                st.iframe("data:text/html;charset=utf-8;base64," + base64.b64encode(html).decode("ascii"), height=640)
