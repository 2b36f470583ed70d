"""Throttling per token and per user, counted in Redis, answered 429 with Retry-After."""

import pytest
from rest_framework.test import APIClient

from integrations.choices import TokenScope
from integrations.throttling import parse_rate

from .conftest import bearer

pytestmark = pytest.mark.django_db


def rates(settings, **rates: str | None) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None, "user": None, "anon": None, **rates},
    }


def test_a_token_is_limited_to_its_own_rate(settings, requester, make_token):
    rates(settings, token="3/min")
    first, second = bearer(make_token(requester)), bearer(make_token(requester))

    codes = [first.get("/api/v1/tickets/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert second.get("/api/v1/tickets/").status_code == 200  # another token, its own count


def test_a_users_tokens_and_session_share_the_user_rate(settings, client, requester, make_token):
    # given a user allowed 4 requests a minute, whatever the credentials
    rates(settings, user="4/min")
    tokens = [bearer(make_token(requester, scope=TokenScope.READ)) for _ in range(2)]
    client.force_login(requester)
    # when they spread requests over two tokens and the browser session
    codes = [
        tokens[0].get("/api/v1/tickets/").status_code,
        tokens[1].get("/api/v1/tickets/").status_code,
        client.get("/api/v1/tickets/").status_code,
        tokens[0].get("/api/v1/tickets/").status_code,
        tokens[1].get("/api/v1/tickets/").status_code,
    ]
    # then the fifth is refused
    assert codes == [200, 200, 200, 200, 429]


def test_users_are_counted_apart(settings, requester, other_requester, make_token):
    rates(settings, user="1/min")
    mine, theirs = bearer(make_token(requester)), bearer(make_token(other_requester))

    assert mine.get("/api/v1/tickets/").status_code == 200
    assert mine.get("/api/v1/tickets/").status_code == 429
    assert theirs.get("/api/v1/tickets/").status_code == 200


def test_429_says_when_to_retry_in_the_one_error_format(settings, requester, make_token):
    rates(settings, user="1/hour")
    client = bearer(make_token(requester))
    client.get("/api/v1/tickets/")

    response = client.get("/api/v1/tickets/")

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert response.json()["status"] == 429
    assert "throttled" in response.json()["detail"]


def test_anonymous_calls_are_limited_by_address(settings):
    rates(settings, anon="2/day")
    client = APIClient(REMOTE_ADDR="203.0.113.9")

    codes = [client.get("/api/schema/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_an_unreachable_cache_does_not_take_the_api_down(settings, requester, make_token):
    # given a cache server nobody listens on
    rates(settings, user="1/min")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    client = bearer(make_token(requester))
    # then requests are answered, unthrottled
    assert [client.get("/api/v1/tickets/").status_code for _ in range(2)] == [200, 200]


def test_rates_parse():
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100/day") == (100, 86400)
    assert parse_rate(None) is None
