"""The Lua scripts against the real Redis: session touch (idle and absolute timeouts), session update,
refresh rotation (success, the same rotation's grace, reuse, revoked, unknown), the rate limiter's counter,
and the product-view cache's guarded fill and unlock."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from redis.asyncio import Redis

from app.auth.ratelimit import RateLimiter
from app.auth.refresh import RefreshTokens, Rotation, digest
from app.auth.sessions import SessionStore, session_key
from app.catalog import cache
from app.settings import Settings


@pytest.fixture
async def redis(settings: Settings, stack: object) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


def _now_ms() -> int:
    return int(time.time() * 1000)


async def test_touch_restarts_the_idle_timer_but_never_passes_the_absolute_one(
        redis: Redis, settings: Settings) -> None:
    store = SessionStore(redis, msgspec.structs.replace(settings, session_idle_timeout=600))
    session = await store.create(subject=f"lua-{uuid.uuid4().hex[:8]}", roles=["guest"])
    await redis.pexpire(session_key(session.id), 1000)
    touched = await store.touch(session.id)
    assert touched is not None and touched.last_seen >= session.last_seen
    assert 590_000 < await redis.pttl(session_key(session.id)) <= 600_000  # idle timer restarted
    await redis.hset(session_key(session.id), "abs_exp", _now_ms() + 3000)
    assert await store.touch(session.id) is not None
    assert 0 < await redis.pttl(session_key(session.id)) <= 3000  # capped by the absolute end
    await redis.hset(session_key(session.id), "abs_exp", _now_ms() - 1)
    assert await store.touch(session.id) is None
    assert not await redis.exists(session_key(session.id))  # past its absolute end: gone
    assert await store.touch("no-such-session") is None


async def test_update_never_recreates_an_ended_session(redis: Redis, settings: Settings) -> None:
    store = SessionStore(redis, settings)
    session = await store.create(subject=f"lua-{uuid.uuid4().hex[:8]}", roles=["admin", "guest"])
    assert await store.update(session.id, roles=["guest"], idp_refresh="rt-1")
    assert (await store.get(session.id)).roles == ("guest",)
    await store.revoke(session.id)
    assert not await store.update(session.id, roles=["admin"], idp_refresh="rt-2")
    assert not await redis.exists(session_key(session.id))


async def test_rotation_grace_reuse_revoked_and_unknown(redis: Redis, settings: Settings) -> None:
    tokens = RefreshTokens(redis, msgspec.structs.replace(settings, refresh_reuse_grace_s=30))
    sid = uuid.uuid4().hex
    first = await tokens.issue(sid, "lua-subject")
    one = await tokens.rotate(first)
    assert one.outcome is Rotation.OK and one.token and one.session_id == sid and one.subject == "lua-subject"
    again = await tokens.rotate(first)  # the same rotation, a second tab
    assert again.outcome is Rotation.GRACE and again.token == one.token
    assert 0 < await redis.ttl(f"auth:refresh-grace:{digest(first)}") <= 30
    assert b"rt_" not in b"".join(await redis.hvals(f"auth:refresh-grace:{digest(first)}"))  # sealed
    two = await tokens.rotate(one.token)
    assert two.outcome is Rotation.OK
    late = await tokens.rotate(first)  # its successor moved on: a replay
    assert late.outcome is Rotation.REUSE and late.token is None
    assert (await tokens.rotate(two.token)).outcome is Rotation.REVOKED  # the whole family
    assert (await tokens.rotate("rt_never-issued")).outcome is Rotation.UNKNOWN
    assert (await tokens.rotate("not-a-refresh-token")).outcome is Rotation.UNKNOWN


async def test_without_grace_a_spent_token_is_reuse(redis: Redis, settings: Settings) -> None:
    tokens = RefreshTokens(redis, msgspec.structs.replace(settings, refresh_reuse_grace_s=0))
    first = await tokens.issue(uuid.uuid4().hex, "lua-subject")
    assert (await tokens.rotate(first)).outcome is Rotation.OK
    assert (await tokens.rotate(first)).outcome is Rotation.REUSE
    assert not await redis.exists(f"auth:refresh-grace:{digest(first)}")


async def test_the_limiter_counts_and_expires_its_window(redis: Redis) -> None:
    limiter, who = RateLimiter(redis), f"lua-{uuid.uuid4().hex}"
    assert not await limiter.exhausted("lua", who, 2)
    assert [await limiter.count("lua", who) for _ in range(3)] == [1, 2, 3]
    assert await limiter.exhausted("lua", who, 3) and not await limiter.exhausted("lua", who, 4)
    assert await limiter.exhausted("lua", who, 3)  # reading counts nothing
    keys = [key async for key in redis.scan_iter(f"auth:rl:lua:{who}:*")]
    assert len(keys) == 1 and 0 < await redis.pttl(keys[0]) <= 61_000


async def test_the_cache_fill_is_refused_after_an_invalidation(redis: Redis) -> None:
    product = str(uuid.uuid4())
    keys = (cache.view_key(product), f"catalog:view-epoch:{product}")
    assert await redis.eval(cache._FILL_IF_EPOCH, 2, *keys, "en", b"v1", "0", 60) == 1
    assert await redis.hget(keys[0], "en") == b"v1" and 0 < await redis.ttl(keys[0]) <= 60
    await cache.invalidate_product(redis, product)
    assert await redis.eval(cache._FILL_IF_EPOCH, 2, *keys, "en", b"stale", "0", 60) == 0
    assert await redis.hget(keys[0], "en") is None
    assert await redis.eval(cache._FILL_IF_EPOCH, 2, *keys, "en", b"v2", "1", 60) == 1


async def test_only_the_lock_holder_unlocks(redis: Redis) -> None:
    lock = f"catalog:view-lock:{uuid.uuid4()}:en"
    await redis.set(lock, "mine", px=2000)
    assert await redis.eval(cache._UNLOCK, 1, lock, "theirs") == 0 and await redis.exists(lock)
    assert await redis.eval(cache._UNLOCK, 1, lock, "mine") == 1 and not await redis.exists(lock)
