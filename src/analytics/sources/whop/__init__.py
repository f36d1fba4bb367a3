"""Whop: the API v1 sync over HTTP, the signed webhook receiver, and a faithful local fake of the API.

* :func:`sync_whop` with a :class:`WhopClient` — incremental, resumable, exact (``analytics sync``).
* :class:`WebhookReceiver` — Standard Webhooks and legacy v5 signatures, an idempotent inbox
  (``analytics webhooks``); :func:`reprocess` replays the inbox.
* :class:`FakeWhop` — serves any store in the whop-sdk 2.6.0 shapes, injects faults, advances time and emits
  signed webhooks (``analytics fake-whop``); :func:`sync_demo` runs the whole path for the demo.
"""

from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.demo import DemoSyncResult, sync_demo
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.faults import Fault
from analytics.sources.whop.serving import serve_in_thread
from analytics.sources.whop.simulator import WebhookTarget
from analytics.sources.whop.sync import SyncResult, sync_whop
from analytics.sources.whop.webhook_events import inbox_report, reprocess
from analytics.sources.whop.webhooks import WebhookReceiver

__all__ = [
    "DemoSyncResult",
    "FakeWhop",
    "Fault",
    "SyncResult",
    "WebhookReceiver",
    "WebhookTarget",
    "WhopClient",
    "inbox_report",
    "reprocess",
    "serve_in_thread",
    "sync_demo",
    "sync_whop",
]
