"""Page timings of the dashboard in a real headless Chromium, printed per page, against a bare
one-widget Streamlit app measured the same way in the same run.

    uv run python benchmarks/pages.py [--db /tmp/demo.duckdb] [--runs 3]

Copies the warehouse to a temporary folder (the benchmark's accounts are made in the copy's
access store), starts `streamlit run dashboard.py` on a free port against it, logs in as an
administrator (every page) and for every page measures:
- first render, two ways; the clock runs from the 登录 click of a new session (on a log-in page
  that has finished loading, as a user typing a name and a password finds it) to the end of the
  script run with the page's header there and every Plotly chart drawn:
  "fresh browser": a new browser profile (nothing cached: the JS bundles and Plotly are
  downloaded and parsed; the first of these also meets empty query caches);
  "new tab": a new session in a browser that has been here before (median of --runs);
- page switch: within a session, the page chosen in the sidebar navigation (median of --runs);
- filter change: the unit filter in the sidebar is switched to another unit; the clock runs
  from the click to the end of the rerun with every chart redrawn (median of --runs).
The baseline is a bare app of two pages with one select box each (no log-in: its new tab runs
from the address to the drawn widget): what Streamlit itself costs on this machine.
Targets (issue 12): first render ≤ 1.5 s, page switch ≤ 0.4 s, filter change ≤ 0.3 s, on the demo data.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import tempfile
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from access_helpers import PASSWORD, make_users  # noqa: E402
from test_browser import CHROMIUM, CHROMIUM_ARGS, PAGES, free_port, start_app, stop_app  # noqa: E402

TARGETS = {"tab": 1.5, "nav": 0.4, "filter": 0.3}
USER = "admin1"  # every page

BARE_APP = """
import streamlit as st

def page(name):
    def run():
        st.header(name)
        st.selectbox("县市", ["轮台县", "全州"], key=f"unit_{name}")
    return run

st.navigation([st.Page(page("甲"), title="甲", url_path="a"), st.Page(page("乙"), title="乙", url_path="b")]).run()
"""

UNITS = ("轮台县", "全州")  # the filter change alternates between these


def rendered(p, title: str, timeout: float = 60_000) -> None:
    p.wait_for_selector(f'h2:has-text("{title}")', timeout=timeout)
    p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    p.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                   .every(e => e.querySelector('.main-svg'))""",
        timeout=timeout,
    )
    # the last charts may still be laying out: wait for two animation frames
    p.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def url(base: str, name: str) -> str:
    return f"{base}/{'' if name == 'progress' else name}"


def open_in_new_tab(ctx, base: str, name: str) -> float:
    """A new Streamlit session in a tab of ``ctx`` (its HTTP cache as the context left it): from the
    登录 click to the page drawn."""
    p = ctx.new_page()
    p.goto(url(base, name))
    # a user takes seconds to type a name and a password: the log-in page has run and its hidden
    # chart has loaded the chart library (app_pages/_session.py) by the time 登录 is clicked
    p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    p.wait_for_function("() => document.querySelector('.st-key-chart_warmup .main-svg') !== null", timeout=60_000)
    p.get_by_label("用户名", exact=True).fill(USER)
    p.get_by_label("密码", exact=True).fill(PASSWORD)
    t0 = time.perf_counter()
    p.get_by_role("button", name="登录", exact=True).click()
    rendered(p, PAGES[name])
    dt = time.perf_counter() - t0
    p.close()
    return dt


def bare(browser, runs: int) -> dict[str, float]:
    """The bare app's new tab, page switch and widget change (medians of ``runs``)."""
    d = Path(tempfile.mkdtemp(prefix="bare-app-"))
    (d / "app.py").write_text(BARE_APP, encoding="utf-8")
    port = free_port()
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(d / "app.py"), "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none"], cwd=d, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, list[float]] = {"tab": [], "nav": [], "filter": []}
    try:
        import urllib.request

        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        ctx.new_page().goto(base)  # the bundles in the cache, as for the dashboard's new tabs
        for _ in range(runs):
            p = ctx.new_page()
            t0 = time.perf_counter()
            p.goto(f"{base}/")  # the default page (甲) lives at the root
            rendered(p, "甲")
            out["tab"].append(time.perf_counter() - t0)
            for title in ("乙", "甲"):
                t0 = time.perf_counter()
                p.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
                rendered(p, title)
                out["nav"].append(time.perf_counter() - t0)
                box = p.locator('[data-testid="stSelectbox"]').first
                other = "全州" if box.locator("input").input_value() == "轮台县" else "轮台县"
                box.click()
                option = p.get_by_role("option", name=other, exact=True)
                option.wait_for()
                t0 = time.perf_counter()
                option.click()
                p.wait_for_function("v => document.querySelector('[data-testid=stSelectbox] input').value === v", arg=other)
                p.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
                out["filter"].append(time.perf_counter() - t0)
                p.locator("h2").first.click()  # the select box's list closed, focus back on the page
                p.wait_for_timeout(200)
            p.close()
        ctx.close()
    finally:
        stop_app(proc)
        shutil.rmtree(d, ignore_errors=True)
    return {k: statistics.median(v) for k, v in out.items()}


def navigate(p, name: str) -> float:
    """Within one session: click the page in the sidebar navigation."""
    t0 = time.perf_counter()
    p.locator('[data-testid="stSidebarNav"]').get_by_text(PAGES[name], exact=True).click()
    rendered(p, PAGES[name])
    return time.perf_counter() - t0


def filter_change(p) -> float:
    """Switch the unit filter to the other of UNITS than the one shown."""
    unit = UNITS[1] if f"· {UNITS[0]}" in p.inner_text("h2") else UNITS[0]
    p.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    option = p.get_by_role("option", name=unit, exact=True)
    option.wait_for()
    t0 = time.perf_counter()
    option.click()
    rendered(p, f"· {unit}")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="看板页面计时(真实无头浏览器)")
    ap.add_argument("--db", type=Path, default=Path(os.environ.get("RENOVATION_DB", "/tmp/demo.duckdb")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES),
                    help="only these pages (default: every page)")
    args = ap.parse_args(argv)
    if not args.db.exists():
        print(f"数据仓库不存在:{args.db}(先运行 uv run renovation demo --out /tmp/demo --db /tmp/demo.duckdb)",
              file=sys.stderr)
        return 1
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="pages-benchmark-"))
    server_log = work / "server.log"  # the run's own: runs at the same time must not share one
    db = work / "w.duckdb"
    shutil.copy(args.db, db)
    make_users(db)
    proc = start_app(db, port, server_log)
    base = f"http://127.0.0.1:{port}"
    chosen = [n for n in PAGES if n in args.pages]
    timings: dict[str, dict[str, list[float]]] = {n: {"cold": [], "tab": [], "nav": [], "filter": []} for n in chosen}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            baseline = bare(browser, args.runs)
            for name in chosen:  # each page first in a fresh browser: nothing cached in the browser
                ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
                timings[name]["cold"].append(open_in_new_tab(ctx, base, name))
                ctx.close()
            ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            for _ in range(args.runs):
                for name in chosen:  # a returning user opens the page in a new tab
                    timings[name]["tab"].append(open_in_new_tab(ctx, base, name))
            p = ctx.new_page()
            p.goto(url(base, "quality"))
            p.get_by_label("用户名", exact=True).fill(USER)
            p.get_by_label("密码", exact=True).fill(PASSWORD)
            p.get_by_role("button", name="登录", exact=True).click()
            rendered(p, PAGES["quality"])
            here = "quality"
            for _ in range(args.runs):
                for name in chosen:  # in one session: the page from the sidebar, then a filter change on it
                    if name == here:  # (a page is switched to from another one)
                        navigate(p, "quality" if name != "quality" else "progress")
                    timings[name]["nav"].append(navigate(p, name))
                    here = name
                    timings[name]["filter"].append(filter_change(p))
            ctx.close()
            browser.close()
    finally:
        stop_app(proc)
        log_text = server_log.read_text(errors="replace") if server_log.exists() else ""
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    # the server's own share: dashboard.py logs every script run ("page <url>: script run <s> s")
    server: dict[str, list[float]] = {n: [] for n in chosen}
    for line in log_text.splitlines():
        m = re.search(r"page (\w+): script run ([0-9.]+) s", line)
        if m and m.group(1) in server:
            server[m.group(1)].append(float(m.group(2)))
    print(f"warehouse: {args.db}  viewport 1366×768  runs: {args.runs}  load average: {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} CPUs")
    print(f"bare one-widget app (same run): new tab {baseline['tab']:.2f} s, page switch {baseline['nav']:.2f} s,"
          f" widget change {baseline['filter']:.2f} s")
    print(f"{'page':<10}{'title':<6}{'fresh browser s':>17}{'new tab s':>11}{'page switch s':>15}{'filter s':>10}"
          f"{'server run s':>14}   ratios to bare (tab / switch / filter)")
    for name, t in timings.items():
        tab, nav, flt = med(t["tab"]), med(t["nav"]), med(t["filter"])
        over = [k for k, v in (("tab", tab), ("nav", nav), ("filter", flt)) if v > TARGETS[k]]
        srv = f"{med(server[name]):.2f}" if server[name] else "—"
        print(f"{name:<10}{PAGES[name]:<6}{t['cold'][0]:>17.2f}{tab:>11.2f}{nav:>15.2f}{flt:>10.2f}{srv:>14}"
              f"   {tab / baseline['tab']:.1f}× / {nav / baseline['nav']:.1f}× / {flt / baseline['filter']:.1f}×"
              + (f"  (over target: {', '.join(over)})" if over else ""))
    print(f"targets: new tab ≤ {TARGETS['tab']} s, page switch ≤ {TARGETS['nav']} s, filter change ≤ {TARGETS['filter']} s."
          " server run s: median time of the page's script on the server (queries, figures, serialisation);"
          " the rest is the browser drawing the page.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
