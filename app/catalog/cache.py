"""Redis cache of product views and the search-result generation.

Product views live in one hash per product, ``catalog:view:{product_id}``, one field per language, so
:func:`invalidate_product` drops every language with one ``DEL``. Beside it an epoch counter
``catalog:view-epoch:{product_id}`` is bumped on each invalidation: a loader remembers the epoch it
started from and its write is refused (Lua) if an invalidation happened meanwhile, so a slow loader can
never put back a view older than the change that invalidated it.

A cold key is filled by one loader: the first caller takes a short lock (``SET NX PX``), the others
poll briefly for the value and only load themselves if the lock holder is too slow (stampede guard).

Search results are keyed by a generation number (:func:`search_generation`); the projector bumps it
(:func:`bump_search_generation`) when any product changes, which orphans every cached result at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

CACHE_HITS = Counter("resort_catalog_cache_hits", "Catalogue cache hits", ["cache"])
CACHE_MISSES = Counter("resort_catalog_cache_misses", "Catalogue cache misses", ["cache"])
CACHE_ERRORS = Counter(
    "resort_catalog_cache_errors", "Catalogue cache calls that failed (served uncached)", ["cache"]
)
log = structlog.get_logger("app.catalog.cache")

VIEW_TTL_S = 600
LOCK_TTL_MS = 2000
WAIT_STEP_S = 0.01
WAIT_MAX_S = 0.5
SEARCH_GENERATION_KEY = "catalog:search:generation"

# KEYS: view hash, epoch key; ARGV: field, value, epoch seen by the loader, ttl seconds.
_FILL_IF_EPOCH = """
local epoch = redis.call('GET', KEYS[2]) or '0'
if epoch ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
"""
# KEYS: lock key; ARGV: token. Release only our own lock.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Loader = Callable[[], Awaitable[bytes | None]]


def view_key(product_id: str) -> str:
    return f"catalog:view:{product_id}"


def _epoch_key(product_id: str) -> str:
    return f"catalog:view-epoch:{product_id}"


def _lock_key(product_id: str, lang: str) -> str:
    return f"catalog:view-lock:{product_id}:{lang}"


async def invalidate_product(redis: Redis, product_id: str) -> None:
    """Drop every language's cached view of the product (and refuse in-flight fills)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(_epoch_key(product_id))
        pipe.expire(_epoch_key(product_id), VIEW_TTL_S * 2)
        pipe.delete(view_key(product_id))
        await pipe.execute()


async def search_generation(redis: Redis) -> int:
    """The current generation of cached search results (0 before the first bump)."""
    raw = await redis.get(SEARCH_GENERATION_KEY)
    return int(raw) if raw else 0


async def bump_search_generation(redis: Redis) -> None:
    """Orphan every cached search result: later lookups use a new generation in their keys."""
    await redis.incr(SEARCH_GENERATION_KEY)


async def cached_view(
    redis: Redis, product_id: str, lang: str, load: Loader, *, bypass: bool = False
) -> tuple[bytes | None, bool]:
    """The view of ``product_id`` in ``lang`` from the cache, or loaded by ``load`` and cached.

    Returns ``(body, hit)``; ``body`` is None when ``load`` found nothing (nothing is cached then).
    ``bypass`` skips the read (``Cache-Control: no-cache``) but still refreshes the entry.
    The cache is an optimisation: when Redis fails the view is loaded and served uncached.
    """
    try:
        return await _through_cache(redis, product_id, lang, load, bypass)
    except RedisError as exc:
        CACHE_ERRORS.labels("product_view").inc()
        log.warning("view_cache_unavailable", error=str(exc))
        return await load(), False


async def _through_cache(
    redis: Redis, product_id: str, lang: str, load: Loader, bypass: bool
) -> tuple[bytes | None, bool]:
    if not bypass:
        body = await redis.hget(view_key(product_id), lang)
        if body is not None:
            CACHE_HITS.labels("product_view").inc()
            return body, True
    CACHE_MISSES.labels("product_view").inc()
    token = uuid.uuid4().hex
    lock = _lock_key(product_id, lang)
    if not bypass and not await redis.set(lock, token, nx=True, px=LOCK_TTL_MS):
        body = await _wait_for_fill(redis, product_id, lang)
        if body is not None:
            return body, True
    try:
        return await _load_and_fill(redis, product_id, lang, load), False
    finally:
        with contextlib.suppress(RedisError):
            await redis.eval(_UNLOCK, 1, lock, token)


async def _load_and_fill(redis: Redis, product_id: str, lang: str, load: Loader) -> bytes | None:
    epoch = await redis.get(_epoch_key(product_id))
    body = await load()
    if body is not None:
        keys = (view_key(product_id), _epoch_key(product_id))
        with contextlib.suppress(RedisError):  # served anyway; the next reader fills it
            await redis.eval(_FILL_IF_EPOCH, 2, *keys, lang, body, (epoch or b"0").decode(), VIEW_TTL_S)
    return body


async def _wait_for_fill(redis: Redis, product_id: str, lang: str) -> bytes | None:
    """Another caller is loading this view: poll for it a little while."""
    waited = 0.0
    while waited < WAIT_MAX_S:
        await asyncio.sleep(WAIT_STEP_S)
        waited += WAIT_STEP_S
        body = await redis.hget(view_key(product_id), lang)
        if body is not None:
            return body
    return None
