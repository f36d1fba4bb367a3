"""Retention projection, cohort-based LTV and the 90-day revenue forecast of an account.

* :func:`retention_projection` fits the sBG model to every member's paying lifetime (censored when still paying),
  projects survival and retention, and sets the observed (Kaplan–Meier) curve beside it.
* :func:`lifetime_value` puts the cohort-based LTV, ``ARPA × DEL(d)`` (Fader & Hardie 2010), beside the simple
  ``ARPA ÷ churn rate`` (trailing churn per period, as ChartMogul does), and values the current base with DERL.
* :func:`revenue_forecast` projects monthly revenue for the next ``days`` (default 90) from each paying member's
  retention given their age, plus the trend of new paying members, with a bootstrap interval.

Revenue means recurring revenue: the monthly-normalised price (MRR) of the members expected to be paying at the
middle of each 30-day month, so the months add up to the subscription revenue of the period (one-off payments and
refunds are not forecast). Amounts are in minor units of each currency (one row per currency and month).

Forecast formulas, per 30-day month ``k = 1, 2, 3`` counted from ``as_of`` (mid-month at ``k − ½`` periods):

* existing member i, ``a_i`` periods old, paying ``p_i`` a month: ``p_i · S(⌊a_i + k − ½⌋) / S(⌊a_i⌋)``
* new members: ``N_j`` arrive evenly over month ``j`` (linear trend of the last ``history_periods`` monthly counts,
  ≥ 0) and pay the recent new-member ARPA ``m``: ``Σ_{j≤k} N_j · m · w_{k−j}`` with ``w_0 = ½`` (half have
  arrived by mid-month) and ``w_u = ½ (S(u − 1) + S(u))``.

The interval comes from a bootstrap: lifetimes resampled (multinomial over the (duration, churned) counts) and the
sBG refitted; new-member counts redrawn from the trend with resampled residuals and Poisson noise; the existing
base's binomial noise added with its normal approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analytics.errors import ModelError
from analytics.models.churn.population import cut_instant
from analytics.models.retention.cohorts import (
    cohort_retention,
    kaplan_meier,
    member_lifetimes,
    paying_members,
    trailing_churn_rate,
)
from analytics.models.retention.sbg import ShiftedBetaGeometricFitter

__all__ = ["RetentionProjection", "lifetime_value", "retention_projection", "revenue_forecast"]


@dataclass
class RetentionProjection:
    """The fitted sBG model, the observed and projected survival, cohort retention and the lifetimes used."""

    model: ShiftedBetaGeometricFitter
    curve: pd.DataFrame
    cohorts: pd.DataFrame
    lifetimes: pd.DataFrame
    as_of: date
    period_days: int


def _counts(lifetimes: pd.DataFrame) -> pd.DataFrame:
    return lifetimes.groupby(["duration", "churned"]).size().rename("n").reset_index()


def _fit(counts: pd.DataFrame, start: tuple[float, float] | None = None) -> ShiftedBetaGeometricFitter:
    return ShiftedBetaGeometricFitter().fit(counts["duration"], counts["churned"], counts["n"], start=start)


def retention_projection(
    engine: Engine, account_id: str, *, as_of: date, period_days: int = 30, periods: int = 24
) -> RetentionProjection:
    """Fit the sBG model to the account's paying lifetimes and project survival for ``periods`` periods.

    The ``curve`` has ``period``, ``observed`` (Kaplan–Meier, where data exist), ``projected`` (sBG survival),
    ``retention`` (sBG renewal rate) and ``at_risk``.
    """
    lifetimes = member_lifetimes(engine, account_id, as_of=as_of, period_days=period_days)
    if lifetimes.empty:
        raise ModelError(f"account {account_id} has no paying members before {as_of}; nothing to project")
    model = _fit(_counts(lifetimes))
    projected = model.project(periods)
    observed = kaplan_meier(lifetimes, periods)
    curve = projected.merge(
        observed[["period", "survival", "at_risk"]].rename(columns={"survival": "observed"}), on="period", how="left"
    )
    curve = curve.rename(columns={"survival": "projected"})[["period", "observed", "projected", "retention", "at_risk"]]
    return RetentionProjection(
        model, curve, cohort_retention(lifetimes, min(periods, 12)), lifetimes, as_of, period_days
    )


def lifetime_value(
    projection: RetentionProjection,
    engine: Engine,
    account_id: str,
    *,
    annual_discount_rate: float = 0.10,
    churn_periods: int = 6,
) -> pd.DataFrame:
    """LTV per currency: cohort-based ``ARPA × DEL(d)`` beside the simple ``ARPA ÷ churn rate``.

    ``d`` is the discount rate per period (``(1 + annual)^(period/365) − 1``). Also the residual value of the
    paying base, ``Σ_i p_i · DERL(d | α, β, renewals_i)``. Simple LTV is undefined (NaN) when churn is zero.

    Columns: ``currency``, ``paying``, ``arpa_minor``, ``churn_rate`` (trailing, per period), ``simple_ltv_minor``,
    ``cohort_ltv_minor``, ``del_periods``, ``base_residual_value_minor``.
    """
    d = (1 + annual_discount_rate) ** (projection.period_days / 365.0) - 1
    payers = paying_members(engine, account_id, as_of=projection.as_of)
    ages = projection.lifetimes.set_index("member_id")["age_periods"]
    churn = trailing_churn_rate(
        projection.lifetimes, as_of=projection.as_of, periods=churn_periods, period_days=projection.period_days
    )
    del_periods = projection.model.discounted_expected_lifetime(d)
    rows = []
    for currency, g in payers.groupby("currency", sort=True):
        arpa = float(g["monthly_minor"].mean())
        renewals = np.floor(ages.reindex(g["member_id"]).fillna(0).to_numpy())
        residual = float((g["monthly_minor"].to_numpy() * projection.model.derl(d, renewals)).sum())
        rows.append(
            {
                "currency": currency,
                "paying": len(g),
                "arpa_minor": arpa,
                "churn_rate": churn,
                "simple_ltv_minor": arpa / churn if churn and not np.isnan(churn) else np.nan,
                "cohort_ltv_minor": arpa * del_periods,
                "del_periods": del_periods,
                "base_residual_value_minor": residual,
            }
        )
    return pd.DataFrame(rows)


def _new_counts(lifetimes: pd.DataFrame, cut: pd.Timestamp, history: int, period_days: int) -> pd.DataFrame:
    """New paying members per currency in each of the last ``history`` periods (oldest first) and their ARPA."""
    first_paid = pd.to_datetime(lifetimes["first_paid_at"], utc=True)
    since = ((cut - first_paid).dt.total_seconds() / (period_days * 86400.0)).to_numpy()
    window = (since > 0) & (since <= history)
    frame = lifetimes.loc[window, ["currency", "first_monthly_minor"]].copy()
    frame["k"] = history - np.ceil(since[window]).astype(int)  # 0 = oldest period, history − 1 = latest
    return frame


def _trend(counts: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.arange(len(counts), dtype=float)
    slope, intercept = np.polyfit(x, counts, 1) if len(counts) > 1 else (0.0, float(counts.mean()))
    fitted = intercept + slope * x
    future = intercept + slope * (len(counts) + np.arange(horizon))
    return np.maximum(future, 0.0), fitted, counts - fitted


def _revenue(
    sbg: ShiftedBetaGeometricFitter,
    prices: np.ndarray,
    ages: np.ndarray,
    arrivals: np.ndarray,
    arpa_new: float,
    months: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected existing and new revenue per month, and the variance of the existing part."""
    now = np.floor(ages)
    existing, variance, new = np.zeros(months), np.zeros(months), np.zeros(months)
    base = sbg.survival_function(now)
    for k in range(1, months + 1):
        q = sbg.survival_function(np.floor(ages + k - 0.5)) / base
        existing[k - 1] = float((prices * q).sum())
        variance[k - 1] = float((prices**2 * q * (1 - q)).sum())
        # arrivals spread over month j: by mid-month k they have passed k − j − 1 or k − j renewals
        weights = [
            0.5 if j == k else 0.5 * float(sbg.survival_function(k - j - 1) + sbg.survival_function(k - j))
            for j in range(1, k + 1)
        ]
        new[k - 1] = float(sum(arrivals[j - 1] * arpa_new * w for j, w in zip(range(1, k + 1), weights, strict=True)))
    return existing, new, variance


def revenue_forecast(
    engine: Engine,
    account_id: str,
    *,
    as_of: date,
    days: int = 90,
    period_days: int = 30,
    history_periods: int = 12,
    n_boot: int = 200,
    level: float = 0.9,
    seed: int = 0,
    projection: RetentionProjection | None = None,
) -> pd.DataFrame:
    """Monthly revenue for the next ``days`` per currency, with a ``level`` bootstrap interval.

    Returns
    -------
    pandas.DataFrame
        ``currency``, ``month`` (1…), ``start``, ``end`` (dates), ``existing_minor``, ``new_minor``,
        ``expected_minor``, ``low_minor``, ``high_minor`` and a ``total`` row per currency (month 0).
    """
    proj = projection or retention_projection(engine, account_id, as_of=as_of, period_days=period_days)
    months = max(1, int(np.ceil(days / period_days)))
    cut = pd.Timestamp(cut_instant(as_of))
    payers = paying_members(engine, account_id, as_of=as_of)
    ages_by_member = proj.lifetimes.set_index("member_id")["age_periods"]
    new = _new_counts(proj.lifetimes, cut, history_periods, period_days)
    counts = _counts(proj.lifetimes)
    rng = np.random.default_rng(seed)
    boot_models = []
    for _ in range(n_boot):
        resampled = counts.assign(n=rng.multinomial(int(counts["n"].sum()), counts["n"] / counts["n"].sum()))
        resampled = resampled[resampled["n"] > 0]
        if not resampled["churned"].any():
            continue
        boot_models.append(_fit(resampled, start=(proj.model.alpha_, proj.model.beta_)))
    rows = []
    currencies = sorted(set(payers["currency"]) | set(new["currency"]))
    for currency in currencies:
        g = payers[payers["currency"] == currency]
        prices = g["monthly_minor"].to_numpy(dtype=float)
        ages = ages_by_member.reindex(g["member_id"]).fillna(0).to_numpy(dtype=float)
        nc = new[new["currency"] == currency]
        history = np.bincount(nc["k"].to_numpy(dtype=int), minlength=history_periods).astype(float)
        arrivals, fitted, residuals = _trend(history, months)
        recent = nc[nc["k"] >= history_periods - 3]["first_monthly_minor"]
        arpa_new = float(recent.mean()) if len(recent) else float(nc["first_monthly_minor"].mean()) if len(nc) else 0.0
        existing, new_rev, _ = _revenue(proj.model, prices, ages, arrivals, arpa_new, months)
        sims = np.empty((len(boot_models), months))
        for b, sbg in enumerate(boot_models):
            redrawn = np.maximum(fitted + rng.choice(residuals, size=len(residuals), replace=True), 0.0)
            boot_arrivals = rng.poisson(_trend(redrawn, months)[0])
            e, n, var = _revenue(sbg, prices, ages, boot_arrivals.astype(float), arpa_new, months)
            sims[b] = e + n + rng.normal(0.0, np.sqrt(var))
        lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
        for k in range(months):
            start = as_of + timedelta(days=period_days * k)
            rows.append(
                {
                    "currency": currency,
                    "month": k + 1,
                    "start": start,
                    "end": start + timedelta(days=period_days - 1),
                    "existing_minor": existing[k],
                    "new_minor": new_rev[k],
                    "expected_minor": existing[k] + new_rev[k],
                    "low_minor": float(np.quantile(sims[:, k], lo_q)) if len(sims) else np.nan,
                    "high_minor": float(np.quantile(sims[:, k], hi_q)) if len(sims) else np.nan,
                }
            )
        totals = sims.sum(axis=1) if len(sims) else np.array([np.nan])
        rows.append(
            {
                "currency": currency,
                "month": 0,
                "start": as_of,
                "end": as_of + timedelta(days=period_days * months - 1),
                "existing_minor": float(existing.sum()),
                "new_minor": float(new_rev.sum()),
                "expected_minor": float(existing.sum() + new_rev.sum()),
                "low_minor": float(np.quantile(totals, lo_q)),
                "high_minor": float(np.quantile(totals, hi_q)),
            }
        )
    return pd.DataFrame(rows)
