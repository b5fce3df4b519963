"""Load: simultaneous logged-in browser sessions of mixed roles against one dashboard server.

    uv run python benchmarks/access_load.py [--db /tmp/access-demo/demo.duckdb] [--sessions 20] [--rounds 2]

Copies the demo warehouse to a temporary folder (its own access store), creates one account per
session (admins, leaders, auditors, evaluators, clerks of several counties), starts `streamlit run
dashboard.py` and drives headless Chromium (one browser, a fresh context per session): the
sessions log in through 用户名 / 密码 / 登录 two seconds apart; once all are logged in, every session at the same time opens every page
of its menu from the sidebar, ``--rounds`` times. A page has settled when the script run is over, its header is there
and every Plotly chart has drawn. An error is an exception box, a Chinese error alert, a timeout
or a 无权访问 on a page of the role's own menu.

Printed: the page settle times (p50, p95, max) of the N sessions together, per role, and the
same walk by one session alone in the same run (the baseline), with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from test_browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app  # noqa: E402

PASSWORD = "Load-test-pass-2025"
# the roles of 20 sessions: 2 admins, 4 leaders, 4 auditors, 4 evaluators, 6 clerks (6 counties)
MIX = ["admin"] * 2 + ["leader"] * 4 + ["auditor"] * 4 + ["evaluator"] * 4 + ["clerk"] * 6
CLERK_COUNTIES = ["652801", "652822", "652823", "652824", "652825", "652826"]


def accounts_for(n: int, db: Path) -> list[tuple[str, str]]:
    from pipelines.access import accounts

    by = accounts.Actor("os:benchmark", "operator")
    out, clerks = [], 0
    for i in range(n):
        role = MIX[i % len(MIX)]
        county = None
        if role == "clerk":
            county = CLERK_COUNTIES[clerks % len(CLERK_COUNTIES)]
            clerks += 1
        name = f"load{i:02d}"
        accounts.add(name, role, PASSWORD, by, county, f"压测{i:02d}", db)
        out.append((name, role))
    return out


async def settled(p, title: str, timeout: float = 120_000) -> None:
    await p.wait_for_selector(f'h2:has-text("{title}")', timeout=timeout)
    await p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    await p.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(e => e.querySelector('.main-svg'))""",
        timeout=timeout)


async def errors_on(p) -> int:
    n = await p.locator('[data-testid="stException"]').count()
    alerts = " ".join(await p.locator('[data-testid="stAlert"]').all_inner_texts())
    return n + int("加载失败" in alerts or "无权访问" in alerts or "暂时无法读取" in alerts)


async def session(browser, base: str, name: str, rounds: int, out: list, errs: list, delay: float = 0.0,
                  ready: asyncio.Barrier | None = None) -> None:
    """One user: log in (after ``delay``), wait until every session is logged in, then walk the menu."""
    await asyncio.sleep(delay)
    ctx = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    p = await ctx.new_page()
    p.set_default_timeout(120_000)
    logged_in = False
    try:
        t0 = time.perf_counter()
        await p.goto(base + "/", timeout=120_000)
        await p.get_by_label("用户名", exact=True).fill(name)
        await p.get_by_label("密码", exact=True).fill(PASSWORD)
        await p.get_by_role("button", name="登录", exact=True).click()
        await settled(p, "进度总览")
        out.append(("login", name, time.perf_counter() - t0))
        logged_in = True
        if ready is not None:
            await ready.wait()
        links = [t.strip().split("\n")[-1] for t in await p.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
        for _ in range(rounds):
            for title in links[1:] + links[:1]:
                t0 = time.perf_counter()
                try:
                    await p.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
                    await settled(p, title)
                    out.append((title, name, time.perf_counter() - t0))
                    if await errors_on(p):
                        errs.append((name, title, "error shown"))
                except Exception as exc:  # a timeout counts as an error
                    errs.append((name, title, f"{type(exc).__name__}: {str(exc)[:200]}"))
    except Exception as exc:
        errs.append((name, "log-in" if not logged_in else "walk", f"{type(exc).__name__}: {str(exc)[:200]}"))
        if ready is not None and not logged_in:
            await ready.wait()  # the others do not wait for it in vain
    finally:
        await ctx.close()


async def run(base: str, users: list[tuple[str, str]], rounds: int) -> tuple[list, list, list, list, float]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # baseline: one session alone (an auditor: the widest menu but the admin's)
        alone, alone_errs = [], []
        await session(browser, base, next((n for n, r in users if r == "auditor"), users[0][0]), rounds, alone, alone_errs)
        together, errs = [], []
        ready = asyncio.Barrier(len(users))
        # the users log in two seconds apart, then all of them work at once
        t0 = time.perf_counter()
        await asyncio.gather(*(session(browser, base, n, rounds, together, errs, i * 2.0, ready)
                               for i, (n, _) in enumerate(users)))
        wall = time.perf_counter() - t0
        await browser.close()
    return alone, alone_errs, together, errs, wall


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="并发登录会话压测(真实无头浏览器)")
    ap.add_argument("--db", type=Path, default=Path(os.environ.get("RENOVATION_DB", "/tmp/access-demo/demo.duckdb")))
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    if not args.db.exists():
        print(f"数据仓库不存在:{args.db}(先运行 uv run renovation demo --out /tmp/access-demo/files "
              "--db /tmp/access-demo/demo.duckdb)", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="access-load-"))
    db = tmp / "demo.duckdb"
    shutil.copy(args.db, db)
    if (args.db.parent / "gx").is_dir():
        shutil.copytree(args.db.parent / "gx", tmp / "gx")
    users = accounts_for(args.sessions, db)
    port = free_port()
    proc = start_app(db, port, tmp / "server.log")
    try:
        alone, alone_errs, together, errs, wall = asyncio.run(run(f"http://127.0.0.1:{port}", users, args.rounds))
    finally:
        stop_app(proc)
    role = dict(users)
    for e in errs[:20]:
        print("  error:", *e)
    if not [1 for what, _, _ in together if what != "login"]:
        print(f"no page view completed ({len(errs)} errors)")
        return 1
    pages_alone = [t for what, _, t in alone if what != "login"]
    pages = [t for what, _, t in together if what != "login"]
    logins = [t for what, _, t in together if what == "login"]
    print(f"warehouse: {args.db}  sessions: {args.sessions} ({', '.join(f'{r} {MIX[:args.sessions].count(r)}' for r in dict.fromkeys(MIX))})"
          f"  rounds: {args.rounds}  CPUs: {os.cpu_count()}  load average after: {os.getloadavg()[0]:.1f}")
    print(f"one session alone: {len(pages_alone)} page views, p50 {statistics.median(pages_alone):.2f} s, "
          f"p95 {pct(pages_alone, 0.95):.2f} s, errors {len(alone_errs)}")
    print(f"{args.sessions} sessions at once: {len(pages)} page views in {wall:.1f} s, p50 {statistics.median(pages):.2f} s, "
          f"p95 {pct(pages, 0.95):.2f} s, max {max(pages):.2f} s, errors {len(errs)}; log-in p95 {pct(logins, 0.95):.2f} s")
    print(f"ratio p95 together / alone: {pct(pages, 0.95) / pct(pages_alone, 0.95):.1f}x")
    import re

    runs = [float(m.group(1)) for m in re.finditer(r"page \w+: script run ([0-9.]+) s", (tmp / "server.log").read_text(errors="replace"))]
    if runs:
        print(f"server script runs (all sessions, every rerun): {len(runs)}, p50 {statistics.median(runs):.2f} s, "
              f"p95 {pct(runs, 0.95):.2f} s — the rest of a page's settle time is the browsers drawing, on the same 2 cores")
    for r in dict.fromkeys(MIX):
        xs = [t for what, n, t in together if what != "login" and role[n] == r]
        if xs:
            print(f"  {r:<10} {len(xs):>4} views  p50 {statistics.median(xs):.2f} s  p95 {pct(xs, 0.95):.2f} s")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if not errs else 1


if __name__ == "__main__":
    raise SystemExit(main())
