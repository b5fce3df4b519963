"""操作日志 — admins and auditors: who did what and when (log-ins, uploads, verdicts, exports, user changes …), with filters and export."""

import datetime as dt

import polars as pl
import streamlit as st

from app_pages._common import guarded, require
from pipelines.access import action_log as al
from pipelines.read import actions
from pipelines.read.connection import db_path

user = require("action_log")
st.header("操作日志")
st.caption("每项操作一行,只增不改:登录(成功与失败)、退出、上传(每个文件及结果)、核查结论与复核、导出与下载(内容与筛选条件)、"
           "生成报告、用户与设置变更、备份与恢复、命令行导入。不记录任何密码。")

with guarded("操作日志"):
    c = st.columns([1, 1, 1.2, 1.2, 1])
    since = c[0].date_input("起始日期", value=dt.date.today() - dt.timedelta(days=30), format="YYYY-MM-DD")
    until = c[1].date_input("截止日期", value=dt.date.today(), format="YYYY-MM-DD")
    who = c[2].text_input("用户", placeholder="全部(填写用户名)").strip() or None
    action = c[3].selectbox("操作", [None, *al.ACTIONS], format_func=lambda a: "全部" if a is None else al.ACTIONS[a])
    result = c[4].selectbox("结果", [None, *al.RESULTS], format_func=lambda r: "全部" if r is None else al.RESULTS[r])
    flt = al.Filters(since=since, until=until, user=who, action=action, result=result)
    rows = al.read(flt, db_path())
    shown = pl.DataFrame([al.labelled(r) for r in rows[:2000]], schema=list(al.HEADER), orient="row")
    st.caption(f"共 {len(rows):,} 条" + (",显示最新的 2,000 条(导出包含全部)" if len(rows) > 2000 else ""))
    st.dataframe(shown, hide_index=True, width="stretch", height=460)
    described = (f"{since:%Y-%m-%d} 至 {until:%Y-%m-%d};用户 {who or '全部'};操作 {al.ACTIONS.get(action, '全部')};"
                 f"结果 {al.RESULTS.get(result, '全部')}")
    st.download_button("下载 CSV(按当前筛选条件)",
                       actions.logged(user, "action_log", "操作日志 CSV", described, lambda: al.csv_bytes(rows)),
                       file_name=f"操作日志_{since:%Y%m%d}-{until:%Y%m%d}.csv", mime="text/csv")
