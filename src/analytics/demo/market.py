"""Daily exchange rates (eur, gbp ↔ usd) for the demo period, and USD conversion of payment totals."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.demo.calendar import DAY, to_date
from analytics.demo.frames import store_frame

__all__ = ["FxRates"]

_START = {"eur": 1.08, "gbp": 1.27}
_MICRO = 1_000_000


class FxRates:
    """A random walk of daily rates (6 decimals), one value per UTC day in ``[first_day, last_day]``."""

    def __init__(self, seed: int, first_second: int, horizon: int) -> None:
        self.first_day = first_second // DAY
        self.days = horizon // DAY - self.first_day
        rng = np.random.Generator(np.random.PCG64([seed, 0xF0]))
        self.micro: dict[str, npt.NDArray[np.int64]] = {"usd": np.full(self.days, _MICRO, dtype=np.int64)}
        for currency, start in _START.items():
            shocks = rng.normal(0.0, 0.0035, self.days)
            log_gap = np.empty(self.days)
            level = 0.0
            for day, shock in enumerate(shocks):  # mean-reverting log rate around the start value
                level = 0.995 * level + shock
                log_gap[day] = level
            walk = start * np.exp(log_gap)
            self.micro[currency] = np.round(walk * _MICRO).astype(np.int64)

    def usd_minor(self, amount_minor: int, currency: str, at: int) -> int:
        """``amount_minor`` in ``currency`` converted to USD minor units at the rate of the day of ``at``."""
        if currency == "usd":
            return amount_minor
        day = min(max(at // DAY - self.first_day, 0), self.days - 1)
        return (amount_minor * int(self.micro[currency][day]) + _MICRO // 2) // _MICRO

    def frame(self) -> pd.DataFrame:
        """``fx_rates`` rows: 1 eur/gbp = rate usd, and the inverse 1 usd = rate eur/gbp (6 decimals)."""
        dates = [to_date((self.first_day + d) * DAY) for d in range(self.days)]
        cols: dict[str, list[object]] = {"rate_date": [], "currency": [], "quote_currency": [], "rate": []}
        for currency in _START:
            micro = self.micro[currency]
            inverse = (_MICRO * _MICRO + micro // 2) // micro
            for base, quote, values in ((currency, "usd", micro), ("usd", currency, inverse)):
                cols["rate_date"] += dates
                cols["currency"] += [base] * self.days
                cols["quote_currency"] += [quote] * self.days
                cols["rate"] += [Decimal(int(v)).scaleb(-6) for v in values]
        cols["source"] = ["demo"] * len(cols["rate"])
        return store_frame("fx_rates", cols)
