"""Suggestions for mistyped names in error messages (metric names, parameters, policies, breakdowns …)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'mrr'?)`` for the known name closest to ``name`` (difflib), or ``""`` when none is close.

    For messages about an unknown name: ``f"unknown metric {name!r}{did_you_mean(name, names)}; known: …"``.

    Examples
    --------
    >>> did_you_mean("mrrr", ["mrr", "arr", "ltv"])
    " (did you mean 'mrr'?)"
    >>> did_you_mean("colour", ["steps", "window"])
    ''
    """
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
