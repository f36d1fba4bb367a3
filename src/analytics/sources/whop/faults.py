"""Faults the fake Whop API injects on demand: rate limits, server errors, slow responses, a malformed item.

Give them to :class:`~analytics.sources.whop.fake_server.FakeWhop` (``faults=[Fault("rate_limit", times=2)]``)
or post them to its control endpoint ``POST /_fake/faults`` as JSON (``[{"kind": "server_error", "status": 503}]``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from analytics.errors import ConfigError

__all__ = ["FAULT_KINDS", "Fault", "FaultPlan"]

FAULT_KINDS = frozenset({"rate_limit", "server_error", "slow", "malformed"})


@dataclass
class Fault:
    """One fault.

    Attributes
    ----------
    kind:
        ``rate_limit`` (429 with ``retry-after``), ``server_error`` (``status``, default 503), ``slow`` (sleep
        ``delay`` seconds before answering) or ``malformed`` (the first item of the page gets an unparseable
        ``created_at``).
    times:
        How many matching requests it hits; ``-1`` for every one (a server that stays down).
    path:
        Only requests to this resource (``"memberships"``, list or retrieve); empty matches every API call.
    skip:
        Let this many matching requests through before the fault starts.
    retry_after:
        Seconds announced in ``retry-after`` (whole seconds) and ``retry-after-ms`` for ``rate_limit``.
    """

    kind: str
    times: int = 1
    path: str = ""
    skip: int = 0
    status: int = 503
    retry_after: float = 1.0
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {self.kind!r}; use one of {', '.join(sorted(FAULT_KINDS))}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from the control endpoint's JSON (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown fault field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**dict(data))


class FaultPlan:
    """The faults still to fire, consumed request by request (thread-safe)."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults)

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take(self, resource: str) -> list[Fault]:
        """The faults that fire for one request to ``resource`` (each firing uses up one of its ``times``).

        At most one failing fault (``rate_limit``/``server_error``) fires per request, the first in the plan;
        ``slow`` and ``malformed`` faults combine with it.
        """
        fired: list[Fault] = []
        with self._lock:
            for fault in list(self._faults):
                if fault.path and resource != fault.path:
                    continue
                blocking = fault.kind in ("rate_limit", "server_error")
                if blocking and any(f.kind in ("rate_limit", "server_error") for f in fired):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fired.append(fault)
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
        return fired
