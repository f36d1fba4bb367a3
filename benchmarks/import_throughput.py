"""Import throughput: rows per second of ``import_frame`` (and ``import_files`` on CSV/Parquet) for activity_events.

Builds a deterministic frame of N activity events (numpy seed 7; 10,000 members, 14 kinds, one year of 2025,
a fifth with JSON properties), then for each engine imports it into a fresh store twice: the first load
(inserts) and a re-import of the same rows (every row hits the upsert's conflict path). Optionally the same
rows are written to CSV and Parquet and imported with ``import_files`` (parse + validate + load).

Run from the worktree root (PostgreSQL must be running for ``postgresql``)::

    PYTHONPATH=src python benchmarks/import_throughput.py --rows 1000000 --engines sqlite,postgresql,duckdb

``--stream-rows N`` also writes a CSV of N events in slices and imports it in a fresh process, to show that
streaming keeps memory flat. Results go to ``benchmarks/results/import_throughput.json`` (and a short ``.md``
beside it). Peak RSS is the whole process's maximum resident set size after each step (it includes the frame
itself, and SQLite's page cache of up to 256 MiB set by the store's engine); client CPU is this process's CPU
time, server CPU the PostgreSQL backend's (from /proc; the import runs client and server work one after the
other, so rows / (client + server CPU) is what an otherwise idle machine would reach, disk permitting); the load
average shows how busy the shared machine was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.sources import import_files, import_frame
from analytics.store import create_store_engine, init_store
from analytics.store.enums import ACTIVITY_KINDS

ACCOUNT = "biz_bench"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESULTS = Path(__file__).with_name("results")


def events(n: int, seed: int = 7) -> pd.DataFrame:
    """N deterministic activity events of one account."""
    rng = np.random.default_rng(seed)
    kinds = np.array(sorted(ACTIVITY_KINDS))
    start = pd.Timestamp("2025-01-01", tz="UTC").value // 1000
    micros = np.sort(rng.integers(0, 365 * 86_400 * 1_000_000, n)) + start
    has_props = rng.random(n) < 0.2
    pages = np.array(['{"page": "home"}', '{"page": "pricing"}', '{"lesson": 3, "seconds": 240}'])
    properties = np.where(has_props, pages[rng.integers(0, len(pages), n)], None)
    return pd.DataFrame(
        {
            "account_id": ACCOUNT,
            "id": pd.Series(np.char.add("evt_", np.arange(n).astype(str)), dtype="str"),
            "member_id": pd.Series(np.char.add("mem_", rng.integers(0, 10_000, n).astype(str)), dtype="str"),
            "kind": pd.Series(kinds[rng.integers(0, len(kinds), n)], dtype="str"),
            "occurred_at": pd.to_datetime(micros, unit="us", utc=True),
            "product_id": pd.Series(np.char.add("prod_", rng.integers(0, 3, n).astype(str)), dtype="str"),
            "channel": "web",
            "properties": pd.Series(properties, dtype=object),
        }
    )


def _store(engine_name: str, workdir: Path) -> tuple[sa.Engine, Any]:
    if engine_name == "sqlite":
        engine = create_store_engine(f"sqlite:///{workdir}/bench.db")
        cleanup = None
    elif engine_name == "duckdb":
        engine = create_store_engine(f"duckdb:///{workdir}/bench.duckdb")
        cleanup = None
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = sa.engine.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        engine = create_store_engine(url.render_as_string(hide_password=False))

        def cleanup() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    init_store(engine)
    import_frame(engine, "accounts", pd.DataFrame({"id": [ACCOUNT], "title": ["Bench"]}))
    return engine, cleanup


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _backend(engine: sa.Engine) -> int | None:
    """The PostgreSQL backend process serving the engine's (single pooled) connection."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a local process has used so far, from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(label: str, fn: Any, rows: int, engine: sa.Engine) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    backend = _backend(engine)
    server_cpu = _process_cpu(backend)
    started, cpu = time.perf_counter(), time.process_time()
    report = fn()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    server_seconds = _process_cpu(backend) - server_cpu
    if backend is not None and _backend(engine) != backend:
        raise RuntimeError("the import used another PostgreSQL connection; server CPU would be wrong")
    busy = cpu_seconds + server_seconds
    if report.loaded != rows or report.quarantined:
        raise RuntimeError(f"unexpected counts: {report}")
    result = {
        "step": label,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "client_cpu_seconds": round(cpu_seconds, 2),
        "server_cpu_seconds": round(server_seconds, 2),
        "rows_per_cpu_second": round(rows / busy),
        "peak_rss_mib": round(_peak_mib()),
        "load_average_before": round(load_before, 1),
    }
    print(
        f"  {label:<32} {seconds:7.2f} s  {rows / seconds:>10,.0f} rows/s  cpu {cpu_seconds:6.2f} s client "
        f"+ {server_seconds:6.2f} s server = {rows / busy:>9,.0f} rows/cpu-s  peak {result['peak_rss_mib']} MiB  "
        f"load {load_before:.1f}"
    )
    return result


def run(rows: int, engines: list[str], files: bool) -> dict[str, Any]:
    frame = events(rows)
    out: dict[str, Any] = {
        "rows": rows,
        "table": "activity_events",
        "python": sys.version.split()[0],
        "pandas": pd.__version__,
        "sqlalchemy": sa.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "commit": _commit(),
        "results": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if files:
            frame.to_csv(workdir / "events.csv", index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
            frame.to_parquet(workdir / "events.parquet", index=False)
        for name in engines:
            print(f"{name}: {rows:,} activity_events")
            engine, cleanup = _store(name, workdir)
            try:
                steps = _steps(engine, frame, workdir, rows, files)
            finally:
                engine.dispose()
                if cleanup is not None:
                    cleanup()
            out["results"][name] = steps
    return out


def _steps(engine: sa.Engine, frame: pd.DataFrame, workdir: Path, rows: int, files: bool) -> list[dict[str, Any]]:
    """First load (inserts), an unchanged re-import (every row conflicts), then the same rows from CSV/Parquet."""
    steps = [
        _timed("import_frame (insert)", lambda: import_frame(engine, "activity_events", frame), rows, engine),
        _timed("import_frame (re-import)", lambda: import_frame(engine, "activity_events", frame), rows, engine),
    ]
    if files:
        for suffix in ("csv", "parquet"):
            path = workdir / f"events.{suffix}"
            steps.append(
                _timed(
                    f"import_files {suffix} (re-import)",
                    lambda p=path: import_files(engine, "activity_events", [p], progress=False),
                    rows,
                    engine,
                )
            )
    return steps


def stream_check(rows: int, workdir: Path) -> dict[str, Any]:
    """Write a CSV of ``rows`` events in slices (never all in memory), import it into SQLite in a fresh process and
    report that process's peak RSS: streaming keeps it flat however big the file is."""
    path = workdir / "big.csv"
    for start in range(0, rows, 500_000):
        part = events(min(500_000, rows - start), seed=start)
        part["id"] = "evt_" + pd.Series(range(start, start + len(part))).astype(str)
        part.to_csv(path, mode="a", header=start == 0, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    size_mib = path.stat().st_size / 2**20
    code = (
        "import resource, sys, time; import pandas as pd;"
        "from analytics.store import create_store_engine, init_store;"
        "from analytics.sources import import_files, import_frame;"
        f"e = create_store_engine('sqlite:///{workdir}/stream.db'); init_store(e);"
        f"import_frame(e, 'accounts', pd.DataFrame({{'id': ['{ACCOUNT}'], 'title': ['Bench']}}));"
        "t = time.perf_counter();"
        f"r = import_files(e, 'activity_events', ['{path}'], progress=False);"
        "print(r.loaded, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    loaded, seconds, peak = int(output[0]), float(output[1]), float(output[2])
    result = {
        "rows": rows,
        "csv_mib": round(size_mib),
        "loaded": loaded,
        "seconds": round(seconds, 1),
        "process_peak_rss_mib": round(peak),
    }
    print(f"stream check: {rows:,} rows, {size_mib:,.0f} MiB CSV -> SQLite in {seconds:.1f} s, peak RSS {peak:.0f} MiB")
    return result


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Import throughput (activity_events)",
        "",
        f"{result['rows']:,} rows, `benchmarks/import_throughput.py` at commit {result.get('commit', '?')}; "
        "machine: 2 vCPU shared with other work (see the "
        "load average column: above 2 the import got only part of the CPU, so wall-clock figures are pessimistic). "
        "Rows per CPU-second = rows / (client CPU + PostgreSQL backend CPU): the figure an idle machine approaches, "
        "disk permitting. Peak RSS is the whole process (it includes the frame being imported).",
        "",
        "| engine | step | wall s | rows/s (wall) | client CPU s | server CPU s | rows per CPU-second | peak RSS MiB "
        "| load avg before |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine, steps in result["results"].items():
        for s in steps:
            lines.append(
                f"| {engine} | {s['step']} | {s['seconds']} | {s['rows_per_second']:,} | {s['client_cpu_seconds']} "
                f"| {s['server_cpu_seconds']} | {s['rows_per_cpu_second']:,} | {s['peak_rss_mib']} "
                f"| {s['load_average_before']} |"
            )
    check = result.get("stream_check")
    if check:
        lines += [
            "",
            f"Streaming: a {check['csv_mib']:,} MiB CSV of {check['rows']:,} events imported with `import_files` into "
            f"SQLite in a fresh process: {check['seconds']} s, peak RSS of that process "
            f"{check['process_peak_rss_mib']} MiB. The file is read in chunks of about 100,000 rows: memory stays "
            "flat as the file grows, apart from the duplicate-key index (16 bytes per row) and SQLite's page cache "
            "(up to 256 MiB, set by the store's engine).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql,duckdb")
    parser.add_argument("--files", action="store_true", help="also time import_files on CSV and Parquet")
    parser.add_argument("--stream-rows", type=int, default=0, help="also stream a CSV of this many rows (memory check)")
    parser.add_argument("--render", action="store_true", help="only re-render the .md from the saved .json")
    parser.add_argument("--no-save", action="store_true", help="print only; do not write benchmarks/results")
    args = parser.parse_args()
    if args.render:
        saved = json.loads((RESULTS / "import_throughput.json").read_text())
        (RESULTS / "import_throughput.md").write_text(_markdown(saved))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # so the PostgreSQL schema is dropped
    result = run(args.rows, [e for e in args.engines.split(",") if e], args.files)
    if args.stream_rows:
        with tempfile.TemporaryDirectory() as tmp:
            result["stream_check"] = stream_check(args.stream_rows, Path(tmp))
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "import_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "import_throughput.md").write_text(_markdown(result))


if __name__ == "__main__":
    main()
