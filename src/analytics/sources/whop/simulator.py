"""Moving a source business forward in time, the way Whop would, and emitting the matching signed webhooks.

Each simulated day, per account: memberships whose period ended renew (a payment, sometimes a failed one that
puts the membership past due), end (``cancel_at_period_end``) or convert from trial; a few members cancel at
period end; new members sign up (member, membership, first payment); sometimes a recent payment is refunded, a
chat message is posted or a lesson is completed. Every change is written to the source store and becomes a v1
webhook (``member.created``, ``membership.activated``/``updated``/``deactivated``, ``payment.succeeded``/
``failed``, ``refund.created``, ``chat.message.created``, ``course_lesson_interaction.completed``) signed with
Standard Webhooks and posted to the receiver. Deterministic for a seed and a starting instant.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.sources.whop.signatures import sign_standard
from analytics.sources.whop.simulated_day import API_VERSION_DATE, AdvanceResult, SimulatedDay
from analytics.store import schema as s

__all__ = ["API_VERSION_DATE", "AdvanceResult", "Simulator", "WebhookTarget"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookTarget:
    """Where webhooks go: the receiver URL, the ``ws_…`` signing secret and an optional injected client."""

    url: str
    secret: str = field(repr=False)
    http: httpx.Client | None = None


class Simulator:
    """Advances a source store day by day; see the module docstring."""

    def __init__(
        self, engine: Engine, *, seed: int = 7, now: datetime | None = None, webhook: WebhookTarget | None = None
    ) -> None:
        self.engine = engine
        self.seed = seed
        self.webhook = webhook
        self._now = now

    @property
    def now(self) -> datetime:
        """The simulated present (default: the newest membership or payment in the store)."""
        if self._now is None:
            with self.engine.connect() as conn:
                newest = conn.execute(
                    sa.select(sa.func.max(s.memberships.c.updated_at)).union_all(
                        sa.select(sa.func.max(s.payments.c.created_at))
                    )
                ).scalars()
                found = [t for t in newest if t is not None]
            self._now = max(found) if found else datetime.now(UTC)
        return self._now

    def advance(self, days: float) -> AdvanceResult:
        """Simulate ``days`` days (whole days, then the remainder) and deliver the webhooks."""
        result = AdvanceResult(start=self.now, end=self.now)
        remaining = float(days)
        while remaining > 1e-9:
            step = min(1.0, remaining)
            t = self.now + timedelta(days=step)
            rng = random.Random(f"{self.seed}:{t.isoformat()}")
            with self.engine.begin() as conn:
                accounts = conn.execute(sa.select(s.accounts.c.id).order_by(s.accounts.c.id)).scalars().all()
                for account_id in accounts:
                    SimulatedDay(conn, account_id, t, rng, result).run()
            self._now = t
            remaining -= step
        result.end = self.now
        self._deliver(result)
        return result

    def _deliver(self, result: AdvanceResult) -> None:
        if self.webhook is None or not result.events:
            return
        client = self.webhook.http or httpx.Client(timeout=10)
        try:
            for envelope in result.events:
                body = json.dumps(envelope, separators=(",", ":"))
                headers = sign_standard(self.webhook.secret, envelope["id"], body, datetime.now(UTC))
                try:
                    response = client.post(
                        self.webhook.url, content=body, headers={**headers, "content-type": "application/json"}
                    )
                    ok = response.is_success
                except httpx.HTTPError as exc:
                    log.warning("webhook %s to %s failed: %s", envelope["type"], self.webhook.url, exc)
                    ok = False
                result.delivered += ok
                result.failed += not ok
        finally:
            if self.webhook.http is None:
                client.close()
