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

    async def hit(self, bucket: str, who: str, limit: int, seconds: int = 60) -> None:
        """Count one request; raise :class:`RateLimited` (429 + Retry-After) past ``limit``."""
        if limit <= 0:
            return
        start, left = window(time.time(), seconds)
        count = await self._hit(keys=[f"auth:rl:{bucket}:{who}:{start}"], args=[seconds * 1000 + 1000])
        if int(count) > limit:
            retry = max(1, math.ceil(left))
            raise RateLimited(f"Too many {bucket} requests; retry in {retry} s.", code="rate_limited",
                              headers={"Retry-After": str(retry)}, extra={"bucket": bucket})
