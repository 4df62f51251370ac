"""The projector against the real servers: idempotent, version-aware, crash-safe, poison-tolerant.

Each test uses its own Kafka topic prefix and consumer group (``private_settings``) and its own
property, so it never meets other tests' messages or documents.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pymongo import AsyncMongoClient

from app.resources import Resources
from app.settings import Settings
from sync import stores
from sync.documents import build_search_document
from sync.projector import CatalogProjector
from sync.state import load_state
from tests.integration.sync.rows import (
    change_product,
    create_product,
    create_property,
    envelope,
    private_settings,
    put_details,
    running_projector,
    send,
)
from tests.support.wait import until


async def _es_doc(resources: Resources, settings: Settings, pid: str) -> dict[str, Any] | None:
    found = await resources.es.options(ignore_status=404).get(index=settings.search_index, id=pid)
    return dict(found) if found.get("found") else None


def _read_models(resources: Resources, settings: Settings) -> Any:
    return resources.mongo[settings.mongo_db][stores.READ_MODELS]


async def test_same_message_twice_changes_nothing(sync_resources: Resources, settings: Settings,
                                                  unique: str) -> None:
    mine = private_settings(settings, unique)
    prop = await create_property(sync_resources.db, f"sync-{unique}")
    pid = await create_product(sync_resources.db, prop)
    message = envelope(pid, 1, event_type="product.created", property_id=prop)
    async with running_projector(sync_resources, mine) as (projector, _):
        await send(sync_resources, mine, message)
        await until(lambda: _settled(projector, 1))
        first_doc = await _es_doc(sync_resources, mine, pid)
        first_model = await _read_models(sync_resources, mine).find_one({"product_id": pid})
        await send(sync_resources, mine, message)  # the very same bytes again
        await until(lambda: _settled(projector, 2))
        assert projector.seen["duplicate"] == 1 and projector.seen["processed"] == 1
    again_doc = await _es_doc(sync_resources, mine, pid)
    again_model = await _read_models(sync_resources, mine).find_one({"product_id": pid})
    assert first_doc is not None and first_doc["_source"]["version"] == 1
    assert (again_doc["_seq_no"], again_doc["_version"]) == (first_doc["_seq_no"], first_doc["_version"])
    assert again_model == first_model  # projected_at included: not rewritten


async def _settled(projector: CatalogProjector, count: int) -> bool:
    return sum(projector.seen.values()) >= count


async def test_older_version_after_newer_is_ignored(sync_resources: Resources, settings: Settings,
                                                    unique: str) -> None:
    mine = private_settings(settings, unique)
    prop = await create_property(sync_resources.db, f"sync-{unique}")
    pid = await create_product(sync_resources.db, prop, name="First Name")
    v2 = await change_product(sync_resources.db, pid, name="Second Name")
    async with running_projector(sync_resources, mine) as (projector, _):
        await send(sync_resources, mine, envelope(pid, v2, property_id=prop))
        await until(lambda: _settled(projector, 1))
        newer = await _es_doc(sync_resources, mine, pid)
        await send(sync_resources, mine, envelope(pid, 1, event_type="product.created", property_id=prop))
        await until(lambda: _settled(projector, 2))
        assert projector.seen["stale"] == 1
    after = await _es_doc(sync_resources, mine, pid)
    assert after["_source"]["name_en"] == "Second Name" and after["_source"]["version"] == v2
    assert after["_seq_no"] == newer["_seq_no"]
    model = await _read_models(sync_resources, mine).find_one({"product_id": pid})
    assert model["version"] == v2 and model["core"]["name"] == "Second Name"


async def test_writers_never_overwrite_a_newer_document(sync_resources: Resources, settings: Settings,
                                                        unique: str) -> None:
    """The stores' own guard, below the inbox: a document built at v1 loses against a stored v2."""
    prop = await create_property(sync_resources.db, f"sync-{unique}")
    pid = await create_product(sync_resources.db, prop, name="Old")
    mongo = sync_resources.mongo[settings.mongo_db]
    old = await load_state(sync_resources.db, mongo, pid, 30)
    await change_product(sync_resources.db, pid, name="New")
    new = await load_state(sync_resources.db, mongo, pid, 30)
    es, index = sync_resources.es, settings.search_index
    assert await stores.write_search_document(es, index, build_search_document(new)) is stores.Outcome.WRITTEN
    assert await stores.write_search_document(es, index, build_search_document(old)) is stores.Outcome.STALE
    assert await stores.write_search_document(es, index, build_search_document(new)) is stores.Outcome.UNCHANGED
    assert (await _es_doc(sync_resources, settings, pid))["_source"]["name_en"] == "New"


async def test_killed_mid_stream_and_restarted_converges(sync_resources: Resources, settings: Settings,
                                                         unique: str) -> None:
    mine = private_settings(settings, unique)
    prop = await create_property(sync_resources.db, f"sync-{unique}")
    products = [await create_product(sync_resources.db, prop, name=f"Room {i}", nights=3) for i in range(30)]
    expected: dict[str, int] = {}
    messages = []
    for i, pid in enumerate(products):
        messages.append(envelope(pid, 1, event_type="product.created", property_id=prop))
        expected[pid] = 1
        if i % 2 == 0:
            expected[pid] = await change_product(sync_resources.db, pid, name=f"Room {i} renamed")
            messages.append(envelope(pid, expected[pid], property_id=prop))
    await send(sync_resources, mine, *messages)
    # the killed instance has MongoDB connections of its own, as a process does: they die with it (a
    # request cut off half-way must not be left in the pool the restarted instance draws from)
    own = AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=3000, tz_aware=True)
    projector = CatalogProjector(mine, sync_resources.db, own, sync_resources.es, sync_resources.redis)
    await projector.prepare()
    from sync.projector import consume

    stop = asyncio.Event()
    first = asyncio.create_task(consume(projector, stop))
    await until(lambda: _settled(projector, 8), timeout=30, step=0.005)
    first.cancel()  # killed mid-stream: no orderly stop, whatever was in flight is abandoned
    await asyncio.gather(first, return_exceptions=True)
    await own.close()
    done_before = sum(projector.seen.values())
    assert done_before < len(messages), "the kill came too late to test anything"

    async with running_projector(sync_resources, mine) as (restarted, _):
        await until(lambda: _converged(sync_resources, mine, expected), timeout=40, step=0.2)
    assert sum(restarted.seen.values()) >= len(messages) - done_before


async def _converged(resources: Resources, settings: Settings, expected: dict[str, int]) -> bool:
    found = await resources.es.mget(index=settings.search_index, ids=list(expected))
    versions = {d["_id"]: d["_source"]["version"] for d in found["docs"] if d.get("found")}
    models = {m["product_id"]: m["version"] async for m in
              _read_models(resources, settings).find({"product_id": {"$in": list(expected)}})}
    return versions == expected and models == expected


async def test_poison_messages_do_not_block_the_partition(sync_resources: Resources, settings: Settings,
                                                          unique: str) -> None:
    mine = private_settings(settings, unique)
    prop = await create_property(sync_resources.db, f"sync-{unique}")
    pid = await create_product(sync_resources.db, prop)
    await put_details(sync_resources.mongo[settings.mongo_db], pid, prop, amenities=["wifi"], ratings=(4, 5))
    ghost = str(uuid.uuid4())
    async with running_projector(sync_resources, mine) as (projector, _):
        await send(sync_resources, mine, b"not json at all", envelope(ghost, 3), envelope("no-uuid", 1),
                   envelope(pid, 1, property_id=prop))
        await until(lambda: _settled(projector, 4))
    assert projector.seen["undecodable"] == 1 and projector.seen["unknown"] == 2
    doc = await _es_doc(sync_resources, mine, pid)
    assert doc["_source"]["amenities"] == ["wifi"] and doc["_source"]["rating_avg"] == 4.5
    assert await _es_doc(sync_resources, mine, ghost) is None


async def test_deactivated_product_leaves_search(sync_resources: Resources, settings: Settings,
                                                 unique: str) -> None:
    mine = private_settings(settings, unique)
    prop = await create_property(sync_resources.db, f"sync-{unique}")
    pid = await create_product(sync_resources.db, prop)
    async with running_projector(sync_resources, mine) as (projector, _):
        await send(sync_resources, mine, envelope(pid, 1, property_id=prop))
        await until(lambda: _settled(projector, 1))
        assert await _es_doc(sync_resources, mine, pid) is not None
        version = await change_product(sync_resources.db, pid, active=False)
        await send(sync_resources, mine, envelope(pid, version, event_type="product.deactivated"))
        await until(lambda: _settled(projector, 2))
    assert await _es_doc(sync_resources, mine, pid) is None
    model = await _read_models(sync_resources, mine).find_one({"product_id": pid})
    assert model["version"] == version and model["core"]["active"] is False
