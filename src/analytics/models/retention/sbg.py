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
from scipy.special import betaln, expit, hyp2f1, logit

from analytics.errors import ModelError, StatisticalWarning

__all__ = ["GRADIENT_TOLERANCE", "MU_MIN", "PHI_MAX", "PHI_MIN", "ShiftedBetaGeometricFitter", "survival_to_durations"]

#: Bounds of the search: mean churn probability μ in [MU_MIN, 1 − MU_MIN], polarisation φ in [PHI_MIN, PHI_MAX].
#: At φ = 10⁻⁶ (α + β ≈ 10⁶) survival differs from the geometric model's by under 10⁻⁵ over 24 periods.
MU_MIN = 1e-9
PHI_MIN = 1e-6
PHI_MAX = 1 - 1e-6
#: The fit has converged when the projected gradient of the mean log-likelihood per customer in (logit μ, φ) is
#: at most this (the optimiser's own test is stricter but can fail on rounding at the optimum).
GRADIENT_TOLERANCE = 1e-6


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

    The likelihood is maximised over the mean churn probability ``μ = α / (α + β)`` and the polarisation
    ``φ = 1 / (α + β + 1)`` (Fader & Hardie's reparameterisation), both in (0, 1), with the retention rates in
    product form: ``r_t = ((1 − μ)(1 − φ) + (t − 1) φ) / (1 + (t − 2) φ)``. On that box the problem is well scaled
    and bounded; in ``(log α, log β)`` it is not: when members' churn probabilities hardly differ (renewal rates
    that do not rise with tenure) the maximum lies at ``φ → 0`` (α, β → ∞ with α/(α + β) fixed), and an
    unbounded search walks up that ridge until it runs out of iterations. Here ``φ`` stops at
    :data:`PHI_MIN` (α + β ≈ 10⁶, indistinguishable from the geometric model with churn ``μ`` per period) and
    :attr:`at_bound_` says so; :class:`~analytics.errors.StatisticalWarning` is kept for a search that really did
    not converge.

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
    mean_churn_, polarization_:
        The same fit as ``μ = α / (α + β)`` (mean churn probability per period) and ``φ = 1 / (α + β + 1)``
        (0: every customer churns with probability μ; towards 1: customers either churn at once or never).
    params_:
        ``pandas.Series`` with ``alpha`` and ``beta``.
    standard_errors_:
        Asymptotic standard errors (inverse of the numerical Hessian of the log-likelihood); NaN at a bound,
        where α and β are not identified.
    log_likelihood_:
        Maximised log-likelihood.
    converged_:
        Whether the optimiser reported convergence (a :class:`~analytics.errors.StatisticalWarning` otherwise).
    at_bound_:
        ``"homogeneous"`` when φ stopped at :data:`PHI_MIN` (no spread of churn probabilities in the data: the
        projection is the geometric one), ``"polarized"`` at :data:`PHI_MAX`, else ``None``.
    n_customers_, n_churned_:
        Weighted customers and churned customers in the data.
    """

    def __init__(self) -> None:
        self.alpha_: float = np.nan
        self.beta_: float = np.nan
        self.converged_: bool = False
        self.at_bound_: str | None = None

    @staticmethod
    def _loglik(alpha: float, beta: float, t: NDArray[Any], churned: NDArray[Any], w: NDArray[Any]) -> float:
        base = betaln(alpha, beta)
        log_p = betaln(alpha + 1, beta + t - 1) - base
        log_s = betaln(alpha, beta + t) - base
        return float(np.sum(w * np.where(churned, log_p, log_s)))

    @staticmethod
    def _loglik_mu_phi(
        x: NDArray[np.float64], t: NDArray[np.int64], churned: NDArray[np.bool_], w: NDArray[np.float64]
    ) -> tuple[float, NDArray[np.float64]]:
        """Log-likelihood and its gradient in ``(μ, φ)``, from the retention rates in product form.

        ``log S(t) = Σ_{i ≤ t} log r_i`` and ``log P(T = t) = log S(t − 1) + log h_t`` with
        ``h_t = μ (1 − φ) / (1 + (t − 2) φ)``, ``r_t = 1 − h_t``.
        """
        mu, phi = float(x[0]), float(x[1])
        i = np.arange(1, int(t.max()) + 2, dtype=float)
        d = 1.0 + (i - 2.0) * phi
        a = (1.0 - mu) * (1.0 - phi) + (i - 1.0) * phi
        log_r, log_h = np.log(a) - np.log(d), np.log(mu * (1.0 - phi)) - np.log(d)
        dr_mu, dr_phi = -(1.0 - phi) / a, (i - 1.0 - (1.0 - mu)) / a - (i - 2.0) / d
        dh_mu, dh_phi = np.full_like(i, 1.0 / mu), -1.0 / (1.0 - phi) - (i - 2.0) / d

        def cumulative(v: NDArray[np.float64]) -> NDArray[np.float64]:  # Σ_{i ≤ t} v_i for t = 0, 1, …
            return np.concatenate([[0.0], np.cumsum(v)])

        s, s_mu, s_phi = cumulative(log_r), cumulative(dr_mu), cumulative(dr_phi)
        lost = np.maximum(t - 1, 0)
        value = np.where(churned, s[lost] + log_h[lost], s[t])
        g_mu = np.where(churned, s_mu[lost] + dh_mu[lost], s_mu[t])
        g_phi = np.where(churned, s_phi[lost] + dh_phi[lost], s_phi[t])
        return float(w @ value), np.array([float(w @ g_mu), float(w @ g_phi)])

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
            Initial ``(α, β)``; by default the search starts from the geometric model's churn rate (churned ÷
            periods observed) with a low and a high polarisation, and the better optimum is kept.
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
        if (t != np.round(t)).any():
            raise ModelError("durations count whole periods; got a fractional duration")
        if (t.max() if len(t) else 0) < 2:
            warnings.warn(
                "less than two periods of history: α and β are poorly identified", StatisticalWarning, stacklevel=2
            )
        ti, total_w = t.astype(np.int64), float(w.sum())

        def objective(y: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            # minimise the mean negative log-likelihood per customer over (logit μ, φ): both coordinates then
            # have curvature of order one, so the stopping tests mean the same for any data size
            mu = float(expit(y[0]))
            value, gradient = self._loglik_mu_phi(np.array([mu, y[1]]), ti, churned, w)
            return -value / total_w, -np.array([gradient[0] * mu * (1.0 - mu), gradient[1]]) / total_w

        lower, upper = np.array([logit(MU_MIN), PHI_MIN]), np.array([logit(1.0 - MU_MIN), PHI_MAX])
        if start is not None:
            a0, b0 = start
            starts = [(a0 / (a0 + b0), 1.0 / (a0 + b0 + 1.0))]
        else:
            geometric = float(w[churned].sum() / (w * t).sum())  # churned ÷ periods at risk
            starts = [(geometric, 0.05), (geometric, 0.5)]
        best = None
        for mu0, phi0 in starts:
            x0 = np.clip([logit(np.clip(mu0, MU_MIN, 1.0 - MU_MIN)), phi0], lower, upper)
            result = minimize(
                objective,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(lower, upper, strict=True)),
                options={"ftol": 1e-12, "gtol": 1e-8, "maxiter": 1000},
            )
            if best is None or result.fun < best.fun:
                best = result
        assert best is not None
        # L-BFGS-B may stop with "ABNORMAL" when the line search cannot improve f in the last digits, i.e. at
        # the optimum: first-order optimality (projected gradient ≈ 0) is the convergence test that matters.
        gradient = np.asarray(best.jac, dtype=float).copy()
        gradient[(best.x <= lower) & (gradient > 0)] = 0.0
        gradient[(best.x >= upper) & (gradient < 0)] = 0.0
        converged = bool(best.success) or float(np.abs(gradient).max()) <= GRADIENT_TOLERANCE
        if not converged:
            warnings.warn(
                f"sBG fit did not converge ({best.message}, projected gradient {np.abs(gradient).max():.2g}): "
                "the retention projection may be off",
                StatisticalWarning,
                stacklevel=2,
            )
        mu, phi = float(expit(best.x[0])), float(best.x[1])
        total = (1.0 - phi) / phi  # α + β
        self.alpha_, self.beta_ = mu * total, (1.0 - mu) * total
        self.mean_churn_, self.polarization_ = mu, phi
        self.at_bound_ = "homogeneous" if phi <= lower[1] else "polarized" if phi >= upper[1] else None
        self.log_likelihood_ = float(-best.fun * total_w)
        self.converged_ = converged
        self.n_customers_ = float(w.sum())
        self.n_churned_ = float(w[churned].sum())
        self.params_ = pd.Series({"alpha": self.alpha_, "beta": self.beta_})
        if self.at_bound_ is None:
            self.standard_errors_ = self._standard_errors(t, churned, w)
        else:
            self.standard_errors_ = pd.Series({"alpha": np.nan, "beta": np.nan})
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
