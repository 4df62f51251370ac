"""Fixed-window rate limits counted in Redis, so every api instance shares them.

Key: ``auth:rl:{bucket}:{who}:{window_start}``; one round trip (a Lua script) per check.
"""

from __future__ import annotations

import math
import time

from redis.asyncio import Redis

from app.errors import RateLimited

_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


def window(now: float, seconds: int) -> tuple[int, float]:
    """The window's start and the seconds left in it."""
    start = int(now // seconds) * seconds
    return start, start + seconds - now


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._hit = redis.register_script(_HIT)

    async def count(self, bucket: str, who: str, seconds: int = 60) -> int:
        """Count one event in the current window; the window's count so far."""
        start, _ = window(time.time(), seconds)
        return int(await self._hit(keys=[_key(bucket, who, start)], args=[seconds * 1000 + 1000]))

    async def hit(self, bucket: str, who: str, limit: int, seconds: int = 60) -> None:
        """Count one request; raise :class:`RateLimited` (429 + Retry-After) past ``limit``."""
        if limit <= 0:
            return
        if await self.count(bucket, who, seconds) > limit:
            raise limited(bucket, seconds)

    async def exhausted(self, bucket: str, who: str, limit: int, seconds: int = 60) -> bool:
        """Whether ``limit`` events were already counted in this window (a read; counts nothing)."""
        if limit <= 0:
            return False
        start, _ = window(time.time(), seconds)
        return int(await self.redis.get(_key(bucket, who, start)) or 0) >= limit


def _key(bucket: str, who: str, start: int) -> str:
    return f"auth:rl:{bucket}:{who}:{start}"


def limited(bucket: str, seconds: int = 60) -> RateLimited:
    """The 429 (with Retry-After: the rest of the window) of ``bucket``."""
    retry = max(1, math.ceil(window(time.time(), seconds)[1]))
    return RateLimited(f"Too many {bucket} requests; retry in {retry} s.", code="rate_limited",
                       headers={"Retry-After": str(retry)}, extra={"bucket": bucket})
