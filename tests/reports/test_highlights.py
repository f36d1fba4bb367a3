"""Written highlights say what the numbers say, with the same formatting as the tables."""

from __future__ import annotations

from analytics.kpis import Kpi
from analytics.reports.highlights import kpi_sentence, movement_sentence, write_highlights


def test_amounts_move_in_percent_and_rates_in_points() -> None:
    # MRR 4,025.00 → 4,520.00: +495 / 4,025 = +12.3 %
    assert kpi_sentence(Kpi("mrr", "MRR", 452000, 402500, "money_minor")) == (
        "MRR rose 12.3 % to $4,520.00 (from $4,025.00)."
    )
    assert kpi_sentence(Kpi("churn", "Customer churn rate", 0.031, 0.040, "percent", better="down")) == (
        "Customer churn rate fell 0.9 pts to 3.1 % (from 4.0 %)."
    )
    assert kpi_sentence(Kpi("members", "Active members", 12, 12)) == "Active members held at 12."
    assert kpi_sentence(Kpi("trials", "Trials", 5, 0)) == "Trials was 5 (new this period)."
    assert kpi_sentence(Kpi("ltv", "LTV", None, 100, "money_minor")) == "LTV: no data for this period."


def test_movements_name_the_biggest_gain_and_loss() -> None:
    amounts = {"new": 32000, "expansion": 5000, "reactivation": 0, "contraction": 1000, "churn": 3500}
    assert movement_sentence(amounts, currency="usd", counts={"new": 8, "churn": 2}) == (
        "New customers added $320.00 (8); churn took $35.00 (2)."
    )
    assert movement_sentence(dict.fromkeys(amounts, 0), currency="usd") is None


def test_the_largest_move_leads() -> None:
    kpis = [
        Kpi("mrr", "MRR", 10500, 10000, "money_minor"),  # +5 %
        Kpi("members", "Active members", 130, 100),  # +30 %: leads
        Kpi("churn", "Customer churn rate", 0.02, 0.05, "percent", better="down"),
    ]
    lines = write_highlights(kpis, movements={"new": 900, "churn": 400}, facts=["3 failed payments ($45.00)."])
    assert lines == [
        "Active members rose 30.0 % to 130 (from 100).",
        "New customers added $9.00; churn took $4.00.",
        "MRR rose 5.0 % to $105.00 (from $100.00).",
        "Customer churn rate fell 3.0 pts to 2.0 % (from 5.0 %).",
        "3 failed payments ($45.00).",
    ]
