"""Who else has a desk ticket open: presence kept in Redis, never in PostgreSQL.

Per ticket one Redis hash, one field per agent: ``"<at ms>|<json>"``. Entries expire
``DESK_PRESENCE_TTL_SECONDS`` (default 30) after the agent's last touch; the page touches every
~10 s, so an agent who closes the tab disappears within the TTL. A small Lua script writes the
caller's entry, reads the hash and prunes expired fields atomically: one round trip per touch
or read, and the clock is Redis's own (``TIME``), so web servers with skewed clocks agree.

Presence is a courtesy, not a lock: when Redis is unavailable the functions log and return
nothing rather than break the ticket page.
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

State = Literal["viewing", "typing"]
VIEWING: State = "viewing"
TYPING: State = "typing"
STATES: frozenset[str] = frozenset({VIEWING, TYPING})

# KEYS[1]: the ticket's hash. ARGV: ttl (ms), field ('' = read only), entry JSON.
# Returns the live "<at>|<json>" values; deletes expired fields on the way.
_TOUCH_AND_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[2], now .. '|' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local flat = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #flat, 2 do
  local value = flat[i + 1]
  local at = tonumber(string.match(value, '^(%d+)|'))
  if at and at > now - ttl then
    table.insert(live, value)
  else
    redis.call('HDEL', KEYS[1], flat[i])
  end
end
return live
"""


@dataclass(frozen=True)
class Presence:
    """One agent on one ticket, as last reported by their page."""

    user_id: int
    name: str
    state: State
    at: datetime

    @property
    def typing(self) -> bool:
        return self.state == TYPING


def ttl_seconds() -> float:
    return float(getattr(settings, "DESK_PRESENCE_TTL_SECONDS", 30))


@lru_cache(maxsize=4)
def _client(url: str) -> tuple[redis.Redis, Any]:
    # Short timeouts: a slow Redis must cost the poll a fraction of a second, not the page.
    client = redis.Redis.from_url(
        url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
    )
    # EVALSHA with the script's digest; redis-py loads the script once if Redis lacks it.
    return client, client.register_script(_TOUCH_AND_READ)


def _redis() -> tuple[redis.Redis, Any]:
    return _client(getattr(settings, "DESK_PRESENCE_REDIS_URL", settings.REDIS_URL))


def _key(ticket_id: int) -> str:
    # The cache prefix keeps environments (and parallel test runs) on one Redis apart.
    prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX", "servicedesk")
    return f"{prefix}:desk:presence:{int(ticket_id)}"


def _name(user: Any) -> str:
    return getattr(user, "display_name", "") or str(user)


def _parse(value: str) -> Presence | None:
    at, _, payload = value.partition("|")
    try:
        data = json.loads(payload)
        return Presence(
            user_id=int(data["id"]),
            name=str(data["name"]),
            state=TYPING if data.get("state") == TYPING else VIEWING,
            at=datetime.fromtimestamp(int(at) / 1000, tz=UTC),
        )
    except (ValueError, KeyError, TypeError):
        return None  # a malformed entry hides one badge, never the page


def _run(ticket_id: int, field: str, entry: str) -> list[Presence]:
    ttl_ms = max(1, int(ttl_seconds() * 1000))
    _, script = _redis()
    try:
        values = script(keys=[_key(ticket_id)], args=[ttl_ms, field, entry])
    except redis.RedisError:
        logger.warning("Desk presence skipped: Redis unavailable", exc_info=True)
        return []
    entries = [p for p in (_parse(v) for v in values) if p is not None]
    return sorted(entries, key=lambda p: (p.name.lower(), p.user_id))


def presence_touch(*, ticket_id: int, user: Any, state: State = VIEWING) -> list[Presence]:
    """Record that `user` has ticket `ticket_id` open (viewing, or typing in an editor) and
    return the *other* agents present, by name. One Redis round trip."""
    if state not in STATES:
        raise ValueError(f"unknown presence state {state!r}")
    entry = json.dumps({"id": user.pk, "name": _name(user), "state": state})
    return [p for p in _run(ticket_id, str(user.pk), entry) if p.user_id != user.pk]


def presence_others(*, ticket_id: int, user: Any) -> list[Presence]:
    """The agents other than `user` present on the ticket, without touching `user`'s entry."""
    return [p for p in _run(ticket_id, "", "") if p.user_id != user.pk]


def presence_leave(*, ticket_id: int, user: Any) -> None:
    """Forget `user` on the ticket at once (the page was closed), instead of waiting for the
    entry to expire."""
    try:
        client, _ = _redis()
        client.hdel(_key(ticket_id), str(user.pk))
    except redis.RedisError:
        logger.warning("Desk presence leave skipped: Redis unavailable", exc_info=True)
