"""Running a search: Redis caches (keyed by the search generation) in front of Elasticsearch.

Two caches: whole answers (per parameters) and facets (per text and filters: the same for every page,
sort and language), so turning pages or re-sorting asks Elasticsearch for the hits only.
"""

from __future__ import annotations

from typing import Any

import msgspec
from elasticsearch import AsyncElasticsearch, NotFoundError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.catalog.cache import CACHE_ERRORS, CACHE_HITS, CACHE_MISSES, search_generation
from app.resources import Resources
from app.search.query import (
    SearchParams,
    build_search_body,
    cache_key,
    empty_response,
    facets_cache_key,
    shape_response,
)


async def run_search(es: AsyncElasticsearch, index: str, params: SearchParams,
                     facets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ask Elasticsearch (for facets too unless given); a missing index answers as an empty catalogue."""
    try:
        response = await es.search(index=index, **build_search_body(params, facets=facets is None))
    except NotFoundError:
        return empty_response(params)
    answer = shape_response(dict(response), params)
    if facets is not None:
        answer["facets"] = facets
    return answer


async def search(resources: Resources, params: SearchParams) -> tuple[bytes, bool]:
    """The use case behind ``GET /search``: the encoded answer and whether it came from the cache."""
    settings = resources.settings
    return await cached_search(resources.redis, resources.es, settings.search_index, params,
                               settings.search_cache_ttl_s)


async def cached_search(redis: Redis, es: AsyncElasticsearch, index: str, params: SearchParams,
                        ttl_s: int) -> tuple[bytes, bool]:
    """The encoded answer and whether it came from the cache.

    A bump of the generation by the projector orphans every cached answer; they expire by TTL.
    The cache is an optimisation: when Redis fails the search is served uncached.
    """
    try:
        return await _through_cache(redis, es, index, params, ttl_s)
    except RedisError:
        CACHE_ERRORS.labels("search").inc()
        return msgspec.json.encode(await run_search(es, index, params)), False


async def _through_cache(redis: Redis, es: AsyncElasticsearch, index: str, params: SearchParams,
                         ttl_s: int) -> tuple[bytes, bool]:
    generation = await search_generation(redis)
    key, facets_key = cache_key(params, generation), facets_cache_key(params, generation)
    cached, cached_facets = await redis.mget(key, facets_key)
    if cached is not None:
        CACHE_HITS.labels("search").inc()
        return cached, True
    CACHE_MISSES.labels("search").inc()
    facets = msgspec.json.decode(cached_facets) if cached_facets is not None else None
    answer = await run_search(es, index, params, facets)
    body = msgspec.json.encode(answer)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(key, body, ex=ttl_s)
        if facets is None:
            pipe.set(facets_key, msgspec.json.encode(answer["facets"]), ex=ttl_s)
        await pipe.execute()
    return body, False
