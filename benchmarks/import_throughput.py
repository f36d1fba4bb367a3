"""Import throughput: rows per second of ``import_frame`` (and ``import_files`` on CSV/Parquet) for activity_events.

Builds a deterministic frame of N activity events (numpy seed 7; 10,000 members, 14 kinds, one year of 2025,
a fifth with JSON properties), then for each engine imports it into a fresh store twice: the first load
(inserts) and a re-import of the same rows (every row hits the upsert's conflict path). Optionally the same
rows are written to CSV and Parquet and imported with ``import_files`` (parse + validate + load).

Run from the worktree root (PostgreSQL must be running for ``postgresql``)::

    PYTHONPATH=src python benchmarks/import_throughput.py --rows 1000000 --engines sqlite,postgresql,duckdb

Results go to ``benchmarks/results/import_throughput.json`` (and a short ``.md`` beside it). Peak RSS is the
whole process's maximum resident set size after each step (it includes the frame itself).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
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


def _timed(label: str, fn: Any, rows: int) -> dict[str, Any]:
    started = time.perf_counter()
    report = fn()
    seconds = time.perf_counter() - started
    assert report.loaded == rows and report.quarantined == 0, report
    result = {"step": label, "rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}
    result["peak_rss_mib"] = round(_peak_mib())
    print(f"  {label:<22} {seconds:7.2f} s  {rows / seconds:>10,.0f} rows/s  peak {result['peak_rss_mib']} MiB")
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
            steps = [
                _timed("import_frame (insert)", lambda e=engine: import_frame(e, "activity_events", frame), rows),
                _timed("import_frame (re-import)", lambda e=engine: import_frame(e, "activity_events", frame), rows),
            ]
            if files:
                for suffix in ("csv", "parquet"):
                    path = workdir / f"events.{suffix}"
                    steps.append(
                        _timed(
                            f"import_files {suffix} (re-import)",
                            lambda e=engine, p=path: import_files(e, "activity_events", [p], progress=False),
                            rows,
                        )
                    )
            engine.dispose()
            if cleanup is not None:
                cleanup()
            out["results"][name] = steps
    return out


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Import throughput (activity_events)",
        "",
        f"{result['rows']:,} rows, `benchmarks/import_throughput.py`; machine: 2 vCPU, shared with other work, so "
        "figures vary by ±20 %. Peak RSS is the whole process (it includes the frame being imported).",
        "",
        "| engine | step | seconds | rows/s | peak RSS MiB |",
        "|---|---|---:|---:|---:|",
    ]
    for engine, steps in result["results"].items():
        for s in steps:
            lines.append(
                f"| {engine} | {s['step']} | {s['seconds']} | {s['rows_per_second']:,} | {s['peak_rss_mib']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql,duckdb")
    parser.add_argument("--files", action="store_true", help="also time import_files on CSV and Parquet")
    parser.add_argument("--no-save", action="store_true", help="print only; do not write benchmarks/results")
    args = parser.parse_args()
    result = run(args.rows, args.engines.split(","), args.files)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "import_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "import_throughput.md").write_text(_markdown(result))


if __name__ == "__main__":
    main()
