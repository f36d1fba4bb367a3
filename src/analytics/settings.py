"""Settings: read once from the environment (and an optional config file outside the repository) into a
frozen object that is passed to whatever needs it.

Precedence: environment variable > config file > default. The config file is TOML, found at
``$ANALYTICS_CONFIG`` or ``~/.config/analytics/config.toml``; keys are the lower-case variable names
(``whop_api_key = "..."``). When neither names a workspace, the default is found like git finds its repository:
the nearest ``workspace/analytics.db`` in the current folder or its parents (see :func:`find_workspace`), so a
notebook opened from ``notebooks/`` uses the project's store; with none found it is ``./workspace``.
Secrets are wrapped in :class:`Secret`, whose ``repr`` and ``str`` never show the value, so printing a settings
object in a notebook, a log or a report cannot leak it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from analytics.errors import ConfigError

__all__ = ["STORE_FILE", "WORKSPACE_DIR", "Secret", "Settings", "WorkspaceSearch", "find_workspace", "load_settings"]

DEFAULT_WHOP_API_BASE_URL = "https://api.whop.com/api/v1"
DEFAULT_CONFIG_FILE = Path("~/.config/analytics/config.toml")
DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
WORKSPACE_DIR = "workspace"
"""Name of the workspace folder looked for in the current folder and its parents."""
STORE_FILE = "analytics.db"
"""Name of the SQLite store inside a workspace."""


class Secret:
    """A secret string that never shows itself in ``repr``/``str``; call :meth:`reveal` where it is used."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value. Call this only at the point of use (an HTTP header, an HMAC key)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


@dataclass(frozen=True)
class Settings:
    """Every setting of the workbook.

    Attributes
    ----------
    workspace:
        Folder for the SQLite store, executed notebooks, reports and models (``ANALYTICS_WORKSPACE``; default
        the nearest ``workspace/`` holding ``analytics.db`` in the current folder or its parents, else
        ``./workspace``).
    database_url:
        SQLAlchemy URL of the store (``ANALYTICS_DATABASE_URL``, default ``sqlite:///<workspace>/analytics.db``).
    whop_api_key, whop_webhook_secret, openai_api_key, secret_key, whatsapp_app_secret:
        Secrets (``WHOP_API_KEY``, ``WHOP_WEBHOOK_SECRET``, ``OPENAI_API_KEY``, ``ANALYTICS_SECRET_KEY``,
        ``WHATSAPP_APP_SECRET``); ``None`` when unset.
    whop_api_base_url:
        Base URL of the Whop API v1 (``WHOP_API_BASE_URL``).
    dashboard_pool_size:
        Pre-heated kernels kept waiting per dashboard (``ANALYTICS_DASHBOARD_POOL_SIZE``, default 1).
    dashboard_max_kernels:
        Viewer kernels the dashboard server runs at once (``ANALYTICS_DASHBOARD_MAX_KERNELS``); more viewers get a
        "busy, retry in a moment" page. ``0`` (the default) sizes it to the machine: one kernel per 400 MB of
        available memory after the pools, between 2 and 32.
    dashboard_grace_seconds:
        A viewer kernel with no browser connected for this long is shut down (``ANALYTICS_DASHBOARD_GRACE_SECONDS``,
        default 30).
    dashboard_idle_seconds:
        A viewer kernel with a browser connected but no activity for this long is shut down
        (``ANALYTICS_DASHBOARD_IDLE_SECONDS``, default 1800).
    dashboard_render_seconds:
        A viewer kernel busy without a pause for this long is shut down (``ANALYTICS_DASHBOARD_RENDER_SECONDS``,
        default 120): a page that hangs never holds a kernel for ever.
    webhook_max_body_bytes:
        Largest request body the webhook receiver reads (``ANALYTICS_WEBHOOK_MAX_BODY_BYTES``, default 1 MiB;
        Whop and WhatsApp deliveries are a few KB). A larger body is refused with 413 before it is read.
    sync_max_retry_after:
        Seconds the sync waits at most when the API asks it to (``retry-after``) before stopping with a resumable
        checkpoint instead (``ANALYTICS_SYNC_MAX_RETRY_AFTER``, default 600 = 10 minutes).
    sync_time_budget:
        Seconds of wall time a sync may take before it stops with a resumable checkpoint
        (``ANALYTICS_SYNC_TIME_BUDGET``, default 14400 = 4 hours).
    job_heartbeat_timeout:
        Seconds a running job may go without a heartbeat before it is shown as abandoned
        (``ANALYTICS_JOB_HEARTBEAT_TIMEOUT``, default 600 = 10 minutes; jobs beat every fifth of it).
    workspace_search:
        Not a setting: the store files looked for when no workspace was configured (:func:`find_workspace`),
        so an error about a missing store can name them; empty when the workspace was set.
    """

    workspace: Path = Path(WORKSPACE_DIR)
    database_url: str = ""
    whop_api_base_url: str = DEFAULT_WHOP_API_BASE_URL
    whop_api_key: Secret | None = field(default=None, repr=False)
    whop_webhook_secret: Secret | None = field(default=None, repr=False)
    whatsapp_app_secret: Secret | None = field(default=None, repr=False)
    whatsapp_verify_token: Secret | None = field(default=None, repr=False)
    openai_api_key: Secret | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    secret_key: Secret | None = field(default=None, repr=False)
    reporting_currency: str = "usd"
    sync_max_concurrency: int = 4
    sync_requests_per_second: float = 20.0
    dashboard_pool_size: int = 1
    dashboard_max_kernels: int = 0
    dashboard_grace_seconds: float = 30.0
    dashboard_idle_seconds: float = 1800.0
    dashboard_render_seconds: float = 120.0
    webhook_max_body_bytes: int = DEFAULT_WEBHOOK_MAX_BODY_BYTES
    sync_max_retry_after: float = 600.0
    sync_time_budget: float = 14400.0
    job_heartbeat_timeout: float = 600.0
    workspace_search: tuple[Path, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.workspace / STORE_FILE}")

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "workspace_search":
                continue
            if isinstance(value, Secret) or (f.name.endswith(("_key", "_secret", "_token")) and value):
                shown.append(f"{f.name}=<set>")
            elif f.name == "database_url":
                shown.append(f"database_url={_mask_url(value)!r}")
            else:
                shown.append(f"{f.name}={value!r}")
        return "Settings(" + ", ".join(shown) + ")"

    __str__ = __repr__

    def require(self, name: str) -> Secret:
        """Return the secret ``name`` or raise :class:`ConfigError` saying which variable to set."""
        value = getattr(self, name)
        if not value:
            raise ConfigError(
                f"{_ENV_NAMES[name]} is not set: export it in the environment or put "
                f'{name} = "..." in {DEFAULT_CONFIG_FILE} (a file outside the repository).'
            )
        assert isinstance(value, Secret)
        return value

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed (for tests and the CLI's ``--workspace``)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if (
            "workspace" in changes
            and "database_url" not in changes
            and values["database_url"] == (f"sqlite:///{values['workspace'] / STORE_FILE}")
        ):
            values["database_url"] = ""
        if "workspace" in changes or "database_url" in changes:
            values["workspace_search"] = ()  # the store is now the one chosen, not one that was looked for
        values.update(changes)
        return Settings(**values)


_ENV_NAMES = {
    "workspace": "ANALYTICS_WORKSPACE",
    "database_url": "ANALYTICS_DATABASE_URL",
    "whop_api_base_url": "WHOP_API_BASE_URL",
    "whop_api_key": "WHOP_API_KEY",
    "whop_webhook_secret": "WHOP_WEBHOOK_SECRET",
    "whatsapp_app_secret": "WHATSAPP_APP_SECRET",
    "whatsapp_verify_token": "WHATSAPP_VERIFY_TOKEN",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "openai_model": "ANALYTICS_OPENAI_MODEL",
    "secret_key": "ANALYTICS_SECRET_KEY",
    "reporting_currency": "ANALYTICS_REPORTING_CURRENCY",
    "sync_max_concurrency": "ANALYTICS_SYNC_MAX_CONCURRENCY",
    "sync_requests_per_second": "ANALYTICS_SYNC_REQUESTS_PER_SECOND",
    "dashboard_pool_size": "ANALYTICS_DASHBOARD_POOL_SIZE",
    "dashboard_max_kernels": "ANALYTICS_DASHBOARD_MAX_KERNELS",
    "dashboard_grace_seconds": "ANALYTICS_DASHBOARD_GRACE_SECONDS",
    "dashboard_idle_seconds": "ANALYTICS_DASHBOARD_IDLE_SECONDS",
    "dashboard_render_seconds": "ANALYTICS_DASHBOARD_RENDER_SECONDS",
    "webhook_max_body_bytes": "ANALYTICS_WEBHOOK_MAX_BODY_BYTES",
    "sync_max_retry_after": "ANALYTICS_SYNC_MAX_RETRY_AFTER",
    "sync_time_budget": "ANALYTICS_SYNC_TIME_BUDGET",
    "job_heartbeat_timeout": "ANALYTICS_JOB_HEARTBEAT_TIMEOUT",
}
_INTEGERS = {"sync_max_concurrency", "dashboard_pool_size", "webhook_max_body_bytes"}
_NON_NEGATIVE_INTEGERS = {"dashboard_max_kernels"}
_FLOATS = {
    "sync_requests_per_second",
    "sync_max_retry_after",
    "sync_time_budget",
    "job_heartbeat_timeout",
    "dashboard_grace_seconds",
    "dashboard_idle_seconds",
    "dashboard_render_seconds",
}
_SECRETS = {
    "whop_api_key",
    "whop_webhook_secret",
    "whatsapp_app_secret",
    "whatsapp_verify_token",
    "openai_api_key",
    "secret_key",
}


def _inside_repository(path: Path) -> bool:
    return any((parent / ".git").exists() for parent in path.resolve().parents)


def _read_config_file(path: Path) -> dict[str, Any]:
    if _inside_repository(path):
        raise ConfigError(
            f"config file {path} is inside a git repository; it may hold secrets, so keep it outside the "
            f"repository (for example {DEFAULT_CONFIG_FILE}) and point ANALYTICS_CONFIG at it."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read as TOML: {exc}. Fix or remove the file.") from exc
    unknown = sorted(set(data) - set(_ENV_NAMES))
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(_ENV_NAMES))}."
        )
    return data


@dataclass(frozen=True)
class WorkspaceSearch:
    """What :func:`find_workspace` found: the workspace (None when none) and the store files it looked at."""

    found: Path | None
    looked_at: tuple[Path, ...]


def _project_root(folder: Path) -> bool:
    """A project's top folder: a git checkout, or the folder holding ``notebooks/`` and ``params/``."""
    return (folder / ".git").exists() or ((folder / "notebooks").is_dir() and (folder / "params").is_dir())


def find_workspace(start: Path) -> WorkspaceSearch:
    """The nearest ``workspace/analytics.db`` in ``start`` or its parent folders.

    The walk ends at the first folder holding one, or at the project's top folder (a git checkout, or the folder
    holding ``notebooks/`` and ``params/``) so that another project's store higher up is never used; outside any
    project it goes up to the filesystem root. Nothing is created.
    """
    here = start.expanduser().resolve()
    looked: list[Path] = []
    for folder in (here, *here.parents):
        store = folder / WORKSPACE_DIR / STORE_FILE
        looked.append(store)
        if store.is_file():
            return WorkspaceSearch(store.parent, tuple(looked))
        if _project_root(folder):
            break
    return WorkspaceSearch(None, tuple(looked))


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: Path | None = None, *, cwd: Path | None = None
) -> Settings:
    """Read the settings once from ``environ`` (default ``os.environ``) and the optional config file.

    When neither sets ``ANALYTICS_WORKSPACE`` nor ``ANALYTICS_DATABASE_URL``, the workspace is the one
    :func:`find_workspace` finds from ``cwd`` (default the current folder), else ``./workspace``; the store files
    it looked at are kept in ``Settings.workspace_search`` for error messages.

    Raises
    ------
    ConfigError
        A value cannot be parsed, or the config file is unreadable or inside a repository.
    """
    env = os.environ if environ is None else environ
    if config_file is None:
        explicit = env.get("ANALYTICS_CONFIG")
        config_file = Path(explicit).expanduser() if explicit else DEFAULT_CONFIG_FILE.expanduser()
        if explicit and not config_file.exists():
            raise ConfigError(f"ANALYTICS_CONFIG points at {config_file}, which does not exist.")
    file_values = _read_config_file(config_file) if config_file.exists() else {}

    values: dict[str, Any] = {}
    for name, var in _ENV_NAMES.items():
        raw = env.get(var)
        if raw is None or raw == "":
            raw = file_values.get(name)
        if raw is None or raw == "":
            continue
        if name in _SECRETS:
            values[name] = Secret(str(raw))
        elif name == "workspace":
            values[name] = Path(str(raw)).expanduser()
        elif name in _INTEGERS:
            values[name] = _parse_number(var, raw, int)
        elif name in _NON_NEGATIVE_INTEGERS:
            values[name] = _parse_number(var, raw, int, allow_zero=True)
        elif name in _FLOATS:
            values[name] = _parse_number(var, raw, float)
        elif name == "reporting_currency":
            values[name] = str(raw).lower()
        else:
            values[name] = str(raw)
    if "workspace" not in values and "database_url" not in values:
        search = find_workspace(Path.cwd() if cwd is None else cwd)
        if search.found is not None:
            values["workspace"] = search.found
        values["workspace_search"] = search.looked_at
    return Settings(**values)


def _parse_number(var: str, raw: Any, kind: type[int] | type[float], *, allow_zero: bool = False) -> Any:
    try:
        value = kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{var}={raw!r} is not a number; set it to a positive {kind.__name__}.") from exc
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{var}={raw!r} must be {'zero or positive' if allow_zero else 'positive'}.")
    return value
