"""Growth versus the previous period, never a division error."""

from __future__ import annotations

import math
from typing import TypeGuard

__all__ = ["NEW", "growth_pct"]

NEW = "new"


def growth_pct(current: float | None, previous: float | None, decimals: int = 2) -> float | str | None:
    """Growth rate ``(current − previous) ÷ previous × 100``, rounded to ``decimals``.

    ``previous = 0`` is undefined and answered ``"new"`` (shown as "new"), except that 0 after 0 is 0.0 (nothing
    changed). A missing or non-numeric value on either side gives None. The divisor is ``|previous|`` so that a
    rise from a negative value (a net movement, say) reads as positive growth.
    """
    if not (_is_number(current) and _is_number(previous)):
        return None
    if previous == 0:
        return 0.0 if current == 0 else NEW
    return round((current - previous) / abs(previous) * 100, decimals)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)
