"""Recommendation answers cached in Redis per resort generation: the ``recommend-cache`` role bumps a
resort's generation once per availability change of its products (event-driven invalidation), which
orphans its cached rankings; they also expire after ``recommend_cache_ttl_s`` (popularity moves slowly).
Redis down: answers are computed uncached."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

GENERATION = "recommend:gen:"
SEEN, SEEN_TTL_S = "recommend:seen:", 7 * 86_400  # an event's claim outlives any redelivery of it
# KEYS: (claim, generation) per change; ARGV: the claims' ttl. An event already claimed bumps nothing.
_BUMP = """
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then redis.call('INCR', KEYS[i + 1]) end
end
return 0
"""


def generation_key(property_id: str) -> str:
    return f"{GENERATION}{property_id}"


def seen_key(event_id: str) -> str:
    return f"{SEEN}{event_id}"


async def bump(redis: Redis, changes: list[tuple[str, str]]) -> None:
    """Bump the resort's generation once per (event id, property id) change: the event's claim and its bump
    in one script, so a redelivered event (its claim found) bumps nothing and a crash loses no bump."""
    keys = [key for event_id, property_id in changes for key in (seen_key(event_id), generation_key(property_id))]
    if keys:
        await redis.eval(_BUMP, len(keys), *keys, SEEN_TTL_S)


async def cached(redis: Redis, property_id: str, key: str, ttl_s: int,
                 compute: Callable[[], Awaitable[Any]], bypass: bool = False) -> tuple[Any, bool]:
    """The value under ``key`` for the resort's current generation, computing and storing it if absent
    (``bypass``: computed and stored again even if present, as ``Cache-Control: no-cache`` asks)."""
    try:
        generation = (await redis.get(generation_key(property_id))) or b"0"
        full = f"recommend:{property_id}:{generation.decode()}:{key}"
        raw = None if bypass else await redis.get(full)
        if raw is not None:
            return msgspec.json.decode(raw), True
    except RedisError:
        return await compute(), False
    value = await compute()
    try:
        await redis.set(full, msgspec.json.encode(value), ex=ttl_s)
    except RedisError:
        pass
    return value, False
