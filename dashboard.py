"""巴州城镇老旧小区改造监测评估 — the Streamlit app: page config, global filters, navigation.

Run with `uv run renovation serve` (or `streamlit run dashboard.py`); the warehouse is
`RENOVATION_DB`, else warehouse/renovation.duckdb, opened read-only.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from app_pages._common import UNIT_KEY, YEAR_KEY
from pipelines.read import filters as qf
from pipelines.read.clock import clock_caption, data_clock
from pipelines.read.connection import DataUnavailable

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("dashboard")

# also set here: .streamlit/config.toml is only read when streamlit starts in the repository root
st.set_option("client.showErrorDetails", False)

st.set_page_config(
    page_title="巴州城镇老旧小区改造监测评估",
    page_icon="🏘️",
    layout="wide",
    initial_sidebar_state="expanded",
)

# compact spacing so that a page is usable at 1366×768
st.markdown(
    """<style>
    .block-container {padding-top: 2.2rem; padding-bottom: 1rem; padding-left: 1.6rem; padding-right: 1.6rem;}
    [data-testid="stMetricValue"] {font-size: 1.45rem;}
    [data-testid="stMetricLabel"] p {font-size: 0.85rem;}
    h2 {padding-top: 0.2rem;}
    /* the file uploader's built-in English texts, in Chinese */
    [data-testid="stFileUploaderDropzone"] [data-testid="stMarkdownContainer"] p {font-size: 0;}
    [data-testid="stFileUploaderDropzone"] [data-testid="stMarkdownContainer"] p::after {content: "选择文件"; font-size: 0.9rem;}
    [data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0;}
    [data-testid="stFileUploaderDropzoneInstructions"] span::after {content: "拖放文件到此处,或点击「选择文件」(可多选)"; font-size: 0.85rem;}
    </style>""",
    unsafe_allow_html=True,
)

pages = {
    "州领导小组": [st.Page("app_pages/progress.py", title="进度总览", icon=":material/monitoring:", url_path="progress", default=True)],
    "州审计局": [st.Page("app_pages/risk.py", title="风险线索", icon=":material/policy:", url_path="risk")],
    "评估人员": [
        st.Page("app_pages/annual.py", title="年度体检", icon=":material/fact_check:", url_path="annual"),
        st.Page("app_pages/biennial.py", title="两年评估", icon=":material/leaderboard:", url_path="biennial"),
    ],
    "县市住建部门": [
        st.Page("app_pages/upload.py", title="数据上报", icon=":material/upload_file:", url_path="upload"),
        st.Page("app_pages/quality.py", title="数据质量", icon=":material/rule:", url_path="quality"),
    ],
}
pages["州领导小组"].append(st.Page("app_pages/bulletin.py", title="月度通报", icon=":material/campaign:", url_path="bulletin"))
nav = st.navigation(pages)

with st.sidebar:
    st.markdown("### 巴州老旧小区改造")
    try:
        years = qf.years()
        units = qf.units()
        clock = data_clock()
    except DataUnavailable as exc:
        years, units, clock = [], None, {}
        st.info(str(exc))
    except Exception:
        logging.getLogger("dashboard").exception("sidebar")
        years, units, clock = [], None, {}
        st.error("数据仓库暂时无法读取,请稍后刷新。")
    # a link carries the filters (?year=2025&unit=652822): read them when a session starts
    params = st.query_params
    first_run = "_filters_seen" not in st.session_state
    st.session_state["_filters_seen"] = True
    if years:
        if first_run and params.get("year", "").isdigit() and int(params["year"]) in years:
            st.session_state[YEAR_KEY] = int(params["year"])
        if st.session_state.get(YEAR_KEY) not in years:
            st.session_state[YEAR_KEY] = qf.default_year()
        st.selectbox("年度(计划年度)", years, key=YEAR_KEY, format_func=lambda y: f"{y} 年")
    else:
        st.session_state[YEAR_KEY] = None
    if units is not None:
        names = dict(units.select("county_code", "county_name").iter_rows())
        options = [None, *names]
        if first_run and params.get("unit") in names:
            st.session_state[UNIT_KEY] = params["unit"]
        if st.session_state.get(UNIT_KEY) not in options:
            st.session_state[UNIT_KEY] = None
        st.selectbox("县市", options, key=UNIT_KEY, format_func=lambda c: "全州" if c is None else names[c])
    else:
        st.session_state[UNIT_KEY] = None
    # …and write them back, so that the address bar always holds a link to what is shown
    wanted = {k: str(v) for k, v in (("year", st.session_state.get(YEAR_KEY)), ("unit", st.session_state.get(UNIT_KEY)))
              if v is not None}
    if {k: params.get(k) for k in ("year", "unit")} != {k: wanted.get(k) for k in ("year", "unit")}:
        params.clear()
        params.update(wanted)
    # the data clock (flags.md): the newest 填报日期 received and the latest month due by it
    st.caption(clock_caption(clock) if clock else "尚无数据")

t0 = time.perf_counter()
try:
    nav.run()
finally:
    log.info("page %s: script run %.3f s", nav.url_path or "progress", time.perf_counter() - t0)
