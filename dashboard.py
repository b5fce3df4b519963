"""巴州城镇老旧小区改造监测评估 — the Streamlit app: page config, global filters, navigation.

Run with `uv run renovation serve` (or `streamlit run dashboard.py`); the warehouse is
`RENOVATION_DB`, else warehouse/renovation.duckdb, opened read-only. Nothing is shown, and no
query runs, before a user logs in (app_pages/_session.py); the menu holds the pages of the
user's role (pipelines/access/roles.py), and a page outside it answers 无权访问 without running.
"""

from __future__ import annotations

import logging
import time

import streamlit as st
import streamlit.commands.navigation as _st_navigation

from app_pages import _session as session
from app_pages._common import PREFECTURE_KEY, UNIT_KEY, YEAR_KEY
from pipelines.access.roles import PAGES, pages_for
from pipelines.access.scope import FORBIDDEN_MESSAGE, Forbidden
from pipelines.backend import MaskingFilter
from pipelines.counties import home_prefecture, prefecture_name
from pipelines.read import actions
from pipelines.read import filters as qf
from pipelines.read.clock import clock_caption, data_clock
from pipelines.read.connection import DataUnavailable

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
for _handler in (*logging.getLogger().handlers, *logging.getLogger("streamlit").handlers):
    if not any(isinstance(f, MaskingFilter) for f in _handler.filters):  # no catalog password in the server log
        _handler.addFilter(MaskingFilter())
log = logging.getLogger("dashboard")

# also set here: .streamlit/config.toml is only read when streamlit starts in the repository root
st.set_option("client.showErrorDetails", False)
# no table toolbar download (it only quotes, and would bypass the role's export rights): every
# download is the project's own export, formulas escaped and recorded in the action log
st.set_option("client.disableDataExport", True)

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
    /* Streamlit's other built-in English texts, in Chinese: a multiselect's bulk option, the skip link */
    [data-key="__select_all__"] [data-item-hl] {font-size: 0;}
    [data-key="__select_all__"] [data-item-hl]::after {content: "全选"; font-size: 0.9rem;}
    [data-testid="stSkipToContent"] {font-size: 0;}
    [data-testid="stSkipToContent"]::after {content: "跳到主要内容"; font-size: 0.9rem;}
    /* the log-in page's hidden chart (app_pages/_session.py: the chart library loads while the form is filled in) */
    .st-key-chart_warmup {display: none !important;}
    /* printing a page (Ctrl+P): no sidebar, header or toolbars; the main column full width; no chart cut in two */
    @media print {
      [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSkipToContent"],
      [data-testid="stElementToolbar"], [data-testid="stDecoration"], .modebar-container {display: none !important;}
      [data-testid="stMain"], .block-container {margin-left: 0 !important; padding: 0.5rem !important; max-width: 100% !important;}
      [data-testid="stPlotlyChart"], .js-plotly-plot, [data-testid="stMetric"], [data-testid="stDataFrame"] {
        break-inside: avoid !important; page-break-inside: avoid !important;}
    }
    </style>""",
    unsafe_allow_html=True,
)

# An address that names no page: Streamlit would open an English "Page not found" dialog (sent by
# st.navigation through this one function); the app says it in Chinese instead, above the main page.
def _page_not_found(ctx) -> None:
    st.session_state["_page_not_found"] = True


_st_navigation.send_page_not_found = _page_not_found

# url path -> page file and icon; titles and the area each page shows: pipelines.access.roles.PAGES
PAGE_FILES = {
    "progress": ("app_pages/progress.py", ":material/monitoring:"),
    "bulletin": ("app_pages/bulletin.py", ":material/campaign:"),
    "signal_counts": ("app_pages/signal_counts.py", ":material/bar_chart:"),
    "risk": ("app_pages/risk.py", ":material/policy:"),
    "annual": ("app_pages/annual.py", ":material/fact_check:"),
    "biennial": ("app_pages/biennial.py", ":material/leaderboard:"),
    "upload": ("app_pages/upload.py", ":material/upload_file:"),
    "quality": ("app_pages/quality.py", ":material/rule:"),
    "action_log": ("app_pages/action_log.py", ":material/history:"),
    "users": ("app_pages/users.py", ":material/manage_accounts:"),
}

user = session.gate()
permitted = pages_for(user.role) if user else []
# every page is known to the navigation, so that a link to one resolves (and, after the log-in,
# opens); those the role may not see stay out of the menu and answer 无权访问 without running
pages = {key: st.Page(path, title=PAGES[key][0], icon=icon, url_path=key, default=key == "progress",
                      visibility="visible" if key in permitted else "hidden")
         for key, (path, icon) in PAGE_FILES.items()}
nav = st.navigation(list(pages.values()), position="sidebar" if user else "hidden")
key = nav.url_path or "progress"

if st.session_state.pop("_page_not_found", False):
    st.warning("您要打开的页面不存在,已为您打开首页。", icon=":material/link_off:")

if user is None:
    session.login_page()
    st.stop()

with st.sidebar:
    session.sidebar_account(user)
    session.idle_watch()
    sc = user.scope
    try:
        years = qf.years(sc)
        units = qf.units(sc)
        clock = data_clock(sc)
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
            st.session_state[YEAR_KEY] = qf.default_year(sc)
        st.selectbox("年度(计划年度)", years, key=YEAR_KEY, format_func=lambda y: f"{y} 年")
    else:
        st.session_state[YEAR_KEY] = None
    if units is not None:
        # a province warehouse (units of several prefectures): a 州 select first, and the 县市 select
        # holds that prefecture's units; with one prefecture (every real deployment) neither shows
        prefectures = list(dict.fromkeys(units["prefecture_code"]))
        if len(prefectures) > 1 and not sc.is_county:
            if first_run and params.get("unit") in set(units["county_code"]):
                pref_of = dict(units.select("county_code", "prefecture_code").iter_rows())
                st.session_state[PREFECTURE_KEY] = pref_of[params["unit"]]
            elif first_run and params.get("prefecture") in prefectures:
                st.session_state[PREFECTURE_KEY] = params["prefecture"]
            if st.session_state.get(PREFECTURE_KEY) not in prefectures:
                home = home_prefecture()
                st.session_state[PREFECTURE_KEY] = home if home in prefectures else prefectures[0]
            st.selectbox("州", prefectures, key=PREFECTURE_KEY, format_func=prefecture_name)
            units = units.filter(units["prefecture_code"] == st.session_state[PREFECTURE_KEY])
        else:
            st.session_state[PREFECTURE_KEY] = None
        names = dict(units.select("county_code", "county_name").iter_rows())
        # a clerk sees its own county only: no 全州, no other county's name
        options = list(names) if sc.is_county else [None, *names]
        if first_run and params.get("unit") in names:
            st.session_state[UNIT_KEY] = params["unit"]
        # a county clicked on a ranking chart or the map (app_pages/progress.py): the page filters to it
        pending = st.session_state.pop("_pending_unit", "")
        if pending != "" and pending in options:
            st.session_state[UNIT_KEY] = pending
        if st.session_state.get(UNIT_KEY) not in options:
            st.session_state[UNIT_KEY] = options[0] if options else None
        st.selectbox("县市", options, key=UNIT_KEY, format_func=lambda c: "全州" if c is None else names.get(c, ""))
    else:
        st.session_state[UNIT_KEY] = None
        st.session_state[PREFECTURE_KEY] = None
    # …and write them back, so that the address bar always holds a link to what is shown
    wanted = {k: str(v) for k, v in (("year", st.session_state.get(YEAR_KEY)),
                                     ("prefecture", st.session_state.get(PREFECTURE_KEY)),
                                     ("unit", st.session_state.get(UNIT_KEY))) if v is not None}
    if {k: params.get(k) for k in ("year", "prefecture", "unit")} != {k: wanted.get(k) for k in ("year", "prefecture", "unit")}:
        params.clear()
        params.update(wanted)
    # the data clock (flags.md): the newest 填报日期 received and the latest month due by it
    st.caption(clock_caption(clock) if clock else "尚无数据")

if key not in permitted:
    # checked here, before the page's script (and any of its queries) runs
    actions.record(user, "denied", PAGES.get(key, (key,))[0], f"打开页面 /{key}", "denied")
    st.error(FORBIDDEN_MESSAGE, icon=":material/block:")
    st.stop()

t0 = time.perf_counter()
try:
    nav.run()
except Forbidden:
    st.error(FORBIDDEN_MESSAGE, icon=":material/block:")
finally:
    log.info("page %s: script run %.3f s", key, time.perf_counter() - t0)
