"""Settings handed to notebook kernels (Papermill runs, Voilà dashboards) through their environment.

A kernel is a separate process that reads its settings with :func:`~analytics.settings.load_settings`, so
settings chosen on the command line (``--workspace``, ``--database-url``) must reach it as environment
variables. Secrets are never written into notebooks: they travel only in the environment, as they came.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from analytics.settings import Settings

__all__ = ["kernel_environment", "kernel_variables"]


_SECRET_VARIABLES = {"secret_key": "ANALYTICS_SECRET_KEY"}


def kernel_variables(settings: Settings, *, secrets: tuple[str, ...] = ()) -> dict[str, str]:
    """The variables a kernel needs to open the same store: an absolute workspace and the database URL.

    The workspace (and any ``PYTHONPATH``) is made absolute because kernels run in the notebook's folder, not the
    caller's. ``secrets``
    names secrets to pass on as well (only ``secret_key``, for the dashboard server's kernels), revealed here
    because a child process's environment is their point of use.
    """
    workspace = settings.workspace.expanduser().resolve()
    url = settings.database_url
    default_url = f"sqlite:///{settings.workspace / 'analytics.db'}"
    if url == default_url:
        url = f"sqlite:///{workspace / 'analytics.db'}"
    elif url.startswith("sqlite:///") and not url.startswith(("sqlite:////", "sqlite:///:memory:")):
        url = f"sqlite:///{os.path.abspath(url.removeprefix('sqlite:///'))}"
    values = {"ANALYTICS_WORKSPACE": str(workspace), "ANALYTICS_DATABASE_URL": url}
    if os.environ.get("PYTHONPATH"):  # kernels start in another folder: relative entries would break
        values["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) for p in os.environ["PYTHONPATH"].split(os.pathsep) if p
        )
    for name in secrets:
        value = getattr(settings, name)
        if value:
            values[_SECRET_VARIABLES[name]] = value.reveal()
    return values


@contextmanager
def kernel_environment(settings: Settings, *, secrets: tuple[str, ...] = ()) -> Iterator[dict[str, str]]:
    """Put :func:`kernel_variables` into ``os.environ`` while kernels are started, then restore it.

    Kernels inherit the environment of the process that launches them (Papermill's nbclient and Voilà both
    start kernels with the parent's environment).
    """
    values = kernel_variables(settings, secrets=secrets)
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield values
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
