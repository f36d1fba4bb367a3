"""Scheduled runs: execute the notebooks of a ``params/<schedule>.yaml`` file with Papermill, per account.

A run writes into ``<workspace>/runs/<date>/<schedule>/<account>/``::

    sync.ipynb  snapshot.ipynb  business_report.ipynb      executed notebooks (open them in JupyterLab)
    report/business_report.html  .pdf  tables/*.csv|json   exports of the report notebook (when a step asks)

The folder appears only when every step succeeded: steps run in a staging folder that is renamed at the end.
A notebook that needs a setting the workspace lacks (its metadata ``analytics.requires``, e.g. ``sync`` needs
``whop_api_key``) is skipped with a note (``RunResult.notes``, the job summary and ``<notebook>.skipped.txt``),
and the other steps run on the data already in the store.
A failed cell stops the run with a :class:`~analytics.errors.ReportError` naming the notebook, the cell and the
error; the executed notebook is kept in ``<account>.failed/`` for inspection. Each run (per account) is recorded
as a job run of kind ``run``. Snapshot writing is transactional in :mod:`analytics.snapshots`, so a failure
never leaves a half-written snapshot.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import nbformat
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.clock import Clock, utcnow
from analytics.errors import ConfigError, ReportError
from analytics.kernels import kernel_environment
from analytics.reports.locations import project_paths
from analytics.settings import Settings
from analytics.store import create_store_engine, init_store, job_run
from analytics.store.schema import accounts

__all__ = [
    "SCHEDULES",
    "RunResult",
    "Schedule",
    "Step",
    "StepResult",
    "execute_notebook",
    "load_schedule",
    "notebook_parameters",
    "run_schedule",
]

SCHEDULES: tuple[str, ...] = ("daily", "weekly", "monthly")
_STEP_KEYS = {"notebook", "parameters", "export"}
_SCHEDULE_KEYS = {"description", "steps"}


@dataclass(frozen=True)
class Step:
    """One notebook of a schedule, its parameters, and whether its result is exported as a report."""

    notebook: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    export: bool = False


@dataclass(frozen=True)
class Schedule:
    """A parameter file: what ``analytics run NAME`` executes."""

    name: str
    description: str
    steps: tuple[Step, ...]
    source: Path


@dataclass(frozen=True)
class StepResult:
    notebook: str
    output: Path
    seconds: float


@dataclass(frozen=True)
class RunResult:
    """What one account's run produced (paths are final, after the staging folder was renamed)."""

    schedule: str
    account_id: str
    run_dir: Path
    steps: tuple[StepResult, ...]
    reports: dict[str, Path]
    job_run_id: str
    notes: tuple[str, ...] = ()


def load_schedule(name: str, params_dir: Path) -> Schedule:
    """Read and check ``params/<name>.yaml``.

    Raises
    ------
    ConfigError
        The file is missing, not YAML, or has unknown keys (the message names the file and key).
    """
    path = params_dir / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in params_dir.glob("*.yaml"))) or "none"
        raise ConfigError(f"no parameter file {path}; known schedules: {known}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ConfigError(f"{path}: expected a mapping with a non-empty 'steps' list")
    unknown = set(data) - _SCHEDULE_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_SCHEDULE_KEYS))}"
        )
    steps = []
    for i, raw in enumerate(data["steps"], start=1):
        if not isinstance(raw, dict) or "notebook" not in raw:
            raise ConfigError(f"{path}: step {i} needs a 'notebook' name")
        bad = set(raw) - _STEP_KEYS
        if bad:
            raise ConfigError(f"{path}: step {i} has unknown key(s) {', '.join(sorted(bad))}")
        params = raw.get("parameters") or {}
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: step {i} 'parameters' must be a mapping")
        if "account_id" in params:
            raise ConfigError(f"{path}: step {i} sets account_id; pass --account instead")
        steps.append(Step(str(raw["notebook"]), dict(params), bool(raw.get("export", False))))
    return Schedule(name, str(data.get("description", "")), tuple(steps), path)


def _cell_summary(exc: Any, executed: Path) -> str:
    """``cell N (In [k]: 'first line'): Error: message`` with N counted in the notebook as committed."""
    injected = 0
    try:  # Papermill's index counts its injected cell but not the error banners it adds to the saved notebook
        cells = [
            c
            for c in nbformat.read(str(executed), as_version=4).cells
            if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
        ]
        injected = sum("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in cells[: exc.cell_index])
    except (OSError, ValueError):
        pass
    first_line = next((line for line in str(exc.source).splitlines() if line.strip()), "")
    number = exc.cell_index - injected + 1
    return f"cell {number} (In [{exc.exec_count}]: {first_line.strip()[:80]!r}): {exc.ename}: {exc.evalue}"


def execute_notebook(
    notebook: Path,
    output: Path,
    parameters: Mapping[str, Any],
    *,
    settings: Settings,
    cwd: Path | None = None,
    timeout: float | None = 1800,
) -> Path:
    """Execute ``notebook`` with Papermill into ``output`` (a kernel that opens ``settings``' store).

    Raises
    ------
    ReportError
        A cell failed (the message names the notebook, the cell and the error, and where the executed
        notebook is), or the notebook could not be run at all.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if not notebook.is_file():
        raise ReportError(f"notebook {notebook} does not exist")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with kernel_environment(settings):
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=dict(parameters),
                kernel_name="python3",
                progress_bar=False,
                request_save_on_cell_execute=False,
                cwd=str(cwd or output.parent),
                execution_timeout=timeout,
            )
    except PapermillExecutionError as exc:
        raise ReportError(
            f"notebook {notebook.name} failed in {_cell_summary(exc, output)}; the executed notebook is {output}"
        ) from exc
    except Exception as exc:  # kernel died, timeout, unreadable notebook: still name the notebook
        raise ReportError(f"notebook {notebook.name} could not be run: {type(exc).__name__}: {exc}") from exc
    return output


def notebook_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its ``parameters`` cell (name → type, default, help)."""
    from papermill import inspect_notebook

    if not notebook.is_file():
        raise ReportError(f"notebook {notebook} does not exist")
    return {str(k): dict(v) for k, v in inspect_notebook(str(notebook)).items()}


def _step_parameters(
    plan: Schedule, step: Step, notebook: Path, account_id: str, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    declared = notebook_parameters(notebook)
    unknown = sorted(set(step.parameters) - set(declared))
    if unknown:
        raise ConfigError(
            f"{plan.source}: notebook {step.notebook} has no parameter(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(sorted(declared))}"
        )
    shared = {"account_id": account_id, **dict(extra or {})}
    return {**{k: v for k, v in shared.items() if k in declared}, **dict(step.parameters)}


def _missing_setting(notebook: Path, settings: Settings) -> str | None:
    """Why ``notebook`` cannot run with ``settings``: the message about the first setting its metadata
    ``analytics.requires`` names that is not set (``None`` when all are)."""
    required = nbformat.read(str(notebook), as_version=4).metadata.get("analytics", {}).get("requires", [])
    for name in required:
        if not hasattr(settings, name):
            raise ConfigError(f"notebook {notebook.name}: metadata analytics.requires names no setting {name!r}")
        try:
            settings.require(name)
        except ConfigError as exc:
            return str(exc)
    return None


def _accounts(engine: Engine, account: str | None) -> list[str]:
    with engine.connect() as conn:
        known = list(conn.execute(sa.select(accounts.c.id).order_by(accounts.c.id)).scalars())
    if account is not None:
        if account not in known:
            raise ConfigError(f"account {account!r} is not in the store; known accounts: {', '.join(known) or 'none'}")
        return [account]
    if not known:
        raise ConfigError("the store has no accounts yet; run `analytics sync` (or `analytics demo`) first")
    return known


def _replace_dir(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    source.rename(target)


def run_schedule(
    settings: Settings,
    schedule: str,
    *,
    account: str | None = None,
    engine: Engine | None = None,
    root: Path | None = None,
    extra_parameters: Mapping[str, Any] | None = None,
    skip: tuple[str, ...] = (),
    clock: Clock = utcnow,
    progress: bool = True,
) -> list[RunResult]:
    """Run ``params/<schedule>.yaml`` for one account (``account``) or every account in the store.

    Parameters
    ----------
    settings:
        Workspace and store; kernels get them through their environment (never as notebook parameters).
    schedule:
        ``daily``, ``weekly``, ``monthly`` or the name of another file in ``params/``.
    extra_parameters:
        Added to every step's parameters where the notebook declares them (e.g. ``{"as_of": "2025-06-30"}``).
    skip:
        Notebooks of the schedule not to run (e.g. ``("sync",)`` when the data was just loaded otherwise).
    progress:
        Show a tqdm progress bar over the steps.

    Raises
    ------
    ReportError
        A step failed; earlier accounts' runs stay complete, the failing account's notebooks are kept in
        ``<account>.failed/``.
    ConfigError
        Unknown schedule or account.
    """
    paths = project_paths(root)
    plan = load_schedule(schedule, paths.params)
    unknown_skips = sorted(set(skip) - {s.notebook for s in plan.steps})
    if unknown_skips:
        raise ConfigError(f"{plan.source} has no step(s) {', '.join(unknown_skips)} to skip")
    plan = Schedule(plan.name, plan.description, tuple(s for s in plan.steps if s.notebook not in skip), plan.source)
    own_engine = engine is None
    if engine is None:
        settings.workspace.mkdir(parents=True, exist_ok=True)
        engine = create_store_engine(settings.database_url)
        init_store(engine)
    results: list[RunResult] = []
    try:
        for account_id in _accounts(engine, account):
            results.append(
                _run_account(settings, engine, plan, account_id, paths.notebooks, extra_parameters, clock, progress)
            )
    finally:
        if own_engine:
            engine.dispose()
    return results


def _run_account(
    settings: Settings,
    engine: Engine,
    plan: Schedule,
    account_id: str,
    notebooks: Path,
    extra: Mapping[str, Any] | None,
    clock: Clock,
    progress: bool,
) -> RunResult:
    day = clock().date().isoformat()
    base = settings.workspace.expanduser().resolve() / "runs" / day / plan.name
    final_dir = base / account_id
    params_record = {"schedule": plan.name, "notebooks": [s.notebook for s in plan.steps], **dict(extra or {})}
    heartbeat_timeout = timedelta(seconds=settings.job_heartbeat_timeout)
    with job_run(
        engine, "run", account_id=account_id, params=params_record, clock=clock, heartbeat_timeout=heartbeat_timeout
    ) as run:
        staging = base / f".{account_id}.{run.id}"
        staging.mkdir(parents=True, exist_ok=True)
        step_results: list[StepResult] = []
        reports: dict[str, Path] = {}
        notes: list[str] = []
        try:
            bar = tqdm(plan.steps, desc=f"{plan.name} {account_id}", unit="notebook", disable=not progress)
            for step in bar:
                bar.set_postfix_str(step.notebook)
                source = notebooks / f"{step.notebook}.ipynb"
                parameters = _step_parameters(plan, step, source, account_id, extra)
                missing = _missing_setting(source, settings)
                if missing is not None:
                    note = f"{step.notebook} skipped: {missing} The other steps ran on the data already in the store."
                    notes.append(note)
                    (staging / f"{step.notebook}.skipped.txt").write_text(note + "\n", encoding="utf-8")
                    continue
                started = time.perf_counter()
                out = execute_notebook(
                    source,
                    staging / f"{step.notebook}.ipynb",
                    parameters,
                    settings=settings,
                )
                step_results.append(StepResult(step.notebook, out, time.perf_counter() - started))
                if step.export:
                    from analytics.reports.export import export_report

                    files = export_report(out, staging / "report")
                    reports.update({f"{step.notebook}.{kind}": path for kind, path in files.items()})
        except ReportError as exc:
            failed = base / f"{account_id}.failed"
            _replace_dir(staging, failed)
            run.summary["failed_dir"] = str(failed)
            raise ReportError(f"{plan.name} run for {account_id}: {exc}".replace(str(staging), str(failed))) from exc
        except BaseException:
            failed = base / f"{account_id}.failed"
            _replace_dir(staging, failed)
            run.summary["failed_dir"] = str(failed)
            raise
        _replace_dir(staging, final_dir)
        moved = {k: final_dir / p.relative_to(staging) for k, p in reports.items()}
        steps = tuple(StepResult(s.notebook, final_dir / s.output.name, s.seconds) for s in step_results)
        run.summary.update(
            {
                "run_dir": str(final_dir),
                "seconds": {s.notebook: round(s.seconds, 2) for s in steps},
                "reports": {k: str(v) for k, v in moved.items()},
                "notes": notes,
            }
        )
        return RunResult(plan.name, account_id, final_dir, steps, moved, run.id, tuple(notes))
