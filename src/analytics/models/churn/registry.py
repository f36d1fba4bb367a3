"""The model registry: churn models saved safely (skops), recorded in ``model_registry``, promoted with a guard.

* Artifacts are written with :func:`skops.io.dump` to ``<workspace>/models/<model_id>.skops`` (the registry keeps
  the path relative to the workspace) and their SHA-256 is recorded. :func:`load_model` refuses a file whose hash
  differs or that contains a type outside :data:`TRUSTED_TYPES` — never a bare pickle.
* Each row keeps the card, the feature list, the backtest metrics and the training window.
* :func:`promote` makes one model current for its account, refusing a model that does worse than the current one on
  the same backtest (re-running the current model's configuration on the candidate's backtest when they were not
  evaluated on the same folds) unless ``force`` is given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import skops.io as sio
import sqlalchemy as sa
from sklearn.base import clone
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from analytics.clock import Clock, utcnow
from analytics.errors import ModelError
from analytics.models.churn.backtest import Fold, run_backtest
from analytics.models.churn.labels import training_set
from analytics.models.churn.training import TrainedModel
from analytics.store.schema import model_registry

__all__ = [
    "PROMOTION_POLICIES",
    "TRUSTED_TYPES",
    "LoadedModel",
    "Promotion",
    "current_model_id",
    "list_models",
    "load_model",
    "promote",
    "promote_with_policy",
    "register_model",
]

# Every type a churn artifact may contain beyond skops' defaults; anything else is refused on load. The partial of
# check_array is how HistGradientBoostingClassifier keeps its numeric columns apart from categorical ones (a boosted
# model fitted on a table with text columns).
TRUSTED_TYPES: list[str] = [
    "analytics.models.churn.estimators.ChurnGradientBoosting",
    "analytics.models.churn.estimators.ChurnLogisticRegression",
    "analytics.models.churn.estimators.DaysSinceActivityBaseline",
    "functools.partial",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.utils.validation.check_array",
]
KIND = "churn"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def register_model(
    engine: Engine, trained: TrainedModel, *, workspace: Path, clock: Clock = utcnow, make_current: bool = False
) -> str:
    """Save the model's artifact under ``workspace/models`` and record it; returns the model id."""
    relative = Path("models") / f"{trained.model_id}.skops"
    path = Path(workspace) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(trained.estimator, path)
    now = clock()
    with engine.begin() as conn:
        conn.execute(
            model_registry.insert().values(
                account_id=trained.account_id,
                id=trained.model_id,
                kind=KIND,
                estimator=type(trained.estimator).__name__,
                artifact_path=relative.as_posix(),
                artifact_sha256=_sha256(path),
                features=trained.features,
                metrics=trained.card["backtest"],
                card=trained.card,
                training_start=trained.training_start,
                training_end=trained.training_end,
                is_current=False,
                created_at=now,
            )
        )
        if make_current:
            _set_current(conn, trained.account_id, trained.model_id, now)
    return trained.model_id


@dataclass
class LoadedModel:
    """A model read back from the registry, with its registry row."""

    model_id: str
    account_id: str
    estimator: Any
    features: list[str]
    card: dict[str, Any]
    metrics: dict[str, Any]
    is_current: bool

    @property
    def horizon_days(self) -> int:
        return int(self.card.get("horizon_days", 30))


def _row(conn: sa.Connection, account_id: str, model_id: str | None) -> sa.Row[Any]:
    query = sa.select(model_registry).where(model_registry.c.account_id == account_id, model_registry.c.kind == KIND)
    if model_id is None:
        row = conn.execute(query.where(model_registry.c.is_current.is_(True))).first()
        if row is None:
            raise ModelError(
                f"account {account_id} has no current churn model; train one (`analytics train`) and promote it "
                "(`analytics promote MODEL_ID`)"
            )
        return row
    row = conn.execute(query.where(model_registry.c.id == model_id)).first()
    if row is None:
        raise ModelError(f"no churn model {model_id!r} for account {account_id}; `analytics models` lists them")
    return row


def current_model_id(engine: Engine, account_id: str) -> str | None:
    """The id of the account's current churn model, or None."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(model_registry.c.id).where(
                model_registry.c.account_id == account_id,
                model_registry.c.kind == KIND,
                model_registry.c.is_current.is_(True),
            )
        ).scalar_one_or_none()


def load_model(engine: Engine, account_id: str, model_id: str | None = None, *, workspace: Path) -> LoadedModel:
    """Load a registered model (default: the current one), checking its SHA-256 and the types it contains.

    Raises
    ------
    ModelError
        Unknown model, missing artifact, hash mismatch (the file changed since it was registered) or an artifact
        holding types outside :data:`TRUSTED_TYPES`.
    """
    with engine.connect() as conn:
        row = _row(conn, account_id, model_id)
    path = Path(row.artifact_path)
    if not path.is_absolute():
        path = Path(workspace) / path
    if not path.exists():
        raise ModelError(f"the artifact of model {row.id} is missing: {path}; retrain or restore the workspace")
    actual = _sha256(path)
    if actual != row.artifact_sha256:
        raise ModelError(
            f"the artifact of model {row.id} ({path}) has SHA-256 {actual[:12]}…, but {row.artifact_sha256[:12]}… "
            "was registered: the file was changed or replaced. Refusing to load it; retrain the model."
        )
    untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if untrusted:
        raise ModelError(f"the artifact {path} contains types that are not trusted: {', '.join(untrusted)}")
    estimator = sio.load(path, trusted=TRUSTED_TYPES)
    return LoadedModel(
        row.id,
        row.account_id,
        estimator,
        list(row.features),
        dict(row.card or {}),
        dict(row.metrics or {}),
        bool(row.is_current),
    )


def list_models(engine: Engine, account_id: str) -> pd.DataFrame:
    """The account's churn models, newest first, with their headline backtest metrics."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(model_registry)
            .where(model_registry.c.account_id == account_id, model_registry.c.kind == KIND)
            .order_by(model_registry.c.created_at.desc())
        ).all()
    records = []
    for r in rows:
        model_m = (r.metrics or {}).get("model", {})
        records.append(
            {
                "model_id": r.id,
                "estimator": r.estimator,
                "is_current": bool(r.is_current),
                "created_at": r.created_at,
                "training_start": r.training_start,
                "training_end": r.training_end,
                "roc_auc": model_m.get("roc_auc"),
                "pr_auc": model_m.get("pr_auc"),
                "brier": model_m.get("brier"),
                "top_decile_lift": model_m.get("top_decile_lift"),
                "backtest_key": (r.metrics or {}).get("key"),
            }
        )
    return pd.DataFrame(records)


def _set_current(conn: sa.Connection, account_id: str, model_id: str, now: Any) -> None:
    scope = sa.and_(model_registry.c.account_id == account_id, model_registry.c.kind == KIND)
    conn.execute(sa.update(model_registry).where(scope, model_registry.c.id != model_id).values(is_current=False))
    conn.execute(
        sa.update(model_registry).where(scope, model_registry.c.id == model_id).values(is_current=True, promoted_at=now)
    )


@dataclass(frozen=True)
class Promotion:
    """The outcome of a promotion: what was compared and how."""

    model_id: str
    previous_id: str | None
    metric: str
    candidate_score: float | None
    current_score: float | None
    same_backtest: str  # "stored" (same folds), "recomputed" (current re-run on the candidate's folds) or "none"
    forced: bool


def _recompute_current(engine: Engine, current: LoadedModel, candidate: LoadedModel) -> dict[str, Any]:
    """Backtest the current model's configuration on the candidate's prediction dates and folds."""
    all_dates = [date.fromisoformat(d) for d in candidate.card["training"]["dates"]]
    horizon = candidate.horizon_days
    folds = []
    for f in candidate.metrics["folds"]:
        train_lo, train_hi = date.fromisoformat(f["train_start"]), date.fromisoformat(f["train_end"])
        test_lo, test_hi = date.fromisoformat(f["test_start"]), date.fromisoformat(f["test_end"])
        folds.append(
            Fold(
                tuple(d for d in all_dates if train_lo <= d <= train_hi),
                tuple(d for d in all_dates if test_lo <= d <= test_hi),
            )
        )
    data = training_set(engine, candidate.account_id, all_dates, horizon_days=horizon)
    config = clone(current.estimator)
    if hasattr(config, "horizon_days"):
        config.set_params(horizon_days=horizon)
    with threadpool_limits(limits=1):
        result = run_backtest(data, config, features=current.features, folds=folds, horizon_days=horizon)
    return result.metrics["model"]


def promote(
    engine: Engine,
    account_id: str,
    model_id: str,
    *,
    workspace: Path,
    force: bool = False,
    metric: str = "roc_auc",
    tolerance: float = 0.0,
    clock: Clock = utcnow,
) -> Promotion:
    """Make ``model_id`` the account's current churn model.

    The candidate is compared with the current model on the same backtest: the stored metrics when both were
    backtested on the same folds (same key), otherwise the current model's configuration is re-trained and
    re-scored on the candidate's folds. A candidate whose ``metric`` (default ROC AUC; for ``brier`` lower is
    better) is worse by more than ``tolerance`` is refused with :class:`~analytics.errors.ModelError` unless
    ``force``.
    """
    candidate = load_model(engine, account_id, model_id, workspace=workspace)
    current_id = current_model_id(engine, account_id)
    cand_score = candidate.metrics.get("model", {}).get(metric)
    result = Promotion(model_id, current_id, metric, cand_score, None, "none", force)
    if current_id is not None and current_id != model_id:
        current = load_model(engine, account_id, current_id, workspace=workspace)
        if current.metrics.get("key") == candidate.metrics.get("key"):
            cur_score, how = current.metrics.get("model", {}).get(metric), "stored"
        else:
            cur_score, how = _recompute_current(engine, current, candidate).get(metric), "recomputed"
        result = Promotion(model_id, current_id, metric, cand_score, cur_score, how, force)
        lower_is_better = metric == "brier"
        if cand_score is None or cur_score is None:
            worse = cur_score is not None
        elif lower_is_better:
            worse = cand_score > cur_score + tolerance
        else:
            worse = cand_score < cur_score - tolerance
        if worse and not force:
            raise ModelError(
                f"model {model_id} is worse than the current model {current_id} on the same backtest "
                f"(key {candidate.metrics.get('key')}, {how}): {metric} {cand_score} vs {cur_score}. "
                "Not promoted; use --force (force=True) to promote it anyway."
            )
    with engine.begin() as conn:
        _set_current(conn, account_id, model_id, clock())
    return result


PROMOTION_POLICIES = ("never", "if_first", "if_better", "always")


def promote_with_policy(
    engine: Engine, account_id: str, model_id: str, policy: str, *, workspace: Path, clock: Clock = utcnow
) -> tuple[Promotion | None, str]:
    """Promote a freshly registered model according to ``policy``; returns the promotion (or None) and a sentence.

    ``never``: leave it; ``if_first``: only when the account has no current model; ``if_better``: the guarded
    :func:`promote` (a refusal is reported, not raised); ``always``: forced.
    """
    if policy not in PROMOTION_POLICIES:
        raise ModelError(f"promotion policy {policy!r} is not one of {', '.join(PROMOTION_POLICIES)}")
    current = current_model_id(engine, account_id)
    if policy == "never" or (policy == "if_first" and current is not None):
        return (
            None,
            f"{model_id} registered, not promoted (current: {current or 'none'}); `analytics promote {model_id}`",
        )
    try:
        result = promote(engine, account_id, model_id, workspace=workspace, force=policy == "always", clock=clock)
    except ModelError as exc:
        return None, f"{model_id} registered, not promoted: {exc}"
    if result.previous_id is None:
        return result, f"{model_id} is now the current churn model (the account had none)"
    return result, (
        f"{model_id} is now the current churn model, replacing {result.previous_id} ({result.metric} "
        f"{result.candidate_score} vs {result.current_score}, {result.same_backtest} backtest"
        f"{', forced' if result.forced else ''})"
    )
