"""CLI startup benchmark: how long ``analytics --help`` and friends take, before and after the lazy command loading.

For the sources of this checkout ("after") and of a baseline git ref ("before", default ``main``, extracted with
``git archive`` into ``benchmarks/.data/cli_startup/``), each in fresh interpreters of the same Python:

* wall time of ``analytics --help``, ``analytics metric --help`` and ``analytics dashboard-link --help``
  (``python -c "from analytics.cli import main; main()" …``, what the console script runs), and of
  ``python -c pass`` (the interpreter alone) for scale; the median of ``--runs`` runs after one warm-up run
  (which also writes the byte-code caches);
* ``python -X importtime -c "import analytics.cli"``: the total import time of ``analytics.cli`` and the
  top-level packages that take most of it (each package's own import time summed over its modules), medians
  over the same number of runs.

Before and after runs alternate (before, after, then after, before …), so a shared machine's changing load
weighs on both alike.

The goal (issue 21): ``analytics --help`` and ``analytics metric --help`` under 1 s on a quiet machine. The machine
this runs on is shared; its load average is recorded next to the results.

Usage: ``python benchmarks/cli_startup.py [--baseline main] [--runs 7]``. Results:
``benchmarks/results/cli_startup.json`` and ``.md``; ``--render`` rewrites the ``.md`` from the stored JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data" / "cli_startup"
RESULTS = HERE / "results"
MAIN = "import sys; from analytics.cli import main; sys.argv[0] = 'analytics'; main()"
COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "analytics --help": ["-c", MAIN, "--help"],
    "analytics metric --help": ["-c", MAIN, "metric", "--help"],
    "analytics dashboard-link --help": ["-c", MAIN, "dashboard-link", "--help"],
}
TOP_PACKAGES = 8


def baseline_sources(ref: str) -> tuple[str, Path]:
    """The commit of git ``ref`` and its ``src`` folder, extracted once into ``benchmarks/.data/cli_startup/``."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    folder = DATA / commit[:12]
    if not (folder / "src" / "analytics" / "cli").is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
    return commit, folder / "src"


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANALYTICS_", "WHOP_"))}
    env["PYTHONPATH"] = str(src)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run writes the byte-code caches an installed copy has
    return env


def _timed(src: Path, args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=_env(src), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{args} failed with {src}:\n{done.stderr[-3000:]}")
    return elapsed


def _import_profile(src: Path) -> tuple[int, dict[str, int]]:
    """One ``-X importtime`` run of ``import analytics.cli``: its total µs and each top-level package's own µs."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import analytics.cli"],
        env=_env(src),
        capture_output=True,
        text=True,
        check=True,
    )
    total, own = 0, defaultdict[str, int](int)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        own[name.split(".")[0]] += int(self_us)
        if name == "analytics.cli":
            total = int(cumulative_us)
    return total, dict(own)


def measure(sources: dict[str, Path], runs: int) -> dict[str, Any]:
    """Every command and the import profile for each source tree, runs interleaved (before, after, after, before …)
    so that both see the same load on a shared machine; one warm-up run each first."""
    times: dict[str, dict[str, list[float]]] = {label: defaultdict(list) for label in sources}
    profiles: dict[str, list[tuple[int, dict[str, int]]]] = {label: [] for label in sources}
    labels = list(sources)
    for args in COMMANDS.values():
        for label in labels:
            _timed(sources[label], args)  # warm-up: byte-code caches, page cache
    for run in range(runs):
        order = labels if run % 2 == 0 else labels[::-1]
        for name, args in COMMANDS.items():
            for label in order:
                times[label][name].append(_timed(sources[label], args))
        for label in order:
            profiles[label].append(_import_profile(sources[label]))
    out: dict[str, Any] = {}
    for label in labels:
        commands = {
            name: {
                "median_s": round(statistics.median(values), 3),
                "min_s": round(min(values), 3),
                "max_s": round(max(values), 3),
            }
            for name, values in times[label].items()
        }
        packages = {p for _, own in profiles[label] for p in own}
        medians = {p: statistics.median([own.get(p, 0) for _, own in profiles[label]]) for p in packages}
        top = sorted(medians.items(), key=lambda item: -item[1])[:TOP_PACKAGES]
        out[label] = {
            "commands": commands,
            "importtime": {
                "analytics_cli_ms": round(statistics.median([total for total, _ in profiles[label]]) / 1000, 1),
                "packages_loaded": round(statistics.median([len(own) for _, own in profiles[label]])),
                "top_packages_ms": {package: round(us / 1000, 1) for package, us in top},
            },
        }
    return out


def render(results: dict[str, Any]) -> str:
    before, after = results["before"], results["after"]
    lines = [
        "# CLI startup benchmark",
        "",
        f"Wall time of fresh `analytics` processes, median of {results['runs']} runs after a warm-up "
        f"(min–max in brackets), before and after runs alternating. Before: `{results['baseline']}` "
        f"({results['baseline_commit'][:12]}); after: this checkout. Written by `benchmarks/cli_startup.py`.",
        "",
        "| command | before s | after s | speed-up |",
        "|---|---|---|---|",
    ]
    for name in COMMANDS:
        b, a = before["commands"][name], after["commands"][name]
        lines.append(
            f"| `{name}` | {b['median_s']} ({b['min_s']}–{b['max_s']}) | {a['median_s']} ({a['min_s']}–{a['max_s']}) "
            f"| {b['median_s'] / a['median_s']:.1f}× |"
        )
    lines += [
        "",
        '## `python -X importtime -c "import analytics.cli"`',
        "",
        f"Import of `analytics.cli`: **{before['importtime']['analytics_cli_ms']} ms before, "
        f"{after['importtime']['analytics_cli_ms']} ms after** (medians; {before['importtime']['packages_loaded']} "
        f"top-level packages loaded before, {after['importtime']['packages_loaded']} after). The packages taking "
        "most of it (their modules' own import time, ms):",
        "",
        "| before: package | ms | after: package | ms |",
        "|---|---|---|---|",
    ]
    top_before = list(before["importtime"]["top_packages_ms"].items())
    top_after = list(after["importtime"]["top_packages_ms"].items())
    for i in range(max(len(top_before), len(top_after))):
        b_name, b_ms = top_before[i] if i < len(top_before) else ("", "")
        a_name, a_ms = top_after[i] if i < len(top_after) else ("", "")
        lines.append(f"| {b_name} | {b_ms} | {a_name} | {a_ms} |")
    lines += [
        "",
        f"Machine: {results['machine']}; load average before/after measuring: {results['load_before']} / "
        f"{results['load_after']} (the machine is shared: absolute times vary, the before/after ratio less).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="main", help="Git ref measured as 'before' (default main).")
    parser.add_argument("--runs", type=int, default=7, help="Measured runs per command (after one warm-up).")
    parser.add_argument("--render", action="store_true", help="Rewrite the .md from the stored JSON only.")
    args = parser.parse_args()
    json_path, md_path = RESULTS / "cli_startup.json", RESULTS / "cli_startup.md"
    if args.render:
        md_path.write_text(render(json.loads(json_path.read_text(encoding="utf-8"))), encoding="utf-8")
        return
    commit, before_src = baseline_sources(args.baseline)
    load_before = [round(x, 2) for x in os.getloadavg()]
    results: dict[str, Any] = {
        "baseline": args.baseline,
        "baseline_commit": commit,
        "runs": args.runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        **measure({"before": before_src, "after": ROOT / "src"}, args.runs),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    md_path.write_text(render(results), encoding="utf-8")
    print(md_path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
