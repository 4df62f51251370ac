"""The product-view cache against the real Redis: one loader per cold key, no stale refill, metrics."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY

from app.catalog import cache
from tests.support.wait import until


def _counter(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"cache": "product_view"}) or 0.0


class _LockWatch:
    """The app's real Redis client, counting the fill locks it was refused (``SET NX`` answered no)."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._redis, name)

    async def set(self, *args: Any, **kwargs: Any) -> Any:
        taken = await self._redis.set(*args, **kwargs)
        self.refused += bool(kwargs.get("nx")) and not taken
        return taken


async def _stampede(redis: Any, product_id: str, callers: int) -> tuple[int, list[bytes | None]]:
    loads, watched = 0, _LockWatch(redis)

    async def load() -> bytes:
        nonlocal loads
        loads += 1

        async def everyone_else_waits() -> bool:
            return watched.refused == callers - 1

        await until(everyone_else_waits, timeout=5, step=0.001)  # still loading while they all arrive
        return b'"v1-en"\n{}'

    results = await asyncio.gather(
        *(cache.cached_view(watched, product_id, "en", load) for _ in range(callers))
    )
    return loads, [body for body, _ in results]


async def test_cold_key_is_loaded_once_by_concurrent_callers(app_call: Any, resources: Any) -> None:
    loads, bodies = await app_call(_stampede, resources.redis, str(uuid.uuid4()), 25)
    assert loads == 1
    assert bodies == [b'"v1-en"\n{}'] * 25


async def _invalidated_while_loading(redis: Any, product_id: str) -> bytes | None:
    async def load() -> bytes:
        await cache.invalidate_product(redis, product_id)  # a change lands while we load the old view
        return b'"v1-en"\n{"old": true}'

    body, hit = await cache.cached_view(redis, product_id, "en", load)
    assert body is not None and not hit
    return await redis.hget(cache.view_key(product_id), "en")


async def test_a_load_overtaken_by_an_invalidation_is_not_cached(app_call: Any, resources: Any) -> None:
    assert await app_call(_invalidated_while_loading, resources.redis, str(uuid.uuid4())) is None


async def _fill_two_languages_then_invalidate(redis: Any, product_id: str) -> tuple[int, int]:
    for lang in ("ko", "en"):
        await cache.cached_view(redis, product_id, lang, lambda: asyncio.sleep(0, b"x\n{}"))
    before = await redis.hlen(cache.view_key(product_id))
    await cache.invalidate_product(redis, product_id)
    return before, await redis.hlen(cache.view_key(product_id))


async def test_invalidate_drops_every_language(app_call: Any, resources: Any) -> None:
    assert await app_call(_fill_two_languages_then_invalidate, resources.redis, str(uuid.uuid4())) == (2, 0)


async def test_search_generation_bumps(app_call: Any, resources: Any) -> None:
    before = await app_call(cache.search_generation, resources.redis)
    await app_call(cache.bump_search_generation, resources.redis)
    assert await app_call(cache.search_generation, resources.redis) == before + 1


async def test_hits_and_misses_are_counted_and_exposed(client: AsyncTestClient, catalog_factory: Any) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "ticket")
    hits, misses = _counter("resort_catalog_cache_hits_total"), _counter("resort_catalog_cache_misses_total")
    await client.get(f"/products/{product['id']}")
    await client.get(f"/products/{product['id']}")
    bypass = await client.get(f"/products/{product['id']}", headers={"Cache-Control": "no-cache"})
    assert bypass.headers["x-cache"] == "miss"
    assert _counter("resort_catalog_cache_hits_total") == hits + 1
    assert _counter("resort_catalog_cache_misses_total") == misses + 2
    metrics = (await client.get("/metrics")).text
    assert "resort_catalog_cache_hits_total" in metrics


async def test_views_are_served_uncached_when_redis_is_down() -> None:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    from tests.support.servers import free_port

    dead = Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    errors = REGISTRY.get_sample_value("resort_catalog_cache_errors_total", {"cache": "product_view"}) or 0.0
    try:
        body, hit = await cache.cached_view(dead, str(uuid.uuid4()), "en", lambda: asyncio.sleep(0, b"x\n{}"))
    finally:
        await dead.aclose()
    assert (body, hit) == (b"x\n{}", False)
    assert (
        REGISTRY.get_sample_value("resort_catalog_cache_errors_total", {"cache": "product_view"})
        == errors + 1
    )
