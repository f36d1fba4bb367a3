"""Job runs never stay "running": running jobs beat, silent ones are shown as abandoned, the next run says so."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from analytics.cli import cli
from analytics.clock import fixed_clock
from analytics.store import create_store_engine
from analytics.store.jobs import job_run, job_runs_frame
from analytics.store.schema import job_runs

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TEN_MINUTES = timedelta(minutes=10)


def stored(engine: Engine, run_id: str) -> sa.Row[tuple[object, ...]]:
    with engine.connect() as conn:
        return conn.execute(sa.select(job_runs).where(job_runs.c.id == run_id)).one()


def wait_until(check: object, what: str) -> None:
    """Poll ``check()`` (a callable) for up to a minute of real time; this waits, it asserts no duration."""
    for _ in range(600):
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen")


def add_run(engine: Engine, run_id: str, kind: str, status: str, started: datetime, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(
            job_runs.insert().values(id=run_id, kind=kind, status=status, started_at=started, params={}, **values)
        )


def test_a_running_job_beats_until_it_ends(engine: Engine) -> None:
    minutes = itertools.count()
    clock = lambda: NOON + timedelta(minutes=next(minutes))  # noqa: E731  every reading is a minute later
    with job_run(engine, "import", clock=clock, heartbeat_timeout=timedelta(seconds=0.5)) as run:
        started = stored(engine, run.id).started_at
        wait_until(lambda: stored(engine, run.id).heartbeat_at > started, "a heartbeat")
    done = stored(engine, run.id)
    assert done.status == "succeeded" and done.heartbeat_at > done.started_at and done.finished_at is not None


def test_a_silent_running_job_is_listed_as_abandoned_and_the_next_run_of_its_kind_says_so(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # at noon, with a 10-minute timeout: an import last heard of at 11:05 (its process was killed), a sync that
    # beat a minute ago (alive), an old run without heartbeats (before the migration) that succeeded
    add_run(
        engine, "run_killed", "import", "running", NOON - timedelta(hours=1), heartbeat_at=NOON - timedelta(minutes=55)
    )
    add_run(
        engine,
        "run_alive",
        "sync",
        "running",
        NOON - timedelta(minutes=30),
        heartbeat_at=NOON - timedelta(minutes=1),
        account_id="biz_a",
    )
    add_run(engine, "run_done", "import", "succeeded", NOON - timedelta(days=1), finished_at=NOON - timedelta(hours=23))
    listing = job_runs_frame(engine, heartbeat_timeout=TEN_MINUTES, clock=fixed_clock(NOON))
    assert dict(zip(listing["id"], listing["status"], strict=True)) == {
        "run_killed": "abandoned",
        "run_alive": "running",
        "run_done": "succeeded",
    }
    killed = listing.set_index("id").loc["run_killed"]
    assert killed["last_beat"] == NOON - timedelta(minutes=55) and killed["seconds"] == 300  # until its last beat
    assert job_runs_frame(engine, failed=True, clock=fixed_clock(NOON))["id"].tolist() == ["run_killed"]
    slowest = job_runs_frame(engine, slow=True, limit=1, clock=fixed_clock(NOON))
    assert slowest["id"].tolist() == ["run_done"]  # one hour, against 30 minutes so far and 5 until the last beat

    with caplog.at_level(logging.WARNING, logger="analytics.store.jobs"):
        with job_run(engine, "sync", account_id="biz_b", clock=fixed_clock(NOON)) as other:
            pass  # another kind or account notices nothing
        with job_run(engine, "import", clock=fixed_clock(NOON), heartbeat_timeout=TEN_MINUTES) as run:
            pass
    assert other.abandoned == [] and [a.id for a in run.abandoned] == ["run_killed"]
    [note] = [r.getMessage() for r in caplog.records]
    assert "the previous import run (run_killed, started 2026-03-02 11:00:00 UTC) was abandoned" in note
    assert "no heartbeat since 2026-03-02 11:05:00 UTC" in note and "killed or crashed" in note
    row = stored(engine, "run_killed")
    assert row.status == "abandoned" and f"noticed by {run.id}" in row.error
    with job_run(engine, "import", clock=fixed_clock(NOON)) as again:
        pass
    assert again.abandoned == []  # said once


def test_a_job_marked_abandoned_while_alive_runs_on_and_records_its_outcome(engine: Engine) -> None:
    """A beat that could not get through for a while (a SQLite writer held the lock) is not fatal."""
    later = fixed_clock(NOON + timedelta(hours=2))
    with job_run(engine, "import", clock=fixed_clock(NOON), heartbeat_timeout=timedelta(seconds=0.5)) as slow:
        with job_run(engine, "import", clock=later, heartbeat_timeout=timedelta(seconds=0.5)) as impatient:
            pass
        assert [a.id for a in impatient.abandoned] == [slow.id] and stored(engine, slow.id).status == "abandoned"
        wait_until(lambda: stored(engine, slow.id).status == "running", "the next beat")
    row = stored(engine, slow.id)
    assert row.status == "succeeded" and row.error is None


@pytest.mark.slow
def test_an_import_killed_with_sigkill_is_listed_as_abandoned_and_the_next_import_says_so(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    csv = tmp_path / "accounts.csv"
    csv.write_text("id,title\nbiz_k,Killed Co\n", encoding="utf-8")
    env = {**os.environ, "ANALYTICS_JOB_HEARTBEAT_TIMEOUT": "0.001"}  # seconds: any row not beating is abandoned
    env.pop("ANALYTICS_CONFIG", None)
    env.pop("ANALYTICS_DATABASE_URL", None)
    command = [sys.executable, "-c", "from analytics.cli import main; main()", "--workspace", str(workspace)]
    # the import process kills itself with SIGKILL once its job is recorded, as it starts loading the file
    die_while_loading = (
        "import os, signal, sys\n"
        "import analytics.sources.imports as imports\n"
        "imports._load = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from analytics.cli import main\n"
        "main()\n"
    )
    args = ["--workspace", str(workspace), "import", "accounts", str(csv), "--no-progress"]
    killed = subprocess.run([sys.executable, "-c", die_while_loading, *args], env=env, capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL

    listed = CliRunner().invoke(cli, ["--workspace", str(workspace), "jobs"], env=env)
    assert listed.exit_code == 0, listed.output
    [line] = [line for line in listed.output.splitlines() if line.startswith("run_")]
    assert " import " in line and " abandoned " in line
    killed_id = line.split()[0]

    again = subprocess.run([*command, "import", "accounts", str(csv), "--no-progress"], env=env, capture_output=True)
    assert again.returncode == 0, again.stderr
    note = again.stderr.decode()
    assert f"the previous import run ({killed_id}," in note and "was abandoned" in note
    failed = CliRunner().invoke(cli, ["--workspace", str(workspace), "jobs", "--failed"], env=env)
    assert [line.split()[:3] for line in failed.output.splitlines()[1:]] == [[killed_id, "import", "abandoned"]]
    store = create_store_engine(f"sqlite:///{workspace / 'analytics.db'}")
    try:
        assert stored(store, killed_id).status == "abandoned"
    finally:
        store.dispose()
