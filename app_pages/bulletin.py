"""月度通报 — leadership: the month's changes, the county ranking with its change since last month and
the red / yellow / green lagging tiers; the one-page bulletin as .docx and .pdf."""

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, need_year, require, table
from pipelines import charts as ch
from pipelines.read import actions
from pipelines.read import bulletin as qb
from pipelines.read.connection import DataUnavailable
from pipelines.report import bulletin as rb
from pipelines.tiers import TIER_LABELS, rank_change_text

MONTH_KEY = "bulletin_month"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# light fills of the tier cells, as in the printed bulletin
TIER_FILLS = {t: f"#{c}" for t, c in rb.TIER_FILLS.items()}

user = require("bulletin")
sc = user.scope
f = filters()
need_year(f)

with guarded("月度通报"):
    months = qb.months(sc, f.year, f.prefecture)
    if not months:
        st.header(f"月度通报 · {f.year} 年度计划")
        st.info(f"{f.year} 年度尚无可通报的月份(没有计划,或尚未收到该年的月报)。", icon=":material/info:")
        st.stop()
    # the data's latest month unless one was chosen (kept while it belongs to the year shown)
    if st.session_state.get(MONTH_KEY) not in months:
        latest = qb.bulletin_month(sc)
        st.session_state[MONTH_KEY] = latest if latest in months else months[0]
    month = st.session_state[MONTH_KEY]
    st.header(f"月度通报 · {ch.fmt_month(month)} · {f.unit_name}")
    b = qb.bulletin(sc, month, f.prefecture)
    if b is None:
        raise DataUnavailable(f"{ch.fmt_month(month)}没有可通报的数据。")
    # the cards: the prefecture, or the unit chosen in the sidebar; the ranking and the print: every unit
    mine = b.counties.filter(pl.col("county_code") == f.unit) if f.unit else None
    if mine is not None and mine.is_empty():
        st.info(f"{f.unit_name}没有 {f.year} 年度计划,下面是全州的通报。", icon=":material/info:")
        mine = None
    p = mine.row(0, named=True) if mine is not None else b.prefecture
    where = f.unit_name if mine is not None else "全州"

    c0, c1, c2 = st.columns([1.2, 1, 1], vertical_alignment="bottom")
    c0.selectbox("通报月份", months, key=MONTH_KEY, format_func=ch.fmt_month)
    c1.download_button("下载通报(Word)", actions.logged(user, "bulletin", f"月度通报 {month:%Y-%m}(Word)", f"月份 {month:%Y-%m}",
                                      lambda: qb.bulletin_file(sc, b, ".docx")), file_name=f"{b.issuer}老旧小区改造月度通报_{month:%Y-%m}.docx",
                       mime=DOCX, icon=":material/description:", width="stretch")
    c2.download_button("下载通报(PDF)", actions.logged(user, "bulletin", f"月度通报 {month:%Y-%m}(PDF)", f"月份 {month:%Y-%m}",
                                      lambda: qb.bulletin_file(sc, b, ".pdf")), file_name=f"{b.issuer}老旧小区改造月度通报_{month:%Y-%m}.pdf",
                       mime="application/pdf", icon=":material/picture_as_pdf:", width="stretch")
    st.caption(f"{f.year} 年度计划,全州 {b.prefecture['count_units']} 个县市;默认显示数据中最新的月份;"
               "下载的通报为全州通报。本月新增 = 本月底累计数 − 上月底累计数(1 月为当月累计数)。")

    card = dict(delta_color="off", delta_arrow="off", border=True)
    k = st.columns(4)
    k[0].metric("本月新开工小区", ch.fmt_count(p["count_new_started_communities"]),
                f"{ch.fmt_households(p['new_started_households'])}", **card)
    k[1].metric("本月新完工小区", ch.fmt_count(p["count_new_completed_communities"]),
                f"{ch.fmt_households(p['new_completed_households'])}", **card)
    k[2].metric("本月完成投资", ch.fmt_wan(p["invest_added_wan_yuan"]),
                f"累计 {ch.fmt_wan(p['invest_done_wan_yuan'], 0)} · {ch.fmt_pct(p['pct_invest_done'])}", **card)
    k[3].metric("本月拨付资金", ch.fmt_wan(p["paid_added_wan_yuan"]),
                f"累计 {ch.fmt_wan(p['paid_wan_yuan'], 0)}", **card)
    k = st.columns(4)
    behind = p["points_behind_pace"]
    k[0].metric(f"{where}综合进度", ch.fmt_pct(p["pct_progress_index"]), f"计划应达 {ch.fmt_pct(p['pct_pace_index'])}",
                **card)
    k[1].metric("较计划进度", "—" if behind is None else f"{0.0 - behind:+.1f} 个百分点",
                "落后" if (behind or 0) > 0 else "超前或持平", **card)
    if mine is not None:
        k[2].metric("进度状态", TIER_LABELS.get(p["tier"], "—"), b.tiers.rule(p["tier"]) if p["tier"] else None, **card)
        change = rank_change_text(p["rank_change"])
        k[3].metric("全州排名", f"第 {p['progress_rank']} 名 / {b.counties.height}",
                    "较上月不变" if change == "—" else f"较上月 {change}", **card)
    else:
        for i, tier in enumerate(("red", "yellow"), start=2):
            names = b.names(tier)
            k[i].metric(f"{TIER_LABELS[tier]}县市({'红色' if tier == 'red' else '黄色'})", ch.fmt_count(len(names)),
                        "、".join(names) or "无", help=b.tiers.rule(tier), **card)

    c1, c2 = st.columns([1.1, 1])
    c1.plotly_chart(ch.bulletin_ranking_figure(b.counties, f"各县市综合进度排名({ch.fmt_month(month)})",
                                               b.tiers.legend()), width="stretch", config=ch.CHART_CONFIG)
    with c2:
        st.markdown("##### 本月进展")
        st.text(rb.summary_text(b))  # as text, never Markdown
        st.markdown("##### 进度分档")
        st.text(rb.tiers_text(b))

    st.subheader("各县市进度排名")
    shown = b.counties.select(
        "progress_rank",
        pl.col("rank_change").map_elements(rank_change_text, return_dtype=pl.String, skip_nulls=False).alias("rank_change"),
        "county_name",
        pl.col("tier").replace_strict(TIER_LABELS, default="—").alias("tier"),
        "pct_progress_index", "pct_pace_index", (-pl.col("points_behind_pace")).alias("versus_pace"),
        "count_new_started_communities", "new_completed_households", "invest_added_wan_yuan", "paid_added_wan_yuan")
    fills = dict(zip(TIER_LABELS.values(), (f"background-color: {TIER_FILLS[t]}" for t in TIER_LABELS)))
    table(st, shown.to_pandas().style.map(lambda v: fills.get(v, ""), subset=["tier"]), hide_index=True,
                 width="stretch", column_config={
                     "progress_rank": st.column_config.NumberColumn("排名", width="small"),
                     "rank_change": st.column_config.TextColumn("较上月", width="small"),
                     "county_name": st.column_config.TextColumn("县市", width="medium"),
                     "tier": "状态",
                     "pct_progress_index": st.column_config.NumberColumn("综合进度", format="%.1f%%"),
                     "pct_pace_index": st.column_config.NumberColumn("计划应达", format="%.1f%%"),
                     "versus_pace": st.column_config.NumberColumn("较计划(百分点)", format="%+.1f"),
                     "count_new_started_communities": st.column_config.NumberColumn("新开工(个)"),
                     "new_completed_households": st.column_config.NumberColumn("新完工(户)"),
                     "invest_added_wan_yuan": st.column_config.NumberColumn("投资(万元)", format="%.1f"),
                     "paid_added_wan_yuan": st.column_config.NumberColumn("拨付(万元)", format="%.1f"),
                 })
    st.caption("“新开工”“新完工”“投资”“拨付”为本月新增。综合进度 = (开工率 + 户数完工率 + 投资完成率)÷ 3;"
               "计划应达进度按各项目计划开工、完工日期推算到月底;较计划为综合进度减计划应达进度。"
               f"分档:{';'.join(b.tiers.legend().values())}(阈值见 program.toml [progress])。")
