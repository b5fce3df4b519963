"""Page timings of the dashboard in a real headless Chromium, printed per page.

    uv run python benchmarks/pages.py [--db /tmp/demo.duckdb] [--runs 3]

Starts `streamlit run dashboard.py` on a free port against the warehouse, then for every page:
- first render, three ways; the clock stops when the script run is over, the page's header is
  there and every Plotly chart has drawn:
  "fresh browser": the page's URL in a new browser profile (nothing cached: the JS bundles and
  Plotly are downloaded and parsed; the first of these also meets empty query caches);
  "new tab": a new Streamlit session in a browser that has been here before (median of --runs);
  "sidebar nav": within a session, the page chosen in the sidebar navigation (median of --runs).
- filter change: the unit filter in the sidebar is switched to another unit; the clock runs
  from the click to the end of the rerun with every chart redrawn (median of --runs).
Targets (issue 5): first render < 2 s, filter change < 1 s, on the demo data.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from test_browser import CHROMIUM, CHROMIUM_ARGS, PAGES, free_port, start_app, stop_app  # noqa: E402

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
    """A new Streamlit session in a tab of ``ctx`` (its HTTP cache as the context left it)."""
    p = ctx.new_page()
    t0 = time.perf_counter()
    p.goto(url(base, name))
    rendered(p, PAGES[name])
    dt = time.perf_counter() - t0
    p.close()
    return dt


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
    args = ap.parse_args(argv)
    if not args.db.exists():
        print(f"数据仓库不存在:{args.db}(先运行 uv run renovation demo --out /tmp/demo --db /tmp/demo.duckdb)",
              file=sys.stderr)
        return 1
    port = free_port()
    server_log = Path(tempfile.gettempdir()) / "pages-benchmark.server.log"
    server_log.unlink(missing_ok=True)
    proc = start_app(args.db.resolve(), port, server_log)
    base = f"http://127.0.0.1:{port}"
    timings: dict[str, dict[str, list[float]]] = {n: {"cold": [], "tab": [], "nav": [], "filter": []} for n in PAGES}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in PAGES:  # each page first in a fresh browser: nothing cached in the browser
                ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
                timings[name]["cold"].append(open_in_new_tab(ctx, base, name))
                ctx.close()
            ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            for _ in range(args.runs):
                for name in PAGES:  # a returning user opens the page in a new tab
                    timings[name]["tab"].append(open_in_new_tab(ctx, base, name))
            p = ctx.new_page()
            p.goto(url(base, "quality"))
            rendered(p, PAGES["quality"])
            for _ in range(args.runs):
                for name in PAGES:  # in one session: the page from the sidebar, then a filter change on it
                    timings[name]["nav"].append(navigate(p, name))
                    timings[name]["filter"].append(filter_change(p))
            ctx.close()
            browser.close()
    finally:
        stop_app(proc)
    med = statistics.median
    # the server's own share: dashboard.py logs every script run ("page <url>: script run <s> s")
    server: dict[str, list[float]] = {n: [] for n in PAGES}
    for line in server_log.read_text(errors="replace").splitlines():
        m = re.search(r"page (\w+): script run ([0-9.]+) s", line)
        if m and m.group(1) in server:
            server[m.group(1)].append(float(m.group(2)))
    print(f"warehouse: {args.db}  viewport 1366×768  runs: {args.runs}  load average: {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} CPUs")
    print(f"{'page':<10}{'title':<6}{'fresh browser s':>17}{'new tab s':>11}{'sidebar nav s':>15}{'filter s':>10}"
          f"{'server run s':>14}")
    for name, t in timings.items():
        ok = "" if med(t["tab"]) < 2 and med(t["nav"]) < 2 and med(t["filter"]) < 1 else "  (over target)"
        srv = f"{med(server[name]):.2f}" if server[name] else "—"
        print(f"{name:<10}{PAGES[name]:<6}{t['cold'][0]:>17.2f}{med(t['tab']):>11.2f}{med(t['nav']):>15.2f}"
              f"{med(t['filter']):>10.2f}{srv:>14}{ok}")
    print("server run s: median time of the page's script on the server (queries, figures, serialisation);"
          " the rest is the browser drawing the page.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
