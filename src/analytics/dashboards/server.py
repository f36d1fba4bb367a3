"""Serving the dashboards with Voilà, and the signed links that open them.

The server is Voilà on ``dashboards/`` (:class:`~analytics.dashboards.app.DashboardApp`) configured so viewers get
rendered pages and nothing else, and so that no request can make it run more kernels than the machine holds:

* **no kernel for a refused request**: the page handler checks the notebook, the link's signed token and the
  kernel budget before Voilà starts or hands out a kernel (:mod:`analytics.dashboards.gate`); a bad link gets
  ``403`` with the "not authorised" page, a full server ``503`` with a "busy, retry in a moment" page. The
  dashboard notebook checks the token again itself (:func:`analytics.dashboards.session.open_dashboard`);
* **pre-heated kernels**: ``dashboard_pool_size`` kernels per dashboard (default 1) are started ahead with their
  imports done and wait for a viewer (Voilà's ``preheat_kernel``); a page request takes one, so the viewer sees
  the page's titles and skeletons at once while its numbers load (:class:`~analytics.widgets.frame.DashboardFrame`
  fills panels after the page is shown); ``0`` starts a kernel per request instead;
* **bounded kernels**: at most ``dashboard_max_kernels`` viewer kernels at once; a viewer's kernel ends when the
  page is closed, when no browser is connected to it for ``dashboard_grace_seconds``, after
  ``dashboard_idle_seconds`` without activity, or when busy for ``dashboard_render_seconds``
  (:mod:`analytics.dashboards.kernel_limits`);
* no source: cell inputs are stripped from pages (``strip_sources``), and the file handler serves no files
  at all (``file_allowlist = []``, ``file_denylist = ['.*']``), so ``/voila/files/overview.ipynb`` is refused;
* no tracebacks: ``show_tracebacks = False``; errors are written to the server log, the page shows a short note;
* viewers' kernels accept only widget messages (Voilà's default), never code.

``python -m analytics.dashboards.server --port P DIR`` runs it in the foreground (the CLI ``analytics
dashboards`` and :func:`start_dashboards` use that).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from analytics.auth import make_dashboard_token
from analytics.clock import Clock, utcnow
from analytics.dashboards import DASHBOARDS
from analytics.dashboards.kernel_limits import KernelLimits, default_max_viewers
from analytics.errors import ReportError
from analytics.kernels import kernel_variables
from analytics.settings import Secret, Settings, load_settings

__all__ = [
    "DASHBOARDS",
    "DashboardServer",
    "dashboard_limits",
    "dashboard_links",
    "dashboards_dir",
    "free_port",
    "serve_dashboards",
    "start_dashboards",
    "voila_config",
    "with_secret_key",
]


PREHEAT_REFILL_DELAY = 5.0
"""Seconds Voilà waits, after a viewer took a pre-heated kernel, before starting its replacement."""


def dashboards_dir(root: Path | None = None) -> Path:
    """The ``dashboards/`` folder: under ``root``, else the source checkout's, else ``./dashboards``."""
    from analytics.reports.locations import project_paths

    return project_paths(root).dashboards


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and read what the OS chose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def dashboard_links(
    settings: Settings,
    account_id: str,
    base_url: str,
    *,
    expires_in: timedelta = timedelta(days=7),
    names: tuple[str, ...] = DASHBOARDS,
    clock: Clock = utcnow,
) -> dict[str, str]:
    """Signed links to each dashboard for ``account_id`` (``base_url`` such as ``http://127.0.0.1:8866``)."""
    token = make_dashboard_token(settings.require("secret_key"), account_id, expires_in, clock)
    base = base_url.rstrip("/")
    return {name: f"{base}/voila/render/{name}.ipynb?token={quote(token)}" for name in names}


def with_secret_key(settings: Settings, *, create: bool = False) -> tuple[Settings, str | None]:
    """Settings with a key to sign dashboard links: ``ANALYTICS_SECRET_KEY``, else ``<workspace>/secret_key``.

    The workspace key lets the demo sign links on a fresh machine: with ``create=True`` a random key is written
    there once (mode 600; the workspace is not committed) and reused, so earlier links stay valid and
    ``analytics dashboards`` on the same workspace accepts them. Returns a note when the workspace key is used.

    Raises
    ------
    ConfigError
        No key is configured and ``create`` is false.
    """
    if settings.secret_key:
        return settings, None
    path = settings.workspace.expanduser().resolve() / "secret_key"
    if not path.exists():
        if not create:
            settings.require("secret_key")  # raises ConfigError naming ANALYTICS_SECRET_KEY
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32))
    key = path.read_text(encoding="utf-8").strip()
    note = f"ANALYTICS_SECRET_KEY is not set: dashboard links are signed with the workspace key in {path}."
    return settings.replace(secret_key=Secret(key)), note


def dashboard_limits(settings: Settings, *, dashboards: int = len(DASHBOARDS)) -> KernelLimits:
    """The kernel budget from the settings (``dashboard_*``); a zero ``dashboard_max_kernels`` is sized to the
    machine (:func:`~analytics.dashboards.kernel_limits.default_max_viewers`)."""
    pool = settings.dashboard_pool_size
    return KernelLimits(
        max_viewers=settings.dashboard_max_kernels or default_max_viewers(pool * dashboards),
        pool_size=pool,
        grace_seconds=settings.dashboard_grace_seconds,
        idle_seconds=settings.dashboard_idle_seconds,
        render_seconds=settings.dashboard_render_seconds,
    )


def voila_config(port: int, ip: str = "127.0.0.1", *, pool_size: int = 1) -> Any:
    """The traitlets configuration of the dashboard server (see the module docstring).

    ``pool_size`` kernels per dashboard are kept started, with their imports done and the link check waiting for a
    viewer (Voilà's ``preheat_kernel``); ``0`` starts a kernel per viewer instead. Links are checked by the page
    handler before either (:mod:`analytics.dashboards.gate`), so Voilà's own ``prelaunch_hook`` is not used.
    """
    from traitlets.config import Config

    c = Config()
    c.Voila.ip = ip
    c.Voila.port = port
    c.Voila.port_retries = 0
    c.Voila.open_browser = False
    c.Voila.tornado_settings = {
        "headers": {"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer"},
        "xsrf_cookie_kwargs": {"samesite": "Strict", "httponly": False},
    }
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.show_tracebacks = False
    c.VoilaConfiguration.file_allowlist = []
    c.VoilaConfiguration.file_denylist = [".*"]
    c.VoilaConfiguration.theme = "light"
    c.VoilaExecutor.cell_error_instruction = "This part of the dashboard could not be shown; the operator can see why."
    if pool_size > 0:
        c.VoilaConfiguration.preheat_kernel = True
        c.VoilaConfiguration.default_pool_size = pool_size
        # Refill the pool only once the page that took the kernel is likely drawn: starting the next kernel
        # (~1 CPU-second of imports) while the first one runs its queries slowed that page on a small machine.
        c.VoilaKernelManager.fill_delay = PREHEAT_REFILL_DELAY
        c.VoilaExecutor.timeout = None  # a pool kernel's first cell waits for a viewer; the watcher bounds the rest
    else:
        c.VoilaExecutor.timeout = 300
    return c


def serve_dashboards(
    directory: Path,
    port: int,
    ip: str = "127.0.0.1",
    *,
    settings: Settings | None = None,
    limits: KernelLimits | None = None,
) -> None:
    """Run the dashboard server on ``directory`` in this process until interrupted (Ctrl-C)."""
    if not directory.is_dir():
        raise ReportError(f"dashboards folder {directory} does not exist; run from the project checkout")
    from analytics.dashboards.app import DashboardApp

    settings = settings or load_settings()
    limits = limits or dashboard_limits(settings, dashboards=len(list(directory.glob("*.ipynb"))))
    app = DashboardApp(
        directory=directory.resolve(),
        settings=settings,
        limits=limits,
        config=voila_config(port, ip, pool_size=limits.pool_size),
    )
    app.initialize([str(directory)])
    app.start()


@dataclass
class DashboardServer:
    """A Voilà server started by :func:`start_dashboards`; stop it with :meth:`stop` (or use ``with``)."""

    process: subprocess.Popen[bytes]
    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Terminate the server this object started (and only it), then close its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def wait(self) -> None:
        """Block until the server exits or Ctrl-C, then stop it (``analytics demo --serve``)."""
        try:
            self.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> DashboardServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_dashboards(
    settings: Settings,
    *,
    directory: Path | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    limits: KernelLimits | None = None,
) -> DashboardServer:
    """Start the dashboard server in a subprocess and wait until it accepts connections.

    The server and its kernels get ``settings``' store and ``ANALYTICS_SECRET_KEY`` through their environment, and
    the kernel budget (``limits``, default :func:`dashboard_limits` of ``settings``) as options; its log (where
    dashboard errors go) is written to ``log_path`` (default ``<workspace>/logs/dashboards.log``).

    Raises
    ------
    ReportError
        The server exited or did not listen within ``timeout`` seconds (the message points at the log).
    """
    directory = directory or dashboards_dir()
    port = port or free_port(host)
    log_path = log_path or settings.workspace.expanduser().resolve() / "logs" / "dashboards.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ if environ is None else environ)
    env.update(kernel_variables(settings, secrets=("secret_key",)))
    log = log_path.open("ab")
    limits = limits or dashboard_limits(settings)
    cmd = [sys.executable, "-m", "analytics.dashboards.server", "--port", str(port), "--ip", host, str(directory)]
    cmd += [
        f"--pool-size={limits.pool_size}",
        f"--max-kernels={limits.max_viewers}",
        f"--grace-seconds={limits.grace_seconds}",
        f"--idle-seconds={limits.idle_seconds}",
        f"--render-seconds={limits.render_seconds}",
    ]
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(directory))
    server = DashboardServer(process, port, host, log_path, log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            server.stop()
            raise ReportError(f"the dashboard server exited with code {process.returncode}; see {log_path}")
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return server
        except OSError as exc:
            if time.monotonic() > deadline:
                server.stop()
                raise ReportError(
                    f"the dashboard server did not listen on port {port} in {timeout:.0f} s; see {log_path}"
                ) from exc
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    """``python -m analytics.dashboards.server [--port P] [--ip IP] [--pool-size N] … DIR``."""
    settings = load_settings()
    defaults = dashboard_limits(settings)
    parser = argparse.ArgumentParser(description="Serve the Voilà dashboards (no source, no tracebacks).")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--pool-size", type=int, default=defaults.pool_size, help="pre-heated kernels per dashboard")
    parser.add_argument("--max-kernels", type=int, default=defaults.max_viewers, help="viewer kernels at once")
    parser.add_argument("--grace-seconds", type=float, default=defaults.grace_seconds)
    parser.add_argument("--idle-seconds", type=float, default=defaults.idle_seconds)
    parser.add_argument("--render-seconds", type=float, default=defaults.render_seconds)
    args = parser.parse_args(argv)
    limits = KernelLimits(
        max_viewers=args.max_kernels,
        pool_size=args.pool_size,
        grace_seconds=args.grace_seconds,
        idle_seconds=args.idle_seconds,
        render_seconds=args.render_seconds,
    )
    serve_dashboards(args.directory, args.port, args.ip, settings=settings, limits=limits)


if __name__ == "__main__":
    main()
