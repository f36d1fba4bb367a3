"""Dashboard tokens: a link opens exactly one account until it expires, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.auth import (
    make_dashboard_token,
    parse_duration,
    token_from_query_string,
    verify_dashboard_token,
)
from analytics.clock import fixed_clock
from analytics.dashboards.session import authorise_query
from analytics.errors import AuthorizationError, ConfigError
from analytics.settings import Secret, Settings

KEY = Secret("test-secret-key-0123456789abcdef")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def token(account: str = "biz_alpha", lifetime: timedelta = timedelta(days=7), key: Secret = KEY) -> str:
    return make_dashboard_token(key, account, lifetime, fixed_clock(NOW))


def test_valid_token_opens_its_account_until_it_expires() -> None:
    claims = verify_dashboard_token(KEY, token(), clock=fixed_clock(NOW + timedelta(days=6, hours=23)))
    assert claims.account_id == "biz_alpha"
    assert claims.expires_at == NOW + timedelta(days=7)


def test_expired_token_is_refused() -> None:
    with pytest.raises(AuthorizationError, match="expired on 2025-06-08 12:00 UTC"):
        verify_dashboard_token(KEY, token(), clock=fixed_clock(NOW + timedelta(days=7)))


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "eyJhY2N0IjoiYml6X2JldGEiLCJleHAiOjk5OTk5OTk5OTksInYiOjF9" + t[t.index(".") :],  # payload swapped
        lambda t: t.split(".")[0],  # signature removed
        lambda t: "not-a-token",
        lambda t: token(key=Secret("another-secret-key-0123456789")),  # signed with another key
    ],
)
def test_forged_tokens_are_refused(forge: object) -> None:
    forged = forge(token())  # type: ignore[operator]
    with pytest.raises(AuthorizationError, match="not valid"):
        verify_dashboard_token(KEY, forged, clock=fixed_clock(NOW))


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_token_is_refused(missing: str | None) -> None:
    with pytest.raises(AuthorizationError, match="no access token"):
        verify_dashboard_token(KEY, missing, clock=fixed_clock(NOW))


def test_token_for_another_account_is_refused() -> None:
    with pytest.raises(AuthorizationError, match="another account"):
        verify_dashboard_token(KEY, token("biz_alpha"), account_id="biz_beta", clock=fixed_clock(NOW))


def test_query_string_account_must_match_the_token() -> None:
    settings = Settings(secret_key=KEY)
    good = token("biz_alpha")
    assert authorise_query(f"token={good}", settings, fixed_clock(NOW)).account_id == "biz_alpha"
    assert authorise_query(f"token={good}&account=biz_alpha", settings, fixed_clock(NOW)).account_id == "biz_alpha"
    with pytest.raises(AuthorizationError, match="another account"):
        authorise_query(f"token={good}&account=biz_beta", settings, fixed_clock(NOW))
    with pytest.raises(AuthorizationError, match="repeats the 'token'"):
        authorise_query(f"token={good}&token={token('biz_beta')}", settings, fixed_clock(NOW))


def test_server_without_secret_key_refuses_with_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ANALYTICS_SECRET_KEY"):
        authorise_query(f"token={token()}", Settings(), fixed_clock(NOW))
    with pytest.raises(ConfigError, match="too short"):
        make_dashboard_token(Secret("short"), "biz_alpha", timedelta(days=1), fixed_clock(NOW))


def test_token_survives_url_encoding_and_reveals_no_secret() -> None:
    from urllib.parse import quote

    raw = token()
    assert token_from_query_string(f"token={quote(raw)}&x=1") == (raw, None)
    assert KEY.reveal() not in raw


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)), ("7d", timedelta(days=7)), ("2w", timedelta(14))],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "0d", "-1d", "7y", "seven days"])
def test_parse_duration_refuses_nonsense(text: str) -> None:
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration(text)
