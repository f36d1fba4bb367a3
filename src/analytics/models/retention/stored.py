"""The retention model's outputs, computed by a job and stored, so that no page fits a model.

:func:`retention_results` fits the sBG model once per account and day and returns what the churn page shows, as
:class:`~analytics.store.results.ComputedResult` rows (:mod:`analytics.store.results` stores them):

* ``retention_curve`` — :attr:`RetentionProjection.curve` (observed Kaplan–Meier beside the sBG projection);
* ``retention_cohorts`` — :func:`~analytics.models.retention.cohorts.cohort_retention` in long form
  (``cohort``, ``period``, ``retention``);
* ``retention_fit`` — the fit's parameters and quality (one row);
* ``lifetime_value`` — :func:`~analytics.models.retention.forecast.lifetime_value`;
* ``revenue_forecast`` — :func:`~analytics.models.retention.forecast.revenue_forecast` in the account's reporting
  currency, month 0 being the MRR now.

Quality notes travel with each result: every :class:`~analytics.errors.StatisticalWarning` raised while fitting
(a fit that did not converge, bootstrap refits left out, too little history) is caught here and stored as a note
instead of reaching a log; a fit at the edge of its parameter space says what that means for the projection;
the forecast says what its month 0 is and how other currencies were converted. When the account cannot be
projected (no paying member yet, nobody ever churned) each result is stored empty with the reason as its note, so
the page says why rather than asking for a job that already ran.

Read them back with :func:`analytics.store.results.read_result` (``engine, account_id, kind``): the newest stored
frame with its notes in ``frame.attrs["notes"]``, ``None`` when the job never ran for the account.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.errors import MetricError, ModelError, StatisticalWarning
from analytics.models.retention.forecast import (
    RetentionProjection,
    lifetime_value,
    retention_projection,
    revenue_forecast,
)
from analytics.models.retention.sbg import ShiftedBetaGeometricFitter
from analytics.store.results import ComputedResult

__all__ = [
    "RETENTION_DEFINITIONS",
    "RETENTION_KINDS",
    "RetentionParameters",
    "retention_results",
]

#: Version of the retention outputs' definitions (bump when a formula or a default changes what is stored).
RETENTION_DEFINITIONS = "retention-2026.12.1"
RETENTION_KINDS: tuple[str, ...] = (
    "retention_curve",
    "retention_cohorts",
    "retention_fit",
    "lifetime_value",
    "revenue_forecast",
)


@dataclass(frozen=True)
class RetentionParameters:
    """The inputs of the stored retention outputs (stored with them)."""

    period_days: int = 30
    periods: int = 12
    forecast_days: int = 90
    history_periods: int = 12
    n_boot: int = 200
    level: float = 0.9
    seed: int = 0
    annual_discount_rate: float = 0.10


@contextmanager
def _statistical_notes() -> Iterator[list[str]]:
    """Collect the :class:`StatisticalWarning` raised in the block as notes (each once, filled when the block
    ends); other warnings are passed on as they were raised."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        yield notes
    for w in caught:
        if not issubclass(w.category, StatisticalWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
            continue
        text = str(w.message)
        if text[1:2].islower():  # "less than …" → "Less than …", but "sBG fit …" stays
            text = text[:1].upper() + text[1:]
        if text not in notes:
            notes.append(text)


def _fit_notes(model: ShiftedBetaGeometricFitter, period_days: int) -> list[str]:
    if model.at_bound_ == "homogeneous":
        return [
            "The retention model finds no spread between members' churn chances, so it projects a constant "
            f"{model.mean_churn_ * 100:.1f} % churn per {period_days} days (the fit is at the edge of its range, "
            "as expected when renewal rates do not rise with tenure)."
        ]
    if model.at_bound_ == "polarized":
        return [
            "The retention model is at the edge of its range (members churn at once or stay for ever): treat the "
            "projection beyond the observed periods with caution."
        ]
    return []


def _fit_frame(model: ShiftedBetaGeometricFitter) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "alpha": model.alpha_,
                "beta": model.beta_,
                "alpha_se": float(model.standard_errors_["alpha"]),
                "beta_se": float(model.standard_errors_["beta"]),
                "mean_churn": model.mean_churn_,
                "polarization": model.polarization_,
                "log_likelihood": model.log_likelihood_,
                "converged": model.converged_,
                "at_bound": model.at_bound_ or "",
                "customers": model.n_customers_,
                "churned": model.n_churned_,
            }
        ]
    )


def _mrr_metric(engine: Engine, account_id: str, day: date) -> float | None:
    """The ``mrr`` metric for ``day`` (reporting currency), None when it cannot be computed."""
    from analytics.metrics import MetricRequest, get

    try:
        frame = get("mrr").function(engine, MetricRequest.build(account_id, day, day, "day"))
    except MetricError:
        return None
    return float(frame["mrr_minor"].sum()) if len(frame) else 0.0


def _forecast_notes(
    engine: Engine,
    account_id: str,
    forecast: pd.DataFrame,
    *,
    as_of: date,
    currency: str,
    converted: list[str],
    params: RetentionParameters,
) -> list[str]:
    from analytics.formatting import format_money
    from analytics.store.money import CURRENCY_EXPONENTS

    day = as_of - timedelta(days=1)
    now = forecast[forecast["month"] == 0]
    months = int(forecast["month"].max())
    notes: list[str] = []
    for row in now.to_dict("records"):
        code = str(row["currency"])
        scale = 10 ** CURRENCY_EXPONENTS.get(code, 2)
        notes.append(
            f"Month 0 is the MRR on {day:%d %b %Y}: {format_money(float(row['expected_minor']) / scale, code)} "
            f"from {int(row['members'])} paying members. Months 1–{months} are the MRR expected in the middle of each "
            f"next {params.period_days}-day month: these members as the retention model expects them to renew, "
            f"plus new members on the trend of the last {params.history_periods} months "
            f"({params.level * 100:.0f} % interval from {params.n_boot} bootstrap refits)."
        )
    if converted:
        names = " and ".join(c.upper() for c in converted)
        notes.append(f"{names} amounts are converted to {currency.upper()} at the rates of {day:%d %b %Y}.")
    if len(now) == 1 and now["currency"].iloc[0] == currency:
        metric = _mrr_metric(engine, account_id, day)
        base = float(now["expected_minor"].iloc[0])
        members = int(now["members"].iloc[0])
        if metric is not None and abs(metric - base) > max(members, 1):  # beyond rounding each membership
            scale = 10 ** CURRENCY_EXPONENTS.get(currency, 2)
            notes.append(
                f"The MRR metric says {format_money(metric / scale, currency)} for {day:%d %b %Y}: it applies the "
                "account's MRR policies (past due, discounts, the account's day), while the forecast follows every "
                "member paying at 00:00 UTC."
            )
    return notes


def _empty_results(reason: str, parameters: dict[str, Any]) -> list[ComputedResult]:
    return [
        ComputedResult(kind, pd.DataFrame(), parameters, RETENTION_DEFINITIONS, [reason]) for kind in RETENTION_KINDS
    ]


def retention_results(
    engine: Engine,
    account_id: str,
    *,
    as_of: date,
    currency: str,
    parameters: RetentionParameters | None = None,
) -> list[ComputedResult]:
    """Fit the retention model as of ``as_of`` (data before that day) and return its outputs to store.

    ``currency`` is the account's reporting currency: the forecast is converted into it (per currency, with a
    note, when an exchange rate is missing).
    """
    params = parameters or RetentionParameters()
    stored_params = asdict(params)
    with _statistical_notes() as fit_notes:
        try:
            projection = retention_projection(
                engine, account_id, as_of=as_of, period_days=params.period_days, periods=params.periods
            )
        except ModelError as exc:
            return _empty_results(f"No retention projection: {exc}.", stored_params)
    fit_notes += _fit_notes(projection.model, params.period_days)
    cohorts = projection.cohorts.stack().dropna().reset_index()  # NaN: not yet observable for every member
    cohorts.columns = pd.Index(["cohort", "period", "retention"])
    cohorts["period"] = cohorts["period"].astype("int64")
    ltv = lifetime_value(projection, engine, account_id, annual_discount_rate=params.annual_discount_rate)
    forecast, forecast_notes = _forecast(engine, account_id, projection, as_of=as_of, currency=currency, params=params)
    return [
        ComputedResult("retention_curve", projection.curve, stored_params, RETENTION_DEFINITIONS, fit_notes),
        ComputedResult("retention_cohorts", cohorts, stored_params, RETENTION_DEFINITIONS, []),
        ComputedResult("retention_fit", _fit_frame(projection.model), stored_params, RETENTION_DEFINITIONS, fit_notes),
        ComputedResult("lifetime_value", ltv, stored_params, RETENTION_DEFINITIONS, fit_notes),
        ComputedResult("revenue_forecast", forecast, stored_params, RETENTION_DEFINITIONS, forecast_notes + fit_notes),
    ]


def _forecast(
    engine: Engine,
    account_id: str,
    projection: RetentionProjection,
    *,
    as_of: date,
    currency: str,
    params: RetentionParameters,
) -> tuple[pd.DataFrame, list[str]]:
    """The forecast in ``currency`` (per currency when a rate is missing) and its notes."""
    options: dict[str, Any] = {
        "as_of": as_of,
        "days": params.forecast_days,
        "period_days": params.period_days,
        "history_periods": params.history_periods,
        "n_boot": params.n_boot,
        "level": params.level,
        "seed": params.seed,
        "projection": projection,
    }
    missing_rate: list[str] = []
    with _statistical_notes() as model_notes:
        try:
            forecast = revenue_forecast(engine, account_id, currency=currency, **options)
        except MetricError as exc:
            missing_rate.append(f"Shown per currency: {exc}.")
            forecast = revenue_forecast(engine, account_id, **options)
    converted = [] if missing_rate else [c for c in forecast.attrs["currencies"] if c != currency]
    notes = _forecast_notes(
        engine, account_id, forecast, as_of=as_of, currency=currency, converted=converted, params=params
    )
    return forecast, notes + missing_rate + model_notes
