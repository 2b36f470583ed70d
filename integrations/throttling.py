"""API throttling per token, per user and per anonymous address, counted in Redis.

Fixed one-window counters: one atomic INCR per request and throttle (DRF's sliding-window
throttle keeps a list of timestamps per caller, read and rewritten on every request). A
token's requests count against the token and against its user, so many tokens do not
multiply a user's allowance. The rates are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
("user", "token", "anon"), read on each request. If Redis is unreachable the API keeps
answering (a throttle must not become an outage); the failure is logged."""

import logging
import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .models import ApiToken

logger = logging.getLogger(__name__)
PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """ "600/min" → (600, 60). None or "" means no limit."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


class WindowThrottle(BaseThrottle):
    scope = ""

    def ident(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        self._wait: float | None = None
        rate = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        ident = self.ident(request)
        if rate is None or ident is None:
            return True
        limit, period = rate
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{period}:{window}"
        try:
            cache.add(key, 0, timeout=period + 1)
            count = cache.incr(key)
        except Exception:
            logger.warning("API throttle %s skipped: cache unavailable", self.scope, exc_info=True)
            return True
        if count <= limit:
            return True
        self._wait = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self._wait


class UserThrottle(WindowThrottle):
    """Every authenticated request, whatever the authentication."""

    scope = "user"

    def ident(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


class TokenThrottle(WindowThrottle):
    """Requests made with one API token."""

    scope = "token"

    def ident(self, request: Request) -> str | None:
        return str(request.auth.pk) if isinstance(request.auth, ApiToken) else None


class AnonThrottle(WindowThrottle):
    """Anonymous requests (the public schema and docs), per client address."""

    scope = "anon"

    def ident(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)
