"""Every public module's ``__all__`` names only things that exist, sorted (as httpx checks its own)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import analytics


def _modules() -> list[str]:
    names = ["analytics"]
    for info in pkgutil.walk_packages(analytics.__path__, "analytics."):
        if ".migrations" in info.name or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_all_is_honest(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        return
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names {member!r}, which does not exist"


def test_errors_form_one_tree() -> None:
    from analytics import errors

    for member in errors.__all__:
        cls = getattr(errors, member)
        assert issubclass(cls, errors.AnalyticsError) or issubclass(cls, Warning), member
