"""Benchmark: Whop sync over real HTTP against the fake Whop API on loopback, and webhook deliveries per second.

For each demo size: the business is generated into a source SQLite store (cached between runs), served by
``analytics fake-whop`` in its own process (the real API is not on the sync's CPU budget either), and synced into
a fresh store — a full sync, then, after the fake has advanced a few days, an incremental one. Then signed
``membership.updated`` deliveries are posted to ``analytics webhooks`` (its own process) and the accepted ones
counted. Results go to ``benchmarks/results/whop_sync.json`` and ``.md``.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/whop_sync.py --sizes medium,large --cache /tmp/whop_bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.fake_data import LISTINGS
from analytics.sources.whop.signatures import sign_standard
from analytics.sources.whop.sync import sync_whop
from analytics.store import create_store_engine, init_store
from analytics.store.schema import accounts

API_KEY = "bench-key"
SECRET = "ws_bench_secret_0123456789"
END = date(2025, 6, 30)
CLI = [sys.executable, "-c", "from analytics.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def source_store(size: str, cache: Path) -> str:
    path = cache / f"{size}_src.db"
    url = f"sqlite:///{path}"
    if not (cache / f"{size}_src.done").exists():
        from analytics.demo.load import load_demo

        path.unlink(missing_ok=True)
        engine = create_store_engine(url)
        init_store(engine)
        started = time.perf_counter()
        load_demo(engine, seed=7, size=size, end=END, progress=False)
        engine.dispose()
        (cache / f"{size}_src.done").write_text(f"{time.perf_counter() - started:.1f}\n")
    return url


def start(
    args: list[str], env: dict[str, str], ready_url: str, headers: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([*CLI, *args], env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, headers=headers, timeout=2).status_code < 500:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(f"{args[0]} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
    proc.kill()
    raise RuntimeError(f"{args} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def summary(result: Any) -> dict[str, Any]:
    totals = result.totals()
    return {
        "seconds": round(result.seconds, 1),
        "requests": result.requests,
        "retries": result.retries,
        "fetched": totals.fetched,
        "inserted": totals.inserted,
        "updated": totals.updated,
        "quarantined": totals.quarantined,
        "records_per_second": round(totals.fetched / result.seconds) if result.seconds else None,
        "resources": {k: v.as_dict() for k, v in sorted(result.resources.items())},
    }


def working_copy(size: str, cache: Path, work: Path) -> str:
    """A copy of the cached source store (advancing the fake changes it; the cache stays as generated)."""
    source_store(size, cache)
    for suffix in ("", "-wal", "-shm"):
        cached = cache / f"{size}_src.db{suffix}"
        if cached.exists():
            shutil.copyfile(cached, work / f"{size}_src.db{suffix}")
    return f"sqlite:///{work / f'{size}_src.db'}"


def bench_size(size: str, cache: Path, work: Path, page_size: int, days: int) -> dict[str, Any]:
    source_url = working_copy(size, cache, work)
    target_url = f"sqlite:///{work / f'{size}_target.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    fake = start(
        [
            "--database-url",
            f"sqlite:///{work / 'unused.db'}",
            "fake-whop",
            "--source-url",
            source_url,
            "--port",
            str(port),
            "--api-key",
            API_KEY,
        ],
        {},
        f"{base}/_fake/stats",
        headers,
    )
    try:
        target = create_store_engine(target_url)
        init_store(target)
        with create_store_engine(source_url).connect() as conn:
            ids = list(conn.execute(sa.select(accounts.c.id)).scalars())
        with httpx.Client(timeout=60) as http:
            client = WhopClient(f"{base}/api/v1", API_KEY, http=http, requests_per_second=10_000, max_concurrency=4)
            full = sync_whop(target, client, ids, full=True, page_size=page_size, progress=False)
            advanced = http.post(f"{base}/_fake/advance", headers=headers, json={"days": days}, timeout=600).json()
            incremental = sync_whop(target, client, ids, page_size=page_size, progress=False)
        target.dispose()
    finally:
        stop(fake)
    return {
        "size": size,
        "page_size": page_size,
        "source_load_seconds": float((cache / f"{size}_src.done").read_text()),
        "full": summary(full),
        "advance": advanced,
        "incremental": summary(incremental),
        "target_url": "sqlite (file)",
    }


def bench_webhooks(cache: Path, work: Path, size: str, deliveries: int, concurrency: int) -> dict[str, Any]:
    source = create_store_engine(f"sqlite:///{work / f'{size}_src.db'}")
    listing = LISTINGS["memberships"]
    with source.connect() as conn:
        rows = [
            dict(r) for r in conn.execute(listing.select().order_by(listing.table.c.id).limit(deliveries)).mappings()
        ]
    source.dispose()
    target_url = f"sqlite:///{work / f'{size}_target.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/whop"
    receiver = start(
        ["--database-url", target_url, "webhooks", "--port", str(port)], {"WHOP_WEBHOOK_SECRET": SECRET}, f"{url}/stats"
    )
    bodies = []
    for i in range(deliveries):
        row = dict(rows[i % len(rows)])
        row["updated_at"] = datetime(2025, 7, 1, tzinfo=UTC) + timedelta(seconds=i)
        data = listing.shape.render(row)
        envelope = {
            "id": f"msg_bench_{i}",
            "api_version": "v1",
            "type": "membership.updated",
            "timestamp": data["updated_at"],
            "account_id": row["account_id"],
            "data": data,
        }
        bodies.append((envelope["id"], json.dumps(envelope)))
    accepted = 0
    lock = threading.Lock()

    def worker(part: list[tuple[str, str]]) -> None:
        nonlocal accepted
        with httpx.Client(timeout=30) as http:
            for msg_id, body in part:
                response = http.post(url, content=body, headers=sign_standard(SECRET, msg_id, body, datetime.now(UTC)))
                with lock:
                    accepted += response.status_code == 200 and response.json().get("status") == "processed"

    try:
        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(bodies[k::concurrency],)) for k in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
    finally:
        stop(receiver)
    return {
        "deliveries": deliveries,
        "concurrency": concurrency,
        "accepted": accepted,
        "seconds": round(seconds, 1),
        "deliveries_per_second": round(accepted / seconds, 1),
        "store": "sqlite (file)",
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Whop sync benchmark",
        "",
        f"Run {results['run_at']} on {results['machine']}.",
        "",
        "| size | sync | records fetched | requests | seconds | records/s | inserted | updated |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        for kind in ("full", "incremental"):
            r = run[kind]
            lines.append(
                f"| {run['size']} | {kind} | {r['fetched']} | {r['requests']} | {r['seconds']} | "
                f"{r['records_per_second']} | {r['inserted']} | {r['updated']} |"
            )
    hooks = results.get("webhooks")
    if hooks:
        lines += [
            "",
            f"Webhooks: {hooks['accepted']} signed `membership.updated` deliveries accepted and applied in "
            f"{hooks['seconds']} s from {hooks['concurrency']} concurrent senders = "
            f"**{hooks['deliveries_per_second']} deliveries/s** (SQLite store).",
        ]
    lines += ["", results["notes"], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="medium")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--webhook-concurrency", type=int, default=4)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "whop_bench")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "whop_sync.json")
    parser.add_argument("--notes", default="")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    results: dict[str, Any] = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.1f} at start, "
        f"Python {platform.python_version()}",
        "runs": [],
        "notes": args.notes,
    }
    with tempfile.TemporaryDirectory(prefix="whop-bench-") as tmp:
        work = Path(tmp)
        sizes = [s for s in args.sizes.split(",") if s]
        for size in sizes:
            results["runs"].append(bench_size(size, args.cache, work, args.page_size, args.days))
            print(
                json.dumps({k: v for k, v in results["runs"][-1].items() if k not in ("full", "incremental")}),
                flush=True,
            )
            print({k: results["runs"][-1][k]["records_per_second"] for k in ("full", "incremental")}, flush=True)
        if args.webhooks and sizes:
            results["webhooks"] = bench_webhooks(args.cache, work, sizes[0], args.webhooks, args.webhook_concurrency)
            print(results["webhooks"], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results))


if __name__ == "__main__":
    main()
