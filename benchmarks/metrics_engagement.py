"""Benchmark: the engagement workloads of the anchors (W2, W4) and a 12-month daily snapshot backfill.

W2 and W4 are computed by the product's own metric functions on the demo business (``analytics.demo``), on
SQLite, PostgreSQL and DuckDB, and set beside the hand-written anchors of ``/work/shared/bench-anchors`` on the same
engine (anchor S ≈ our ``medium``: 10,000 members and ~1M events; anchor L ≈ our ``large``: 200,000 members and
~20M events):

* **W2** 30-day engagement per member: :func:`analytics.metrics.activity_counts` over 2025-12-02 … 2025-12-31
  (messages, logins, lesson completions, last event), then the anchors' score
  ``3·messages + logins + 5·lessons + (30 − whole days since the last event)`` (0 without an event).
* **W4** funnel ``post_view → login → lesson_complete`` within 7 days of the first post view:
  :func:`analytics.metrics.funnel` (``medians=False``, as the anchors count only).
* **backfill** 12 months of daily snapshots (2025-01-01 … 2025-12-31) with every registered snapshot metric
  (engagement, content, funnel, messaging and the revenue metrics): :func:`analytics.snapshots.backfill_snapshots`.

Each measurement runs in a fresh process: connect, 1 warm-up run, 3 timed runs (median reported), peak RSS of the
process (``ru_maxrss``) and, on PostgreSQL, the server backend's peak (VmHWM). The demo tables are generated once
per size (cached as Parquet under ``benchmarks/.data``) and bulk-loaded into each engine (the import path's
validation is not what is measured here); then the product's ``optimize_store`` (``analytics optimize``:
statistics, and on DuckDB the event logs rewritten in time order).

Usage::

    python benchmarks/metrics_engagement.py prepare medium sqlite
    python benchmarks/metrics_engagement.py measure medium sqlite w2
    python benchmarks/metrics_engagement.py all --sizes medium,large --engines sqlite,postgresql,duckdb
    python benchmarks/metrics_engagement.py report        # benchmarks/results/metrics_engagement.{json,md}
    python benchmarks/metrics_engagement.py cleanup       # drop the PostgreSQL benchmark databases
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "metrics_engagement"
RESULTS = HERE / "results"
RUNS_FILE = DATA / "runs.jsonl"
ANCHORS = Path("/work/shared/bench-anchors/results")
PG_URL = os.environ.get("ANALYTICS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SEED = 7
END = date(2026, 1, 1)  # the demo runs up to the start of 2026, like the anchors' data
ANCHOR_SIZE = {"medium": "S", "large": "L"}
ANCHOR_ENGINE = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb_file"}
ANCHOR_SQLA = {"sqlite": "sqla_sqlite", "postgresql": "sqla_postgres", "duckdb": "sqla_duckdb"}
WORKLOADS = ("w2", "w4", "backfill")


# ----------------------------------------------------------------------------------------------- stores
def store_url(size: str, engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{DATA / size / 'store.db'}"
    if engine == "duckdb":
        return f"duckdb:///{DATA / size / 'store.duckdb'}"
    return str(sa.engine.make_url(PG_URL).set(database=f"bench_engagement_{size}"))


def open_engine(size: str, engine: str) -> sa.Engine:
    from analytics.store import create_store_engine

    if engine == "postgresql":  # the anchors' server settings that a session can set (shared_buffers cannot)
        return create_store_engine(store_url(size, engine), connect_args={"options": "-c work_mem=256MB -c jit=off"})
    return create_store_engine(store_url(size, engine))


def parquet_cache(size: str) -> Path:
    """Generate the demo business once per size, each table chunk as a Parquet file."""
    from analytics.demo.generator import generate

    root = DATA / size / "parquet"
    if (root / "DONE").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    counts: dict[str, int] = {}
    business = generate(SEED, size, end=END, accounts=1)
    for table, frame in business:
        folder = root / table
        folder.mkdir(parents=True, exist_ok=True)
        frame = frame.copy()
        for name in frame.columns:
            if frame[name].dtype == object and frame[name].map(lambda v: isinstance(v, dict | list)).any():
                frame[name] = frame[name].map(lambda v: None if v is None else json.dumps(v))
            elif frame[name].dtype == object:
                frame[name] = frame[name].map(lambda v: None if v is None or v is pd.NA else str(v))
        frame.to_parquet(folder / f"{counts.get(table, 0):05d}.parquet", index=False)
        counts[table] = counts.get(table, 0) + 1
    (root / "DONE").write_text(json.dumps({"accounts": business.account_ids}))
    return root


def _native(frame: pd.DataFrame, table: sa.Table, engine: str) -> pd.DataFrame:
    """The table's columns in the representation each engine stores (see analytics.store.types)."""
    from analytics.store.keys import DERIVED_KEY, member_keys

    out = pd.DataFrame(index=frame.index)
    for column in table.c:
        if DERIVED_KEY in column.info:  # member_key, from the member id (what the import path does)
            out[column.name] = member_keys(frame[column.info[DERIVED_KEY]])
            continue
        if column.name not in frame.columns:
            continue
        values = frame[column.name]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            if engine == "sqlite":  # epoch microseconds
                micros = (
                    values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]").astype("int64")
                )
                out[column.name] = pd.Series(micros, index=values.index).astype(object).where(values.notna(), None)
            elif engine == "duckdb":
                out[column.name] = values.dt.tz_convert("UTC").dt.tz_localize(None)
            else:
                out[column.name] = values
        elif column.name == "rate_date":
            out[column.name] = pd.to_datetime(values).dt.date
        elif isinstance(column.type, sa.Integer) and values.dtype.kind == "f":  # ints with nulls came back as floats
            out[column.name] = values.astype("Int64")
        else:
            out[column.name] = values
    return out


def _insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, engine: str) -> None:
    cols = list(frame.columns)
    if engine == "duckdb":
        raw = conn.connection.driver_connection
        raw.register("bench_chunk", frame)  # type: ignore[union-attr]
        names = ", ".join(f'"{c}"' for c in cols)
        raw.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM bench_chunk")  # type: ignore[union-attr]
        raw.unregister("bench_chunk")  # type: ignore[union-attr]
        return
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    if engine == "sqlite":
        marks = ", ".join("?" for _ in cols)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({marks})", rows)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _sorted_chunks(folder: Path, key: list[str], rows: int = 250_000) -> Any:
    """The Parquet parts of one table as DataFrames of ``rows`` rows, in primary-key order."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    order = ", ".join(f'"{k}"' for k in key)
    reader = con.sql(f"SELECT * FROM read_parquet('{folder}/*.parquet') ORDER BY {order}").to_arrow_reader(rows)
    for batch in reader:
        yield batch.to_pandas(types_mapper=None)
    con.close()


def prepare(size: str, engine: str) -> None:
    """Build the store of ``size`` on ``engine`` (fresh), bulk-loading the cached demo tables, then optimize it."""
    from analytics.demo.generator import TABLE_ORDER
    from analytics.store import init_store
    from analytics.store.maintenance import optimize_store
    from analytics.store.schema import metadata

    cache = parquet_cache(size)
    if engine == "postgresql":
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = sa.engine.make_url(store_url(size, engine)).database
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    else:
        files = (
            ("store.db", "store.db-wal", "store.db-shm") if engine == "sqlite" else ("store.duckdb", "store.duckdb.wal")
        )
        for name in files:
            (DATA / size / name).unlink(missing_ok=True)
    eng = open_engine(size, engine)
    init_store(eng)
    started = time.perf_counter()
    rows = 0
    with eng.begin() as conn:
        # bulk load: secondary indexes are dropped first and rebuilt at the end, and rows arrive in primary-key
        # order (sorted by DuckDB, out of core), so no b-tree is updated at random
        indexes = [ix for name in TABLE_ORDER for ix in metadata.tables[name].indexes]
        for index in indexes:
            index.drop(conn)
        for name in TABLE_ORDER:
            table = metadata.tables[name]
            for frame in _sorted_chunks(cache / name, [c.name for c in table.primary_key.columns]):
                _insert(conn, table, _native(frame, table, engine), engine)
                rows += len(frame)
        for index in indexes:
            index.create(conn)
    loaded = time.perf_counter() - started
    # what an operator runs after a bulk import (`analytics optimize`): statistics everywhere (VACUUM ANALYZE on
    # PostgreSQL) and, on DuckDB, the event logs rewritten in (account, time) order
    optimized = time.perf_counter()
    optimize_store(eng)
    optimize_s = time.perf_counter() - optimized
    eng.dispose()
    print(
        json.dumps(
            {
                "prepared": size,
                "engine": engine,
                "rows": rows,
                "load_s": round(loaded, 1),
                "optimize_s": round(optimize_s, 1),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


# ------------------------------------------------------------------------------------------- workloads
def _account(eng: sa.Engine) -> str:
    from analytics.store.schema import accounts

    with eng.connect() as conn:
        return str(conn.execute(sa.select(accounts.c.id).order_by(accounts.c.id)).scalars().first())


def w2(eng: sa.Engine, account: str) -> pd.DataFrame:
    """30-day engagement per member through activity_counts, scored as the anchors do."""
    from analytics.metrics import activity_counts

    as_of_us = int(pd.Timestamp(END, tz="UTC").value // 1000)
    frame = activity_counts(
        eng, account, start=END - timedelta(days=30), end=END - timedelta(days=1),
        kinds=("message", "login", "lesson_complete"),
    )  # fmt: skip
    # the anchors' score, in numpy on the frame's arrays (whole days since the last event; none → recency 0);
    # last_active_at is datetime64[us, UTC], so its int64 view is epoch microseconds (NaT: the smallest int64)
    last = frame["last_active_at"].array.asi8
    never = last == np.iinfo("int64").min
    recency = np.where(never, 0, 30 - (as_of_us - last) // 86_400_000_000)
    score = 3 * frame["message"].to_numpy() + frame["login"].to_numpy() + 5 * frame["lesson_complete"].to_numpy()
    frame["recency"] = recency  # in place: DataFrame.assign would copy the 200,000 rows of large first
    frame["score"] = score + recency
    return frame


def w4(eng: sa.Engine, account: str) -> pd.DataFrame:
    """The anchors' funnel through funnel(): post_view → login → lesson_complete within 7 days."""
    from analytics.metrics import funnel

    return funnel(eng, account, ["post_view", "login", "lesson_complete"], window=timedelta(days=7), medians=False)


def backfill(eng: sa.Engine, account: str) -> pd.DataFrame:
    """12 months of daily snapshots with every registered snapshot metric."""
    from analytics.snapshots import backfill_snapshots

    return backfill_snapshots(
        eng, period="daily", months=12, end=END - timedelta(days=1), accounts=[account], progress=False
    )


def checks(workload: str, frame: pd.DataFrame) -> dict[str, Any]:
    """Row count and sums, compared across engines (they must agree exactly)."""
    if workload == "w2":
        out = {"rows": len(frame)}
        for col in ("message", "login", "lesson_complete", "recency", "score"):
            out[col] = int(frame[col].sum())
        out["active_members"] = int((frame["score"] > 0).sum())
        return out
    if workload == "w4":
        return {f"step{int(s)}": int(m) for s, m in zip(frame["step"], frame["members"], strict=True)}
    return {"periods": int(frame["periods"].sum())}


def _pg_backend_peak_kb(eng: sa.Engine) -> int | None:
    with eng.connect() as c:
        pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(size: str, engine: str, workload: str, runs: int) -> dict[str, Any]:
    """One measurement in this process (run it in a fresh one): warm-up + ``runs`` timed runs."""
    fn = {"w2": w2, "w4": w4, "backfill": backfill}[workload]
    started = time.perf_counter()
    eng = open_engine(size, engine)  # metric calls run one after another: the pool reuses one connection/backend
    account = _account(eng)
    setup = time.perf_counter() - started
    times = []
    frame = pd.DataFrame()
    for i in range(1 + runs):
        t = time.perf_counter()
        frame = fn(eng, account)
        elapsed = time.perf_counter() - t
        if i == 0:
            warm = elapsed
        else:
            times.append(elapsed)
    out = {
        "size": size,
        "engine": engine,
        "workload": workload,
        "median_s": statistics.median(times),
        "times_s": [round(x, 4) for x in times],
        "warmup_s": round(warm, 4),
        "setup_s": round(setup, 3),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "load_average_1m": round(os.getloadavg()[0], 2),  # the machine is shared: how busy it was
        "checks": checks(workload, frame),
    }
    if engine == "postgresql":
        out["pg_backend_peak_kb"] = _pg_backend_peak_kb(eng)
    eng.dispose()
    return out


# ------------------------------------------------------------------------------------------- reporting
def anchors() -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for size in ("S", "L"):
        path = ANCHORS / f"{size}.jsonl"
        if path.exists():
            for line in path.read_text().splitlines():
                row = json.loads(line)
                out[(row["size"], row["engine"], row["workload"])] = row
    return out


def anchors_now() -> dict[tuple[str, str, str], dict[str, Any]]:
    """The anchors re-measured on this machine (``anchors`` command), latest per (size, engine, workload); the
    committed results' re-runs first, marked ``carried_over``."""
    path = DATA / "anchor_runs.jsonl"
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for run in _committed_results():
        again = (run.get("anchor") or {}).get("now")
        if again:
            out[(again["size"], again["engine"], again["workload"])] = {**again, "carried_over": True}
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            out[(row["size"], row["engine"], row["workload"])] = row
    return out


def _committed_results() -> list[dict[str, Any]]:
    """The runs of the committed results file (with their anchors): a machine without the large stores keeps the
    rows it did not re-measure, marked ``carried_over``, instead of dropping them."""
    path = RESULTS / "metrics_engagement.json"
    return json.loads(path.read_text())["runs"] if path.exists() else []


def latest_runs() -> list[dict[str, Any]]:
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    lines = RUNS_FILE.read_text().splitlines() if RUNS_FILE.exists() else []
    committed = [{**{k: v for k, v in r.items() if k != "anchor"}, "carried_over": True} for r in _committed_results()]
    for row in [*committed, *(json.loads(line) for line in lines)]:
        latest[(row["size"], row["engine"], row["workload"])] = row
    return [latest[k] for k in sorted(latest, key=lambda k: (["medium", "large"].index(k[0]), k[2], k[1]))]


def report() -> None:
    rows = latest_runs()
    refs = anchors()
    now = anchors_now()
    table = []
    for r in rows:
        a_size = ANCHOR_SIZE[r["size"]]
        native = refs.get((a_size, ANCHOR_ENGINE[r["engine"]], r["workload"]))
        sqla = refs.get((a_size, ANCHOR_SQLA[r["engine"]], r["workload"]))
        entry = dict(r)
        entry["anchor"] = None
        if native:
            entry["anchor"] = {
                "engine": native["engine"],
                "median_s": native["median_s"],
                "peak_rss_kb": native.get("peak_rss_kb"),
                "pg_backend_peak_kb": native.get("pg_backend_peak_kb"),
                "sqla_median_s": sqla["median_s"] if sqla else None,
                "ratio": round(r["median_s"] / native["median_s"], 2),
                "within_1_5x": r["median_s"] <= 1.5 * native["median_s"],
            }
        again = now.get((a_size, ANCHOR_ENGINE[r["engine"]], r["workload"]))
        if again and entry["anchor"] is not None:
            entry["anchor"]["now"] = again
            entry["anchor"]["ratio_now"] = round(r["median_s"] / again["median_s"], 2)
            entry["anchor"]["within_1_5x_now"] = r["median_s"] <= 1.5 * again["median_s"]
        table.append(entry)
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "metrics_engagement.json").write_text(json.dumps({"environment": env, "runs": table}, indent=1) + "\n")
    lines = [
        "# Engagement metrics and snapshot backfill (benchmarks/metrics_engagement.py)",
        "",
        f"Machine: {env['machine']}, {env['cpus']} CPUs, Python {env['python']}. Demo business seed {SEED}, data up to "
        f"{END}; one account. Seconds = median of 7 warm runs in a fresh process (backfill: 3); peak RSS = the "
        "process's maximum resident set (PostgreSQL: + the server backend's VmHWM). Anchor = the hand-written SQL of "
        "/work/shared/bench-anchors on the same engine (medium ↔ S, large ↔ L; SQLite ↔ `sqlite`, PostgreSQL ↔ "
        "`postgres`, DuckDB ↔ `duckdb_file`; the anchors' data is a different synthetic business of the same size). "
        "Target: ≤ 1.5× the anchor. The machine is shared with other work (load average column, 2 CPUs), so the "
        "anchors are also **re-run now** with their own code and data on this machine and the local PostgreSQL "
        "(default server settings; the session sets work_mem=256MB, jit=off as they did); `ratio now` compares runs "
        "made minutes apart under the same conditions. Of the large anchors only DuckDB's was re-run (loading their "
        "20M events into SQLite and PostgreSQL takes longer than a session has); large SQLite and PostgreSQL "
        "compare with the published figures, measured on this machine when it was quiet.",
        "",
        "Stores: medium and large are bulk-loaded from the generated tables in primary-key order (large is shared "
        "with `metrics_revenue.py` and `churn.py`, see `shared_stores.py`), then optimized as an operator would "
        "after an import (`analytics optimize`: statistics; VACUUM ANALYZE on PostgreSQL; on DuckDB the event logs "
        "rewritten in (account, time) order, 200–490 s for the 20.9M large events). DuckDB has no ordered index for "
        "time ranges and skips only row groups whose min/max miss the period, so key order made W2 read every row "
        "group (0.49 s on large before the rewrite; it reads 15 of 171 after).",
        "",
        "DuckDB at large paid for the string member ids (Whop's `mber_…`, 16 characters) that the anchors do not "
        "have: their events carry dense integer ids. DuckDB stores a string longer than 12 bytes out of line and "
        "compares it by a 4-byte prefix first, `mber` for every id, so grouping and joining the event log by member "
        "followed a pointer per row (the anchors' own W4 SQL took 645 ms on our events against 433 ms on theirs). "
        "The store now keeps `member_key` beside every member id in `members` and `activity_events`: the first 15 "
        "hex digits of md5 of the id (`analytics.store.keys`), filled by every writer (column default, import path, "
        "bulk loads), back-filled by migration 0003, and unique per account among members. DuckDB's funnels and "
        "engagement counts group and join by it; SQLite and PostgreSQL keep the ids their indexes are on. Old and "
        "new code alternating on the rebuilt large store (median of 7 warm runs, fresh processes, two rounds): W4 "
        "0.69–0.70 → 0.43 s (anchor 0.48–0.50 s), W2 0.128–0.135 → 0.102–0.105 s (anchor 0.075 s). W2's query is "
        "now ~1.2× the anchor's (it sorts 200,000 string ids for its member order; the anchors sort integers). The "
        "large DuckDB store took 685 s to load with the keys (613 s without them earlier the same day) and 313 s to "
        "optimize. `activity_events.member_id` stays uncompressed on DuckDB (the schema asks for it): other "
        "metrics still read the ids, and FSST-compressed ids made the old W4 1.18 s instead of 0.79 s.",
        "",
        "Medium DuckDB figures are 6–25 ms, where fixed costs per call count. Metric statements are reused per "
        "distinct arguments (`analytics.metrics.statements`), rates and single funnels are shaped on numpy arrays, "
        "and DuckDB's naive UTC timestamps are marked UTC in Arrow. In the latest session the account's time zone "
        "and reporting currency are kept per DuckDB connection until something writes `accounts` "
        "(`analytics.store.account_cache`; a DuckDB file has one writing process, so every such write passes the "
        "listener): that lookup was ~1.25 ms of W2's ~11 ms. The harness's own W2 score now works on the frame's "
        "int64 arrays (1.7 → ~0.5 ms). In one process W2 takes ~8.2 ms, of which the query and its Arrow result "
        "are ~6.1 ms (the anchor, query and result, ~6.4 ms); the rest is the DataFrame (~0.9 ms), the connection "
        "(~0.4 ms) and the score. In fresh processes the first timed runs are slower for ours (9–11 ms), and six "
        "runs of the table's measurement with the present code gave 1.26–1.67× the anchor re-run beside it (1.67, "
        "1.30, 1.26, 1.48, 1.49, 1.26: the target is met on five of six). Medium W4 is at the anchor (1.02×).",
        "",
        "† marks a row carried over from the committed results (measured in an earlier session with the code of "
        "then). In the latest session every row was re-measured on stores rebuilt then with member keys (large: "
        "load 572 s SQLite, 553 s PostgreSQL, 685 s DuckDB). Large SQLite and PostgreSQL run the same SQL as before "
        "(their metrics keep the member ids); against the previous session's rows: SQLite W2 3.38 s (2.78 s), W4 "
        "1.22 s (1.62 s), backfill 179 s (133 s); PostgreSQL W2 1.11 s (1.05 s), W4 1.59 s (1.86 s), backfill "
        "105 s (121 s). Old and new code alternating on today's large SQLite store gave W2 3.09–3.13 s and "
        "3.20–3.22 s, so the day's machine accounts for most of the SQLite difference.",
        "",
        "| size | workload | engine | ours s | ours peak RSS MiB | anchor s (published) | ratio | anchor s (re-run now)"
        " | anchor RSS MiB (now) | ratio now | ≤ 1.5× now | load avg | checks (equal on every engine) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]

    def mib(kb: int | None) -> str:
        return "" if kb is None else f"{kb / 1024:.0f}"

    for r in table:
        a = r["anchor"] or {}
        n = a.get("now") or {}
        rss = mib(r["peak_rss_kb"]) + (
            f" (+server {mib(r['pg_backend_peak_kb'])})" if r.get("pg_backend_peak_kb") else ""
        )
        published = f"{a['median_s']:.3f}" if a else "—"
        again = (f"{n['median_s']:.3f}" + (" †" if n.get("carried_over") else "")) if n else "—"
        ours = f"{r['median_s']:.3f}" + (" †" if r.get("carried_over") else "")
        ok = ("yes" if a.get("within_1_5x_now") else "no") if n else "—"
        lines.append(
            f"| {r['size']} | {r['workload']} | {r['engine']} | {ours} | {rss} | {published} | "
            f"{a.get('ratio', '—')} | {again} | {mib(n.get('peak_rss_kb')) or '—'} | "
            f"{a.get('ratio_now', '—')} | {ok} | "
            f"{r.get('load_average_1m', '')} | `{json.dumps(r['checks'])}` |"
        )
    lines += ["", "Raw runs, warm-up and setup times: `metrics_engagement.json`. The backfill has no anchor."]
    (RESULTS / "metrics_engagement.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def run_all(
    sizes: list[str], engines: list[str], workloads: list[str], runs: int, skip_prepare: bool, backfill_runs: int
) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    for size in sizes:
        for engine in engines:
            if not skip_prepare:
                subprocess.run([sys.executable, __file__, "prepare", size, engine], check=True, env=env)
            for workload in workloads:
                done = subprocess.run(
                    [sys.executable, __file__, "measure", size, engine, workload, "--runs",
                     str(backfill_runs if workload == "backfill" else runs)],
                    check=True, env=env, capture_output=True, text=True,
                )  # fmt: skip
                line = done.stdout.strip().splitlines()[-1]
                with RUNS_FILE.open("a") as f:
                    f.write(line + "\n")
                print(line, flush=True)
    report()


# ------------------------------------------------- the anchors, re-measured now on this (shared, busy) machine
ANCHOR_CODE = Path("/work/shared/bench-anchors")
ANCHOR_DATA = DATA / "anchors"
ANCHOR_PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}  # the local server, not the anchors' own cluster


def _anchor_module(engine: str) -> Any:
    sys.path.insert(0, str(ANCHOR_CODE))
    ANCHOR_DATA.mkdir(parents=True, exist_ok=True)
    os.chdir(ANCHOR_DATA)  # the anchors keep their data in ./.anchors-data
    if engine == "sqlite":
        import eng_sqlite as module
    elif engine == "duckdb_file":
        import eng_duckdb as module
    else:
        import eng_postgres as module

        module.PG = ANCHOR_PG
    return module


def anchor_prepare(size: str, engine: str) -> None:
    """Generate the anchors' data (their gen.py) and load it with their own loader."""
    module = _anchor_module(engine)
    if not (ANCHOR_DATA / ".anchors-data" / size / "events.parquet").exists():
        subprocess.run([sys.executable, str(ANCHOR_CODE / "gen.py"), size], check=True, cwd=ANCHOR_DATA)
    started = time.perf_counter()
    if engine == "postgres":
        _anchor_postgres_load(module, size)
    else:
        module.load(size)
    print(json.dumps({"anchor_prepared": size, "engine": engine, "seconds": round(time.perf_counter() - started, 1)}))


def _anchor_postgres_load(module: Any, size: str) -> None:
    """The anchors' PostgreSQL load (their schema, indexes, VACUUM ANALYZE) with a client-side COPY: the local
    server cannot read files from this folder as their server-side COPY expects."""
    import duckdb
    import psycopg

    name = module.dbname(size)
    with psycopg.connect(**ANCHOR_PG, dbname="postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    tmp = ANCHOR_DATA / "csv"
    tmp.mkdir(exist_ok=True)
    with psycopg.connect(**ANCHOR_PG, dbname=name, autocommit=True) as c:
        c.execute(module.SCHEMA)
        for table in module.TABLES:
            path = tmp / f"{table}.csv"
            source = ANCHOR_DATA / ".anchors-data" / size / f"{table}.parquet"
            duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet('{source}')) TO '{path}' (HEADER false)")
            with c.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv)") as copy, path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            path.unlink()
        for statement in module.INDEXES:
            c.execute(statement)
        c.execute("VACUUM ANALYZE")


def anchor_measure(size: str, engine: str, workload: str, runs: int) -> dict[str, Any]:
    """The anchors' own query for ``workload`` (hand-written SQL, native driver), timed like ours."""
    module = _anchor_module(engine)
    ctx = module.setup(size, "file") if engine == "duckdb_file" else module.setup(size)
    times = []
    for i in range(1 + runs):
        t = time.perf_counter()
        module.run(ctx, workload)
        elapsed = time.perf_counter() - t
        if i == 0:
            warm = elapsed
        else:
            times.append(elapsed)
    return {
        "size": size,
        "engine": engine,
        "workload": workload,
        "median_s": statistics.median(times),
        "times_s": [round(x, 4) for x in times],
        "warmup_s": round(warm, 4),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def run_anchors(sizes: list[str], engines: list[str], workloads: list[str], runs: int, skip_prepare: bool) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        for engine in engines:
            if not skip_prepare:
                subprocess.run([sys.executable, __file__, "anchor-prepare", size, engine], check=True)
            for workload in workloads:
                done = subprocess.run(
                    [sys.executable, __file__, "anchor-measure", size, engine, workload, "--runs", str(runs)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                line = done.stdout.strip().splitlines()[-1]
                with (DATA / "anchor_runs.jsonl").open("a") as f:
                    f.write(line + "\n")
                print(line, flush=True)


def cleanup() -> None:
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in ("bench_engagement_medium", "bench_engagement_large", "anchors_s", "anchors_l"):
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("size")
    p.add_argument("engine")
    m = sub.add_parser("measure")
    m.add_argument("size")
    m.add_argument("engine")
    m.add_argument("workload", choices=WORKLOADS)
    m.add_argument("--runs", type=int, default=3)
    a = sub.add_parser("all")
    a.add_argument("--sizes", default="medium,large")
    a.add_argument("--engines", default="sqlite,postgresql,duckdb")
    a.add_argument("--workloads", default=",".join(WORKLOADS))
    a.add_argument("--runs", type=int, default=3)
    a.add_argument("--skip-prepare", action="store_true")
    a.add_argument("--backfill-runs", type=int, default=3)
    sub.add_parser("report")
    sub.add_parser("cleanup")
    ap = sub.add_parser("anchor-prepare")
    ap.add_argument("size", choices=["S", "L"])
    ap.add_argument("engine", choices=list(ANCHOR_ENGINE.values()))
    am = sub.add_parser("anchor-measure")
    am.add_argument("size", choices=["S", "L"])
    am.add_argument("engine", choices=list(ANCHOR_ENGINE.values()))
    am.add_argument("workload", choices=["w2", "w4"])
    am.add_argument("--runs", type=int, default=3)
    aa = sub.add_parser("anchors")
    aa.add_argument("--sizes", default="S,L")
    aa.add_argument("--engines", default=",".join(ANCHOR_ENGINE.values()))
    aa.add_argument("--workloads", default="w2,w4")
    aa.add_argument("--runs", type=int, default=3)
    aa.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.size, args.engine)
    elif args.command == "measure":
        print(json.dumps(measure(args.size, args.engine, args.workload, args.runs)), flush=True)
    elif args.command == "all":
        run_all(
            args.sizes.split(","),
            args.engines.split(","),
            args.workloads.split(","),
            args.runs,
            args.skip_prepare,
            args.backfill_runs,
        )
    elif args.command == "report":
        report()
    elif args.command == "anchor-prepare":
        anchor_prepare(args.size, args.engine)
    elif args.command == "anchor-measure":
        print(json.dumps(anchor_measure(args.size, args.engine, args.workload, args.runs)), flush=True)
    elif args.command == "anchors":
        run_anchors(
            args.sizes.split(","), args.engines.split(","), args.workloads.split(","), args.runs, args.skip_prepare
        )
    else:
        cleanup()


if __name__ == "__main__":
    main()
