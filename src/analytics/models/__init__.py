"""Models: churn prediction (``analytics.models.churn``) and retention projection (``analytics.models.retention``).

The subpackages are imported on first use, so a module that only reads stored results stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["churn", "retention"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"analytics.models.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
