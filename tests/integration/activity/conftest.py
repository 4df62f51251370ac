"""The activity pipeline running as in production, in the tests' loop: the outbox relay (holds, bookings,
inventory), the ``activity`` role (Kafka -> MongoDB, rollups) and the ``recommend-cache`` role."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest

from app.activity import ingest
from app.recommend import invalidation
from app.resources import Resources
from sync.relay import OutboxRelay

RELAYED = ("holds", "bookings", "inventory")


@pytest.fixture(scope="module")
async def activity_flow(sync_resources: Resources) -> AsyncIterator[Resources]:
    settings = msgspec.structs.replace(sync_resources.settings, activity_group=f"test-activity-{uuid.uuid4().hex[:8]}",
                                       activity_rollup_interval_s=0.1)
    resources = Resources(settings, sync_resources.db, sync_resources.redis, sync_resources.mongo,
                          sync_resources.es, sync_resources.kafka, sync_resources.http)
    stop = asyncio.Event()
    relay = OutboxRelay(settings, resources.db, resources.kafka, topics=list(RELAYED))
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(ingest.run(resources, stop)),
             asyncio.create_task(invalidation.run(resources, stop))]
    yield resources
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 20)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy (its value) or the deadline passes (the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)
