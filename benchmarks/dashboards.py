"""Dashboards benchmark: from request to fully drawn dashboard in Chromium, and `analytics run weekly`.

For the ``small`` (1,000 members) and ``medium`` (10,000 members, ~1M events) demo businesses (seed 7, as of
1 July 2025, weekly snapshots for 13 weeks), each dashboard is opened in headless Chromium through a signed link
on a running ``analytics dashboards`` server (Voilà), ``RUNS`` times after one warm-up load. Measured per load:

* ``request_to_drawn_s``  — ``page.goto`` until every panel is drawn (no loading state left; charts are SVG);
* ``kernel_to_drawn_s``   — from the start of the page's kernel process (read from /proc by the kernel) to drawn:
  an upper bound of "after the kernel is ready", since it includes ipykernel's own start (~0.5 s);
* ``imports_s``           — kernel start until the link was checked (Python, pandas, SQLAlchemy, ipywidgets …);
* ``build_s``             — link checked until every panel was filled (metric queries and SVG drawing);
* ``browser_s``           — page built until the browser had drawn it (transfer and widget rendering);
* ``request_ready_to_drawn_s`` — link checked until drawn (``build_s + browser_s``): the dashboard's own work
  once a kernel with its imports done has the request.

Two server modes: ``cold`` (the default: a kernel is started per page view, its imports are on the request's
path) and ``preheated`` (``analytics dashboards --preheat``: Voilà keeps one kernel per dashboard started and
imported, waiting for the next viewer; between timed loads the benchmark waits for the pool to refill).

Then ``analytics run weekly --skip sync --as-of 2025-06-30`` is timed as a subprocess (snapshot + report
notebooks through Papermill, HTML/PDF/CSV/JSON exports).

Usage: ``python benchmarks/dashboards.py [--sizes small medium] [--runs 3]``. Data is built once into
``benchmarks/.data/`` (gitignored). Results: ``benchmarks/results/dashboards.json`` and ``.md``; when
``benchmarks/results/dashboards_before.json`` exists (an earlier run kept for comparison, see ``--before``), the
``.md`` also compares the two. ``--render`` rewrites the ``.md`` from the stored JSON without measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
RESULTS = HERE / "results"
END = date(2025, 7, 1)
AS_OF = date(2025, 6, 30)
SECRET = "benchmark-secret-key-0123456789abcdef"
DASHBOARDS = ("overview", "revenue", "engagement", "content")
READY = """() => {
  const status = document.querySelector('.analytics-loading[data-state]');
  return status !== null && status.dataset.state !== 'loading'
    && document.querySelectorAll('.analytics-page [data-state=loading]').length === 0;
}"""


def settings_for(size: str) -> Any:
    from analytics.settings import Secret, Settings

    return Settings(workspace=DATA / size / "workspace", secret_key=Secret(SECRET))


def build(size: str) -> tuple[str, dict[str, Any]]:
    """The demo business of ``size`` in its own workspace, with 13 weekly snapshots (built once)."""
    import sqlalchemy as sa

    from analytics.demo.load import load_demo
    from analytics.snapshots import write_snapshots
    from analytics.store import create_store_engine, init_store
    from analytics.store.schema import accounts, activity_events, members

    settings = settings_for(size)
    marker = settings.workspace / f".built-{size}-{END.isoformat()}"
    settings.workspace.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(settings.database_url)
    info: dict[str, Any] = {}
    try:
        if not marker.exists():
            init_store(engine)
            started = time.perf_counter()
            load_demo(engine, seed=7, size=size, end=END, progress=True)
            info["load_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            write_snapshots(engine, period="weekly", start=date(2025, 3, 31), end=date(2025, 6, 29), progress=True)
            info["snapshots_s"] = round(time.perf_counter() - started, 1)
            marker.write_text(json.dumps(info))
        else:
            info = json.loads(marker.read_text())
        with engine.connect() as conn:
            account = conn.execute(sa.select(accounts.c.id)).scalar_one()
            info["members"] = conn.execute(sa.select(sa.func.count()).select_from(members)).scalar_one()
            info["activity_events"] = conn.execute(sa.select(sa.func.count()).select_from(activity_events)).scalar_one()
    finally:
        engine.dispose()
    return account, info


def load_once(browser: Any, url: str) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1300, "height": 2400})
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=300_000)
        page.wait_for_function(READY, timeout=300_000)
        elapsed = time.perf_counter() - started
        drawn = page.evaluate("() => (performance.timeOrigin + performance.now()) / 1000")
        attrs = page.evaluate(
            "() => Object.assign({}, document.querySelector('.analytics-loading[data-state]').dataset)"
        )
        errors = page.locator(".analytics-page [data-state=error]").count()
        charts = page.locator(".analytics-chart[data-chart] svg.marks").count()
    finally:
        page.close()
    kernel, opened, built = (float(attrs[k]) for k in ("kernelStarted", "opened", "built"))
    return {
        "request_to_drawn_s": elapsed,
        "kernel_to_drawn_s": drawn - kernel,
        "imports_s": opened - kernel,
        "build_s": built - opened,
        "browser_s": drawn - built,
        "request_ready_to_drawn_s": drawn - opened,
        "charts": charts,
        "errors": errors,
    }


def pool_filled(log_path: Path, name: str) -> int:
    """How many times Voilà logged that the pre-heated kernel pool of ``name`` was (re)filled."""
    return log_path.read_text(errors="replace").count(f"Kernel pool of {name}.ipynb is filled")


def wait_for_pool(log_path: Path, name: str, at_least: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while pool_filled(log_path, name) < at_least:
        if time.monotonic() > deadline:
            raise SystemExit(f"the kernel pool of {name} did not refill in {timeout:.0f} s")
        time.sleep(0.5)
    time.sleep(1.0)


METRICS = (
    "request_to_drawn_s",
    "kernel_to_drawn_s",
    "imports_s",
    "build_s",
    "browser_s",
    "request_ready_to_drawn_s",
)


def bench_dashboards(size: str, account: str, runs: int, preheat: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from analytics.dashboards.server import dashboard_links, start_dashboards

    settings = settings_for(size)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    mode = "preheated" if preheat else "cold"
    log = DATA / size / f"voila-{mode}.log"
    log.unlink(missing_ok=True)
    out: dict[str, Any] = {}
    with start_dashboards(settings, environ=environ, preheat=preheat, log_path=log) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        links = dashboard_links(settings, account, server.url)
        used: dict[str, int] = {}

        def timed(name: str) -> dict[str, float]:
            if preheat:  # every load gets a pre-heated kernel: wait for the pool to refill after the last one
                wait_for_pool(log, name, used.get(name, 0) + 1)
                used[name] = pool_filled(log, name)
            return load_once(browser, links[name])

        timed("overview")  # warm-up: first kernel, OS caches
        for name in DASHBOARDS:
            loads = [timed(name) for _ in range(runs)]
            summary: dict[str, Any] = {
                key: {
                    "median": round(statistics.median(x[key] for x in loads), 3),
                    "runs": [round(x[key], 3) for x in loads],
                }
                for key in METRICS
            }
            summary["charts"] = loads[-1]["charts"]
            summary["errors"] = max(x["errors"] for x in loads)
            out[name] = summary
            print(size, mode, name, summary["request_to_drawn_s"]["median"], summary["build_s"]["median"], flush=True)
        browser.close()
    return out


def bench_weekly_run(size: str) -> dict[str, Any]:
    settings = settings_for(size)
    cmd = [
        sys.executable,
        "-c",
        "from analytics.cli import main; main()",
        "--workspace",
        str(settings.workspace),
        "run",
        "weekly",
        "--skip",
        "sync",
        "--as-of",
        AS_OF.isoformat(),
        "--quiet",
    ]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"analytics run weekly failed:\n{done.stdout}\n{done.stderr}")
    print(size, "analytics run weekly", round(wall, 1), flush=True)
    return {"wall_s": round(wall, 2), "output": done.stdout.strip().splitlines()[0]}


BEFORE = RESULTS / "dashboards_before.json"


def comparison(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Markdown comparing two runs: the dashboard's own work (queries + drawing, and until drawn) per load."""
    lines = [
        "",
        "## Before and after",
        "",
        f"Before: {before.get('label', 'earlier run')}; load average {before['machine']['load_before']} → "
        f"{before['machine']['load_after']}. After: {after.get('label', 'this run')}; load average "
        f"{after['machine']['load_before']} → {after['machine']['load_after']}. Medians in seconds.",
        "",
        "| size | mode | dashboard | queries + drawing before | after | request ready → drawn before | after "
        "| request → drawn before | after |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, part in after["sizes"].items():
        for mode, dashboards in part["dashboards"].items():
            old_part = before["sizes"].get(size, {}).get("dashboards", {}).get(mode, {})
            for name in DASHBOARDS:
                new, old = dashboards[name], old_part.get(name)

                def pair(key: str, new: dict[str, Any] = new, old: dict[str, Any] | None = old) -> str:
                    was = "–" if old is None else old[key]["median"]
                    return f"{was} | {new[key]['median']}"

                lines.append(
                    f"| {size} | {mode} | {name} | {pair('build_s')} | {pair('request_ready_to_drawn_s')} "
                    f"| {pair('request_to_drawn_s')} |"
                )
    lines += ["", "| size | `analytics run weekly` wall s before | after |", "|---|---:|---:|"]
    for size, part in after["sizes"].items():
        old_run = before["sizes"].get(size, {}).get("weekly_run", {}).get("wall_s", "–")
        lines.append(f"| {size} | {old_run} | {part['weekly_run']['wall_s']} |")
    return lines


def write_results(results: dict[str, Any], *, store: bool = True) -> None:
    RESULTS.mkdir(exist_ok=True)
    if store:
        (RESULTS / "dashboards.json").write_text(json.dumps(results, indent=1) + "\n")
    machine = results["machine"]
    lines = [
        "# Dashboards benchmark",
        "",
        f"Machine: {machine['cpus']} CPUs; load average {machine['load_before']} before and {machine['load_after']} "
        "after (1, 5, 15 minutes): other work on the machine inflates every figure (a 1-minute load of ~10 on 2 "
        "CPUs means roughly a fifth of a CPU each).",
        f"Data: demo business seed 7 as of {END}, SQLite workspace. Median of {results['runs']} loads after one "
        "warm-up. Goal from the product spec: a dashboard for 10,000 members fully drawn < 2 s after the kernel is "
        "ready — compare it with the last column (the dashboard's own work once a kernel with its imports done has "
        "the request).",
        "",
        "| size | members | mode | dashboard | request → drawn s | kernel start → drawn s | imports s "
        "| queries + drawing s | browser s | request ready → drawn s | charts |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, part in results["sizes"].items():
        for mode, dashboards in part["dashboards"].items():
            for name in DASHBOARDS:
                d = dashboards[name]
                kernel = "–" if mode == "preheated" else d["kernel_to_drawn_s"]["median"]
                imports = "–" if mode == "preheated" else d["imports_s"]["median"]
                lines.append(
                    f"| {size} | {part['data']['members']:,} | {mode} | {name} | {d['request_to_drawn_s']['median']} "
                    f"| {kernel} | {imports} | {d['build_s']['median']} | {d['browser_s']['median']} "
                    f"| {d['request_ready_to_drawn_s']['median']} | {d['charts']} |"
                )
    lines += [
        "",
        "| size | `analytics run weekly` wall s (snapshot + report notebooks, HTML/PDF/CSV/JSON) |",
        "|---|---:|",
    ]
    for size, part in results["sizes"].items():
        lines.append(f"| {size} | {part['weekly_run']['wall_s']} |")
    lines += [
        "",
        "Preheated: `analytics dashboards --preheat` (kernel and imports ready before the request; kernel start and",
        "import times are not on the request's path, so they are not shown). Columns: see the docstring of",
        "`benchmarks/dashboards.py`. Raw runs: `dashboards.json`.",
    ]
    if BEFORE.exists():
        lines += comparison(json.loads(BEFORE.read_text()), results)
    lines.append("")
    (RESULTS / "dashboards.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["small", "medium"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=["cold", "preheated"], choices=["cold", "preheated"])
    parser.add_argument("--label", default="", help="What was measured (e.g. the commit), kept in the JSON.")
    parser.add_argument(
        "--before", action="store_true", help="Keep the current dashboards.json as dashboards_before.json first."
    )
    parser.add_argument("--render", action="store_true", help="Only rewrite dashboards.md from dashboards.json.")
    args = parser.parse_args()
    if args.render:
        write_results(json.loads((RESULTS / "dashboards.json").read_text()), store=False)
        print((RESULTS / "dashboards.md").read_text())
        return
    if args.before:
        BEFORE.write_text((RESULTS / "dashboards.json").read_text())
    results: dict[str, Any] = {
        "label": args.label,
        "runs": args.runs,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in os.getloadavg()],
        },
        "sizes": {},
    }
    for size in args.sizes:
        account, data = build(size)
        results["sizes"][size] = {
            "data": data,
            "dashboards": {
                mode: bench_dashboards(size, account, args.runs, mode == "preheated") for mode in args.modes
            },
            "weekly_run": bench_weekly_run(size),
        }
    results["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    write_results(results)
    print((RESULTS / "dashboards.md").read_text())


if __name__ == "__main__":
    main()
