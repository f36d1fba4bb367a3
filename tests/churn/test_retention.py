"""sBG retention (Fader & Hardie 2007), DERL (2010), lifetimes from the store, LTV and the revenue forecast."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.errors import ModelError, StatisticalWarning
from analytics.models.retention.cohorts import kaplan_meier, member_lifetimes
from analytics.models.retention.forecast import lifetime_value, retention_projection, revenue_forecast
from analytics.models.retention.sbg import PHI_MIN, ShiftedBetaGeometricFitter, survival_to_durations
from churn.builders import ACCOUNT as TINY
from churn.conftest import SYNTH_END
from churn.synthetic import ACCOUNT as SYNTH

# Fader & Hardie (2007), "How to project customer retention", Table 1: customers still active at the start of
# years 0–7 (the fit uses these eight values; years 8–12 were held out in the paper).
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"),
    [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)],
    ids=["regular", "high_end"],
)
def test_published_example(survivors: list[int], alpha: float, beta: float) -> None:
    """The paper's maximum-likelihood estimates, to the three decimals it prints."""
    sbg = ShiftedBetaGeometricFitter().fit_survival(survivors)
    assert (round(sbg.alpha_, 3), round(sbg.beta_, 3)) == (alpha, beta)
    # The fit reproduces the data it was fitted on closely (the paper's Figure 3).
    fitted = 1000 * sbg.survival_function(np.arange(8))
    assert np.abs(fitted - survivors).max() < 20  # within 2 % of the cohort


def test_regular_projection_tracks_the_held_out_years() -> None:
    # Years 8–12 of the regular segment (Table 1), not used in the fit: projected within 2 %.
    held_out = np.array([223, 207, 194, 183, 173])
    sbg = ShiftedBetaGeometricFitter().fit_survival(REGULAR)
    projected = 1000 * sbg.survival_function(np.arange(8, 13))
    assert np.all(np.abs(projected - held_out) / held_out < 0.02)


@pytest.mark.parametrize(("alpha", "beta"), [(0.5, 2.0), (1.3, 6.0), (3.0, 12.0)])
def test_recovers_known_parameters_from_the_curves_it_generates(alpha: float, beta: float) -> None:
    truth = ShiftedBetaGeometricFitter()
    truth.alpha_, truth.beta_ = alpha, beta
    # Expected survivors of 10,000 customers over 10 periods: the fit recovers α, β (almost) exactly.
    curve = 10_000 * truth.survival_function(np.arange(11))
    exact = ShiftedBetaGeometricFitter().fit_survival(curve)
    assert exact.alpha_ == pytest.approx(alpha, rel=1e-3) and exact.beta_ == pytest.approx(beta, rel=1e-3)
    # Simulated customers (θ ~ Beta(α, β), geometric lifetimes), three cohorts of different ages: within 15 %.
    rng = np.random.default_rng(1)
    cohorts = []
    for size, age in ((6000, 10), (6000, 6), (6000, 3)):
        theta = rng.beta(alpha, beta, size)
        lifetime = rng.geometric(theta)
        cohorts.append([int((lifetime > t).sum()) for t in range(age + 1)])
    simulated = ShiftedBetaGeometricFitter().fit_survival(cohorts)
    assert simulated.alpha_ == pytest.approx(alpha, rel=0.15) and simulated.beta_ == pytest.approx(beta, rel=0.15)
    assert simulated.standard_errors_["alpha"] > 0


def test_retention_rate_and_churn_probability_are_consistent() -> None:
    sbg = ShiftedBetaGeometricFitter().fit_survival(REGULAR)
    t = np.arange(1, 20)
    s = sbg.survival_function(np.arange(0, 20))
    np.testing.assert_allclose(sbg.retention_rate(t), s[1:] / s[:-1])
    np.testing.assert_allclose(sbg.churn_probability(t), s[:-1] - s[1:])
    # r_t = (β + t − 1)/(α + β + t − 1) rises: survivors are the loyal ones.
    assert np.all(np.diff(sbg.retention_rate(t)) > 0)


@pytest.mark.parametrize("renewals", [0, 1, 4, 10])
def test_derl_equals_the_discounted_sum(renewals: int) -> None:
    sbg = ShiftedBetaGeometricFitter().fit_survival(HIGH_END)
    d = 0.10
    # The paper's n − 1 = renewals made: the customer is at the end of period n and decides on the n-th renewal.
    n = renewals + 1
    t = np.arange(n, 5000)
    # Payments at each future renewal, the first one (now) undiscounted, given survival so far.
    brute = np.sum(sbg.survival_function(t) / sbg.survival_function(n - 1) / (1 + d) ** (t - n))
    assert sbg.derl(d, renewals_made=renewals) == pytest.approx(brute, rel=1e-9)
    all_t = np.arange(0, 5000)
    assert sbg.discounted_expected_lifetime(d) == pytest.approx(
        np.sum(sbg.survival_function(all_t) / (1 + d) ** all_t), rel=1e-9
    )


def test_members_who_churn_alike_give_the_geometric_edge_without_a_warning() -> None:
    """10 % of a cohort leaves every period (renewal rates do not rise with tenure): the maximum of the likelihood
    is at α, β → ∞. The fit stops at the edge (φ = PHI_MIN), converges and says so, instead of walking towards
    infinity until it runs out of iterations (which warned three times per page before)."""
    geometric = [round(1000 * 0.9**t) for t in range(8)]  # 1000, 900, 810, 729, 656, 590, 531, 478
    sbg = ShiftedBetaGeometricFitter().fit_survival(geometric)
    assert sbg.converged_ and sbg.at_bound_ == "homogeneous" and sbg.polarization_ == PHI_MIN
    assert sbg.mean_churn_ == pytest.approx(0.1, abs=1e-3)
    np.testing.assert_allclose(sbg.survival_function(np.arange(8)), 0.9 ** np.arange(8), rtol=2e-3)
    # a bootstrap refit starts from the first fit's (huge) α and β: still converged, still no warning
    durations, churned, weights = survival_to_durations(geometric)
    refit = ShiftedBetaGeometricFitter().fit(durations, churned, weights, start=(6e4, 5.4e5))
    assert refit.converged_ and refit.at_bound_ == "homogeneous"
    assert np.isnan(refit.standard_errors_["alpha"])  # not identified at the edge


def test_a_fit_that_does_not_converge_still_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    from analytics.models.retention import sbg as module

    real = module.minimize

    def one_step(*args: object, **kwargs: Any) -> Any:
        return real(*args, **{**kwargs, "options": {**kwargs["options"], "maxiter": 1}})

    monkeypatch.setattr(module, "minimize", one_step)
    with pytest.warns(StatisticalWarning, match="sBG fit did not converge"):
        sbg = ShiftedBetaGeometricFitter().fit_survival(REGULAR)
    assert not sbg.converged_


def test_derl_refuses_negative_renewals() -> None:
    sbg = ShiftedBetaGeometricFitter().fit_survival(HIGH_END)
    with pytest.raises(ModelError, match="renewals made must be ≥ 0"):
        sbg.derl(0.1, [2, -1])


def test_bad_survival_data_is_refused() -> None:
    with pytest.raises(ModelError, match="must not increase"):
        survival_to_durations([100, 80, 90])
    with pytest.raises(ModelError, match="nobody churned"):
        ShiftedBetaGeometricFitter().fit_survival([100, 100, 100])


def test_lifetimes_of_the_tiny_business(tiny: sa.Engine) -> None:
    life = member_lifetimes(tiny, TINY, as_of=date(2024, 4, 1)).set_index("member_id")
    # Stops: m_fading Jan 1 → Mar 10 (69 days: churned in period 3), m_leaving → Mar 20 (79 days: 3),
    # m_gone → Feb 10 (40 days: 2). Still paying on Apr 1 00:00: m_loyal and m_two since Jan 1 12:00 (90.5 days:
    # 3 periods survived), m_trial since Feb 27 12:00 (33.5 days: 1), m_annual since 2023-06-01 (305.5 days: 10).
    assert life["duration"].to_dict() == {
        "m_annual": 10,
        "m_fading": 3,
        "m_gone": 2,
        "m_leaving": 3,
        "m_loyal": 3,
        "m_trial": 1,
        "m_two": 3,
    }
    assert life["churned"].to_dict() == {
        "m_annual": False,
        "m_fading": True,
        "m_gone": True,
        "m_leaving": True,
        "m_loyal": False,
        "m_trial": False,
        "m_two": False,
    }
    assert life.loc["m_annual", "first_monthly_minor"] == 3000  # 36000 a year
    assert life.loc["m_trial", "cohort"] == pd.Timestamp("2024-02-01")
    km = kaplan_meier(life.reset_index(), 3).set_index("period")
    # Period 1: 7 at risk, none lost; 2: 6 at risk (not m_trial), m_gone lost; 3: 5 at risk, 2 lost.
    assert km["survival"].round(4).tolist() == [1.0, 1.0, round(5 / 6, 4), round(5 / 6 * 3 / 5, 4)]


def test_projection_ltv_and_forecast(synthetic: sa.Engine) -> None:
    projection = retention_projection(synthetic, SYNTH, as_of=SYNTH_END, periods=12)
    curve = projection.curve.set_index("period")
    # The sBG curve follows the observed (Kaplan–Meier) one where there is data.
    observed = curve["observed"].dropna()
    assert (observed - curve.loc[observed.index, "projected"]).abs().max() < 0.05
    assert curve["projected"].is_monotonic_decreasing

    ltv = lifetime_value(projection, synthetic, SYNTH).iloc[0]
    assert ltv["currency"] == "usd" and ltv["paying"] > 0
    assert ltv["simple_ltv_minor"] == pytest.approx(ltv["arpa_minor"] / ltv["churn_rate"])
    assert ltv["cohort_ltv_minor"] == pytest.approx(ltv["arpa_minor"] * ltv["del_periods"])

    forecast = revenue_forecast(synthetic, SYNTH, as_of=SYNTH_END, projection=projection, n_boot=100)
    now, months = forecast[forecast["month"] == 0].iloc[0], forecast[forecast["month"] > 0]
    assert months["month"].tolist() == [1, 2, 3]
    assert (months["low_minor"] <= months["expected_minor"]).all()
    assert (months["expected_minor"] <= months["high_minor"]).all()
    total = forecast.attrs["total"]["usd"]
    assert total["expected_minor"] == pytest.approx(months["expected_minor"].sum())
    assert total["low_minor"] <= total["expected_minor"] <= total["high_minor"]
    # Month 0 is where the forecast starts: the MRR of the paying members now (ARPA × paying), no interval.
    assert now["members"] == ltv["paying"]
    assert now["expected_minor"] == pytest.approx(round(ltv["arpa_minor"] * ltv["paying"]))
    assert now["low_minor"] == now["expected_minor"] == now["high_minor"] and now["new_minor"] == 0
    # Month 1 of the existing base is at most its current monthly revenue (nobody new in it).
    assert months.iloc[0]["existing_minor"] <= now["existing_minor"] + 1e-6
