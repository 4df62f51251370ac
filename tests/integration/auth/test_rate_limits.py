"""Per-user API limits counted in Redis and shared by instances; 429 problem+json with Retry-After."""

from __future__ import annotations

import asyncio
import time
import uuid

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from app.auth.ratelimit import RateLimiter, window
from app.errors import RateLimited
from app.settings import Settings
from tests.support.auth import AuthKit


async def _fresh_window(seconds: int = 60) -> None:
    _, left = window(time.time(), seconds)
    if left < 3:
        await asyncio.sleep(left + 0.1)


async def test_api_limit_per_user_across_two_instances(settings: Settings, stack: object, auth_kit: AuthKit) -> None:
    from app.main import create_app

    limited = msgspec.structs.replace(settings, rate_limit_api_per_minute=4)
    headers, _ = await auth_kit.sign_in(["guest"])
    await _fresh_window()
    async with AsyncTestClient(create_app(limited)) as one, AsyncTestClient(create_app(limited)) as two:
        statuses = [(await client.get("/auth/me", headers=headers)).status_code for client in (one, two, one, two)]
        assert statuses == [200, 200, 200, 200]
        refused = await two.get("/auth/me", headers=headers)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        other, _ = await auth_kit.sign_in(["guest"])  # another user has a budget of their own
        assert (await one.get("/auth/me", headers=other)).status_code == 200


async def test_limiter_counts_in_redis(settings: Settings) -> None:
    redis = Redis.from_url(settings.redis_url)
    try:
        await _fresh_window()
        limiter, who = RateLimiter(redis), f"ip:test-{uuid.uuid4().hex}"
        await asyncio.gather(*(limiter.hit("login", who, 10) for _ in range(10)))  # concurrent, all counted
        with pytest.raises(RateLimited) as caught:
            await limiter.hit("login", who, 10)
        assert caught.value.headers["Retry-After"].isdigit()
    finally:
        await redis.aclose()


async def test_login_is_limited_per_ip(settings: Settings, stack: object) -> None:
    """Starting sign-in is limited per client address; the 4th start within the window is a 429.

    The app gets a Redis database of its own, so other tests' logins from the same address don't count."""
    from app.main import create_app

    limited = msgspec.structs.replace(settings, rate_limit_login_per_minute=3,
                                      redis_url=settings.redis_url.rsplit("/", 1)[0] + "/7")
    redis = Redis.from_url(limited.redis_url)
    try:
        await _fresh_window()
        async with AsyncTestClient(create_app(limited)) as client:
            starts = [(await client.get("/auth/login", follow_redirects=False)).status_code for _ in range(3)]
            assert starts == [302, 302, 302]
            refused = await client.get("/auth/login", follow_redirects=False)
            assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            callback = await client.get("/auth/callback", params={"code": "x", "state": "y"})
            assert callback.status_code == 429  # the callback shares the login budget
    finally:
        async for key in redis.scan_iter("auth:rl:login:*"):
            await redis.delete(key)
        await redis.aclose()
