"""Running an ASGI app (the fake Whop API, the webhook receiver) with uvicorn in a background thread.

Used by the demo, the tests and the benchmark: ``with serve_in_thread(app) as server: server.url``. The server
binds ``127.0.0.1`` on a free port chosen by the OS (port 0) unless one is given, and is stopped on exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from analytics.errors import ConfigError

__all__ = ["RunningServer", "serve_in_thread"]


@dataclass
class RunningServer:
    """A uvicorn server running in a thread; ``url`` is its base URL (no trailing slash)."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)


@contextmanager
def serve_in_thread(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> Iterator[RunningServer]:
    """Serve ``app`` in a daemon thread until the ``with`` block ends."""
    # proto=IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted connections (it checks sock.proto); without it
    # small responses wait out the peer's 40 ms delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}; choose another --port") from exc
    chosen = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise ConfigError(f"the server on {host}:{chosen} did not start")
        time.sleep(0.01)
    running = RunningServer(server, thread, host, chosen)
    try:
        yield running
    finally:
        running.stop()
        sock.close()
