"""Churn model: time and peak memory of building features, training and scoring on the demo business.

For each size the demo business (seed 7, history to 2026-01-01) is loaded once into a store kept under
``benchmarks/.data/`` (reused by later runs; ``large`` reads the store shared with the metric benchmarks, see
``shared_stores.py``), then every phase runs in a fresh subprocess so its peak RSS
(``resource.getrusage(...).ru_maxrss``) is its own:

* ``features``: the training set (features + labels) for 26 weekly prediction dates (``training_set``);
* ``train``: for the logistic and the boosted model, the time-based backtest (3 folds) and the final fit on every
  date, with the backtest metrics against the days-since-last-activity baseline; the logistic model is registered
  as the current one;
* ``score``: ``score_members`` as of the end date (features for one date, probabilities, factors, actions, write).

Numeric libraries run on one thread (as ``train_churn_model`` does by default). Run from the worktree root::

    PYTHONPATH=src python benchmarks/churn.py --sizes medium --engines sqlite,postgresql
    nohup env PYTHONPATH=src python benchmarks/churn.py --sizes large --engines sqlite > /tmp/churn_large.log &

Results are merged into ``benchmarks/results/churn.json`` (keyed by size and engine) and
``benchmarks/results/churn.md`` is rewritten from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE / ".data"
PG_URL = os.environ.get("ANALYTICS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
END = date(2026, 1, 1)
N_DATES, STEP_DAYS, HORIZON = 26, 7, 30


def _url(size: str, engine_name: str) -> str:
    if size == "large":  # shared with the metric benchmarks (shared_stores.py)
        from shared_stores import large_store_url

        return large_store_url(engine_name)
    if engine_name == "sqlite":
        return f"sqlite:///{DATA / f'churn_{size}.db'}"
    import sqlalchemy as sa

    schema = f"bench_churn_{size}"
    return (
        sa.engine.make_url(PG_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _prepare(size: str, engine_name: str) -> dict[str, Any]:
    """Load the demo business into the size's store unless it is already there."""
    import sqlalchemy as sa

    from analytics.demo.load import load_demo
    from analytics.store import create_store_engine, init_store

    if engine_name == "postgresql":
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "bench_churn_{size}"'))
        admin.dispose()
    engine = create_store_engine(_url(size, engine_name))
    init_store(engine)
    with engine.connect() as conn:
        members = conn.execute(sa.text("SELECT count(*) FROM members")).scalar_one()
    out: dict[str, Any] = {"reused": bool(members)}
    if not members:
        started = time.perf_counter()
        load_demo(engine, seed=7, size=size, end=END, progress=False)
        out["load_seconds"] = round(time.perf_counter() - started, 1)
    with engine.connect() as conn:
        for table in ("members", "membership_status_changes", "payments", "activity_events"):
            out[table] = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return out


def _phase(phase: str, size: str, engine_name: str) -> dict[str, Any]:
    """One measured phase, in its own process."""
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from analytics.models.churn import (
        FEATURE_NAMES,
        TrainedModel,
        make_estimator,
        model_card,
        plan_folds,
        register_model,
        resolve_account,
        run_backtest,
        score_members,
        training_dates,
        training_set,
    )
    from analytics.store import create_store_engine

    engine = create_store_engine(_url(size, engine_name))
    account = resolve_account(engine, None)
    workdir = DATA / f"churn_{size}_{engine_name}"
    workdir.mkdir(parents=True, exist_ok=True)
    dates = training_dates(END, n_dates=N_DATES, step_days=STEP_DAYS, horizon_days=HORIZON)
    out: dict[str, Any] = {}
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        if phase == "features":
            data = training_set(engine, account, dates, horizon_days=HORIZON)
            out["seconds"] = round(time.perf_counter() - started, 1)
            out["rows"] = len(data)
            out["churn_rate"] = round(float(data["churned"].mean()), 4)
            data.drop(columns=["churned_at"]).to_parquet(workdir / "training_set.parquet")
        elif phase == "train":
            data = pd.read_parquet(workdir / "training_set.parquet")
            data["as_of"] = pd.to_datetime(data["as_of"]).dt.date
            features = list(FEATURE_NAMES)
            folds = plan_folds(dates, horizon_days=HORIZON)
            for name in ("logistic", "boosting"):
                t0 = time.perf_counter()
                estimator = make_estimator(name, horizon_days=HORIZON)
                backtest = run_backtest(data, estimator, features=features, folds=folds, horizon_days=HORIZON)
                t1 = time.perf_counter()
                fitted = estimator.fit(data[features], data["churned"])
                t2 = time.perf_counter()
                out[name] = {
                    "backtest_seconds": round(t1 - t0, 1),
                    "final_fit_seconds": round(t2 - t1, 1),
                    "model": _headline(backtest.metrics["model"]),
                    "baseline": _headline(backtest.metrics["baseline"]),
                }
                if name == "logistic":
                    model_id = f"bench_{size}_{engine_name}"
                    card = model_card(
                        model_id=model_id,
                        account_id=account,
                        estimator=fitted,
                        data=data,
                        features=features,
                        dates=dates,
                        backtest=backtest,
                        created_at=pd.Timestamp.now(tz="UTC").to_pydatetime(),
                    )
                    trained = TrainedModel(model_id, account, fitted, features, dates, HORIZON, backtest, card, data)
                    _drop_model(engine, model_id)
                    register_model(engine, trained, workspace=workdir, make_current=True)
            out["seconds"] = round(time.perf_counter() - started, 1)
        elif phase == "score":
            scores = score_members(engine, account, workspace=workdir, as_of=END)
            out["seconds"] = round(time.perf_counter() - started, 1)
            out["scored"] = len(scores)
            out["by_risk_level"] = {str(k): int(v) for k, v in scores["risk_level"].value_counts().items()}
    out["peak_rss_mb"] = _peak_mb()
    engine.dispose()
    return out


def _drop_model(engine: Any, model_id: str) -> None:
    import sqlalchemy as sa

    from analytics.store.schema import churn_predictions, model_registry

    with engine.begin() as conn:
        conn.execute(sa.delete(churn_predictions).where(churn_predictions.c.model_id == model_id))
        conn.execute(sa.delete(model_registry).where(model_registry.c.id == model_id))


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "n_churned", "roc_auc", "pr_auc", "brier", "top_decile_lift")
    return {k: (round(metrics[k], 4) if isinstance(metrics[k], float) else metrics[k]) for k in keys}


def _run_child(args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _write(results: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "churn.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    lines = [
        "# Churn benchmark",
        "",
        "Demo business (seed 7, history to 2026-01-01), 26 weekly prediction dates, 30-day horizon, one thread.",
        "Each phase in a fresh process; peak RSS is that process's. Written by `benchmarks/churn.py`.",
        "",
        "| size | engine | members | events | training rows | features s | features MB | train s | train MB "
        "| score s | score MB | scored |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    metric_lines = [
        "",
        "## Backtest on the demo business (pooled out-of-time folds)",
        "",
        "| size | engine | model | ROC AUC | PR AUC | Brier | top-decile lift | baseline ROC AUC | baseline PR AUC "
        "| baseline Brier | baseline lift | backtest s | final fit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(results["runs"]):
        r = results["runs"][key]
        f, t, s = r.get("features", {}), r.get("train", {}), r.get("score", {})
        lines.append(
            f"| {r['size']} | {r['engine']} | {r['store'].get('members', '–')} | "
            f"{r['store'].get('activity_events', '–')} | {f.get('rows', '–')} | {f.get('seconds', '–')} | "
            f"{f.get('peak_rss_mb', '–')} | {t.get('seconds', '–')} | {t.get('peak_rss_mb', '–')} | "
            f"{s.get('seconds', '–')} | {s.get('peak_rss_mb', '–')} | {s.get('scored', '–')} |"
        )
        for name in ("logistic", "boosting"):
            if name not in t:
                continue
            m, b = t[name]["model"], t[name]["baseline"]
            metric_lines.append(
                f"| {r['size']} | {r['engine']} | {name} | {m['roc_auc']} | {m['pr_auc']} | {m['brier']} | "
                f"{m['top_decile_lift']} | {b['roc_auc']} | {b['pr_auc']} | {b['brier']} | {b['top_decile_lift']} | "
                f"{t[name]['backtest_seconds']} | {t[name]['final_fit_seconds']} |"
            )
    notes = ["", f"Machine: {results['machine']}.", ""]
    (RESULTS / "churn.md").write_text("\n".join(lines + metric_lines + notes), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="medium")
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--phases", default="prepare,features,train,score")
    parser.add_argument("--child", nargs=3, metavar=("PHASE", "SIZE", "ENGINE"))
    args = parser.parse_args()
    if args.child:
        phase, size, engine_name = args.child
        result = _prepare(size, engine_name) if phase == "prepare" else _phase(phase, size, engine_name)
        print(json.dumps(result, default=str))
        return
    DATA.mkdir(exist_ok=True)
    path = RESULTS / "churn.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"runs": {}}
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    for size in args.sizes.split(","):
        for engine_name in args.engines.split(","):
            key = f"{size}/{engine_name}"
            run = results["runs"].get(key, {"size": size, "engine": engine_name, "store": {}})
            for phase in args.phases.split(","):
                print(f"{key}: {phase}…", flush=True)
                out = _run_child([phase, size, engine_name])
                if phase == "prepare":
                    run["store"] = {**run.get("store", {}), **out}
                else:
                    run[phase] = out
                print(f"{key}: {phase} {json.dumps(out)}", flush=True)
                results["runs"][key] = run
                _write(results)


if __name__ == "__main__":
    main()
