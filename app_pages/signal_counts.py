"""线索统计 — leadership, auditors, admins: signal counts per county and rule (no signal list, no evidence)."""

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, require, table
from pipelines import charts as ch
from pipelines.read import audit as qa

user = require("signal_counts")
sc = user.scope
f = filters()
st.header(f"线索统计 · {f.year or '全部'} 年")
st.caption("各县市、各规则的风险线索条数(线索是核查的理由,不是结论);线索清单与证据仅供州审计局核查。"
           "未办结:尚无「已确认」或「已排除」的生效结论。")

with guarded("线索统计"):
    counts = qa.signal_counts(sc, f.year, f.prefecture)
    if counts.is_empty():
        st.info("当前年度没有风险线索。", icon=":material/info:")
        st.stop()
    k = st.columns(4)
    k[0].metric("线索总数", ch.fmt_count(int(counts["count_signals"].sum()), "条"), border=True)
    k[1].metric("高风险线索", ch.fmt_count(int(counts.filter(pl.col("severity") == "high")["count_signals"].sum()), "条"),
                border=True)
    k[2].metric("未办结", ch.fmt_count(int(counts["count_open"].sum()), "条"), border=True)
    k[3].metric("涉及县市", ch.fmt_count(counts["county_name"].n_unique()), border=True)
    matrix = (counts.group_by("county_name", "sort_order", "rule_label", "rule_order").agg(pl.col("count_signals").sum())
              .sort("rule_order")
              .pivot(on="rule_label", index=["county_name", "sort_order"], values="count_signals", aggregate_function="sum")
              .sort("sort_order").drop("sort_order").fill_null(0).rename({"county_name": "县市"}))
    matrix = matrix.with_columns(pl.sum_horizontal(pl.exclude("县市")).alias("合计"))
    st.subheader("各县市 × 规则")
    table(st, matrix, hide_index=True, width="stretch")
    st.subheader("各规则合计")
    per_rule = (counts.group_by("rule_label", "rule_order", "severity")
                .agg(pl.col("count_signals").sum(), pl.col("count_open").sum(), pl.col("county_name").n_unique().alias("counties"))
                .sort("rule_order").drop("rule_order")
                .with_columns(pl.col("severity").replace_strict({"high": "高", "medium": "中", "low": "低"}, default="")))
    table(st, per_rule, hide_index=True, width="stretch",
                 column_config={"rule_label": "规则", "severity": "严重程度", "count_signals": "线索数",
                                "count_open": "未办结", "counties": "涉及县市"})
