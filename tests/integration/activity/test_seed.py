"""Demo activity: a history over the catalogue, rolled up, and a second run adds nothing."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from pymongo import AsyncMongoClient

from app.activity import rebuild, store
from app.activity.seed import seed_activity
from app.settings import Settings


async def test_demo_activity_is_realistic_rolled_up_and_idempotent(settings: Settings, catalog_resort: Any) -> None:
    mine = msgspec.structs.replace(settings, mongo_db=f"{settings.mongo_db}_seed_{uuid.uuid4().hex[:8]}")
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        new, counted = await seed_activity(mine, count=60)
        assert new == counted > 60
        db = client[mine.mongo_db]
        kinds = set(await db[store.EVENTS].distinct("type"))
        assert {"search", "view", "hold", "booking"} <= kinds
        assert await db[store.EVENTS].count_documents({"zero": True}) > 0
        assert await rebuild.incremental(db) == await rebuild.from_scratch(db)
        assert await seed_activity(mine, count=60) == (0, 0)
    finally:
        await client.drop_database(mine.mongo_db)
        await client.close()
