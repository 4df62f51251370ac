"""Running a search: Redis result cache (keyed by the search generation) in front of Elasticsearch."""

from __future__ import annotations

from typing import Any

import msgspec
from elasticsearch import AsyncElasticsearch, NotFoundError
from redis.asyncio import Redis

from app.catalog.cache import CACHE_HITS, CACHE_MISSES, search_generation
from app.search.query import SearchParams, build_search_body, cache_key, empty_response, shape_response


async def run_search(es: AsyncElasticsearch, index: str, params: SearchParams) -> dict[str, Any]:
    """Ask Elasticsearch; a missing index answers as an empty catalogue."""
    try:
        response = await es.search(index=index, **build_search_body(params))
    except NotFoundError:
        return empty_response(params)
    return shape_response(dict(response), params)


async def cached_search(redis: Redis, es: AsyncElasticsearch, index: str, params: SearchParams,
                        ttl_s: int) -> tuple[bytes, bool]:
    """The encoded answer and whether it came from the cache.

    A bump of the generation by the projector orphans every cached answer; they expire by TTL.
    """
    key = cache_key(params, await search_generation(redis))
    cached = await redis.get(key)
    if cached is not None:
        CACHE_HITS.labels("search").inc()
        return cached, True
    CACHE_MISSES.labels("search").inc()
    body = msgspec.json.encode(await run_search(es, index, params))
    await redis.set(key, body, ex=ttl_s)
    return body, False
