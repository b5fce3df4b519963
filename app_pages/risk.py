"""风险线索 — audit bureau: ranked communities and signals, drill-down to the rows behind them, verdicts, coverage, export."""

import datetime as dt

import polars as pl
import streamlit as st

from app_pages._common import filters, guarded, plain, require, table
from pipelines import charts as ch
from pipelines.counties import prefecture_name
from pipelines.read import actions, exports
from pipelines.read import audit as qa
from pipelines.read import clock as qc
from pipelines.signals.verdicts import VERDICTS

SEV = {"high": "高", "medium": "中", "low": "低"}
STATUSES = ("待核查", "需补充材料", "待复核", "已确认", "已排除")

DETAIL_TABS = ["台账与计划对照", "台账行", "计划行", "月报行", "身份关联说明"]


def _label(r: dict) -> str:
    """A signal in the chooser: severity, rule, county, community or period, year."""
    parts = [r["rule_label"] or "", r["county_name"] or "", r["community_name"] or r["period"] or "",
             str(r["plan_year"] or "")]
    return f"[{SEV[r['severity']]}] " + " · ".join(x for x in parts if x)


def _detail(d: dict, row: dict) -> None:
    """A signal: its evidence, the rows behind it, its verdict with its history beside it, the case file."""
    s = d["signal"]
    # evidence, names and cells are as submitted: plain() keeps them from acting as Markdown
    st.markdown(f"**证据**:{plain(s['evidence'])}")
    st.caption(f"规则 {plain(row['rule_label'] or s['rule'])} · 来源 {plain(s['file_name'] or '—')} "
               f"工作表「{plain(s['sheet_name'] or '—')}」第 {s['row_number'] or '—'} 行")
    # the rule's code and the engine that computed it are for the technical staff, not the auditor's view
    with st.expander("技术细节"):
        st.text(f"规则代码:{s['rule']}\n计算方式:{s['engine']}\n线索编号:{s['signal_id']}")
    L = qa.DETAIL_LABELS
    left, right = st.columns([1.6, 1])
    with left:
        t0, t1, t2, t3, t4 = st.tabs(DETAIL_TABS)
        if d["compare"].is_empty():
            t0.caption("这条线索不针对某一计划行(县市或文件层面的线索),请看月报行或证据。")
        else:
            table(t0, d["compare"], hide_index=True, width="stretch")
        table(t1, d["ledger"].drop("community_id").rename(L, strict=False), hide_index=True, width="stretch")
        table(t2, d["plan"].drop("plan_row_id", "community_id").rename(L, strict=False), hide_index=True,
                     width="stretch")
        table(t3, d["reports"].rename(L, strict=False), hide_index=True, width="stretch")
        with t4:
            links = d["plan"].select(
                pl.col("plan_year").alias("计划年度"), pl.col("county_name").alias("县市"), pl.col("name").alias("小区名称"),
                pl.when(pl.col("community_id").is_null()).then(pl.lit("未匹配")).otherwise(pl.lit("已匹配")).alias("台账"),
                pl.col("link_method").alias("方法"), pl.col("link_score").alias("匹配度"), pl.col("link_fields").alias("依据"))
            table(st, links, hide_index=True, width="stretch")
            if "entity" in d and d["entity"].height > 1:
                st.markdown("**同一小区的其他申报(实体识别)**")
                table(st, d["entity"].select("plan_row_id", "match_score", "matched_fields", "method")
                             .rename(L, strict=False), hide_index=True, width="stretch")
    with right:
        _verdict(row, s)


def _shown_before(key: str, row: dict, column: str):
    """``row[column]`` as the previous run showed it, and this run's kept for the next. A click on a form
    starts a run that reads the verdicts afresh: another auditor may have acted in between, and what the
    clicking auditor saw is the previous run's."""
    shown = st.session_state.get(key)
    st.session_state[key] = (row["signal_id"], row[column])
    return shown[1] if shown and shown[0] == row["signal_id"] else row[column]


def _verdict(row: dict, s: dict) -> None:
    """The verdict in force, the form (auditors) or the review (a second auditor), and the history."""
    st.markdown("**核查结论**")
    st.text(row["status_text"] or "待核查")
    what = f"{row['rule_label'] or s['rule']} · {s['county_name']} · {s['community_name'] or s['period'] or ''}"
    if sc.can("verdict"):
        if row["verdict"] == "待复核":
            if row["proposed_by_user"] == user.user_name:
                st.info("您提出的结论须由另一名审计人员复核后生效。", icon=":material/hourglass:")
            else:
                shown_act = _shown_before("risk_review_shown", row, "proposed_act_id")
                with st.form("review_form"):
                    st.caption(f"复核:同意后「{row['proposed_verdict']}」生效;不同意则维持原状态。")
                    note = st.text_area("复核说明", height=70)
                    a, b = st.columns(2)
                    agree = a.form_submit_button("同意(复核通过)", type="primary")
                    disagree = b.form_submit_button("不同意")
                if agree or disagree:
                    try:
                        v = actions.write_review(user, row["signal_id"], bool(agree), note, what, expected_act=shown_act)
                        st.session_state["risk_saved"] = f"已复核:{'同意' if agree else '不同意'}「{v}」"
                        st.session_state["risk_keep"] = row["signal_id"]
                        st.rerun()
                    except ValueError as exc:
                        st.error(str(exc))
        shown_last = _shown_before("risk_verdict_shown", row, "last_act_id")
        with st.form("verdict_form", clear_on_submit=True):
            verdict = st.radio("结论", VERDICTS, horizontal=True)
            note = st.text_area("说明", height=80)
            st.caption(f"以 {user.label} 的账号记录;高风险线索的「已确认」「已排除」须另一名审计人员复核后生效。")
            if st.form_submit_button("保存结论"):
                try:
                    pending = actions.write_verdict(user, row["signal_id"], verdict, note, what, shown_last_act=shown_last)
                    st.session_state["risk_saved"] = f"已保存:{verdict}" + ("(待复核)" if pending else "")
                    # the page shows the same signal after the rerun, even when the filters would now hide it
                    st.session_state["risk_keep"] = row["signal_id"]
                    st.rerun()
                except ValueError as exc:
                    st.error(str(exc))
        saved = st.session_state.pop("risk_saved", None)
        if saved:
            st.success(saved)
    history = qa.verdict_history(sc, (row["signal_id"],))
    st.markdown("**核查记录**")
    if history.is_empty():
        st.caption("尚无核查记录。")
    else:
        table(st, history.select(*exports.HISTORY_HEADINGS), hide_index=True, width="stretch",
                     column_config={**exports.HISTORY_HEADINGS,
                                    "decided_at": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm")})
    if sc.can("export_signals"):
        stamp = [("规则", row["rule_label"] or s["rule"]), ("严重程度", SEV.get(s["severity"], "")),
                 ("规则代码", s["rule"]), ("县市", s["county_name"]), ("计划年度", str(s["plan_year"] or "")),
                 ("期间", s["period"] or ""), ("小区名称", s["community_name"] or ""), ("证据", s["evidence"] or ""),
                 ("来源", f"{s['file_name'] or ''} 工作表「{s['sheet_name'] or ''}」第 {s['row_number'] or ''} 行"),
                 ("核查结论", row["status_text"] or "待核查"), ("核查说明", row["verdict_note"] or ""),
                 ("导出时间", dt.datetime.now().strftime("%Y-%m-%d %H:%M")), ("导出人", user.label)]
        d = qa.signal_detail(sc, row["signal_id"])
        L = qa.DETAIL_LABELS
        evidence = [("台账与计划对照", d["compare"]), ("台账行", d["ledger"].drop("community_id").rename(L, strict=False)),
                    ("计划行", d["plan"].drop("plan_row_id", "community_id").rename(L, strict=False)),
                    ("月报行", d["reports"].rename(L, strict=False))]
        st.download_button("下载案卷(Excel:线索、证据行、核查记录)",
                           actions.logged(user, "export_signals", f"案卷 {what}", f"线索 {row['signal_id']}",
                                          lambda: exports.case_file_xlsx_bytes(s, evidence, history, stamp)),
                           file_name=f"案卷_{row['rule_label'] or s['rule']}_{row['signal_id'][:8]}.xlsx", width="stretch",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


user = require("signals")
sc = user.scope
f = filters()
head = st.container()
# cross-year duplicates are the core case: the page may look at every year at once
ALL_YEARS = "全部年度"
span = st.segmented_control("年度范围", ["本年度", ALL_YEARS], key="risk_span", default="本年度",
                            format_func=lambda v: f"{f.year} 年" if v == "本年度" and f.year else v) if f.year else ALL_YEARS
year = None if span == ALL_YEARS else f.year
year_label = f"{year} 年" if year else ALL_YEARS
# a province warehouse: the prefecture chosen (named in the exports; None with one prefecture)
pref_label = prefecture_name(f.prefecture) if f.prefecture else ""
head.header(f"风险线索 · {year_label} · {f.unit_name}")

ready = False
with guarded("风险线索"):
    allsig = qa.signals(sc, year, f.unit, f.prefecture)
    if allsig.is_empty() and not qa.signal_coverage(sc).height:
        st.info("还没有风险线索:导入台账、计划和月报后,这里将列出重复申报、虚报和套取资金等线索。", icon=":material/info:")
        st.stop()

    c1, c2, c3 = st.columns([2, 1, 1])
    rules = c1.multiselect("规则", sorted(allsig["rule_label"].unique().to_list()), placeholder="全部规则")
    sevs = c2.multiselect("严重程度", ["high", "medium", "low"], format_func=SEV.get, placeholder="全部")
    verdicts = c3.multiselect("核查结论", STATUSES, placeholder="全部")
    sig = allsig
    if rules:
        sig = sig.filter(pl.col("rule_label").is_in(rules))
    if sevs:
        sig = sig.filter(pl.col("severity").is_in(sevs))
    if verdicts:
        sig = sig.filter(pl.col("verdict").is_in(verdicts))

    k = st.columns(5)
    k[0].metric("线索总数", ch.fmt_count(sig.height, "条"), border=True)
    k[1].metric("高风险线索", ch.fmt_count(sig.filter(pl.col("severity") == "high").height, "条"), border=True)
    k[2].metric("涉及小区", ch.fmt_count(sig.filter(pl.col("community_name").is_not_null())
                                       .select(pl.coalesce("entity_id", "plan_row_id", "community_name")).n_unique()), border=True)
    k[3].metric("涉及中央补助", ch.fmt_wan(sig.unique("plan_row_id").filter(pl.col("plan_row_id").is_not_null())
                                         ["central_subsidy_wan_yuan"].sum()), border=True)
    k[4].metric("待核查", ch.fmt_count(sig.filter(pl.col("verdict") == "待核查").height, "条"), border=True)

    # lazy tabs: only the chosen one runs and is drawn (the charts of the others cost nothing until chosen)
    tab_rank, tab_list, tab_cov, tab_export = st.tabs(["小区风险排名", "线索清单与核查", "规则覆盖率", "导出"],
                                                      key="risk_tab", on_change="rerun")
    ready = True
if not ready:
    st.stop()

if tab_rank.open:
    with tab_rank, guarded("风险排名"):
        w = qc.settings()
        st.caption(f"风险分 = 严重程度分(高 {w['severity_weights.high']:g} / 中 {w['severity_weights.medium']:g}"
                   f" / 低 {w['severity_weights.low']:g} 之和)× 资金系数(1 + {w['risk.money_weight']:g} × 中央补助 / 最大中央补助)"
                   f" × 多类别叠加系数(1 + {w['risk.coincidence_bonus']:g} ×(类别数 − 1));已排除的线索不计。先核查排名靠前的小区。"
                   f"排名在当前筛选({year_label} · {pref_label + ' · ' if pref_label else ''}{f.unit_name})内从 1 起,风险分相同者名次相同。")
        ranking = qa.risk_ranking(sc, year, f.unit, f.prefecture)
        if not f.unit:
            with st.expander("县市风险排名(全部年度、未排除的线索)"):
                table(st, qa.risk_counties(sc, f.prefecture), hide_index=True, width="stretch", column_config={
                    "risk_rank": "排名", "county_name": "县市", "count_signals": "线索数", "count_high": "高",
                    "count_medium": "中", "count_low": "低", "count_communities": "涉及小区", "classes": "类别",
                    "severity_points": st.column_config.NumberColumn("严重程度分", format="%.0f"),
                    "central_subsidy_wan_yuan": st.column_config.NumberColumn("中央补助", format="%.1f 万元"),
                    "money_factor": st.column_config.NumberColumn("资金系数", format="%.2f"),
                    "coincidence_factor": st.column_config.NumberColumn("叠加系数", format="%.2f"),
                    "risk_score": st.column_config.NumberColumn("风险分", format="%.2f")})
        table(st, 
            ranking.head(300), hide_index=True, width="stretch", height=380,
            column_config={
                "risk_rank": st.column_config.NumberColumn("排名"), "prefecture_rank": None,
                "county_name": "县市", "community_name": "小区名称",
                "plan_years": "计划年度", "count_signals": st.column_config.NumberColumn("线索数"),
                "count_high": "高", "count_medium": "中", "count_low": "低", "classes": "类别", "rules": "规则",
                "severity_points": st.column_config.NumberColumn("严重程度分", format="%.0f"),
                "central_subsidy_wan_yuan": st.column_config.NumberColumn("中央补助", format="%.1f 万元"),
                "money_factor": st.column_config.NumberColumn("资金系数", format="%.2f"),
                "coincidence_factor": st.column_config.NumberColumn("叠加系数", format="%.2f"),
                "risk_score": st.column_config.ProgressColumn(
                    "风险分", format="%.2f", min_value=0.0, max_value=float(ranking["risk_score"].max() or 1.0)),
            },
        )

if tab_list.open:
    with tab_list, guarded("线索清单"):
        c1, c2 = st.columns([1.3, 1])
        c1.plotly_chart(ch.signals_by_rule_figure(sig), width="stretch", config=ch.CHART_CONFIG)
        with c2:
            table(st, 
                sig.select("severity", "rule_label", "county_name", "plan_year", "period", "community_name", "score", "verdict")
                .with_columns(pl.col("severity").replace_strict(SEV, default=""), pl.col("period").fill_null(""),
                              pl.col("community_name").fill_null(""), pl.col("plan_year").cast(pl.String).fill_null("")),
                hide_index=True, width="stretch", height=330,
                column_config={"severity": "严重", "rule_label": "规则", "county_name": "县市",
                               "plan_year": "年度", "period": "期间",
                               "community_name": "小区", "score": st.column_config.NumberColumn("强度", format="%.2f"),
                               "verdict": "结论"},
            )
        if sig.is_empty():
            st.info("当前筛选条件下没有风险线索。")
        else:
            labels = {r["signal_id"]: _label(r) for r in sig.head(500).iter_rows(named=True)}
            keep = st.session_state.get("risk_keep")
            if keep and keep not in labels and keep in set(allsig["signal_id"].to_list()):
                # just acted on, and now outside the filters (say 结论 = 待核查): stays selected, marked
                r = allsig.filter(pl.col("signal_id") == keep).row(0, named=True)
                labels = {keep: f"{_label(r)}(刚处理,已不在筛选结果中)", **labels}
            if keep in labels:
                st.session_state["risk_signal"] = keep
            chosen = st.selectbox("查看线索详情(按严重程度和强度排序)", list(labels), format_func=labels.get, key="risk_signal")
            d = qa.signal_detail(sc, chosen)
            if d:
                _detail(d, allsig.filter(pl.col("signal_id") == chosen).row(0, named=True))

if tab_cov.open:
    with tab_cov, guarded("规则覆盖率"):
        cov = qa.signal_coverage(sc)
        st.caption("可评估率:规则能评估的单位(计划行、项目、县市月份、文件)占全部的比例;命中率:被标记的占可评估的比例。"
                   "命中率过高时请检查阈值或数据。")
        if f.prefecture:  # the signal run counts per rule over the whole warehouse, not per prefecture
            st.caption("本页的覆盖率与核查结论汇总为库内全部州的合计(规则按全部数据评估),不只是当前所选的州。")
        for w in cov.filter(pl.col("is_warning"))["warning"].to_list():
            st.warning(w, icon=":material/warning:")
        c1, c2 = st.columns([1.2, 1])
        c1.plotly_chart(ch.coverage_figure(cov), width="stretch", config=ch.CHART_CONFIG)
        table(c2, cov.drop("rule", "is_warning", "warning"), hide_index=True, width="stretch", height=420,
                     column_config={"rule_label": "规则", "unit": "评估单位", "count_assessable": "可评估",
                                    "count_not_assessable": "无法评估", "count_flagged": "命中",
                                    "pct_assessable": st.column_config.NumberColumn("可评估率", format="%.1f%%"),
                                    "pct_flagged": st.column_config.NumberColumn("命中率", format="%.1f%%")})
        st.markdown("**核查结论汇总**(已确认占已处理的比例:规则在审计人员手中的准确率;高风险线索的确认或排除经复核后生效)")
        table(st, qa.verdict_summary(sc), hide_index=True, width="stretch",
                     column_config={"rule_label": "规则", "count_signals": "线索", "count_confirmed": "已确认",
                                    "count_cleared": "已排除", "count_more_info": "需补充材料", "count_pending": "待复核",
                                    "count_open": "未办结",
                                    "pct_confirmed_of_decided": st.column_config.NumberColumn("核实率", format="%.1f%%")})
        with st.expander("规则与阈值"):
            table(st, qa.signal_rules(sc).select("label", pl.col("severity").replace_strict(SEV, default=""), "description"),
                         hide_index=True, width="stretch", column_config={"label": "规则", "severity": "严重程度",
                                                                          "description": "触发条件(现行阈值)"})

if tab_export.open:
    with tab_export, guarded("导出"):
        thresholds = qa.signal_thresholds(sc)
        version = thresholds["version"][0] if thresholds is not None and thresholds.height else "—"
        clock = qc.data_clock(sc)
        as_of = ch.fmt_month(clock.get("latest_due_month"))
        filt = (f"年度 {year_label};" + (f"州 {pref_label};" if pref_label else "") + f"县市 {f.unit_name};规则 {'、'.join(rules) or '全部'};"
                f"严重程度 {'、'.join(SEV[s] for s in sevs) or '全部'};结论 {'、'.join(verdicts) or '全部'}")
        stamp = [("导出时间", dt.datetime.now().strftime("%Y-%m-%d %H:%M")), ("数据截至", qc.clock_caption(clock)),
                 ("筛选条件", filt), ("阈值版本", version), ("线索条数", str(sig.height))]
        st.markdown("\n".join(f"- **{k_}**:{plain(v)}" for k_, v in stamp))
        name = f"风险线索_{year or '全部年度'}_{pref_label + '_' if pref_label else ''}{f.unit_name}_截至{as_of}"
        rules_df = qa.signal_rules(sc)
        c1, c2, c3 = st.columns(3)
        # built when clicked (a callable), not on every rerun of the page; each download is logged with its filters
        # on_click="ignore": a download does not rerun the page (the next button is ready at once)
        c1.download_button("下载 CSV(中文表头,含核查结论)",
                           actions.logged(user, "export_signals", "风险线索 CSV", filt, lambda: exports.signals_csv_bytes(sig)),
                           file_name=f"{name}.csv", mime="text/csv", width="stretch", on_click="ignore")
        c2.download_button("下载 Excel(含筛选条件、阈值与核查记录)",
                           actions.logged(user, "export_signals", "风险线索 Excel", filt, lambda: exports.signals_xlsx_bytes(
                               sig, stamp, thresholds, qa.verdict_history(sc, tuple(sig["signal_id"].to_list())), rules_df)),
                           file_name=f"{name}.xlsx", width="stretch", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        c3.download_button("下载 CSV 的说明(筛选条件与阈值)",
                           actions.logged(user, "export_signals", "风险线索 CSV 说明", filt,
                                          lambda: exports.signals_stamp_text(stamp, thresholds, rules_df)),
                           file_name=f"{name}.thresholds.txt", mime="text/plain", width="stretch", on_click="ignore")
