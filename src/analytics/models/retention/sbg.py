"""The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007) and DERL (2010).

Each customer renews at the end of every period with their own probability ``1 − θ``; churn probabilities ``θ``
vary across customers as ``Beta(α, β)``. With ``T`` the period in which a customer churns:

* ``P(T = t) = B(α + 1, β + t − 1) / B(α, β)``
* survival ``S(t) = P(T > t) = B(α, β + t) / B(α, β)``
* retention rate ``r_t = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)`` (rises with t: the survivors are the
  loyal ones).

Fitted by maximum likelihood to survival counts: a customer lost in period ``t`` contributes ``log P(T = t)``, one
still active after ``t`` periods ``log S(t)`` (Fader & Hardie 2007, eq. 5).

Discounted expected residual lifetime (Fader & Hardie 2010) of a customer who has made ``n − 1`` renewals (is at
the end of period ``n``) and is about to decide on the ``n``-th, with discount rate ``d`` per period — the argument
of :meth:`ShiftedBetaGeometricFitter.derl` is those ``renewals_made = n − 1``::

    DERL(d | α, β, n − 1) = B(α, β + n) / B(α, β + n − 1) · ₂F₁(1, β + n; α + β + n; 1 / (1 + d))

and the discounted expected lifetime of a new customer (counting the first payment)
``DEL(d | α, β) = ₂F₁(1, β; α + β; 1 / (1 + d))``. Multiplying by the margin per period gives residual value /
lifetime value.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, hyp2f1

from analytics.errors import ModelError, StatisticalWarning

__all__ = ["ShiftedBetaGeometricFitter", "survival_to_durations"]


def survival_to_durations(
    survivors: Sequence[float],
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64]]:
    """Turn one cohort's survivor counts ``n_0, n_1, …, n_T`` into (durations, churned, weights).

    ``n_{t−1} − n_t`` customers churned in period ``t`` (duration t, churned); ``n_T`` are still active after
    ``T`` periods (duration T, censored).
    """
    n = np.asarray(survivors, dtype=float)
    if n.ndim != 1 or len(n) < 2:
        raise ModelError("survivor counts need at least two values: the cohort size and one later count")
    lost = -np.diff(n)
    if (lost < 0).any():
        raise ModelError(f"survivor counts must not increase: {n.tolist()}")
    periods = np.arange(1, len(n))
    durations = np.concatenate([periods, [len(n) - 1]]).astype(np.int64)
    churned = np.concatenate([np.ones(len(periods), bool), [False]])
    weights = np.concatenate([lost, [n[-1]]])
    keep = weights > 0
    return durations[keep], churned[keep], weights[keep]


class ShiftedBetaGeometricFitter:
    """Shifted-beta-geometric retention model, fitted by maximum likelihood (lifelines-style API).

    Examples
    --------
    The "regular" and "high end" customers of Fader & Hardie (2007), years 0–7 (published estimates
    α = 0.704, β = 1.182 and α = 0.668, β = 3.806):

    >>> regular = ShiftedBetaGeometricFitter().fit_survival([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(regular.alpha_, 3), round(regular.beta_, 3)
    (0.704, 1.182)
    >>> high_end = ShiftedBetaGeometricFitter().fit_survival([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> round(high_end.alpha_, 3), round(high_end.beta_, 3)
    (0.668, 3.806)

    Attributes
    ----------
    alpha_, beta_:
        Fitted parameters of the Beta distribution of churn probabilities.
    params_:
        ``pandas.Series`` with ``alpha`` and ``beta``.
    standard_errors_:
        Asymptotic standard errors (inverse of the numerical Hessian of the log-likelihood).
    log_likelihood_:
        Maximised log-likelihood.
    n_customers_, n_churned_:
        Weighted customers and churned customers in the data.
    """

    def __init__(self) -> None:
        self.alpha_: float = np.nan
        self.beta_: float = np.nan

    @staticmethod
    def _loglik(alpha: float, beta: float, t: NDArray[Any], churned: NDArray[Any], w: NDArray[Any]) -> float:
        base = betaln(alpha, beta)
        log_p = betaln(alpha + 1, beta + t - 1) - base
        log_s = betaln(alpha, beta + t) - base
        return float(np.sum(w * np.where(churned, log_p, log_s)))

    def fit(
        self,
        durations: ArrayLike,
        event_observed: ArrayLike,
        weights: ArrayLike | None = None,
        *,
        start: tuple[float, float] | None = None,
    ) -> ShiftedBetaGeometricFitter:
        """Fit to individual (or weighted) lifetimes.

        Parameters
        ----------
        durations:
            Periods observed per customer: the period they churned in (≥ 1) or the renewals survived so far.
        event_observed:
            True when the customer churned in that period, False when still active (censored).
        weights:
            Customers each row stands for (default 1).
        start:
            Initial ``(α, β)``; by default the best of three fixed starting points is kept.
        """
        t = np.asarray(durations, dtype=float)
        churned = np.asarray(event_observed, dtype=bool)
        w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
        if not (t.shape == churned.shape == w.shape) or t.ndim != 1:
            raise ModelError("durations, event_observed and weights must be 1-D and of equal length")
        if len(t) == 0 or w.sum() <= 0:
            raise ModelError("no customers to fit the sBG model to")
        if (t[churned] < 1).any() or (t < 0).any():
            raise ModelError("churned customers need a duration ≥ 1 period (durations count periods from 1)")
        if not churned.any():
            raise ModelError("nobody churned: the sBG model cannot be fitted (retention looks like 100 %)")
        if (t.max() if len(t) else 0) < 2:
            warnings.warn(
                "less than two periods of history: α and β are poorly identified", StatisticalWarning, stacklevel=2
            )

        def objective(x: NDArray[np.float64]) -> float:
            return -self._loglik(float(np.exp(x[0])), float(np.exp(x[1])), t, churned, w)

        best = None
        starts = [np.log(start)] if start is not None else [(0.0, 0.0), (-1.0, 1.0), (1.0, 2.0)]
        for x0 in starts:
            result = minimize(
                objective,
                np.asarray(x0, dtype=float),
                method="Nelder-Mead",
                options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
            )
            if best is None or result.fun < best.fun:
                best = result
        assert best is not None
        if not best.success:
            warnings.warn(f"sBG fit did not converge: {best.message}", StatisticalWarning, stacklevel=2)
        self.alpha_, self.beta_ = float(np.exp(best.x[0])), float(np.exp(best.x[1]))
        self.log_likelihood_ = float(-best.fun)
        self.converged_ = bool(best.success)
        self.n_customers_ = float(w.sum())
        self.n_churned_ = float(w[churned].sum())
        self.params_ = pd.Series({"alpha": self.alpha_, "beta": self.beta_})
        self.standard_errors_ = self._standard_errors(t, churned, w)
        return self

    def fit_survival(self, survivors: Sequence[float] | Sequence[Sequence[float]]) -> ShiftedBetaGeometricFitter:
        """Fit to survivor counts of one cohort (``[n_0, …, n_T]``) or several cohorts (a list of such lists)."""
        cohorts = survivors if len(survivors) and isinstance(survivors[0], Sequence | np.ndarray) else [survivors]
        parts = [survival_to_durations(c) for c in cohorts]  # type: ignore[arg-type]
        return self.fit(*(np.concatenate(p) for p in zip(*parts, strict=True)))

    def _standard_errors(self, t: NDArray[Any], churned: NDArray[Any], w: NDArray[Any]) -> pd.Series:
        x0 = np.array([self.alpha_, self.beta_])
        h = 1e-4 * np.maximum(1.0, np.abs(x0))

        def f(x: NDArray[np.float64]) -> float:
            return self._loglik(float(x[0]), float(x[1]), t, churned, w)

        hess = np.empty((2, 2))
        for i in range(2):
            for j in range(2):
                ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
                hess[i, j] = (f(x0 + ei + ej) - f(x0 + ei - ej) - f(x0 - ei + ej) + f(x0 - ei - ej)) / (4 * h[i] * h[j])
        try:
            cov = np.linalg.inv(-hess)
            se = np.sqrt(np.clip(np.diag(cov), 0, None))
        except np.linalg.LinAlgError:
            se = np.array([np.nan, np.nan])
        return pd.Series({"alpha": float(se[0]), "beta": float(se[1])})

    def _check(self) -> None:
        if np.isnan(self.alpha_):
            raise ModelError("the sBG model is not fitted yet; call fit() or fit_survival() first")

    def survival_function(self, t: ArrayLike) -> NDArray[np.float64]:
        """``S(t) = B(α, β + t) / B(α, β)``: share of a cohort still active after ``t`` periods."""
        self._check()
        tt = np.asarray(t, dtype=float)
        return np.asarray(np.exp(betaln(self.alpha_, self.beta_ + tt) - betaln(self.alpha_, self.beta_)))

    def churn_probability(self, t: ArrayLike) -> NDArray[np.float64]:
        """``P(T = t)``: share of a new cohort lost in period ``t`` (t ≥ 1)."""
        self._check()
        tt = np.asarray(t, dtype=float)
        return np.asarray(np.exp(betaln(self.alpha_ + 1, self.beta_ + tt - 1) - betaln(self.alpha_, self.beta_)))

    def retention_rate(self, t: ArrayLike) -> NDArray[np.float64]:
        """``r_t = (β + t − 1) / (α + β + t − 1)``: share of customers active in ``t − 1`` who renew in ``t``."""
        self._check()
        tt = np.asarray(t, dtype=float)
        return np.asarray((self.beta_ + tt - 1) / (self.alpha_ + self.beta_ + tt - 1))

    def conditional_survival(self, age: ArrayLike, ahead: ArrayLike) -> NDArray[np.float64]:
        """``S(age + ahead) / S(age)``: chance a customer active after ``age`` periods is active ``ahead`` later."""
        return self.survival_function(np.asarray(age) + np.asarray(ahead)) / self.survival_function(age)

    def derl(self, discount_rate: float, renewals_made: ArrayLike) -> NDArray[np.float64]:
        """Discounted expected residual lifetime (periods) of a customer who has made ``renewals_made`` renewals.

        In the paper's notation (Fader & Hardie 2010, eq. 6) ``renewals_made`` is ``n − 1``: the customer has paid
        for periods ``1 … n`` (the first payment and ``n − 1`` renewals), is at the end of period
        ``n = renewals_made + 1`` and is about to decide on the ``n``-th renewal. The residual lifetime counts that
        renewal (undiscounted) and every later one, each discounted by ``1 + d`` per period::

            DERL(d | α, β, n − 1) = Σ_{t ≥ n} S(t) / S(n − 1) / (1 + d)^(t − n)
                                  = B(α, β + n) / B(α, β + n − 1) · ₂F₁(1, β + n; α + β + n; 1 / (1 + d))

        Parameters
        ----------
        discount_rate:
            ``d``, the discount rate per period (> 0).
        renewals_made:
            Renewals the customer has made so far (0 for one who has paid only once); whole numbers ≥ 0, one per
            customer. A member's age in whole periods survived is their renewals made.
        """
        self._check()
        if discount_rate <= 0:
            raise ModelError(f"the discount rate per period must be above 0, got {discount_rate}")
        made = np.asarray(renewals_made, dtype=float)
        if (made < 0).any():
            raise ModelError(f"renewals made must be ≥ 0 (0 = paid once, not yet renewed), got {made.min()}")
        n = made + 1
        a, b = self.alpha_, self.beta_
        ratio = np.exp(betaln(a, b + n) - betaln(a, b + n - 1))
        return np.asarray(ratio * hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + discount_rate)))

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """``DEL(d | α, β) = ₂F₁(1, β; α + β; 1/(1+d))``: discounted periods paid by a new customer (first included)."""
        self._check()
        if discount_rate <= 0:
            raise ModelError(f"the discount rate per period must be above 0, got {discount_rate}")
        return float(hyp2f1(1.0, self.beta_, self.alpha_ + self.beta_, 1.0 / (1.0 + discount_rate)))

    def project(self, periods: int) -> pd.DataFrame:
        """Survival, retention rate and churn probability for periods ``0 … periods``."""
        t = np.arange(periods + 1)
        retention = np.concatenate([[np.nan], self.retention_rate(t[1:])])
        lost = np.concatenate([[np.nan], self.churn_probability(t[1:])])
        return pd.DataFrame({"period": t, "survival": self.survival_function(t), "retention": retention, "churn": lost})

    def __repr__(self) -> str:
        if np.isnan(self.alpha_):
            return "ShiftedBetaGeometricFitter(unfitted)"
        return f"ShiftedBetaGeometricFitter(alpha={self.alpha_:.4g}, beta={self.beta_:.4g})"
