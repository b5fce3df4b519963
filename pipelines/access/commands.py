"""``renovation users …`` and ``renovation log``, and the action-log entry of every CLI command that writes.

The command line is run by the server's operator, who is trusted; its actions are recorded
under the operating-system user (``os:<name>``, role 命令行操作员).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from pipelines.access import accounts, action_log
from pipelines.access.roles import ROLE_LABELS, ROLES

__all__ = ["register", "COMMANDS", "audited"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

#: commands that write, and the action they are logged as (users … log themselves, per change)
WRITES = {"ingest": "import", "demo": "import", "flags": "export", "scores": "export", "report": "export", "bulletin": "export",
          "log": "export", "backup": "backup", "restore": "restore", "migrate": "command", "serve": "command"}


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add ``users`` and ``log`` to the CLI's subparsers."""
    u = sub.add_parser("users", help="用户管理(本地账号)")
    us = u.add_subparsers(dest="users_command", required=True, parser_class=type(u), metavar="操作")
    a = us.add_parser("add", parents=[common], help="新增用户")
    a.add_argument("name", help="用户名")
    a.add_argument("--role", required=True, choices=ROLES, help="admin / leader / auditor / evaluator / clerk")
    a.add_argument("--county", default=None, help="县市代码(县市填报员必填,见 counties.csv)")
    a.add_argument("--display", default=None, help="显示名称(默认为用户名)")
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码(一行)")
    us.add_parser("list", parents=[common], help="列出用户")
    d = us.add_parser("disable", parents=[common], help="停用用户")
    d.add_argument("name", help="用户名")
    p = us.add_parser("passwd", parents=[common], help="设置新密码")
    p.add_argument("name", help="用户名")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码(一行)")

    g = sub.add_parser("log", parents=[common], help="导出操作日志(CSV)")
    g.add_argument("--since", type=dt.date.fromisoformat, default=None, help="起始日期 YYYY-MM-DD")
    g.add_argument("--out", type=Path, required=True)


def _db(args) -> Path | str:
    from pipelines.warehouse import default_db_path

    return args.db if getattr(args, "db", None) is not None else str(default_db_path())


def _actor() -> accounts.Actor:
    return accounts.Actor(action_log.os_user(), "operator", None, "cli")


def _password(args) -> str | None:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("密码:")
    second = getpass.getpass("再次输入密码:")
    if first != second:
        print("两次输入的密码不一致,未作更改。", file=sys.stderr)
        return None
    return first


def cmd_users(args) -> int:
    db = _db(args)
    try:
        if args.users_command == "list":
            print("用户名\t显示名称\t角色\t县市\t状态\t最后变更", file=sys.stdout)
            for acc in accounts.list_accounts(db):
                print(f"{acc.user_name}\t{acc.display_name}\t{ROLE_LABELS[acc.role]}({acc.role})\t"
                      f"{acc.county_name or ''}\t{'已停用' if acc.is_disabled else '正常'}\t{acc.changed_at.replace('T', ' ')[:19]}")
            return EXIT_OK
        if args.users_command == "disable":
            accounts.set_disabled(args.name, True, _actor(), db)
            print(f"已停用用户 {args.name}", file=sys.stderr)
            return EXIT_OK
        password = _password(args)
        if password is None:
            return EXIT_FAIL
        if args.users_command == "add":
            acc = accounts.add(args.name, args.role, password, _actor(), args.county, args.display, db)
            where = f",县市 {acc.county_name}" if acc.county_code else ""
            print(f"已新增用户 {acc.user_name}(角色 {ROLE_LABELS[acc.role]}{where})", file=sys.stderr)
        else:
            accounts.set_password(args.name, password, _actor(), db)
            print(f"已为用户 {args.name} 设置新密码", file=sys.stderr)
        return EXIT_OK
    except accounts.AccountError as exc:
        print(f"未作更改:{exc}", file=sys.stderr)
        return EXIT_FAIL


def cmd_log(args) -> int:
    rows = action_log.read(action_log.Filters(since=args.since), _db(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(action_log.csv_bytes(rows))
    print(f"已导出操作日志 {len(rows)} 条:{args.out}", file=sys.stderr)
    return EXIT_OK


COMMANDS: dict[str, Callable] = {"users": cmd_users, "log": cmd_log}


def _describe(args) -> tuple[str, str]:
    """(object, detail) of a command for the log: what it was given (secrets redacted by the log)."""
    skip = {"command", "verbose", "users_command", "password_stdin", "db"}
    parts = []
    for k, v in sorted(vars(args).items()):
        if k in skip or v is None or v is False:
            continue
        if isinstance(v, list):
            v = " ".join(str(x) for x in v)
        parts.append(f"--{k}={v}" if k != "paths" else str(v))
    return str(getattr(args, "out", "") or getattr(args, "paths", "") or ""), f"renovation {args.command} " + " ".join(parts)


def _imports(args, db, started: dt.datetime) -> list[tuple[str, str]]:
    """Per file of an import that just ran: (file, status) from the warehouse's import log."""
    from pipelines.ingest import discover

    import duckdb

    from pipelines.backend import locate

    paths = args.paths if args.command == "ingest" else [args.out]
    files = {str(p) for p in discover([Path(p) for p in paths])}
    from pipelines.locking import WarehouseError, open_warehouse

    try:
        con = open_warehouse(locate(db, getattr(args, "data_path", None)), read_only=True)
    except (duckdb.Error, WarehouseError):
        return []
    try:
        rows = con.execute("select file_path, status, rows, rejected_rows from raw.ingest_log where logged_at >= ?"
                           " order by logged_at, seq", [started.replace(tzinfo=None)]).fetchall()
    except duckdb.Error:
        return []
    finally:
        con.close()
    status = {"accepted": "已入库", "duplicate": "已存在(重复文件)", "rejected": "已拒收"}
    return [(f, f"{status.get(s, s)};入库 {n} 行,隔离 {r} 行") for f, s, n, r in rows if f in files]


def audited(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a CLI command; when it writes, record it in the action log under the OS user."""
    action = WRITES.get(args.command)
    if action is None:
        return command(args)
    started = dt.datetime.now()
    code = EXIT_FAIL
    try:
        code = command(args)
        return code
    finally:
        db = _db(args)
        obj, detail = _describe(args)
        result = "ok" if code == EXIT_OK else "failed"
        user = action_log.os_user()
        try:
            if action == "import":
                per_file = _imports(args, db, started)
                for f, what in per_file:
                    action_log.record(user, "operator", "import", object=f, detail=what,
                                      result="failed" if what.startswith("已拒收") else "ok", source="cli", db=db)
                detail += f"(共 {len(per_file)} 个文件)"
            action_log.record(user, "operator", "command" if action == "import" else action, object=obj,
                              detail=detail + f";退出码 {code}", result=result, source="cli", db=db)
        except Exception as exc:  # the command's own outcome stands; say that it went unrecorded
            print(f"警告:未能写入操作日志({type(exc).__name__})", file=sys.stderr)
