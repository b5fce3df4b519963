"""The session's user in the dashboard: the log-in page, the idle timeout, 退出登录, and the
guard at the top of every page (``require(area)``).

The logged-in user lives only in the Streamlit session's server-side state (no cookie, no token
in the page): a new tab or a reload starts a new session, which logs in again. The session ends
after ``idle_minutes`` without an action (a small fragment checks, so that an unattended screen
clears itself), at 退出登录, and when an admin disables the account.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from pipelines.access import accounts, auth, oidc
from pipelines.access.auth import SessionUser
from pipelines.access.config import settings
from pipelines.access.roles import ROLE_LABELS
from pipelines.access.scope import FORBIDDEN_MESSAGE, Scope
from pipelines.read import actions
from pipelines.read.connection import db_path

log = logging.getLogger("dashboard")

USER_KEY = "_auth_user"
SEEN_KEY = "_auth_last_seen"
CHECKED_KEY = "_auth_checked"
NOTICE_KEY = "_auth_notice"


def current() -> SessionUser | None:
    """The logged-in user of this session, or None."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, SessionUser) else None


def scope() -> Scope:
    """The scope every read function takes (the dashboard only runs a page for a logged-in user)."""
    user = current()
    if user is None:
        st.error(FORBIDDEN_MESSAGE, icon=":material/block:")
        st.stop()
    return user.scope


def require(area: str) -> SessionUser:
    """The page's guard: stop with 无权访问 unless the session's role may see ``area`` — before any query."""
    user = current()
    if user is None or not user.scope.can(area):
        st.error(FORBIDDEN_MESSAGE, icon=":material/block:")
        st.stop()
    return user


def start(user: SessionUser) -> None:
    """Begin a session for ``user`` (after a successful log-in)."""
    for k in list(st.session_state.keys()):  # nothing of an earlier session carries over
        del st.session_state[k]
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = time.monotonic()
    st.session_state[CHECKED_KEY] = time.monotonic()


def end(reason: str, notice: str | None = None) -> None:
    """End the session: record it, forget everything the session held."""
    user = current()
    if user is not None:
        try:
            auth.log_out(user, reason, db=db_path())
        except Exception:
            log.exception("could not record the log-out")
    for k in list(st.session_state.keys()):
        del st.session_state[k]
    if notice:
        st.session_state[NOTICE_KEY] = notice
    if user is not None and user.method == "oidc" and _oidc_logged_in():
        st.logout()


def _oidc_logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:
        return False


def gate() -> SessionUser | None:
    """Called at the top of every run: the user, after the idle timeout and the account re-check
    (at most every ``account_recheck_seconds``); None when nobody is logged in."""
    s = settings()
    user = current()
    if user is None and oidc.enabled() and _oidc_logged_in():
        user = _oidc_user()
    if user is None:
        return None
    now = time.monotonic()
    if now - st.session_state.get(SEEN_KEY, now) > s.idle_seconds:
        end("空闲超时", f"会话已因 {_minutes(s.idle_seconds)} 无操作而结束,请重新登录。")
        return None
    if user.method == "password" and now - st.session_state.get(CHECKED_KEY, 0) > s.account_recheck_seconds:
        acc = accounts.get(user.user_name, db_path())
        if acc is None or acc.is_disabled or acc.role != user.role or acc.county_code != user.county_code:
            end("账号已停用或已变更", "您的账号已被停用或变更,请重新登录。")
            return None
        st.session_state[CHECKED_KEY] = now
    if not st.session_state.get("_idle_tick"):
        st.session_state[SEEN_KEY] = now  # a run the user caused (not the idle watch's)
    st.session_state["_idle_tick"] = False
    return user


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} 分钟" if seconds >= 60 else f"{seconds} 秒"


def _oidc_user() -> SessionUser | None:
    user, why = oidc.user_from_claims(dict(st.user))
    if user is None:
        actions.action_log.record(str(st.user.get("email") or st.user.get("sub") or "sso"), "anonymous", "login_failed",
                                  object="统一身份认证", detail=why, result="denied", db=db_path())
        st.session_state[NOTICE_KEY] = why
        st.logout()
        return None
    start(user)
    actions.record(user, "login", user.user_name, "统一身份认证登录")
    return user


def idle_watch() -> None:
    """A fragment that reruns the app once the session has been idle too long, so that the page
    does not stay on screen; its own runs are not activity."""
    s = settings()
    every = max(2, min(60, s.idle_seconds // 3))

    @st.fragment(run_every=every)
    def _watch() -> None:
        seen = st.session_state.get(SEEN_KEY)
        if current() is not None and seen is not None and time.monotonic() - seen > s.idle_seconds:
            st.session_state["_idle_tick"] = True
            st.rerun(scope="app")

    _watch()


LOGIN_ERROR_KEY = "_auth_login_error"


def _submitted() -> None:
    """The 登录 button's callback: it runs before the script, so that a successful log-in shows the
    page in the same run (no second round trip to the browser)."""
    result = auth.log_in(st.session_state.get("login_user", ""), st.session_state.get("login_password", ""),
                         db=db_path())
    if result.user is None:
        st.session_state[LOGIN_ERROR_KEY] = result.message
    else:
        start(result.user)


def login_page() -> None:
    """The log-in page: 用户名, 密码, 登录 (and the single sign-on button when configured). While the
    user types, it also loads the chart library (a hidden empty chart), which the first page after
    the log-in would otherwise load and compile then (~1 s in a new tab)."""
    st.header("巴州城镇老旧小区改造监测评估 · 登录")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice, icon=":material/info:")
    with st.form("login_form", clear_on_submit=False, enter_to_submit=True):
        st.text_input("用户名", key="login_user", autocomplete="username")
        st.text_input("密码", type="password", key="login_password", autocomplete="current-password")
        st.form_submit_button("登录", type="primary", on_click=_submitted)
    error = st.session_state.pop(LOGIN_ERROR_KEY, None)
    if error:
        st.error(error, icon=":material/error:")
    if oidc.enabled():
        cfg = settings().oidc
        if st.button(cfg.get("button_label", "使用单位统一身份认证登录")):
            st.login(cfg.get("provider") or None)
    s = settings()
    st.caption(f"账号由系统管理员开设;忘记密码请联系管理员重设。连续 {s.max_failed_logins} 次登录失败,"
               f"账号锁定 {s.lockout_seconds // 60} 分钟。")
    if not accounts.list_accounts(db_path()):  # a new installation: say how the first admin is made
        st.info("系统中还没有任何账号。请服务器操作员先在命令行创建第一个管理员:"
                "`uv run renovation users add admin --role admin`(按提示输入两次密码)。", icon=":material/info:")
    _warm_charts()


def _warm_charts() -> None:
    """An empty chart the user never sees (dashboard.py's style hides ``.st-key-chart_warmup``): the
    browser fetches and compiles the chart library while the log-in form is filled in."""
    import plotly.graph_objects as go

    with st.container(key="chart_warmup", height=1, border=False):
        st.plotly_chart(go.Figure(), config={"displayModeBar": False, "staticPlot": True}, key="chart_warmup_figure")


def sidebar_account(user: SessionUser) -> None:
    """Who is logged in, and 退出登录."""
    where = f" · {user.scope.county_code and _county(user.county_code)}" if user.county_code else ""
    st.text(f"{user.label}\n{ROLE_LABELS[user.role]}{where}")
    if st.button("退出登录", key="logout_button", icon=":material/logout:"):
        end("退出登录", "您已退出登录。")
        st.rerun()


def _county(code: str) -> str:
    from pipelines.counties import county_name

    return county_name(code)
