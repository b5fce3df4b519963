"""用户管理 — admins: local accounts (add, disable or enable, set a password); the roles and what each sees."""

import polars as pl
import streamlit as st

from app_pages._common import guarded, require
from pipelines.access import accounts
from pipelines.access.roles import AREAS, ROLE_AREAS, ROLE_LABELS, ROLES
from pipelines.counties import load_counties
from pipelines.read.connection import db_path

user = require("users")
actor = accounts.Actor(user.user_name, user.role, None, "app")
db = db_path()
st.header("用户管理")

with guarded("用户管理"):
    rows = accounts.list_accounts(db)
    st.dataframe(pl.DataFrame(
        [{"用户名": a.user_name, "显示名称": a.display_name, "角色": ROLE_LABELS[a.role], "县市": a.county_name or "",
          "状态": "已停用" if a.is_disabled else "正常", "最后变更": a.changed_at.replace("T", " ")[:19]} for a in rows],
        schema=["用户名", "显示名称", "角色", "县市", "状态", "最后变更"], orient="row"), hide_index=True, width="stretch")
    saved = st.session_state.pop("users_saved", None)
    if saved:
        st.success(saved)

    t1, t2, t3 = st.tabs(["新增用户", "停用/启用", "重设密码"])
    counties = {c.code: c.name for c in load_counties()}
    with t1, st.form("add_user", clear_on_submit=True):
        a, b = st.columns(2)
        name = a.text_input("新用户名", help="2–64 个字母、数字或 _ . @ -")
        display = b.text_input("显示名称", help="例如 张三")
        role = a.selectbox("角色", ROLES, format_func=lambda r: f"{ROLE_LABELS[r]}({r})")
        county = b.selectbox("所属县市(仅县市填报员)", [None, *counties], format_func=lambda c: "—" if c is None else counties[c])
        pw1 = a.text_input("初始密码", type="password")
        pw2 = b.text_input("再次输入初始密码", type="password")
        if st.form_submit_button("新增"):
            try:
                if pw1 != pw2:
                    raise accounts.AccountError("两次输入的密码不一致")
                accounts.add(name, role, pw1, actor, county if role == "clerk" else None, display, db)
                st.session_state["users_saved"] = f"已新增用户 {name}"
                st.rerun()
            except accounts.AccountError as exc:
                st.error(f"未新增:{exc}")
    names = [a.user_name for a in rows]
    with t2, st.form("disable_user"):
        who = st.selectbox("用户", names, key="disable_who")
        c1, c2 = st.columns(2)
        off = c1.form_submit_button("停用")
        on = c2.form_submit_button("启用")
        if (off or on) and who:
            try:
                accounts.set_disabled(who, bool(off), actor, db)
                st.session_state["users_saved"] = f"已{'停用' if off else '启用'}用户 {who}"
                st.rerun()
            except accounts.AccountError as exc:
                st.error(f"未更改:{exc}")
    with t3, st.form("passwd_user", clear_on_submit=True):
        who = st.selectbox("用户", names, key="passwd_who")
        pw1 = st.text_input("新密码", type="password")
        pw2 = st.text_input("再次输入新密码", type="password")
        if st.form_submit_button("设置新密码") and who:
            try:
                if pw1 != pw2:
                    raise accounts.AccountError("两次输入的密码不一致")
                accounts.set_password(who, pw1, actor, db)
                st.session_state["users_saved"] = f"已为用户 {who} 设置新密码(连续登录失败的锁定随之解除)"
                st.rerun()
            except accounts.AccountError as exc:
                st.error(f"未更改:{exc}")

    with st.expander("各角色可见的内容与可做的操作"):
        st.dataframe(pl.DataFrame([{"内容/操作": desc, **{ROLE_LABELS[r]: ("✓" if area in ROLE_AREAS[r] else "") for r in ROLES}}
                                   for area, desc in AREAS.items()]), hide_index=True, width="stretch")
