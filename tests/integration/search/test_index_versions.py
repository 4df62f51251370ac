"""A changed mapping takes effect on an existing deployment: the search name becomes an alias onto the
current version's index, filled from what served the name before (with the derived search text)."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator

import pytest
from elasticsearch import AsyncElasticsearch

from app.resources import Resources
from app.search.index import INDEX_SETTINGS, MAPPING, MAPPING_VERSION
from app.search.versions import alias_targets, ensure_current, versioned_name

OLD_MAPPING = copy.deepcopy(MAPPING)
OLD_MAPPING.pop("_meta")
for derived in ("search_en", "search_ko"):
    OLD_MAPPING["properties"].pop(derived)
DOCS = {
    "a": {"product_id": "a", "property_id": "p", "kind": "ticket", "name_en": "Outdoor Pool",
          "name_ko": "야외수영장 이용권", "description_en": "Heated", "version": 3},
    "b": {"product_id": "b", "property_id": "p", "kind": "room_type", "name_en": "Ocean Suite",
          "name_ko": "오션 스위트", "version": 1},
}


@pytest.fixture
async def alias(sync_resources: Resources) -> AsyncIterator[str]:
    name = f"test_versions_{uuid.uuid4().hex[:8]}"
    yield name
    es = sync_resources.es.options(ignore_status=404)
    for index in [*await alias_targets(sync_resources.es, name), name, versioned_name(name, 1)]:
        await es.indices.delete(index=index)


async def _old_index(es: AsyncElasticsearch, index: str, aliases: dict | None = None) -> None:
    await es.indices.create(index=index, settings=INDEX_SETTINGS, mappings=OLD_MAPPING, aliases=aliases)
    for doc_id, doc in DOCS.items():
        await es.index(index=index, id=doc_id, document=doc)
    await es.indices.refresh(index=index)


async def _found(es: AsyncElasticsearch, alias: str, field: str, text: str) -> list[str]:
    response = await es.search(index=alias, query={"match": {field: {"query": text, "operator": "and"}}})
    return sorted(hit["_id"] for hit in response["hits"]["hits"])


async def test_a_pre_versioning_index_is_migrated_behind_an_alias(sync_resources: Resources,
                                                                  alias: str) -> None:
    es = sync_resources.es
    await _old_index(es, alias)
    assert await ensure_current(es, alias) is True
    assert await alias_targets(es, alias) == [versioned_name(alias)]
    mapping = await es.indices.get_mapping(index=alias)
    assert mapping[versioned_name(alias)]["mappings"]["_meta"]["mapping_version"] == MAPPING_VERSION
    assert (await es.get(index=alias, id="a"))["_source"]["search_en"] == "Outdoor Pool Heated"
    assert await _found(es, alias, "search_ko", "수영장") == ["a"]
    assert await _found(es, alias, "search_en", "ocean") == ["b"]
    assert await ensure_current(es, alias) is False  # already current: nothing to do


async def test_an_older_version_behind_the_alias_is_replaced_and_deleted(sync_resources: Resources,
                                                                         alias: str) -> None:
    es = sync_resources.es
    await _old_index(es, versioned_name(alias, 1), aliases={alias: {}})
    await ensure_current(es, alias)
    assert await alias_targets(es, alias) == [versioned_name(alias)]
    assert not await es.indices.exists(index=versioned_name(alias, 1))
    assert (await es.count(index=alias))["count"] == 2


async def test_a_newer_version_is_left_alone(sync_resources: Resources, alias: str) -> None:
    es = sync_resources.es
    newer = versioned_name(alias, MAPPING_VERSION + 1)
    await es.indices.create(index=newer, aliases={alias: {}})
    try:
        assert await ensure_current(es, alias) is False
        assert await alias_targets(es, alias) == [newer]
    finally:
        await es.options(ignore_status=404).indices.delete(index=newer)


async def test_concurrent_migrations_agree(sync_resources: Resources, alias: str) -> None:
    es = sync_resources.es
    await _old_index(es, alias)
    results = await asyncio.gather(*(ensure_current(es, alias) for _ in range(3)))
    assert results.count(True) == 1
    assert await alias_targets(es, alias) == [versioned_name(alias)]
    assert (await es.count(index=alias))["count"] == 2


async def test_a_fresh_deployment_gets_the_alias_and_an_empty_index(sync_resources: Resources,
                                                                    alias: str) -> None:
    es = sync_resources.es
    assert await ensure_current(es, alias) is True
    assert await alias_targets(es, alias) == [versioned_name(alias)]
    assert (await es.count(index=alias))["count"] == 0
