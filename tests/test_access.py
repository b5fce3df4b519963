"""Access control without a browser: passwords, accounts, log-in and lock-out, scopes in every read
function, a clerk's upload bound to its county, the CLI's users and log commands, single sign-on."""

from __future__ import annotations

import datetime as dt
import inspect
import io
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from access_helpers import PASSWORD, make_users
from pages_fixtures import KRL, LT, YL, build_warehouse
from pipelines.access import accounts, action_log, auth, oidc, passwords
from pipelines.access.scope import Forbidden, Scope
from pipelines.access.store import store_path

ROOT = Path(__file__).resolve().parent.parent
OP = accounts.Actor("os:test", "operator", None, "cli")
ALL_COUNTIES = None


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("access") / "pages.duckdb")


@pytest.fixture
def db(warehouse, tmp_path, monkeypatch) -> Path:
    path = tmp_path / "w.duckdb"
    shutil.copy(warehouse, path)
    monkeypatch.setenv("RENOVATION_DB", str(path))
    monkeypatch.delenv("RENOVATION_ACCESS_DB", raising=False)
    return path


def log_rows(db) -> list[dict]:
    return action_log.read(db=db)


# --- passwords and accounts ----------------------------------------------------------------------

def test_passwords_are_argon2id_and_salted():
    a, b = passwords.hash_password("Correct horse 1"), passwords.hash_password("Correct horse 1")
    assert a.startswith("$argon2id$") and a != b
    assert passwords.verify_password(a, "Correct horse 1") and not passwords.verify_password(a, "correct horse 1")
    assert not passwords.verify_password("not a hash", "x")


def test_accounts_are_created_checked_and_kept_append_only(db):
    acc = accounts.add("zhang", "auditor", "Audit-2025-pass", OP, display_name="张三", db=db)
    assert acc.label == "张三(zhang)" and accounts.get("zhang", db).role == "auditor"
    for args, why in [(("zhang", "auditor", "Audit-2025-pass"), "已存在"), (("c1", "clerk", "Clerk-2025-pass"), "县市"),
                      (("l1", "leader", "Lead-2025-pass", OP, LT), "不绑定县市"), (("x y", "admin", "Admin-2025-pass"), "用户名"),
                      (("a1", "admin", "short"), "至少"), (("a2", "root", "Admin-2025-pass"), "角色")]:
        with pytest.raises(accounts.AccountError, match=why):
            accounts.add(*args[:3], OP, *args[4:], db=db) if len(args) > 4 else accounts.add(*args[:3], OP, db=db)
    accounts.set_disabled("zhang", True, OP, db)
    assert accounts.get("zhang", db).is_disabled
    auth.log_in("zhang", "Wrong-pass-1", db)  # a row in each table
    con = sqlite3.connect(store_path(db))
    for sql in ("update accounts set role = 'admin'", "delete from accounts", "update action_log set user_name = 'x'",
                "delete from action_log", "delete from login_attempts"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    assert con.execute("select count(*) from accounts where user_name = 'zhang'").fetchone()[0] == 2  # created, disabled
    con.close()
    # the store lies beside the warehouse, not in it: a restore of the warehouse leaves it alone
    assert store_path(db) == db.with_name("w.access.sqlite")


# --- log-in and lock-out -----------------------------------------------------------------------

def test_log_in_records_success_and_failure_without_the_password(db):
    make_users(db)
    ok = auth.log_in("auditor1", PASSWORD, db)
    assert ok.user is not None and ok.user.scope == Scope("auditor")
    bad = auth.log_in("auditor1", "Wrong-password-1", db)
    assert bad.user is None and bad.message == "用户名或密码错误"
    unknown = auth.log_in("nobody", "Wrong-password-1", db)
    assert unknown.message == bad.message  # the form does not tell which names exist
    rows = log_rows(db)
    assert [(r["action"], r["user_name"], r["result"]) for r in rows[:3]] == [
        ("login_failed", "nobody", "failed"), ("login_failed", "auditor1", "failed"), ("login", "auditor1", "ok")]
    text = store_path(db).read_bytes()
    assert PASSWORD.encode() not in text and b"Wrong-password-1" not in text


def test_five_failures_lock_the_account_for_fifteen_minutes(db, monkeypatch):
    make_users(db)
    for i in range(4):
        assert auth.log_in("clerk_lt", f"wrong-{i}", db).message == "用户名或密码错误"
    fifth = auth.log_in("clerk_lt", "wrong-4", db)
    assert "锁定" in fifth.message
    # the right password is refused while locked, without extending the lock
    locked = auth.log_in("clerk_lt", PASSWORD, db)
    assert locked.user is None and "锁定" in locked.message
    until = auth.locked_until("clerk_lt", db)
    assert dt.timedelta(minutes=14) < until - dt.datetime.now().astimezone() <= dt.timedelta(minutes=15)
    # 15 minutes later the account opens again
    later = dt.datetime.now().astimezone() + dt.timedelta(minutes=15, seconds=5)
    assert auth.locked_until("clerk_lt", db, now=later) is None
    monkeypatch.setattr(auth, "_now", lambda: later)
    assert auth.log_in("clerk_lt", PASSWORD, db).user is not None


def test_a_new_password_lifts_the_lock_and_a_disabled_account_cannot_log_in(db):
    make_users(db)
    for i in range(5):
        auth.log_in("eval1", f"wrong-{i}", db)
    assert auth.locked_until("eval1", db) is not None
    accounts.set_password("eval1", "New-password-2026", OP, db)
    assert auth.locked_until("eval1", db) is None
    assert auth.log_in("eval1", "New-password-2026", db).user is not None
    accounts.set_disabled("eval1", True, OP, db)
    res = auth.log_in("eval1", "New-password-2026", db)
    assert res.user is None and "停用" in res.message


def test_unknown_names_lock_too(db):
    for i in range(5):
        auth.log_in("ghost", f"wrong-{i}", db)
    assert "锁定" in auth.log_in("ghost", "x", db).message


# --- scopes in the read layer ------------------------------------------------------------------

READ_MODULES = ("filters", "progress", "bulletin", "audit", "scores", "submissions", "quality")


def read_functions():
    import importlib

    for name in READ_MODULES:
        mod = importlib.import_module(f"pipelines.read.{name}")
        for fn_name in mod.__all__:
            fn = getattr(mod, fn_name)
            if callable(fn) and not isinstance(fn, type) and fn_name.isidentifier() and not fn_name.isupper():
                yield name, fn_name, fn


def test_every_read_function_takes_the_scope_first():
    seen = 0
    for module, name, fn in read_functions():
        params = list(inspect.signature(fn).parameters)
        assert params and params[0] == "scope", f"pipelines.read.{module}.{name} must take the session's Scope first"
        seen += 1
    assert seen >= 25


def _args(module: str, name: str, scope: Scope) -> list:
    sig = inspect.signature(__import__(f"pipelines.read.{module}", fromlist=[name]).__dict__[name])
    out = []
    for p in list(sig.parameters)[1:]:
        out.append({"year": 2025, "unit": None, "kind": "annual", "signal_id": "x", "signal_ids": ("x",), "limit": 1000,
                    "suffix": ".docx", "month": __import__("datetime").date(2025, 10, 1), "b": None,
                    "batch_id": "x", "file_ids": (1,), "prefecture": None}[p])
    return out


@pytest.mark.parametrize("role", ["leader", "evaluator", "clerk"])
def test_a_role_is_refused_before_any_query_runs(role, db, monkeypatch):
    """A read function of an area the role may not see raises 无权访问 without touching the warehouse."""
    from pipelines.read import connection

    def no_query(*a, **k):
        raise AssertionError("a query ran for a refused scope")

    monkeypatch.setattr(connection, "cursor", no_query)
    scope = Scope(role, LT if role == "clerk" else None)
    refused = 0
    for module, name, fn in read_functions():
        area = getattr(fn, "__wrapped__", None)
        try:
            fn(scope, *_args(module, name, scope))
        except Forbidden as exc:
            assert str(exc) == "无权访问"
            refused += 1
        except AssertionError:
            assert scope.can(_area(module, name)), f"{module}.{name} queried for {role}"
        except Exception:
            pass
    assert refused >= {"leader": 10, "evaluator": 10, "clerk": 12}[role]


def _area(module: str, name: str) -> str:
    src = inspect.getsource(__import__(f"pipelines.read.{module}", fromlist=[name]))
    i = src.index(f"def {name}(")
    return src[:i].rsplit('@requires("', 1)[1].split('"', 1)[0]


def _strings(value) -> str:
    if isinstance(value, pl.DataFrame):
        return value.write_csv()
    if isinstance(value, dict):
        return " ".join(_strings(v) for v in value.values())
    return str(value)


def test_a_clerk_never_receives_another_countys_rows_names_or_counts(db):
    """Every read function a clerk may call, with every unit it could ask for: nothing of 库尔勒市 or 尉犁县."""
    from pipelines.counties import load_counties
    from pipelines.read import actions
    from pipelines.access.auth import SessionUser

    clerk = Scope("clerk", LT)
    # publish 2025's annual scores so that the clerk's score functions return rows
    actions.publish_scores(SessionUser("admin1", "管理员", "admin", None), "annual", 2025, True)
    others = [c for c in load_counties() if c.code != LT]
    answered = 0
    for module, name, fn in read_functions():
        if not clerk.can(_area(module, name)):
            continue
        try:
            got = fn(clerk, *_args(module, name, clerk))
        except Forbidden:
            continue
        text = _strings(got)
        for c in others:
            assert c.name not in text and c.code not in text, f"{module}.{name} leaks {c.name}"
        answered += 1
        if "unit" in inspect.signature(fn).parameters:
            for c in others:  # asking for another county is refused
                with pytest.raises(Forbidden):
                    fn(clerk, *[c.code if p == "unit" else a for p, a in
                                zip(list(inspect.signature(fn).parameters)[1:], _args(module, name, clerk))])
    assert answered >= 12
    from pipelines.read import scores

    totals = scores.score_totals(clerk, "annual")
    assert set(totals["county_code"]) == {LT} and totals["score_rank"].is_null().all()


def test_a_clerks_upload_rejects_the_rows_of_another_county(db, tmp_path):
    from pipelines.ingest import ingest_paths

    f = tmp_path / "轮台县月报2025-04.csv"
    f.write_text("县市,报告期,填报日期,计划年度,小区名称,户数,计划总投资,形象进度,累计完成投资,累计拨付资金,开工日期\n"
                 "轮台县,2025-04,2025-05-03,2025,团结小区,150,300,20,60,40,2025-03-20\n"
                 "库尔勒市,2025-04,2025-05-03,2025,幸福小区,100,200,100,190,90,2025-01-15\n", encoding="utf-8")
    (r,) = ingest_paths([f], db_path=db, allowed_county=LT)
    assert r.status == "accepted" and r.rows == 1 and r.rejected_rows == 1
    msg = next(m for m in r.messages if "本账号只能上报轮台县的数据" in m)
    assert "文件「轮台县月报2025-04.csv」" in msg and "第 3 行" in msg and "A 列「县市」" in msg and "库尔勒市" in msg
    only_other = tmp_path / "库尔勒市月报2025-04.csv"
    only_other.write_text(f.read_text(encoding="utf-8").splitlines()[0] + "\n"
                          + f.read_text(encoding="utf-8").splitlines()[2] + "\n", encoding="utf-8")
    (r,) = ingest_paths([only_other], db_path=db, allowed_county=LT)
    assert r.status == "rejected" and "整份文件拒收" in r.messages[0]


# --- the command line ----------------------------------------------------------------------------

def cli(args: list[str], db: Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args, "--db", str(db)], input=stdin,
                          capture_output=True, text=True, cwd=ROOT)


def test_users_commands_and_the_log_as_csv(tmp_path):
    db = tmp_path / "w.duckdb"
    p = cli(["users", "add", "boss", "--role", "admin", "--display", "管理员甲", "--password-stdin"], db, "Chief-pass-2025\n")
    assert p.returncode == 0, p.stderr
    assert cli(["users", "add", "c1", "--role", "clerk", "--password-stdin"], db, "Clerk-pass-2025\n").returncode == 1
    assert cli(["users", "add", "c1", "--role", "clerk", "--county", LT, "--password-stdin"], db,
               "Clerk-pass-2025\n").returncode == 0
    listed = cli(["users", "list"], db)
    assert "boss\t管理员甲\t管理员(admin)" in listed.stdout and "c1\tc1\t县市填报员(clerk)\t轮台县\t正常" in listed.stdout
    assert cli(["users", "passwd", "c1", "--password-stdin"], db, "Clerk-pass-2026\n").returncode == 0
    assert auth.log_in("c1", "Clerk-pass-2026", db).user is not None
    assert cli(["users", "disable", "c1"], db).returncode == 0
    assert accounts.get("c1", db).is_disabled
    out = tmp_path / "log.csv"
    assert cli(["log", "--since", dt.date.today().isoformat(), "--out", str(out)], db).returncode == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "时间,用户,角色,县市,操作,对象,详情,结果,来源"
    assert ",新增用户,boss," in text and ",修改密码,c1," in text and ",停用用户,c1," in text and ",登录,c1," in text
    assert "os:" in text and "命令行操作员" in text
    assert "Chief-pass-2025" not in text and "Clerk-pass-2026" not in text
    future = cli(["log", "--since", "2999-01-01", "--out", str(out)], db)
    assert future.returncode == 0 and len(out.read_bytes().decode("utf-8-sig").splitlines()) == 1


def test_without_password_stdin_the_password_is_asked_twice(tmp_path, monkeypatch, capsys):
    from pipelines import cli as cli_mod
    from pipelines.access import commands

    answers = iter(["Typed-pass-2025", "Typed-pass-2025", "One-pass-2025", "Another-2025"])
    monkeypatch.setattr(commands.getpass, "getpass", lambda prompt="": next(answers))
    db = tmp_path / "w.duckdb"
    assert cli_mod.main(["users", "add", "u1", "--role", "leader", "--db", str(db)]) == 0
    assert auth.log_in("u1", "Typed-pass-2025", db).user is not None
    assert cli_mod.main(["users", "add", "u2", "--role", "leader", "--db", str(db)]) == 1
    assert "不一致" in capsys.readouterr().err and accounts.get("u2", db) is None


def test_every_writing_cli_command_records_the_os_user(tmp_path, small_set):
    db = tmp_path / "w.duckdb"
    p = cli(["ingest", str(small_set)], db)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "flags.csv"
    assert cli(["flags", "--out", str(out)], db).returncode == 0
    rows = action_log.read(db=db)
    imports = [r for r in rows if r["action"] == "import"]
    assert len(imports) == 8 and all(r["user_name"].startswith("os:") and r["source"] == "cli" for r in imports)
    assert {Path(r["object"]).name for r in imports} >= {"轮台县台账.xlsx"} or len({r["object"] for r in imports}) == 8
    assert any(r["action"] == "export" and r["object"] == str(out) for r in rows)
    assert any(r["action"] == "command" and "renovation ingest" in r["detail"] for r in rows)


def test_secrets_in_a_command_line_are_redacted():
    assert action_log.redact("ducklake:postgres:dbname=r host=h password=s3cr3t user=u") == \
        "ducklake:postgres:dbname=r host=h password=*** user=u"
    assert "abc" not in action_log.redact("client_secret = abc token: abc")
    # libpq also takes a quoted password and a URI (renovation migrate --to …)
    quoted = action_log.redact("renovation migrate --to=ducklake:postgres:host=h password='s3 cr3t' dbname=x")
    uri = action_log.redact("renovation migrate --to=ducklake:postgres:postgresql://u:s3cr3t@h:5432/x --force")
    assert "s3" not in quoted and "cr3t" not in quoted and "dbname=x" in quoted
    assert "s3cr3t" not in uri and uri.endswith("@h:5432/x --force")


# --- single sign-on ------------------------------------------------------------------------------

def test_oidc_claims_map_to_roles():
    cfg = {"user_claim": "preferred_username", "role_claim": "groups", "county_claim": "county",
           "roles": {"audit": "auditor", "county-staff": "clerk", "it": "admin"}}
    user, _ = oidc.user_from_claims({"preferred_username": "li", "groups": ["staff", "audit"], "name": "李"}, cfg)
    assert (user.user_name, user.role, user.county_code, user.method) == ("sso:li", "auditor", None, "oidc")
    user, _ = oidc.user_from_claims({"preferred_username": "w", "groups": "it audit"}, cfg)
    assert user.role == "admin"  # the highest role wins
    user, _ = oidc.user_from_claims({"preferred_username": "c", "groups": ["county-staff"], "county": LT}, cfg)
    assert user.role == "clerk" and user.county_code == LT
    for claims in ({"preferred_username": "c", "groups": ["county-staff"]}, {"preferred_username": "n", "groups": ["x"]}, {}):
        user, why = oidc.user_from_claims(claims, cfg)
        assert user is None and why
    assert not oidc.enabled()  # off by default
