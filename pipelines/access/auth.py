"""Log-in with a password, the lock-out after repeated failures, and the session's user.

Five failed attempts in a row (``max_failed_logins``) lock the name for 15 minutes
(``lockout_minutes``) from the fifth failure; attempts while locked are refused without looking
at the password and do not extend the lock; a success, or a new password set by an admin, starts
the count again. Unknown names are treated like known ones (same message, same time, same
lock-out), so that the log-in form does not tell which names exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pipelines.access import accounts, action_log
from pipelines.access.config import settings
from pipelines.access.passwords import DUMMY_HASH, verify_password
from pipelines.access.scope import Scope
from pipelines.access.store import connect

__all__ = ["SessionUser", "LoginResult", "log_in", "log_out", "locked_until", "session_from_account"]

WRONG = "用户名或密码错误"


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user of one dashboard session (held server-side in the session's state)."""
    user_name: str
    display_name: str
    role: str
    county_code: str | None
    method: str = "password"          # password | oidc
    logged_in_at: str = ""

    @property
    def scope(self) -> Scope:
        return Scope(self.role, self.county_code)

    @property
    def label(self) -> str:
        return f"{self.display_name}({self.user_name})" if self.display_name != self.user_name else self.user_name


@dataclass(frozen=True)
class LoginResult:
    user: SessionUser | None
    message: str = ""                 # Chinese, for the log-in page when user is None


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def session_from_account(acc: accounts.Account, method: str = "password") -> SessionUser:
    return SessionUser(acc.user_name, acc.display_name, acc.role, acc.county_code, method,
                       _now().isoformat(timespec="seconds"))


def locked_until(user_name: str, db: str | Path | None = None, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock on ``user_name`` ends, or None when it is not locked."""
    s = settings()
    now = now or _now()
    con = connect(db)
    try:
        acc_change = con.execute(
            "select max(changed_at) from accounts where user_name = ? and change in ('create', 'passwd', 'enable')",
            [user_name]).fetchone()[0]
        rows = con.execute(
            """select attempted_at, outcome from login_attempts
               where user_name = ? and seq > coalesce((select max(seq) from login_attempts
                                                      where user_name = ? and outcome = 'success'), 0)
               order by seq""", [user_name, user_name]).fetchall()
    finally:
        con.close()
    changed = dt.datetime.fromisoformat(acc_change) if acc_change else None
    count, until = 0, None
    for at_text, outcome in rows:
        at = dt.datetime.fromisoformat(at_text)
        if changed is not None and at < changed:
            continue  # before the password was (re)set
        if outcome != "failure" or (until is not None and at < until):
            continue
        count += 1
        if count >= s.max_failed_logins:
            until, count = at + dt.timedelta(seconds=s.lockout_seconds), 0
    return until if until is not None and now < until else None


def _attempt(user_name: str, outcome: str, db) -> None:
    con = connect(db)
    try:
        con.execute("insert into login_attempts (user_name, attempted_at, outcome) values (?, ?, ?)",
                    [user_name[:128], _now().isoformat(timespec="microseconds"), outcome])
    finally:
        con.close()


def log_in(user_name: str, password: str, db: str | Path | None = None) -> LoginResult:
    """Check a name and password; record the attempt and the action. Never raises on bad input."""
    name = (user_name or "").strip()[:128]
    if not name or not password:
        return LoginResult(None, "请输入用户名和密码")
    until = locked_until(name, db)
    if until is not None:
        _attempt(name, "locked", db)
        action_log.record(name, "anonymous", "login_failed", object=name, detail="账号已锁定", result="denied", db=db)
        return LoginResult(None, f"连续 {settings().max_failed_logins} 次登录失败,账号已锁定,请于 "
                                 f"{until:%H:%M} 后再试,或请管理员重设密码。")
    acc = accounts.get(name, db)
    ok = verify_password(acc.password_hash if acc else DUMMY_HASH(), password)
    if ok and acc is not None and acc.is_disabled:
        _attempt(name, "disabled", db)
        action_log.record(name, acc.role, "login_failed", object=name, detail="账号已停用", result="denied",
                          county_code=acc.county_code, db=db)
        return LoginResult(None, "该账号已停用,请联系系统管理员。")
    if not ok or acc is None:
        _attempt(name, "failure", db)
        action_log.record(name, acc.role if acc else "anonymous", "login_failed", object=name,
                          detail="用户名或密码错误", result="failed", county_code=acc.county_code if acc else None, db=db)
        until = locked_until(name, db)
        if until is not None:
            return LoginResult(None, f"连续 {settings().max_failed_logins} 次登录失败,账号已锁定,请于 "
                                     f"{until:%H:%M} 后再试,或请管理员重设密码。")
        return LoginResult(None, WRONG)
    _attempt(name, "success", db)
    user = session_from_account(acc)
    action_log.record(acc.user_name, acc.role, "login", object=acc.user_name, detail="密码登录",
                      county_code=acc.county_code, db=db)
    return LoginResult(user)


def log_out(user: SessionUser, reason: str = "退出登录", db: str | Path | None = None) -> None:
    """Record the end of a session (the caller clears the session's state)."""
    action_log.record(user.user_name, user.role, "logout", object=user.user_name, detail=reason,
                      county_code=user.county_code, db=db)
