"""Demo business: time and peak memory of generating ``medium``/``large`` and importing it into each store.

Every (size, engine) runs in a fresh subprocess, so its peak RSS (``resource.getrusage(...).ru_maxrss``) is that
run's alone. Engines:

* ``generate``: only generate every table (iterate the DemoBusiness, no database) — the generator's own cost;
* ``sqlite``, ``postgresql``, ``duckdb``: ``load_demo`` into a fresh migrated store (``sqlite:///file``, a new
  PostgreSQL schema in the local ``test`` database, ``duckdb:///file``): generation plus ``import_frame``
  validation and upserts; "import s" is the load minus the generate-only time of the same size.

Run from the worktree root (one engine at a time for ``large``; it takes a while)::

    PYTHONPATH=src python benchmarks/demo_load.py --sizes medium --engines generate,sqlite,postgresql,duckdb
    nohup env PYTHONPATH=src python benchmarks/demo_load.py --sizes large --engines sqlite &

Results are merged into ``benchmarks/results/demo_load.json`` (keyed by size and engine, so runs can be done one
at a time) and the table in ``benchmarks/results/demo_load.md`` is rewritten from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")
PG_URL = os.environ.get("ANALYTICS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
END = date(2026, 6, 1)


def _process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a local process has used so far, from /proc (0 without a process)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _child(size: str, engine_name: str, seed: int, workdir: Path) -> dict[str, Any]:
    """One measured run (in its own process)."""
    import sqlalchemy as sa

    from analytics.demo import generate
    from analytics.demo.load import load_demo
    from analytics.store import create_store_engine, init_store

    started, cpu_started, backend = time.perf_counter(), time.process_time(), None
    out: dict[str, Any] = {
        "size": size,
        "engine": engine_name,
        "seed": seed,
        "end": END.isoformat(),
        "load_average_start": round(os.getloadavg()[0], 1),
    }
    if engine_name == "generate":
        business = generate(seed, size, end=END)
        for _table, _frame in business:
            pass
        out["rows"] = dict(business.row_counts)
    else:
        schema = None
        if engine_name == "sqlite":
            url = f"sqlite:///{workdir}/demo.db"
        elif engine_name == "duckdb":
            url = f"duckdb:///{workdir}/demo.duckdb"
        else:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = (
                sa.engine.make_url(PG_URL)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        # One pooled connection, so the PostgreSQL backend whose CPU is read below does all the server work.
        engine = create_store_engine(url, pool_size=1, max_overflow=0) if schema else create_store_engine(url)
        try:
            init_store(engine)
            if schema is not None:
                with engine.connect() as conn:
                    backend = int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
            server_started = _process_cpu(backend)
            started, cpu_started = time.perf_counter(), time.process_time()
            reports = load_demo(engine, seed=seed, size=size, end=END, progress=False)
            out["rows"] = {t: r.loaded for t, r in reports.items()}
            out["quarantined"] = sum(r.quarantined for r in reports.values())
            out["import_frame_seconds"] = round(sum(r.duration_seconds for r in reports.values()), 1)
            out["server_cpu_seconds"] = round(_process_cpu(backend) - server_started, 1)
            if engine_name == "postgresql":
                with engine.connect() as conn:
                    out["store_bytes"] = int(
                        conn.execute(
                            sa.text(
                                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"
                            ),
                            {"s": schema},
                        ).scalar_one()
                    )
            else:
                engine.dispose()
                out["store_bytes"] = sum(p.stat().st_size for p in workdir.iterdir())
        finally:
            engine.dispose()
            if schema is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["cpu_seconds"] = round(time.process_time() - cpu_started, 1)
    out["load_average_end"] = round(os.getloadavg()[0], 1)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["total_rows"] = sum(out["rows"].values())
    return out


def _run(size: str, engine_name: str, seed: int, timeout: float | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="demo_bench_") as tmp:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--sizes",
            size,
            "--engines",
            engine_name,
            "--seed",
            str(seed),
            "--workdir",
            tmp,
        ]
        started = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"size": size, "engine": engine_name, "seed": seed, "error": f"stopped after {timeout:.0f} s"}
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return {
                "size": size,
                "engine": engine_name,
                "seed": seed,
                "error": " | ".join(tail),
                "seconds": round(time.perf_counter() - started, 1),
            }
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _markdown(results: dict[str, Any]) -> str:
    runs = results["runs"]
    gen = {r["size"]: r["seconds"] for r in runs.values() if r["engine"] == "generate" and "seconds" in r}
    lines = [
        "# Demo business: generate and import (benchmarks/demo_load.py)",
        "",
        f"Machine: {results['machine']}. Seed 7, end {END.isoformat()}. Each run is a fresh process; peak RSS is "
        "its maximum resident set size. `generate` iterates the tables without a database; the other rows run "
        "`load_demo` (generation + `import_frame` validation and upserts) into a fresh store; import wall s = wall "
        "s − generate wall s of the same size. The machine is shared with other engineers' work (load average "
        "given), so wall times are inflated; CPU seconds (this process, plus the PostgreSQL backend) are the "
        "steadier measure.",
        "",
        "| size | engine | rows | events | wall s | import wall s | rows/s | CPU s (client + server) | rows/CPU-s "
        "| peak RSS MiB | store MB | load avg | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key in sorted(
        runs,
        key=lambda k: (
            ("medium", "large").index(runs[k]["size"]) if runs[k]["size"] in ("medium", "large") else 9,
            ["generate", "sqlite", "postgresql", "duckdb"].index(runs[k]["engine"]),
        ),
    ):
        r = runs[key]
        if "error" in r:
            lines.append(f"| {r['size']} | {r['engine']} | | | | | | | | | | | {r['error']} |")
            continue
        rows, events = r["total_rows"], r["rows"].get("activity_events", 0)
        imp = "" if r["engine"] == "generate" or r["size"] not in gen else f"{r['seconds'] - gen[r['size']]:.0f}"
        store = f"{r['store_bytes'] / 1e6:,.0f}" if "store_bytes" in r else ""
        note = r.get("note", "")
        cpu = r.get("cpu_seconds")
        busy = (cpu or 0) + r.get("server_cpu_seconds", 0)
        cpu_text = (
            ""
            if cpu is None
            else f"{cpu:,.0f}" + (f" + {r['server_cpu_seconds']:,.0f}" if r.get("server_cpu_seconds") else "")
        )
        per_cpu = f"{rows / busy:,.0f}" if busy else ""
        load = f"{r.get('load_average_start', '')}–{r.get('load_average_end', '')}" if cpu is not None else ""
        lines.append(
            f"| {r['size']} | {r['engine']} | {rows:,} | {events:,} | {r['seconds']:,.0f} | {imp} | "
            f"{rows / max(r['seconds'], 0.1):,.0f} | {cpu_text} | {per_cpu} | {r['peak_rss_mib']:,} | {store} | "
            f"{load} | {note} |"
        )
    return "\n".join([*lines, "", *results.get("notes", [])]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="medium")
    parser.add_argument("--engines", default="generate,sqlite,postgresql,duckdb")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=None, help="stop a run after this many seconds")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.sizes, args.engines, args.seed, Path(args.workdir))))
        return
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "demo_load.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    for size in args.sizes.split(","):
        for engine_name in args.engines.split(","):
            print(f"{size} {engine_name} …", flush=True)
            run = _run(size, engine_name, args.seed, args.timeout)
            run["measured_at"] = time.strftime("%Y-%m-%d %H:%M")
            results["runs"][f"{size}/{engine_name}"] = run
            print(json.dumps({k: v for k, v in run.items() if k != "rows"}), flush=True)
            path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
            (RESULTS / "demo_load.md").write_text(_markdown(results))


if __name__ == "__main__":
    main()
