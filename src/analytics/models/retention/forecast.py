"""Retention projection, cohort-based LTV and the 90-day revenue forecast of an account.

* :func:`retention_projection` fits the sBG model to every member's paying lifetime (censored when still paying),
  projects survival and retention, and sets the observed (Kaplan–Meier) curve beside it.
* :func:`lifetime_value` puts the cohort-based LTV, ``ARPA × DEL(d)`` (Fader & Hardie 2010), beside the simple
  ``ARPA ÷ churn rate`` (trailing churn per period, as ChartMogul does), and values the current base with DERL.
* :func:`revenue_forecast` projects monthly revenue for the next ``days`` (default 90) from each paying member's
  retention given their age, plus the trend of new paying members, with a bootstrap interval. It starts from the
  MRR now (month 0), so its first month sits next to the MRR the dashboards show.

Revenue means recurring revenue: the monthly-normalised price (MRR) of the members expected to be paying at the
middle of each 30-day month, so the months add up to the subscription revenue of the period (one-off payments and
refunds are not forecast). Month 0 is the MRR of the members paying at ``as_of`` 00:00, the base the forecast
follows (the ``mrr`` metric's value for the day before, when the account's MRR policies count the same
memberships). Amounts are in minor units: of each currency (one set of rows per currency), or of one currency
with every other converted at the latest rate on or before the day before ``as_of`` (as the MRR metric converts).

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

import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from analytics.errors import ModelError, StatisticalWarning
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


def _bootstrap_models(
    counts: pd.DataFrame, model: ShiftedBetaGeometricFitter, n_boot: int, rng: np.random.Generator
) -> list[ShiftedBetaGeometricFitter]:
    """The sBG refitted to ``n_boot`` multinomial resamples of the lifetimes (non-converged refits left out).

    Each fit is a two-parameter problem: BLAS threads would only fight over the cores (ten times slower on a busy
    machine), so the refits run on one.
    """
    models, failed, total = [], 0, int(counts["n"].sum())
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # counted below, not repeated n_boot times
        for _ in range(n_boot):
            resampled = counts.assign(n=rng.multinomial(total, counts["n"] / counts["n"].sum()))
            resampled = resampled[resampled["n"] > 0]
            if not resampled["churned"].any():
                continue
            refit = _fit(resampled, start=(model.alpha_, model.beta_))
            if refit.converged_:
                models.append(refit)
            else:
                failed += 1
    if failed:
        warnings.warn(
            f"{failed} of {n_boot} bootstrap refits of the sBG model did not converge; the interval uses the "
            f"other {n_boot - failed}",
            StatisticalWarning,
            stacklevel=3,
        )
    return models


def _rates_to(engine: Engine, currencies: list[str], currency: str, day: date) -> dict[str, float]:
    """Minor units of each currency → minor units of ``currency`` at the latest stored rate on or before ``day``.

    Raises
    ------
    MetricError
        A currency has no rate on or before ``day`` (the message says which rows to add to ``fx_rates``).
    """
    from analytics.metrics.fx import load_rates

    table = load_rates(engine, currencies, currency, day)
    codes = np.asarray(currencies, dtype=object)
    factors = table.factors(codes, np.full(len(codes), np.datetime64(day, "ns")))
    if np.isnan(factors).any():
        raise table.missing(codes[np.isnan(factors)], np.full(int(np.isnan(factors).sum()), np.datetime64(day, "ns")))
    return {c: float(f) for c, f in zip(currencies, factors, strict=True)}


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
    currency: str | None = None,
) -> pd.DataFrame:
    """Monthly recurring revenue for the next ``days``, starting from the MRR now, with a ``level`` interval.

    Month 0 is the MRR of the members paying at ``as_of`` 00:00 (the end of the day before: what the ``mrr``
    metric reports for that day), the base the forecast starts from; months 1, 2, … are the MRR expected at the
    middle of each next ``period_days``-day month. With ``currency``, every currency is converted into it at the
    latest rate on or before the day before ``as_of`` (one set of rows, as the MRR metric reports); otherwise one
    set of rows per currency.

    Returns
    -------
    pandas.DataFrame
        ``currency``, ``month`` (0 = now, 1…), ``start``, ``end`` (dates; month 0: the day before ``as_of``),
        ``existing_minor``, ``new_minor``, ``expected_minor``, ``low_minor``, ``high_minor`` (month 0: the MRR,
        no interval), ``members`` (paying members at month 0; NaN later). ``attrs["total"]`` holds, per currency,
        the revenue of the whole ``days`` (``expected_minor``, ``low_minor``, ``high_minor``, ``start``, ``end``);
        ``attrs["currencies"]`` the currencies the members pay in.

    Raises
    ------
    MetricError
        ``currency`` is given and a currency has no exchange rate into it on or before the day before ``as_of``.
    """
    proj = projection or retention_projection(engine, account_id, as_of=as_of, period_days=period_days)
    months = max(1, int(np.ceil(days / period_days)))
    cut = pd.Timestamp(cut_instant(as_of))
    day_before = as_of - timedelta(days=1)
    payers = paying_members(engine, account_id, as_of=as_of)
    ages_by_member = proj.lifetimes.set_index("member_id")["age_periods"]
    new = _new_counts(proj.lifetimes, cut, history_periods, period_days)
    currencies = sorted(set(payers["currency"]) | set(new["currency"]))
    factors = _rates_to(engine, currencies, currency, day_before) if currency else {c: 1.0 for c in currencies}
    rng = np.random.default_rng(seed)
    boot_models = _bootstrap_models(_counts(proj.lifetimes), proj.model, n_boot, rng)
    parts: dict[str, dict[str, Any]] = {}
    for code in currencies:
        g = payers[payers["currency"] == code]
        prices = g["monthly_minor"].to_numpy(dtype=float)
        ages = ages_by_member.reindex(g["member_id"]).fillna(0).to_numpy(dtype=float)
        nc = new[new["currency"] == code]
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
        f = factors[code]
        target = currency or code
        # the MRR now as the mrr metric converts it: the currency's whole MRR at the day's rate, rounded
        mrr = float(np.rint(np.rint(prices.sum()) * f))
        part = parts.setdefault(target, {"mrr": 0.0, "members": 0, "existing": 0.0, "new": 0.0, "sims": 0.0})
        part["mrr"] += mrr
        part["members"] += int(g["member_id"].nunique())
        part["existing"] = part["existing"] + existing * f
        part["new"] = part["new"] + new_rev * f
        part["sims"] = part["sims"] + sims * f
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[str, Any]] = {}
    for code, part in parts.items():
        sims = part["sims"]
        rows.append(
            {
                "currency": code,
                "month": 0,
                "start": day_before,
                "end": day_before,
                "existing_minor": part["mrr"],
                "new_minor": 0.0,
                "expected_minor": part["mrr"],
                "low_minor": part["mrr"],
                "high_minor": part["mrr"],
                "members": float(part["members"]),
            }
        )
        for k in range(months):
            start = as_of + timedelta(days=period_days * k)
            rows.append(
                {
                    "currency": code,
                    "month": k + 1,
                    "start": start,
                    "end": start + timedelta(days=period_days - 1),
                    "existing_minor": float(part["existing"][k]),
                    "new_minor": float(part["new"][k]),
                    "expected_minor": float(part["existing"][k] + part["new"][k]),
                    "low_minor": float(np.quantile(sims[:, k], lo_q)) if len(sims) else np.nan,
                    "high_minor": float(np.quantile(sims[:, k], hi_q)) if len(sims) else np.nan,
                    "members": np.nan,
                }
            )
        whole = sims.sum(axis=1)
        totals[code] = {
            "start": as_of.isoformat(),
            "end": (as_of + timedelta(days=period_days * months - 1)).isoformat(),
            "expected_minor": float(part["existing"].sum() + part["new"].sum()),
            "low_minor": float(np.quantile(whole, lo_q)) if len(whole) else None,
            "high_minor": float(np.quantile(whole, hi_q)) if len(whole) else None,
        }
    columns = [
        "currency",
        "month",
        "start",
        "end",
        "existing_minor",
        "new_minor",
        "expected_minor",
        "low_minor",
        "high_minor",
        "members",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["total"] = totals
    frame.attrs["currencies"] = currencies
    return frame
