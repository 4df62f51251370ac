"""Ordering is total per key: racing updates of one (product, night) never publish, nor record, an older
version after a newer one (the version check is made inside the write's script, not before it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid

import msgspec

from app.outbox import EventEnvelope
from app.resources import Resources
from realtime.channels import versions_key
from realtime.publisher import Publisher
from realtime.store import StreamStore


def _change(prop: str, product: str, night: dt.date, version: int) -> EventEnvelope:
    payload = {"product_id": product, "property_id": prop, "cause": "race", "hold_id": str(uuid.uuid4()),
               "nights": [{"night": night.isoformat(), "capacity": 100, "held": version % 100, "sold": 0,
                           "free": 100 - version % 100, "version": version}]}
    return EventEnvelope(event_id=uuid.uuid4(), topic="inventory", event_type="availability.changed",
                         aggregate_type="product", aggregate_id=product, version=version,
                         occurred_at=dt.datetime.now(dt.UTC), payload=payload)


async def test_racing_updates_of_one_night_are_published_in_version_order(
        catalog_resort, sync_resources: Resources, store: StreamStore) -> None:
    prop, product = catalog_resort.property["id"], str(catalog_resort.room["id"])
    night, channel = catalog_resort.start, f"availability:{catalog_resort.property['id']}"
    publishers = [Publisher(sync_resources.db, sync_resources.redis, store) for _ in range(3)]
    versions = list(range(10_001, 10_041))
    random.Random(24).shuffle(versions)
    # The race, made certain: every publisher reads the published versions (none yet) before any writes.
    appends = [await publishers[i % 3].prepare(_change(prop, product, night, v)) for i, v in enumerate(versions)]
    assert all(a is not None for a in appends)
    outcomes = await asyncio.gather(*(store.write(a) for a in appends if a is not None))
    seen, frees = [], []
    for entry in await store.after(channel, 0):
        for item in msgspec.json.decode(entry.data)["items"]:
            if (item["product_id"], item["night"]) == (product, night.isoformat()):
                seen.append(item["version"])  # the inventory version plus the night's rates' (constant here)
                frees.append(item["free"])
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen  # never backwards, never twice
    assert frees[-1] == 100 - max(versions) % 100  # the newest change is the last one published
    assert outcomes.count(1) == len(seen) and outcomes.count(2) == len(versions) - len(seen)
    stored = await sync_resources.redis.hget(versions_key(prop), f"{product}:{night.isoformat()}")
    assert int(stored) == seen[-1]
