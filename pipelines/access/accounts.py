"""Local accounts, kept as an append-only history of changes in the access store.

An account's state is its latest row in ``accounts``. Every change (created, password set,
disabled, enabled) appends a row and an entry of the action log; no password is ever logged.
There is no default account: the first admin comes from ``renovation users add``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.access import action_log
from pipelines.access.config import settings
from pipelines.access.passwords import check_policy, hash_password
from pipelines.access.roles import ROLE_LABELS, ROLES
from pipelines.access.store import connect, transaction
from pipelines.counties import county_name, load_counties

__all__ = ["Account", "AccountError", "get", "list_accounts", "add", "set_password", "set_disabled", "any_admin",
           "Actor", "NAME_PATTERN"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


class AccountError(ValueError):
    """A change that cannot be made (message in Chinese)."""


@dataclass(frozen=True)
class Account:
    user_name: str
    display_name: str
    role: str
    county_code: str | None
    password_hash: str
    is_disabled: bool
    changed_at: str

    @property
    def label(self) -> str:
        """``张三(zhangsan)`` — how the account is named on pages and in exports."""
        return f"{self.display_name}({self.user_name})" if self.display_name != self.user_name else self.user_name

    @property
    def county_name(self) -> str | None:
        return county_name(self.county_code) if self.county_code else None


@dataclass(frozen=True)
class Actor:
    """Who makes a change: an account in the dashboard, or the operating-system user of the CLI."""
    user_name: str
    role: str
    county_code: str | None = None
    source: str = "app"


def _now() -> str:
    # to the microsecond: a lock-out is lifted by a password set after the failures, and both can
    # fall within one second (compared with the attempts' times in pipelines.access.auth)
    return dt.datetime.now().astimezone().isoformat(timespec="microseconds")


_LATEST = """
    select a.* from accounts as a
    join (select user_name, max(seq) as seq from accounts group by user_name) as l using (user_name, seq)
"""


def _account(row) -> Account:
    return Account(row["user_name"], row["display_name"], row["role"], row["county_code"], row["password_hash"],
                   bool(row["is_disabled"]), row["changed_at"])


def get(user_name: str, db: str | Path | None = None) -> Account | None:
    """The account's current state, or None."""
    con = connect(db)
    try:
        row = con.execute("select * from accounts where user_name = ? order by seq desc limit 1",
                          [user_name]).fetchone()
    finally:
        con.close()
    return _account(row) if row else None


def list_accounts(db: str | Path | None = None) -> list[Account]:
    """Every account's current state, by user name."""
    con = connect(db)
    try:
        return [_account(r) for r in con.execute(_LATEST + " order by a.user_name").fetchall()]
    finally:
        con.close()


def any_admin(db: str | Path | None = None) -> bool:
    return any(a.role == "admin" and not a.is_disabled for a in list_accounts(db))


def _append(con, acc: Account, change: str, by: Actor) -> None:
    con.execute(
        "insert into accounts (user_name, display_name, role, county_code, password_hash, is_disabled, change,"
        " changed_at, changed_by) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [acc.user_name, acc.display_name, acc.role, acc.county_code, acc.password_hash, int(acc.is_disabled), change,
         _now(), by.user_name])


def _check_password(password: str, user_name: str) -> None:
    why = check_policy(password, settings().min_password_length, user_name)
    if why:
        raise AccountError(why)


def add(user_name: str, role: str, password: str, by: Actor, county_code: str | None = None,
        display_name: str | None = None, db: str | Path | None = None) -> Account:
    """Create an account (raises :class:`AccountError` with a Chinese reason)."""
    user_name = (user_name or "").strip()
    display_name = (display_name or "").strip() or user_name
    if not NAME_PATTERN.match(user_name):
        raise AccountError("用户名须为 2–64 个字母、数字或 _ . @ - 字符")
    if role not in ROLES:
        raise AccountError(f"角色须为 {' / '.join(ROLES)} 之一")
    if role == "clerk":
        codes = {c.code for c in load_counties()}
        if county_code not in codes:
            raise AccountError("县市填报员须指定所属县市代码(--county,见 counties.csv)")
    elif county_code:
        raise AccountError(f"只有县市填报员绑定县市;{ROLE_LABELS[role]}不绑定县市")
    if len(display_name) > 64 or any(ch in display_name for ch in "\r\n\t"):
        raise AccountError("显示名称不能超过 64 个字符,也不能换行")
    _check_password(password, user_name)
    acc = Account(user_name, display_name, role, county_code or None, hash_password(password), False, _now())
    with transaction(db) as con:
        if con.execute("select 1 from accounts where user_name = ?", [user_name]).fetchone():
            raise AccountError(f"用户名 {user_name} 已存在")
        _append(con, acc, "create", by)
    action_log.record(by.user_name, by.role, "user_add", object=user_name,
                      detail=f"角色 {ROLE_LABELS[role]}" + (f";县市 {acc.county_name}" if acc.county_code else "")
                      + f";显示名称 {display_name}", county_code=by.county_code, source=by.source, db=db)
    return acc


def _change(user_name: str, by: Actor, change: str, db, **fields) -> Account:
    with transaction(db) as con:
        row = con.execute("select * from accounts where user_name = ? order by seq desc limit 1", [user_name]).fetchone()
        if row is None:
            raise AccountError(f"没有用户 {user_name}")
        acc = _account(row)
        new = Account(acc.user_name, acc.display_name, acc.role, acc.county_code,
                      fields.get("password_hash", acc.password_hash), fields.get("is_disabled", acc.is_disabled), _now())
        _append(con, new, change, by)
    return new


def set_password(user_name: str, password: str, by: Actor, db: str | Path | None = None) -> Account:
    """Set a new password (it also lifts a lock-out: the failed attempts before it no longer count)."""
    _check_password(password, user_name)
    acc = _change(user_name, by, "passwd", db, password_hash=hash_password(password))
    action_log.record(by.user_name, by.role, "user_passwd", object=user_name, detail="设置新密码",
                      county_code=by.county_code, source=by.source, db=db)
    return acc


def set_disabled(user_name: str, disabled: bool, by: Actor, db: str | Path | None = None) -> Account:
    """Disable (or enable again) an account; a disabled account cannot log in and its sessions end."""
    if disabled and by.user_name == user_name:
        raise AccountError("不能停用自己的账号")
    acc = _change(user_name, by, "disable" if disabled else "enable", db, is_disabled=disabled)
    action_log.record(by.user_name, by.role, "user_disable" if disabled else "user_enable", object=user_name,
                      detail="停用账号" if disabled else "启用账号", county_code=by.county_code, source=by.source, db=db)
    return acc
