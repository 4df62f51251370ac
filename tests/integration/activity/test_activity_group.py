"""Two ``activity`` roles in one consumer group (issue 27): they split 6-partition topics, one is killed right
after storing a batch and before committing its offsets (its task cancelled, its own clients closed, as a
process dies), the other takes its partitions over and gets that batch again, and every event counts once:
stored once (its event id is its ``_id``: a redelivery is refused) and counted once by the rollup."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec

from app.activity import ingest, store
from app.activity.capture import envelope
from app.activity.events import ACTIVITY_TOPIC
from app.resources import Resources
from app.settings import Settings
from tests.integration.bookings.conftest import create_topics
from tests.support.groups import REBALANCE_S, Member, Stalling, keyed, kill_mid_stream, start_pair
from tests.support.wait import until

PARTITIONS, SUBJECTS, ROUNDS = 6, 24, 3


def _ingesting(ready: asyncio.Event, stall_at: int = 0) -> Any:
    async def loop(resources: Resources, stop: asyncio.Event) -> tuple[Stalling, Any]:
        stalling = Stalling(ingest.store_batch, stall_at)
        return stalling, ingest.consume(resources, stop, stalling, ready)
    return loop


async def _stored(resources: Resources, settings: Settings, prop: str) -> list[str]:
    events = resources.mongo[settings.mongo_db][store.EVENTS]
    return [e["_id"] async for e in events.find({"property_id": prop}, {"_id": 1})]


async def test_a_killed_ingester_hands_its_partitions_over_and_every_event_counts_once(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    mine = msgspec.structs.replace(settings, kafka_topic_prefix=f"test.{unique}.",
                                   activity_group=f"test-activity-{unique}")
    await create_topics(mine, ingest.TOPICS, PARTITIONS)
    db = sync_resources.mongo[mine.mongo_db]
    await store.ensure_indexes(db, mine.activity_retention_days)
    prop, product = f"grp-{unique}", str(uuid.uuid4())
    subjects = [f"user:grp-{unique}-{i}" for i in range(SUBJECTS)]
    partition_of = {s: i % PARTITIONS for i, s in enumerate(subjects)}  # every partition carries views
    sent = [[envelope("view", {"subject": s, "property_id": prop, "product_id": product}) for s in subjects]
            for _ in range(ROUNDS)]
    rounds = keyed(sent, partition_of)
    events = {str(e.event_id): e.aggregate_id for r in sent for e in r}
    # "a" dies right after storing the batch that makes 4 events, before committing its offsets: "b" gets it again
    members, ready = await start_pair(mine, _ingesting, 4)
    try:
        b_before = await kill_mid_stream(members, ready, mine.topic(ACTIVITY_TOPIC), rounds,
                                         sync_resources.kafka, lambda m: len(m.work.batches))
        await until(lambda: _redelivered(members, b_before), timeout=REBALANCE_S, step=0.2)
        await until(lambda: _all_stored(sync_resources, mine, prop, len(events)), timeout=REBALANCE_S, step=0.2)
    finally:
        for member in members.values():
            await member.close()
    await ingest.drain(sync_resources.mongo, db, ingest.Batch(mine.activity_rollup_batch))
    a, b = members["a"].work, members["b"].work
    print(f"\nactivity group: a stored {len(a.events())}, b {len(b.events())}, events {len(events)}")
    daily = [d async for d in store.collection(db, "daily").find({"property_id": prop})]
    assert sum(d.get("view", 0) for d in daily) == len(events), "each event counted once"
    stored = await _stored(sync_resources, mine, prop)
    assert len(stored) == len(events) and set(stored) == set(events), "each event stored once, under its id"
    taken_over = {partition_of[events[event]] for event in b.events(b_before)}
    assert taken_over == set(range(PARTITIONS)), "b took every partition over, the killed member's too"


async def _redelivered(members: dict[str, Member], b_before: int) -> bool:
    """b got the batch a stored but did not commit (its last)."""
    return set(members["a"].work.batches[-1]) <= set(members["b"].work.events(b_before))


async def _all_stored(resources: Resources, settings: Settings, prop: str, count: int) -> bool:
    return len(await _stored(resources, settings, prop)) >= count
