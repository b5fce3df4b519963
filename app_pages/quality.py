"""数据质量 — validation results per submission (Great Expectations), quarantined rows and findings,
and each batch's validation in detail (rendered here, in Chinese: the page never loads GX)."""

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, require, table
from pipelines import charts as ch
from pipelines.read import quality as qq
from pipelines.read import submissions

KIND = {"ledger": "台账", "plan": "计划", "monthly": "月报"}

user = require("quality")
sc = user.scope
f = filters()
st.header(f"数据质量 · {f.unit_name}")

with guarded("校验结果"):
    vr = qq.validation_results(sc, f.prefecture)
    issues = qq.row_issues(sc, f.unit, f.prefecture)
    log = submissions.ingest_log(sc, f.unit, 1000, f.prefecture)
    n = qq.file_counts(sc, f.unit, f.prefecture)
    k = st.columns(5)
    k[0].metric("导入文件", ch.fmt_count(n["count_files"]), f"另有重复上传 {n['count_repeated']} 次",
                delta_color="off", delta_arrow="off", border=True, help=f"按文件内容计数,同一文件多次上传只计一次(共导入 {n['count_attempts']} 次)")
    k[1].metric("拒收文件", ch.fmt_count(n["count_rejected"]), border=True)
    k[2].metric("隔离行", ch.fmt_count(issues.filter(pl.col("severity") == "reject").height, "行"), border=True)
    k[3].metric("数据问题提示", ch.fmt_count(issues.filter(pl.col("severity") != "reject").height, "条"), border=True)
    failed = vr.filter(~pl.col("success"))
    k[4].metric("未通过的校验", ch.fmt_count(failed.height, "项"), f"共 {vr.height} 项", delta_color="off", delta_arrow="off", border=True)

    # lazy tabs: only the chosen one runs and is drawn (a page switch or a filter change draws its tables only)
    t1, t2, t3, t4 = st.tabs(["各批次校验结果", "隔离行与问题", "拒收文件", "校验明细(按批次)"], key="quality_tab",
                             on_change="rerun")
    if t1.open:
        with t1:
            if vr.is_empty():
                st.info("尚无校验结果。")
            else:
                batches = (vr.group_by("batch_id", "kind", "suite_name")
                           .agg(pl.col("validated_at").max(), pl.len().alias("expectations"),
                                (~pl.col("success")).sum().alias("failed"), pl.col("unexpected_count").sum().alias("unexpected"))
                           .sort("validated_at", descending=True)
                           .with_columns(pl.col("kind").replace_strict(KIND, default="其他")))
                table(st, batches, hide_index=True, width="stretch",
                             column_config={"batch_id": "批次", "kind": "类型", "suite_name": "校验套件",
                                            "validated_at": st.column_config.DatetimeColumn("校验时间", format="YYYY-MM-DD HH:mm"),
                                            "expectations": "校验项", "failed": "未通过", "unexpected": "异常值个数"})
                only_failed = st.toggle("只看未通过的校验项", value=True)
                shown = failed if only_failed else vr
                if shown.is_empty():
                    st.success("所有批次的校验项均已通过。", icon=":material/check_circle:")
                table(st, shown.select("batch_id", pl.col("kind").replace_strict(KIND, default="其他"), "suite_name",
                                       "expectation_name", "description", "field", "success", "element_count", "unexpected_count"),
                             hide_index=True, width="stretch",
                             column_config={"batch_id": "批次", "kind": "类型", "suite_name": "套件", "expectation_name": "校验项",
                                            "description": "说明", "field": "字段",
                                            "success": st.column_config.CheckboxColumn("通过"),
                                            "element_count": "检查行数", "unexpected_count": "异常行数"})
    if t2.open:
        with t2:
            corrected = issues.filter(pl.col("is_corrected")).height
            if corrected:
                st.caption(f"其中 {corrected:,} 行已由之后报送并入库的同一县市、同一期文件更正(标为「已更正」)。")
            table(st, issues.select(
                "file_name", "county_name", pl.col("kind").replace_strict(KIND, default="其他"), "sheet_name", "row_number",
                "column_name", "issue",
                pl.when(pl.col("severity") != "reject").then(pl.lit("提示(已入库)"))
                .when(pl.col("is_corrected")).then(pl.lit("已更正")).otherwise(pl.lit("隔离(未入库)")).alias("severity"),
                "value", "message"),
                hide_index=True, width="stretch", height=380,
                column_config={"file_name": "文件", "county_name": "县市", "kind": "类型", "sheet_name": "工作表",
                               "row_number": "行", "column_name": "列", "issue": "问题", "severity": "处理",
                               "value": "原值", "message": "说明"})
    if t3.open:
        with t3:
            rej = log.filter(pl.col("status") == "rejected")
            if rej.is_empty():
                st.success("没有被拒收的文件。")
            else:
                table(st, rej.select("logged_at", "file_name", "county_name", pl.col("kind").replace_strict(KIND, default="未识别"),
                                        "messages"), hide_index=True,
                             width="stretch", column_config={
                                 "logged_at": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm"),
                                 "file_name": "文件", "county_name": "县市", "kind": "类型", "messages": "拒收原因"})
    if t4.open:
        with t4:
            batches = qq.validation_batches(sc, f.prefecture)
            if batches.is_empty():
                st.info("尚无校验记录:导入数据后,每一批次的校验结果显示在这里。", icon=":material/info:")
            else:
                labels = {r["batch_id"]: f"{r['validated_at']:%Y-%m-%d %H:%M} · {r['count_files']} 个文件 · "
                                         f"{'、'.join(KIND.get(k, k) for k in (r['kinds'] or '').split(',') if k)} · "
                                         + (f"{r['count_failed']} 项未通过" if r["count_failed"] else "全部通过")
                          for r in batches.iter_rows(named=True)}
                batch = st.selectbox(f"校验批次(共 {len(labels)} 批,最新的在前)", list(labels), format_func=labels.get)
                st.caption("每批导入的数据按类型(台账、计划、月报)逐项校验(Great Expectations);"
                           "下表为各校验项的结果,其下为该批文件中被隔离的行和数据问题。")
                res = qq.batch_results(sc, batch)
                for kind in res["kind"].unique(maintain_order=True).to_list():
                    part = res.filter(pl.col("kind") == kind)
                    bad = part.filter(~pl.col("success")).height
                    st.markdown(f"**{KIND.get(kind, kind)}**:{part.height} 项校验," + (f"{bad} 项未通过" if bad else "全部通过"))
                    table(st, part.select(pl.when(pl.col("success")).then(pl.lit("通过")).otherwise(pl.lit("未通过")).alias("result"),
                                             "expectation_name", "field", "description", "element_count", "unexpected_count"),
                                 hide_index=True, width="stretch",
                                 column_config={"result": "结果", "expectation_name": "校验项", "field": "字段",
                                                "description": "校验规则", "element_count": "检查行数",
                                                "unexpected_count": "异常行数"})
                rows = qq.batch_row_issues(sc, batch, f.unit, f.prefecture)
                st.markdown(f"**本批被隔离的行与数据问题**:{rows.height} 条")
                if rows.height:
                    table(st, rows.with_columns(
                        pl.col("severity").replace_strict({"reject": "隔离(未入库)", "finding": "提示(已入库)"}, default=""),
                        pl.col("county_name").fill_null("—"),
                        pl.col("kind").replace_strict(KIND, default="其他")),
                        hide_index=True, width="stretch",
                        column_config={"file_name": "文件", "county_name": "县市", "kind": "类型", "sheet_name": "工作表",
                                       "row_number": "行", "column_name": "列", "severity": "处理", "value": "原值",
                                       "message": "说明"})
