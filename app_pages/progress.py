"""进度总览 — leadership: progress of the year's plan against targets, by unit and month; the five-year goal."""

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, need_year, require, table
from pipelines import charts as ch
from pipelines.counties import prefecture_name
from pipelines.read import bulletin as qb
from pipelines.read import actions, exports
from pipelines.read import clock as qc
from pipelines.read import filters as qf
from pipelines.read import progress as qp
from pipelines.tiers import TIER_LABELS

RANKING_HEADINGS = {
    "progress_rank": "排名", "county_name": "县市", "pct_progress_index": "综合进度(%)", "count_plan_communities": "计划小区(个)",
    "count_started_communities": "已开工(个)", "pct_started_communities": "开工率(%)", "count_completed_communities": "已完工(个)",
    "plan_households": "计划户数", "completed_households": "完工户数", "pct_completed_households": "完工率(户,%)",
    "plan_invest_wan_yuan": "计划总投资(万元)", "invest_done_wan_yuan": "完成投资(万元)", "pct_invest_done": "投资完成率(%)",
    "paid_wan_yuan": "已拨付(万元)", "is_lagging": "落后"}

def _picked_county(events, codes: dict[str, str]) -> str | None:
    """The county of a point clicked on the ranking chart (its bar's label) or the map (its customdata)."""
    for ev in events:
        for point in ((ev or {}).get("selection") or {}).get("points") or []:
            for v in (point.get("y"), point.get("customdata"), *(point.get("customdata") or [] if isinstance(
                    point.get("customdata"), list) else [])):
                if isinstance(v, str) and v in codes:
                    return codes[v]
    return None


user = require("progress")
sc = user.scope
f = filters()
need_year(f)
st.header(f"进度总览 · {f.year} 年度计划 · {f.unit_name}")

with guarded("进度总览"):
    s = qp.progress_summary(sc, f.year, f.unit, f.prefecture)
    if not s:
        st.info(f"{f.unit_name} 没有 {f.year} 年度的改造计划。", icon=":material/info:")
        st.stop()
    st.caption(f"数据截至 {ch.fmt_month(s['as_of_month'])}:按数据时钟的应报月份(次月 {qc.setting('clock.report_due_day'):g} 日"
               "截止日不晚于所收报表最新填报日期的最近月份,最晚至当年 12 月),各县市按同一月份计,提前报送的月份暂不计入;"
               "开工:有开工日期或形象进度 > 0;完工:有完工日期。")

    card = dict(delta_color="off", delta_arrow="off", border=True)
    row1 = st.columns(4)
    row1[0].metric("计划改造小区", ch.fmt_count(s["count_plan_communities"]), border=True)
    row1[1].metric("已开工小区", ch.fmt_count(s["count_started_communities"]),
                   f"开工率 {ch.fmt_pct(s['pct_started_communities'])}", **card)
    row1[2].metric("已完工小区", ch.fmt_count(s["count_completed_communities"]),
                   f"完工率 {ch.fmt_pct(s['pct_completed_communities'])}", **card)
    row1[3].metric("计划改造户数", ch.fmt_households(s["plan_households"]), border=True)
    row2 = st.columns(4)
    row2[0].metric("已开工户数", ch.fmt_households(s["started_households"]),
                   f"占计划 {ch.fmt_pct(s['pct_started_households'])}", **card)
    row2[1].metric("已完工户数", ch.fmt_households(s["completed_households"]),
                   f"占计划 {ch.fmt_pct(s['pct_completed_households'])}", **card)
    row2[2].metric("累计完成投资", ch.fmt_wan(s["invest_done_wan_yuan"]),
                   f"计划 {ch.fmt_wan(s['plan_invest_wan_yuan'], 0)} · {ch.fmt_pct(s['pct_invest_done'])}", **card)
    row2[3].metric("累计拨付资金", ch.fmt_wan(s["paid_wan_yuan"]),
                   f"占计划总投资 {ch.fmt_pct(s['pct_paid_of_plan'])}",
                   help=f"占中央与自治区补助资金之和的 {ch.fmt_pct(s['pct_paid_of_subsidy'])}(可超过 100%,拨付含地方配套)",
                   **card)

def _monthly() -> None:
    """逐月进度: the plan's months against the schedule, and the money."""
    with guarded("逐月进度"):
        monthly = qp.progress_by_month(sc, f.year, f.unit, f.prefecture)
        c1, c2 = st.columns(2)
        c1.plotly_chart(ch.progress_month_figure(monthly), width="stretch", config=ch.CHART_CONFIG)
        c2.plotly_chart(ch.money_month_figure(monthly), width="stretch", config=ch.CHART_CONFIG)


def _ranking() -> None:
    """县市排名: the ranking chart and the map (a click filters the page to the county), the table, the export."""
    with guarded("县市排名"):
        ranking = qp.progress_ranking(sc, f.year, f.prefecture)
        lag = ranking.filter(ranking["is_lagging"])
        first = ranking.row(0, named=True)
        rule = (f"综合进度 = 开工率、户数完工率、投资完成率(各至多 100%)的平均;全州 {ch.fmt_pct(first['pct_progress_index_prefecture'])}"
                f"(开工率 {ch.fmt_pct(first['pct_started_prefecture'])}、完工率 {ch.fmt_pct(first['pct_completed_prefecture'])}、"
                f"投资完成率 {ch.fmt_pct(first['pct_invest_prefecture'])});"
                f"落后:综合进度落后计划应达进度 {qc.setting('progress.yellow_points_behind'):g} 个百分点及以上"
                f"(与月度通报同一规则:超过 {qc.setting('progress.red_points_behind'):g} 个百分点为严重滞后)。")
        if lag.is_empty():
            st.success(f"{f.year} 年度没有落后县市。{rule}", icon=":material/check_circle:")
        else:
            items = ";".join(
                f"**{r['county_name']}** 综合进度 {ch.fmt_pct(r['pct_progress_index'])}(开工率 {ch.fmt_pct(r['pct_started_communities'])}、"
                f"完工率 {ch.fmt_pct(r['pct_completed_households'])}、投资完成率 {ch.fmt_pct(r['pct_invest_done'])})"
                for r in lag.iter_rows(named=True))
            st.warning(icon=":material/warning:", body=f"落后县市({lag.height} 个):{items}。{rule}")
        c1, c2 = st.columns([1.1, 1])
        clicks = st.session_state.get("progress_chart_clicks", 0)
        # click a county (bar or seat) to filter the page to it: dashboard.py sets the county filter
        picked = [c1.plotly_chart(ch.ranking_figure(ranking, legend=qb.tier_settings().legend()), width="stretch",
                                  config=ch.CHART_CONFIG, on_select="rerun", selection_mode="points",
                                  key=f"progress_ranking_chart_{clicks}"),
                  c2.plotly_chart(ch.seat_map_figure(qf.units(sc, f.prefecture), ranking), width="stretch",
                                  config=ch.CHART_CONFIG, on_select="rerun", selection_mode="points",
                                  key=f"progress_map_chart_{clicks}")]
        code = _picked_county(picked, dict(ranking.select("county_name", "county_code").iter_rows()))
        if code:
            st.session_state["_pending_unit"] = code
            # the charts start afresh (new keys): a selection kept would pull the filter back to this county
            st.session_state["progress_chart_clicks"] = clicks + 1
            st.rerun()
        st.caption("点击排名图中的县市条形或地图上的县城,本页即筛选为该县市并列出其项目。")
        with st.expander("排名明细表"):
            # the main columns fit 1366×768 without sideways scrolling; the counts and money in 明细 below
            table(st,
                ranking.select("progress_rank", "county_name", "pct_progress_index", "pct_started_communities",
                               "pct_completed_households", "pct_invest_done",
                               pl.col("tier").replace_strict(TIER_LABELS, default="—").alias("tier")),
                hide_index=True, width="stretch",
                column_config={
                    "progress_rank": st.column_config.NumberColumn("排名", width="small"),
                    "county_name": st.column_config.TextColumn("县市", width="medium"),
                    "pct_progress_index": st.column_config.NumberColumn("综合进度", format="%.1f%%"),
                    "pct_started_communities": st.column_config.NumberColumn("开工率", format="%.1f%%"),
                    "pct_completed_households": st.column_config.NumberColumn("完工率(户)", format="%.1f%%"),
                    "pct_invest_done": st.column_config.NumberColumn("投资完成率", format="%.1f%%"),
                    "tier": "进度状态",
                },
            )
            detail = st.toggle("显示明细(计划与完成的数量和金额)", key="progress_ranking_detail")
            if detail:
                table(st,
                    ranking.select("county_name", "count_plan_communities", "count_started_communities",
                                   "count_completed_communities", "plan_households", "completed_households",
                                   "plan_invest_wan_yuan", "invest_done_wan_yuan", "paid_wan_yuan"),
                    hide_index=True, width="stretch",
                    column_config={
                        "county_name": "县市",
                        "count_plan_communities": st.column_config.NumberColumn("计划小区"),
                        "count_started_communities": st.column_config.NumberColumn("已开工"),
                        "count_completed_communities": st.column_config.NumberColumn("已完工"),
                        "plan_households": st.column_config.NumberColumn("计划户数", format="%d"),
                        "completed_households": st.column_config.NumberColumn("完工户数", format="%d"),
                        "plan_invest_wan_yuan": st.column_config.NumberColumn("计划投资(万元)", format="%.1f"),
                        "invest_done_wan_yuan": st.column_config.NumberColumn("完成投资(万元)", format="%.1f"),
                        "paid_wan_yuan": st.column_config.NumberColumn("已拨付(万元)", format="%.1f"),
                    })
        if sc.can("export_progress"):
            stamp = [("筛选条件", f"{f.year} 年度计划" + (f" · {prefecture_name(f.prefecture)}" if f.prefecture else "")), ("数据截至", ch.fmt_month(s["as_of_month"]))]
            st.download_button(
                "下载进度排名(Excel)", actions.logged(user, "export_progress", f"进度排名 {f.year} 年", f"{f.year} 年度计划",
                                                 lambda: exports.table_xlsx_bytes([("进度排名", ranking, RANKING_HEADINGS)], stamp)),
                file_name=f"progress_{f.year}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _projects() -> None:
    """项目明细: the drill-down from a county to its projects."""
    if f.unit:
        with guarded("项目明细"):
            # the drill-down from a county to its projects
            proj = qp.projects(sc, f.year, f.unit)
            st.subheader(f"{f.unit_name} {f.year} 年度项目明细({proj.height} 个,进度最慢的在前)")
            table(st, proj.select("name", "households", "pct_progress", "pct_invest_done", "is_started", "is_completed",
                                  "latest_report_month"),
                  hide_index=True, width="stretch",
                  column_config={"name": "小区名称", "households": st.column_config.NumberColumn("户数", format="%d"),
                                 "pct_progress": st.column_config.NumberColumn("形象进度", format="%.0f%%"),
                                 "pct_invest_done": st.column_config.NumberColumn("投资完成率", format="%.1f%%"),
                                 "is_started": st.column_config.CheckboxColumn("已开工"),
                                 "is_completed": st.column_config.CheckboxColumn("已完工"),
                                 "latest_report_month": "最新月报"})
            if st.button("返回全州", key="progress_back_to_prefecture") and not sc.is_county:
                st.session_state["_pending_unit"] = None
                st.rerun()


def _goal() -> None:
    """五年目标: completed households against the goal, the projection, the national comparison."""
    with guarded("五年目标"):
        end_year, built_until = int(qc.setting("goal.end_year")), int(qc.setting("goal.built_until"))
        pace = int(qc.setting("progress.pace_months"))
        st.subheader(f"{end_year} 年目标:{built_until} 年底前建成的老旧小区基本完成改造")
        proj = qp.projection(sc, f.unit, f.prefecture)
        traj = qp.trajectory(sc, f.unit, f.prefecture)
        if proj:
            target = proj["target_households"]
            if proj["months_to_goal"]:
                verdict = "可以按期完成" if (proj["pct_projected_goal"] or 0) >= 100 else "按当前速度无法按期完成"
                st.markdown(
                    f"截至 {ch.fmt_month(proj['as_of_month'])},{f.unit_name}累计完工 **{ch.fmt_households(proj['completed_households'])}**,"
                    f"占目标 {ch.fmt_households(target)} 的 **{ch.fmt_pct(proj['pct_completed'])}**;近 {pace} 个月平均每月完工 "
                    f"{proj['pace_households_per_month']:,.1f} 户,按此速度预计 {end_year} 年底达到 "
                    f"**{ch.fmt_households(proj['projected_households_goal'])}**(目标的 {ch.fmt_pct(proj['pct_projected_goal'])}),"
                    f"**{verdict}**。")
            else:
                st.markdown(f"{end_year} 年底{f.unit_name}累计完工 **{ch.fmt_households(proj['projected_households_goal'])}**,"
                            f"占目标 {ch.fmt_households(target)} 的 **{ch.fmt_pct(proj['pct_projected_goal'])}**。")
        c1, c2 = st.columns(2)
        c1.plotly_chart(ch.trajectory_figure(traj, proj, f"{end_year} 年目标进度:已完工户数与按当前速度预测", built_until, pace),
                        width="stretch", config=ch.CHART_CONFIG)
        ref = qp.reference_comparison(sc, f.year, f.unit, f.prefecture)
        c2.plotly_chart(ch.reference_figure(ref, f.unit_name if f.unit else prefecture_name(f.prefecture) if f.prefecture else "巴州"), width="stretch",
                        config=ch.CHART_CONFIG)
        c2.caption("全国、新疆开工率:住建部通报及其转载(系统配置的参考数据表,逐行注明来源);"
                   "未公布比率的月份按“已开工小区 / 年度计划小区”推算。新疆仅有零星月份的公开数据。")


# Only the chosen tab runs and is drawn (lazy tabs): a page switch or a filter change draws two
# charts, not six. A clerk sees its own county only: no ranking among the others.
TABS = ["项目明细" if sc.is_county else "县市排名", "逐月进度", "五年目标"]
first, months, goal = st.tabs(TABS, key="progress_tab", on_change="rerun")
if first.open:
    with first:
        if not sc.is_county:
            _ranking()
        _projects()
if months.open:
    with months:
        _monthly()
if goal.open:
    with goal:
        _goal()
