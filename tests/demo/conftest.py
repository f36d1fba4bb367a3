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
def small() -> dict[str, pd.DataFrame]:
    """The default demo business (small, seed 7) as one frame per table."""
    return generate(7, "small", end=END).frames()


@pytest.fixture(scope="session")
def small_labels() -> pd.DataFrame:
    business = generate(7, "small", end=END)
    for _ in business:
        pass
    return business.fraud_labels
