"""The fake Whop API speaks the whop-sdk 2.6.0 shapes: the official SDK client reads every resource from it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from whop_sdk import Whop, WhopEnvironment
from whop_sdk.core.api_error import ApiError as SdkApiError

from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.faults import Fault
from analytics.sources.whop.serving import RunningServer
from conftest import API_KEY


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def sdk(server: RunningServer, http: httpx.Client, token: str = API_KEY) -> Whop:
    base = f"{server.url}/api/v1"
    return Whop(token=token, environment=WhopEnvironment(api=base, vault=base), max_retries=0, httpx_client=http)


def test_the_official_sdk_reads_every_resource(fake_server: RunningServer, http: httpx.Client) -> None:
    client = sdk(fake_server, http)
    # Small pages: the SDK follows end_cursor until it is null, so these counts also check the pagination.
    counts = {
        "memberships": len(list(client.memberships.list(account_id="biz_tiny", first=2))),
        "members": len(list(client.members.list(account_id="biz_tiny", first=2))),
        "payments": len(list(client.payments.list(account_id="biz_tiny", first=4))),
        "refunds": len(list(client.refunds.list(account_id="biz_tiny"))),
        "products": len(list(client.products.list(account_id="biz_tiny"))),
        "variants": len(list(client.variants.list(account_id="biz_tiny", first=1))),
        "plans": len(list(client.plans.list(account_id="biz_tiny"))),
        "promo_codes": len(list(client.promo_codes.list(account_id="biz_tiny"))),
        "affiliates": len(list(client.affiliates.list(account_id="biz_tiny"))),
        "courses": len(list(client.courses.list(account_id="biz_tiny"))),
        "course_chapters": len(list(client.course_chapters.list(course_id="cors_1"))),
        "course_lessons": len(list(client.course_lessons.list(course_id="cors_1"))),
        "course_lesson_interactions": len(list(client.course_lesson_interactions.list(course_id="cors_1"))),
        "chat_channels": len(list(client.chat_channels.list(account_id="biz_tiny"))),
        "messages": len(list(client.messages.list(channel_id="chan_1"))),
        "forums": len(list(client.forums.list(account_id="biz_tiny"))),
        "forum_posts": len(list(client.forum_posts.list(experience_id="exp_forum"))),
    }
    assert counts == {
        "memberships": 7,
        "members": 6,
        "payments": 9,
        "refunds": 1,
        "products": 2,
        "variants": 3,
        "plans": 3,
        "promo_codes": 1,
        "affiliates": 1,
        "courses": 1,
        "course_chapters": 2,
        "course_lessons": 3,
        "course_lesson_interactions": 4,
        "chat_channels": 1,
        "messages": 3,
        "forums": 1,
        "forum_posts": 3,
    }
    membership = client.memberships.retrieve("mem_5")
    assert membership.renewal_price is not None and membership.renewal_price.amount == "15.00"  # promo: $20 - 25 %
    assert membership.cancel_at_period_end and membership.most_recent_action == "canceling_on"
    variant = next(v for v in client.variants.list(account_id="biz_tiny") if v.id == "plan_once")
    assert variant.initial_price == 49.0 and variant.currency == "eur" and variant.billing_period is None


def test_pages_end_with_a_null_cursor_and_filters_take_both_array_forms(fake_server: RunningServer) -> None:
    with httpx.Client(base_url=f"{fake_server.url}/api/v1", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        first = http.get("/memberships", params={"account_id": "biz_tiny", "first": 5}).json()
        assert len(first["data"]) == 5 and first["page_info"]["has_next_page"] is True
        rest = http.get(
            "/memberships", params={"account_id": "biz_tiny", "first": 5, "after": first["page_info"]["end_cursor"]}
        ).json()
        assert len(rest["data"]) == 2 and rest["page_info"]["end_cursor"] is None
        # Newest first by default (mem_2 was created 2025-06-28); order/direction flip it.
        assert first["data"][0]["id"] == "mem_2"
        oldest = http.get(
            "/memberships", params={"account_id": "biz_tiny", "order": "created_at", "direction": "asc", "first": 1}
        ).json()
        assert oldest["data"][0]["id"] == "mem_3"
        repeated = http.get("/memberships?account_id=biz_tiny&statuses=active&statuses=past_due").json()
        brackets = http.get("/memberships?account_id=biz_tiny&statuses[]=active&statuses[]=past_due").json()
        # mem_5 is active but canceling at period end: the `canceling` bucket has it, `active` does not.
        assert (
            sorted(m["id"] for m in repeated["data"]) == sorted(m["id"] for m in brackets["data"]) == ["mem_1", "mem_4"]
        )
        canceling = http.get("/memberships", params={"account_id": "biz_tiny", "status": "canceling"}).json()
        assert [m["id"] for m in canceling["data"]] == ["mem_5"]
        june = http.get("/payments", params={"account_id": "biz_tiny", "created_after": "2025-06-01T00:00:00Z"}).json()
        assert sorted(p["id"] for p in june["data"]) == ["pay_4", "pay_6"]
        payment = http.get("/payments/pay_8").json()
        assert payment["refunded_amount"] == {
            "amount": "10.00",
            "currency": "eur",
            "decimals": 2,
            "display_decimals": 2,
        }
        assert payment["created_at"] == "2025-05-05T10:00:00.000Z"
        assert http.get("/payments/pay_nope").status_code == 404


def test_a_bad_token_gets_401_with_an_error_body(fake_server: RunningServer, http: httpx.Client) -> None:
    response = httpx.get(f"{fake_server.url}/api/v1/memberships", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"type", "message", "code"}
    with pytest.raises(SdkApiError) as caught:
        list(sdk(fake_server, http, token="wrong").memberships.list())
    assert caught.value.status_code == 401


def test_faults_on_demand(fake: FakeWhop, fake_server: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    url = f"{fake_server.url}/api/v1/members"
    fake.faults.add(Fault("rate_limit", retry_after=2), Fault("server_error", status=502, path="members"))
    limited = httpx.get(url, headers=headers)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert httpx.get(url, headers=headers).status_code == 502
    # Through the control endpoint: one malformed item on the next page.
    control = httpx.post(
        f"{fake_server.url}/_fake/faults", headers=headers, json={"kind": "malformed", "path": "members"}
    )
    assert control.status_code == 200
    page = httpx.get(url, headers=headers).json()
    assert page["data"][0]["created_at"] == "not-a-timestamp"
    assert httpx.get(url, headers=headers).json()["data"][0]["created_at"].endswith("Z")
    bad = httpx.post(f"{fake_server.url}/_fake/faults", headers=headers, json={"kind": "meteor"})
    assert bad.status_code == 400
