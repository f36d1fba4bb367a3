"""Faults the fake Whop API injects on demand: rate limits, server errors, slow responses, malformed items.

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
RETRY_AFTER_FORMATS = frozenset({"ms", "seconds", "http-date"})


@dataclass
class Fault:
    """One fault.

    Attributes
    ----------
    kind:
        ``rate_limit`` (429 with ``retry-after``), ``server_error`` (``status``, default 503), ``slow`` (sleep
        ``delay`` seconds before answering) or ``malformed`` (the first item of the page gets an unparseable
        ``created_at``; with ``item_id``, that item wherever it is served, in a list page or by id).
    times:
        How many matching requests it hits (for a ``malformed`` fault with ``item_id``: how many times that item
        is served broken); ``-1`` for every one (a server that stays down, an item that stays broken until the
        faults are cleared).
    path:
        Only requests to this resource (``"memberships"``, list or retrieve); empty matches every API call.
    skip:
        Let this many matching requests through before the fault starts.
    retry_after:
        Seconds a ``rate_limit`` asks the client to wait.
    retry_after_format:
        How it is announced: ``ms`` (``retry-after-ms`` plus ``retry-after`` in whole seconds), ``seconds``
        (``retry-after`` alone, whole seconds) or ``http-date`` (``retry-after`` as an HTTP date, RFC 9110).
    item_id:
        The item a ``malformed`` fault breaks (empty: the first item of each list page it hits).
    """

    kind: str
    times: int = 1
    path: str = ""
    skip: int = 0
    status: int = 503
    retry_after: float = 1.0
    delay: float = 0.0
    retry_after_format: str = "ms"
    item_id: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {self.kind!r}; use one of {', '.join(sorted(FAULT_KINDS))}")
        if self.retry_after_format not in RETRY_AFTER_FORMATS:
            raise ConfigError(
                f"unknown retry_after_format {self.retry_after_format!r}; "
                f"use one of {', '.join(sorted(RETRY_AFTER_FORMATS))}"
            )
        if self.item_id and self.kind != "malformed":
            raise ConfigError(f"item_id applies to malformed faults only, not {self.kind!r}")

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
        ``slow`` and ``malformed`` faults combine with it. Faults on one item are not request faults: see
        :meth:`broken_items`.
        """
        fired: list[Fault] = []
        with self._lock:
            for fault in list(self._faults):
                if (fault.path and resource != fault.path) or fault.item_id:
                    continue
                blocking = fault.kind in ("rate_limit", "server_error")
                if blocking and any(f.kind in ("rate_limit", "server_error") for f in fired):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fired.append(fault)
                self._use(fault)
        return fired

    def broken_items(self, resource: str, served: Iterable[str]) -> set[str]:
        """Of the item ids about to be ``served`` from ``resource``, those a ``malformed`` fault breaks (each
        serving uses up one of the fault's ``times``)."""
        ids = set(served)
        broken: set[str] = set()
        with self._lock:
            for fault in list(self._faults):
                if not fault.item_id or fault.item_id not in ids or (fault.path and resource != fault.path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                broken.add(fault.item_id)
                self._use(fault)
        return broken

    def _use(self, fault: Fault) -> None:
        if fault.times > 0:
            fault.times -= 1
            if fault.times == 0:
                self._faults.remove(fault)
