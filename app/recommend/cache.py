"""Recommendation answers cached in Redis per resort generation: the ``recommend-cache`` role bumps a
resort's generation on every availability change of its products (event-driven invalidation), which
orphans its cached rankings; they also expire after ``recommend_cache_ttl_s`` (popularity moves slowly).
Redis down: answers are computed uncached."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

GENERATION = "recommend:gen:"


def generation_key(property_id: str) -> str:
    return f"{GENERATION}{property_id}"


async def bump(redis: Redis, property_ids: set[str]) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for property_id in sorted(property_ids):
            pipe.incr(generation_key(property_id))
        await pipe.execute()


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
