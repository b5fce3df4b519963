"""The view shared by 年度体检 and 两年评估: scores, grades, breakdown, points lost, trends, downloads."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, require, table
from pipelines import charts as ch
from pipelines.read import actions
from pipelines.read import clock as qc
from pipelines.read import scores as qs
SCORE_TABS = ["总分与排名", "各指标失分", "历年趋势"]
TITLES = {"annual": "年度体检(一年一体检)", "biennial": "两年评估(两年一评估)"}


def render(kind: str) -> None:
    user = require("scores")
    sc = user.scope
    f = filters()
    st.header(f"{TITLES[kind]} · {f.year or ''} 年 · {f.unit_name}")
    with guarded(TITLES[kind]):
        years = qs.score_years(sc, kind)
        if not years:
            st.info("还没有已发布的得分:得分由系统管理员发布后即可查看。" if sc.is_county
                    else "还没有得分:导入年度计划和月报后即可显示。", icon=":material/info:")
            return
        year = f.year if f.year in years else years[0]
        if year != f.year:
            st.info(f"{f.year} 年没有{TITLES[kind][:4]}得分,显示最近的 {year} 年。", icon=":material/info:")
        totals_all = qs.score_totals(sc, kind, f.prefecture)
        totals = totals_all.filter(pl.col("year") == year)
        lines = qs.score_lines(sc, year, kind, f.prefecture)
        meta = totals.row(0, named=True)
        as_of = f",{meta['as_of_label']}" if meta["as_of_label"] else ""
        # a year still in progress: every chart and table says so (截至YYYY-MM, from the data clock)
        prov = f"({meta['as_of_label']},暂定)" if meta["as_of_label"] else ""
        # the trend shows earlier years too: it names the provisional one
        trend_note = f"({year} 年{meta['as_of_label']},暂定)" if meta["as_of_label"] else ""
        grades = qc.grades()
        st.caption(f"评分方案:{meta['scheme_version']}{as_of}。等级:{qc.grades_text()}(按未四舍五入的总分)。")

        mine = totals.filter(pl.col("county_code") == f.unit) if f.unit else None
        k = st.columns(5)
        if mine is not None and mine.height:
            m = mine.row(0, named=True)
            delta = None if m["change_from_prev"] is None else f"{m['change_from_prev']:+.2f} 分"
            k[0].metric(f"{f.unit_name} 总分", f"{m['points']:.2f} 分", delta, delta_description="较上年", border=True)
            k[1].metric("等级", m["grade"], border=True)
            if m["score_rank"] is not None:  # not for a clerk: a rank is worked out from the others' scores
                k[2].metric("全州排名", f"第 {m['score_rank']} 名 / {totals.height}", border=True)
            lost = lines.filter(pl.col("county_code") == f.unit).sort("points_lost", descending=True, nulls_last=True)
            top = lost.filter(pl.col("points_lost") > 0.005).head(2)
            k[3].metric("失分最多", "、".join(top["indicator_label"].to_list()) or "无", border=True,
                        help=";".join(f"{r['indicator_label']} 失 {r['points_lost']:.2f} 分" for r in top.iter_rows(named=True)) or None)
            k[4].metric("失分合计", f"{lost['points_lost'].sum():.2f} 分", border=True)
        else:
            for i, (_, g) in enumerate(grades[:4]):
                k[i].metric(g, ch.fmt_count(totals.filter(pl.col("grade") == g).height), border=True)
            # the prefecture scored as one unit is a mart line over every unit of the warehouse: not shown
            # while a province warehouse's page is limited to one prefecture (its units' scores are)
            pref = qs.prefecture_score(sc, year) if kind == "annual" and not f.prefecture else {}
            if pref:
                k[4].metric("全州整体得分", f"{pref['points']:.2f} 分", pref["grade"], delta_color="off", delta_arrow="off",
                            border=True, help=f"把 {pref['count_counties']} 个参评县市的指标合计后按同一方案计分")
            else:
                k[4].metric("参评县市", ch.fmt_count(totals.height), border=True)

        cuts = [(t, g) for t, g in grades if t > 0]
        scored = lines.filter(pl.col("max_points").is_not_null())
        # lazy tabs for the three charts: only the chosen one is built and drawn, so that a page switch or
        # a filter change draws one chart, not three (the choice is kept while the filter changes); the
        # indicator details below them are always shown
        t_rank, t_lost, t_trend = st.tabs(SCORE_TABS, key=f"scores_tab_{kind}", on_change="rerun")
        if t_rank.open:
            with t_rank:
                _ranking(sc, kind, year, f, totals, cuts, prov)
        if t_lost.open:
            t_lost.plotly_chart(ch.points_lost_figure(scored.filter(pl.col("points_lost").is_not_null()),
                                                      f"各指标失分(满分 − 得分){prov}"), width="stretch",
                                config=ch.CHART_CONFIG)
        if t_trend.open:
            with t_trend:
                st.plotly_chart(ch.score_trend_figure(totals_all.filter(
                    pl.col("county_code") == f.unit if f.unit else pl.lit(True)), f"历年总分趋势{trend_note}",
                    grades=cuts), width="stretch", config=ch.CHART_CONFIG)
        _indicators(kind, f, lines, scored, prov)

        d1, d2 = st.columns(2)
        if sc.can("export_scores"):
            d1.download_button(f"下载 scores.csv({year} 年,{TITLES[kind][:4]})",
                               actions.logged(user, "export_scores", f"scores.csv {year} 年{TITLES[kind][:4]}", f"{year} 年",
                                              lambda: qs.scores_csv_bytes(sc, year, kind, f.prefecture)),
                               file_name=f"scores_{kind}_{year}.csv", mime="text/csv", width="stretch")
        if sc.can("reports"):
            with d2:
                _report_download(user, year)
        if sc.can("settings"):
            _publish(user, kind, year)


def _ranking(sc, kind: str, year: int, f, totals: pl.DataFrame, cuts, prov: str) -> None:
    """Totals and grades: the chart, then the table of ranks (ties share a rank)."""
    st.plotly_chart(ch.score_ranking_figure(totals, f"{year} 年总分与等级{prov}", cuts), width="stretch",
                    config=ch.CHART_CONFIG)
    st.subheader("得分与排名" + prov)
    st.caption("总分相同者名次相同(并列);两个总分在两位小数上相同而实际不同时,显示到能区分它们的小数位。")
    table(st,
          totals.select("rank_text", "county", "points_text", "grade", "change_from_prev"),
          hide_index=True, width="stretch",
          column_config={"rank_text": "排名", "county": "县市",
                         "points_text": st.column_config.TextColumn("总分", alignment="right"), "grade": "等级",
                         "change_from_prev": st.column_config.NumberColumn("较上年", format="%+.2f")})
    if kind == "annual" and not sc.is_county:
        _whatif(sc, year, f.prefecture)


def _indicators(kind: str, f, lines: pl.DataFrame, scored: pl.DataFrame, prov: str) -> None:
    """Where the points went: per indicator and unit, each with its numerator, denominator and formula."""
    st.subheader("指标明细" + (f" · {f.unit_name}" if f.unit else "(各县市得分 / 满分)") + prov)
    if f.unit:
        mine = lines.filter(pl.col("county_code") == f.unit)
        table(st,
              mine.select(
                  "indicator_label", "numerator", "denominator", "value", "points", "max_points", "points_lost",
                  "formula"),
              hide_index=True, width="stretch",
              column_config={"indicator_label": "指标",
                             "numerator": st.column_config.NumberColumn("分子", format="localized"),
                             "denominator": st.column_config.NumberColumn("分母", format="localized"),
                             "value": st.column_config.NumberColumn("指标值", format="%.4f"),
                             "points": st.column_config.NumberColumn("得分", format="%.2f"),
                             "max_points": st.column_config.NumberColumn("满分", format="%.0f"),
                             "points_lost": st.column_config.NumberColumn("失分", format="%.2f"),
                             "formula": st.column_config.TextColumn("计算式", width="large")})
        # the formulas whole, as text (a table cell cuts them at its width): one block, one line each
        formulas = [x for x in mine["formula"].to_list() if x]
        if formulas:
            st.text("\n".join(formulas))
        return
    matrix = (scored.with_columns(
        pl.when(pl.col("is_applicable")).then(
            pl.format("{} / {}", pl.col("points").round(2), pl.col("max_points").round(0).cast(pl.Int64)))
        .otherwise(pl.lit("不适用")).alias("cell"))
        .pivot(on="indicator_label", index="county", values="cell", aggregate_function="first")
        .rename({"county": "县市"}))
    table(st, matrix, hide_index=True, width="stretch")
    # lazy: its table is built and drawn only while it is open
    details = st.expander("各县市各指标的分子、分母与计算式" + prov, key=f"scores_details_{kind}", on_change="rerun")
    if details.open:
        with details:
            table(st, scored.select("county", "indicator_label", "numerator", "denominator", "formula"),
                  hide_index=True, width="stretch",
                  column_config={"county": "县市", "indicator_label": "指标",
                                 "numerator": st.column_config.NumberColumn("分子", format="localized"),
                                 "denominator": st.column_config.NumberColumn("分母", format="localized"),
                                 "formula": st.column_config.TextColumn("计算式", width="large")})


def _publish(user, kind: str, year: int) -> None:
    """An admin publishes a year's scores to the county clerks (or withdraws them)."""
    shown = year in qs.published(user.scope, kind)
    with st.expander(f"发布给县市填报员({year} 年{TITLES[kind][:4]}:{'已发布' if shown else '未发布'})"):
        st.caption("发布后,各县市填报员可以看到本县市该年度的得分(不含排名和其他县市)。")
        if st.button("撤回发布" if shown else "发布得分", key=f"publish_{kind}_{year}"):
            actions.publish_scores(user, kind, year, not shown)
            st.rerun()


def _whatif(sc, year: int, prefecture: str | None) -> None:
    w = qs.whatif_subsidy(sc, year, prefecture)
    if w.is_empty():
        return
    share = w["performance_share"][0]
    box = st.expander(f"测算:若中央补助资金的 {share:.0%} 按体检得分分配(模拟,不代表实际拨付)", key="scores_whatif",
                      on_change="rerun")
    if not box.open:  # lazy, as the details above
        return
    with box:
        st.caption(f"资金池 = {share:.0%} × 各县市当年中央补助之和;权重 = 本县市中央补助 × 得分 / 100;"
                   "分得 = 资金池 × 权重 / 权重之和;增减 = 分得 − 本县市的绩效部分。")
        table(st, w.drop("performance_share", "scheme_version", "as_of_label"), hide_index=True, width="stretch",
                     column_config={
                         "county_name": "县市",
                         "central_subsidy_wan_yuan": st.column_config.NumberColumn("中央补助", format="%.1f 万元"),
                         "base_share_wan_yuan": st.column_config.NumberColumn("绩效部分", format="%.1f 万元"),
                         "score": st.column_config.NumberColumn("体检得分", format="%.2f"),
                         "share_wan_yuan": st.column_config.NumberColumn("按得分分得", format="%.1f 万元"),
                         "change_wan_yuan": st.column_config.NumberColumn("增减", format="%+.1f 万元")})


REPORT_FORMATS = {".docx": ("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                  ".pdf": ("PDF", "application/pdf")}


def _report_download(user, year: int) -> None:
    """The annual report as .docx or .pdf (the same document; as ``renovation report`` writes them)."""
    b = st.columns(2)
    for col, (suffix, (label, mime)) in zip(b, REPORT_FORMATS.items()):
        key = f"report_{year}{suffix}"
        if col.button(f"生成 {year} 年度报告({label})", width="stretch", key=f"make_{key}"):
            with st.spinner("正在生成报告 …"):
                st.session_state[key] = qs.report_bytes(user.scope, year, suffix)
            actions.record(user, "report", f"{year} 年度报告({label})", f"{year} 年")
        data = st.session_state.get(key)
        if data:
            col.download_button(f"下载年度报告 {suffix}",
                                actions.logged(user, "reports", f"{year} 年度报告({label})", f"{year} 年",
                                               lambda data=data: data),
                                file_name=f"巴州老旧小区改造年度报告_{year}{suffix}", mime=mime, width="stretch")
