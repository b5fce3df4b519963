"""The `renovation` console script (spec cli.md).

Human messages go to stderr in Chinese; data goes to stdout or --out. A user never sees a
stack trace: unexpected errors are logged and reported in one Chinese line.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.locking import WarehouseError, classify
from pipelines.access import commands as access_commands
from pipelines.settings import ROOT
from pipelines.backend import Location, MaskingFilter, locate, mask, unreachable

log = logging.getLogger("renovation")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


# argparse's own texts (headings, usage errors): Python ships no Chinese catalog for them, and argparse
# looks each one up through its module's ``_`` when it is shown
ARGPARSE_TEXTS = {
    "usage: ": "用法:",
    "positional arguments": "参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "the following arguments are required: %s": "缺少必需的参数:%s",
    "unrecognized arguments: %s": "无法识别的参数:%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的取值 %(value)r(可选:%(choices)s)",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s:%(message)s",
    "expected one argument": "须给出一个值",
    "expected at most one argument": "最多给出一个值",
    "expected at least one argument": "至少给出一个值",
    "invalid %(type)s value: %(value)r": "无效的值 %(value)r(应为 %(type)s)",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义,可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 须给出其中之一",
}


def _argparse_text(text: str) -> str:
    return ARGPARSE_TEXTS.get(text, text)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with a Chinese line
        self.print_usage(sys.stderr)
        print(f"用法错误:{message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    argparse._ = _argparse_text  # before the parsers are made: their -h help text is looked up then
    p = _Parser(prog="renovation", description="巴州城镇老旧小区改造监测评估系统")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=None, help="数据仓库:DuckDB 文件,或 ducklake:postgres:<连接串>(默认:环境变量 "
                        "RENOVATION_DB,否则 warehouse/renovation.duckdb)")
    common.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    migrate = argparse.ArgumentParser(add_help=False, parents=[common])
    common.add_argument("--data-path", default=None, help="DuckLake 的 Parquet 数据目录或 S3 兼容地址(默认:环境变量 "
                        "RENOVATION_DATA_PATH)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="命令")

    s = sub.add_parser("ingest", parents=[common], help="导入工作簿(文件或文件夹)")
    s.add_argument("paths", nargs="+", type=Path, help="工作簿文件或文件夹(可多个;文件夹中的工作簿逐层查找)")
    s.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")

    s = sub.add_parser("flags", parents=[common], help="导出风险线索 flags.csv")
    s.add_argument("--out", type=Path, default=None)

    s = sub.add_parser("scores", parents=[common], help="导出年度体检/两年评估得分 scores.csv")
    s.add_argument("--year", type=int, required=True)
    s.add_argument("--kind", choices=["annual", "biennial"], default="annual")
    s.add_argument("--out", type=Path, default=None)

    s = sub.add_parser("report", parents=[common], help="生成年度报告(.docx 或 .pdf)")
    s.add_argument("--year", type=int, required=True)
    s.add_argument("--out", type=Path, required=True)

    s = sub.add_parser("bulletin", parents=[common], help="生成月度通报(.docx 或 .pdf)")
    s.add_argument("--month", default=None, help="YYYY-MM(默认:数据中最新的月份)")
    s.add_argument("--out", type=Path, required=True)

    s = sub.add_parser("demo", parents=[common], help="生成并导入演示数据")
    s.add_argument("--seed", type=int, default=2021)
    s.add_argument("--out", type=Path, default=Path("demo_data"))
    s.add_argument("--scale", type=int, default=1, help="生成 N 个州的演示数据(第 1 个为巴州,其余为虚构的州,县市名称与代码各不相同)")

    s = sub.add_parser("migrate", parents=[migrate], help="把数据仓库复制到另一种存储(DuckDB 文件 ↔ DuckLake),内容一致")
    s.add_argument("--to", required=True, help="目标:DuckDB 文件,或 ducklake:postgres:<连接串>")
    s.add_argument("--data-path", default=None, help="目标为 DuckLake 时的数据目录或 S3 兼容地址")
    s.add_argument("--force", action="store_true", help="目标已有数据时仍覆盖")

    s = sub.add_parser("serve", parents=[common], help="启动看板")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--host", default="localhost", help="监听地址(默认只监听本机 localhost)")
    s.add_argument("--demo", action="store_true", help="数据仓库为空时载入演示数据(默认只在默认演示路径上载入)")

    s = sub.add_parser("backup", parents=[common], help="备份数据仓库(看板运行时也可备份)")
    s.add_argument("out", type=Path, help="备份文件,或文件夹(按时间命名)")
    s = sub.add_parser("restore", parents=[common], help="用备份恢复数据仓库")
    s.add_argument("src", type=Path, metavar="IN", help="备份文件")
    s.add_argument("--force", action="store_true", help="替换已有的数据仓库(被替换的文件改名保留)")
    sub.add_parser("check", parents=[common], help="检查数据仓库的完整性")
    access_commands.register(sub, common)  # users …, log (pipelines/access/commands.py)
    return p


def _db(args: argparse.Namespace) -> Location:
    return locate(args.db, None if getattr(args, "command", None) == "migrate" else getattr(args, "data_path", None))


def cmd_migrate(args: argparse.Namespace) -> int:
    from pipelines.migrate import run_migrate
    from pipelines.operations import ensure_fresh

    # a source left by an earlier version (or refreshed under other settings) is brought up to date
    # first, as before serve or an export: the copy is then identical to a current warehouse
    if not ensure_fresh(_db(args), "迁移", before="迁移"):
        return EXIT_FAIL
    return run_migrate(_db(args), locate(args.to, args.data_path), args.force)


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipelines.ingest import ingest_paths, print_results

    results = ingest_paths(args.paths, db_path=_db(args), progress=sys.stderr.isatty())
    print_results(results, as_json=args.json)
    return EXIT_FAIL if any(r.status == "rejected" for r in results) else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from demogen import generate
    from pipelines.ingest import ingest_paths, print_results

    scale = getattr(args, "scale", 1)
    if scale < 1:
        print("用法错误:--scale 至少为 1", file=sys.stderr)
        return EXIT_USAGE
    print(f"正在生成演示数据(种子 {args.seed}{f',{scale} 个州' if scale > 1 else ''})到 {args.out} …", file=sys.stderr)
    if scale > 1:
        from demogen.scale import generate_scaled
        from pipelines.warehouse import add_units, connect, transaction

        files, units = generate_scaled(args.out, scale, seed=args.seed)
        con = connect(_db(args))
        try:
            with transaction(con):
                add_units(con, [(u.code, u.name, u.aliases, u.seat_lat, u.seat_lon) for u in units])
        finally:
            con.close()
    else:
        files = generate(args.out, seed=args.seed)
    results = ingest_paths(files, db_path=_db(args), progress=sys.stderr.isatty(), label="demo")
    print_results(results, as_json=False, summary_only=True)
    return EXIT_OK


def _delegate(module: str, func: str, *a) -> int:
    """Commands whose work lives in another module (signals, scores, report)."""
    return int(getattr(importlib.import_module(module), func)(*a))


def _fresh(args: argparse.Namespace, product: str) -> bool:
    """An export never serves results older than the data or the settings: they are recomputed
    first, and it is said (pipelines.operations.ensure_fresh)."""
    from pipelines.operations import ensure_fresh

    return ensure_fresh(_db(args), product)


def cmd_flags(args: argparse.Namespace) -> int:
    if not _fresh(args, "风险线索"):
        return EXIT_FAIL
    return _delegate("pipelines.signals.flags", "run_flags", _db(args), args.out)


def cmd_scores(args: argparse.Namespace) -> int:
    if not _fresh(args, "得分"):
        return EXIT_FAIL
    return _delegate("pipelines.scoring.export", "run_scores", _db(args), args.year, args.kind, args.out)


def cmd_report(args: argparse.Namespace) -> int:
    if not _fresh(args, "报告"):
        return EXIT_FAIL
    return _delegate("pipelines.report", "run_report", _db(args), args.year, args.out)


def cmd_bulletin(args: argparse.Namespace) -> int:
    if not _fresh(args, "月报简报"):
        return EXIT_FAIL
    return _delegate("pipelines.report.bulletin", "run_bulletin", _db(args), args.month, args.out)


def cmd_serve(args: argparse.Namespace) -> int:
    from pipelines.operations import prepare_serve

    db = _db(args)
    stop, demo = prepare_serve(db, args.demo)
    if stop is not None:
        return stop
    if demo:
        print("数据仓库为空,先载入演示数据 …", file=sys.stderr)
        cmd_demo(argparse.Namespace(db=db, seed=2021, out=ROOT / "demo_data", scale=1))
    else:
        # a warehouse refreshed by an earlier version or under other settings (the dashboard only reads)
        from pipelines.operations import ensure_fresh

        ensure_fresh(db, "看板", before="启动看板")
    env = dict(os.environ, RENOVATION_DB=str(db))
    if db.data_path:
        env["RENOVATION_DATA_PATH"] = db.data_path
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
           "--server.headless", "true", "--server.port", str(args.port), "--server.address", args.host,
           "--browser.gatherUsageStats", "false"]
    print(f"看板地址:http://{args.host}:{args.port}", file=sys.stderr)
    from pipelines.validation.service import warm

    # Great Expectations kept loaded while the dashboard runs: its uploads and command-line
    # imports on this machine validate without importing it
    with warm():
        # from the repository root, so that .streamlit/config.toml (theme, upload limit) applies
        return subprocess.call(cmd, env=env, cwd=ROOT)


def cmd_backup(args: argparse.Namespace) -> int:
    return _delegate("pipelines.operations", "backup", _db(args), args.out)


def cmd_restore(args: argparse.Namespace) -> int:
    return _delegate("pipelines.operations", "restore", _db(args), args.src, args.force)


def cmd_check(args: argparse.Namespace) -> int:
    return _delegate("pipelines.operations", "check", _db(args))


COMMANDS = {"ingest": cmd_ingest, "flags": cmd_flags, "scores": cmd_scores, "report": cmd_report,
            "bulletin": cmd_bulletin, "demo": cmd_demo, "serve": cmd_serve, "backup": cmd_backup,
            "restore": cmd_restore, "check": cmd_check, "migrate": cmd_migrate,
            **access_commands.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)  # no password of a connection string in the log (-v)
    handler.addFilter(MaskingFilter())
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", handlers=[handler])
    try:
        # a command that writes is recorded in the action log under the OS user (access.md)
        return access_commands.audited(COMMANDS[args.command], args)
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except WarehouseError as exc:  # busy past the wait, damaged, unwritable: the message says what to do
        print(str(exc), file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:  # no stack trace reaches a user; the log keeps it for us
        known = classify(exc, _db(args)) if isinstance(exc, duckdb.Error) else None
        if known is not None:  # a damaged file found while reading it
            print(str(known), file=sys.stderr)
            return EXIT_FAIL
        if getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in str(exc):
            log.debug("disk full", exc_info=True)
            print(f"磁盘空间已满,{args.command} 未完成;导入与写入都在事务中进行,数据仓库 {_db(args).display()} 未被改动。"
                  "请清理磁盘后重试。", file=sys.stderr)
            return EXIT_FAIL
        log.debug("unexpected error", exc_info=True)
        text = str(exc).lower()
        why = unreachable(exc, _db(args))
        if why is not None:
            print(f"无法使用 DuckLake 数据仓库 {_db(args).display()}:{why}。{args.command} 未完成,数据仓库未被改动。",
                  file=sys.stderr)
            return EXIT_FAIL
        if isinstance(exc, duckdb.Error) and ("ducklake" in text or "postgres" in text):
            reason = " ".join(mask(str(exc)).split())[:400] or type(exc).__name__
            print(f"无法连接 DuckLake 数据仓库(PostgreSQL 目录库或数据目录不可用):{reason}", file=sys.stderr)
            return EXIT_FAIL
        print(f"出错了:{type(exc).__name__}: {mask(str(exc))}(加 -v 查看详细日志)", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    raise SystemExit(main())
