"""Accounts for the dashboard's tests, and logging in through the real log-in form.

``make_users(db)`` creates one account per role (two auditors, two clerks) in the access store of
the warehouse ``db`` through ``pipelines.access.accounts`` — the same path as ``renovation users
add``. ``login(at, name)`` fills 用户名 and 密码 of the AppTest log-in page and presses 登录: the
session's user is set by the production log-in function, not by a test bypass.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.access import accounts

PASSWORD = "Test-password-2025"
KRL, LT, YL = "652801", "652822", "652823"

#: user name -> (role, county, display name)
USERS = {
    "admin1": ("admin", None, "管理员"),
    "leader1": ("leader", None, "领导小组王主任"),
    "auditor1": ("auditor", None, "审计局张科长"),
    "auditor2": ("auditor", None, "审计局李审计"),
    "eval1": ("evaluator", None, "评估组赵工"),
    "clerk_lt": ("clerk", LT, "轮台县填报员"),
    "clerk_yl": ("clerk", YL, "尉犁县填报员"),
}
#: the role a test of each page logs in with when it is not about access
PAGE_ROLE = {"progress": "admin1", "bulletin": "leader1", "risk": "auditor1", "annual": "eval1", "biennial": "eval1", "upload": "admin1",
             "quality": "admin1", "signal_counts": "leader1", "action_log": "admin1", "users": "admin1"}

_made: set[str] = set()


def make_users(db: str | Path) -> None:
    """The accounts of ``USERS`` in the access store of ``db`` (once per store)."""
    from pipelines.access.store import store_path

    key = str(store_path(db))
    if key in _made and Path(key).exists():
        return
    by = accounts.Actor("os:test", "operator", None, "cli")
    for name, (role, county, display) in USERS.items():
        if accounts.get(name, db) is None:
            accounts.add(name, role, PASSWORD, by, county, display, db)
    _made.add(key)


def login(at, name: str, password: str = PASSWORD):
    """Log in on the AppTest's log-in page; returns the AppTest after the run."""
    at.text_input(key="login_user").set_value(name)
    at.text_input(key="login_password").set_value(password)
    next(b for b in at.button if b.label == "登录").click()
    return at.run()


def browser_login(p, base: str, name: str, path: str = "", password: str = PASSWORD, expect_ok: bool = True) -> None:
    """Open ``base/path`` in the Playwright page ``p`` and log in with the spec's fields and button."""
    p.goto(f"{base}/{path}")
    p.get_by_label("用户名", exact=True).fill(name)
    p.get_by_label("密码", exact=True).fill(password)
    p.get_by_role("button", name="登录", exact=True).click()
    if expect_ok:
        p.wait_for_selector('button:has-text("退出登录")', timeout=60_000)
    p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
