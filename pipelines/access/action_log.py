"""The action log (access.md): one append-only row per action, read with filters, written as CSV.

Columns: time, user, role, county (clerks), action, object, detail, result. Details are
redacted before they are stored: nothing that looks like a password or a secret
(``password=…`` in a connection string, a token) is ever written.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.access.roles import ROLE_LABELS
from pipelines.access.store import connect
from pipelines.backend import mask
from pipelines.counties import county_name

__all__ = ["ACTIONS", "RESULTS", "record", "read", "csv_bytes", "redact", "os_user", "Filters", "HEADER"]

log = logging.getLogger(__name__)

#: action code -> Chinese label (the page and the CSV show the label)
ACTIONS = {
    "login": "登录", "login_failed": "登录失败", "logout": "退出登录",
    "upload": "上传文件", "verdict": "核查结论", "review": "复核",
    "export": "导出/下载", "report": "生成报告", "publish_scores": "发布得分",
    "user_add": "新增用户", "user_passwd": "修改密码", "user_disable": "停用用户", "user_enable": "启用用户",
    "setting": "修改设置", "backup": "备份", "restore": "恢复", "import": "命令行导入", "command": "命令行操作",
    "denied": "无权访问",
}
RESULTS = {"ok": "成功", "failed": "失败", "denied": "拒绝"}
HEADER = ("时间", "用户", "角色", "县市", "操作", "对象", "详情", "结果", "来源")

_SECRET = re.compile(r"(?i)\b(password|passwd|pwd|secret|token|cookie_secret|client_secret|api[_-]?key)\s*[=:]\s*\S+")


def redact(text: str | None) -> str:
    """``text`` with anything of the form ``password=…`` (and like secrets) blanked out, a quoted
    password and the one of a ``postgresql://user:password@host`` URI included."""
    return _SECRET.sub(lambda m: f"{m.group(1)}=***", mask(str(text or "")))


def os_user() -> str:
    """The operating-system user running a CLI command, as it is named in the log: ``os:<name>``."""
    try:
        name = getpass.getuser()
    except Exception:  # no login name in a bare container
        name = "unknown"
    return f"os:{name}"


def record(user: str, role: str, action: str, object: str = "", detail: str = "", result: str = "ok",
           county_code: str | None = None, source: str = "app", db: str | Path | None = None) -> None:
    """Append one row. A failure to write is logged and raised: an action that cannot be recorded
    must not pass silently."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if result not in RESULTS:
        raise ValueError(f"unknown result {result!r}")
    con = connect(db)
    try:
        con.execute(
            "insert into action_log (logged_at, user_name, role, county_code, action, object, detail, result, source)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [dt.datetime.now().astimezone().isoformat(timespec="seconds"), user, role, county_code, action,
             redact(object)[:500], redact(detail)[:2000], result, source])
    finally:
        con.close()


@dataclass(frozen=True)
class Filters:
    since: dt.date | None = None
    until: dt.date | None = None        # inclusive
    user: str | None = None
    action: str | None = None
    result: str | None = None
    limit: int | None = None


def read(f: Filters = Filters(), db: str | Path | None = None) -> list[dict]:
    """Rows of the log, newest first, with the filters (values reach SQL as parameters)."""
    sql = ["select * from action_log where 1 = 1"]
    params: list = []
    if f.since:
        sql.append("and logged_at >= ?")
        params.append(f.since.isoformat())
    if f.until:
        sql.append("and logged_at < ?")
        params.append((f.until + dt.timedelta(days=1)).isoformat())
    if f.user:
        sql.append("and user_name = ?")
        params.append(f.user)
    if f.action:
        sql.append("and action = ?")
        params.append(f.action)
    if f.result:
        sql.append("and result = ?")
        params.append(f.result)
    sql.append("order by seq desc")
    if f.limit:
        sql.append("limit ?")
        params.append(int(f.limit))
    con = connect(db)
    try:
        return [dict(r) for r in con.execute(" ".join(sql), params).fetchall()]
    finally:
        con.close()


def labelled(row: dict) -> list[str]:
    """A row as the page and the CSV show it (Chinese labels)."""
    return [row["logged_at"].replace("T", " ")[:19], row["user_name"], ROLE_LABELS.get(row["role"], row["role"]),
            county_name(row["county_code"]) if row["county_code"] else "", ACTIONS.get(row["action"], row["action"]),
            row["object"], row["detail"], RESULTS.get(row["result"], row["result"]),
            {"app": "看板", "cli": "命令行"}.get(row["source"], row["source"])]


def csv_bytes(rows: list[dict]) -> bytes:
    """The rows as CSV (UTF-8 with BOM, oldest first, formulas escaped by the one export escape)."""
    from pipelines.read.exports import escape_cell

    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for r in sorted(rows, key=lambda r: r["seq"]):
        w.writerow([escape_cell(v) for v in labelled(r)])
    return buf.getvalue().encode("utf-8-sig")
