"""Demo fixtures: the small and tiny demo businesses, generated once per test session."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.demo import generate

END = date(2026, 6, 1)  # a fixed horizon keeps every expected figure reproducible


@pytest.fixture(scope="session")
def end() -> date:
    """The demo horizon used by these tests."""
    return END


@pytest.fixture(scope="session")
def small_business() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    business = generate(7, "small", end=END)
    return business.frames(), business.fraud_labels


@pytest.fixture(scope="session")
def small(small_business: tuple[dict[str, pd.DataFrame], pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The default demo business (small, seed 7) as one frame per table."""
    return small_business[0]


@pytest.fixture(scope="session")
def small_labels(small_business: tuple[dict[str, pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """The fraud planted in it."""
    return small_business[1]
