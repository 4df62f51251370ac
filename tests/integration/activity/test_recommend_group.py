"""Two ``recommend-cache`` roles in one consumer group (issue 27): they split a 6-partition ``inventory``
topic, one is killed right after bumping a batch's generations and before committing its offsets (its task
cancelled, its own clients closed, as a process dies), the other takes its partitions over and gets that
batch again, and each availability change bumps its resort's generation once: a redelivered event finds its
claim and bumps nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec

from app.outbox import EventEnvelope
from app.recommend import invalidation
from app.recommend.cache import generation_key
from app.resources import Resources
from app.settings import Settings
from tests.integration.bookings.conftest import create_topics
from tests.support.groups import REBALANCE_S, Member, Stalling, keyed, kill_mid_stream, start_pair
from tests.support.wait import until

PARTITIONS, PRODUCTS, RESORTS, ROUNDS = 6, 24, 4, 3


def _invalidating(ready: asyncio.Event, stall_at: int = 0) -> Any:
    async def loop(resources: Resources, stop: asyncio.Event) -> tuple[Stalling, Any]:
        stalling = Stalling(invalidation.bump_until_done, stall_at)
        return stalling, invalidation.run(resources, stop, stalling, ready)
    return loop


def _change(product: str, prop: str) -> EventEnvelope:
    return EventEnvelope(event_id=uuid.uuid4(), topic=invalidation.TOPIC, event_type="availability.changed",
                         aggregate_type="product", aggregate_id=product, version=1,
                         occurred_at=dt.datetime.now(dt.UTC), payload={"product_id": product, "property_id": prop})


async def _generations(resources: Resources, resorts: list[str]) -> dict[str, int]:
    found = await resources.redis.mget([generation_key(r) for r in resorts])
    return {r: int(g or 0) for r, g in zip(resorts, found, strict=True)}


async def test_a_killed_invalidator_hands_its_partitions_over_and_every_change_bumps_once(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    mine = msgspec.structs.replace(settings, kafka_topic_prefix=f"test.{unique}.",
                                   activity_group=f"test-activity-{unique}")
    await create_topics(mine, (invalidation.TOPIC,), PARTITIONS)
    resorts = [f"grp-{unique}-{r}" for r in range(RESORTS)]
    resort_of = {str(uuid.uuid4()): resorts[i % RESORTS] for i in range(PRODUCTS)}
    partition_of = {p: i % PARTITIONS for i, p in enumerate(resort_of)}  # every partition carries changes
    sent = [[_change(p, r) for p, r in resort_of.items()] for _ in range(ROUNDS)]
    rounds = keyed(sent, partition_of)
    events = {str(e.event_id): e.aggregate_id for r in sent for e in r}
    # "a" dies right after bumping the batch that makes 4 events, before committing its offsets: "b" gets it again
    members, ready = await start_pair(mine, _invalidating, 4)
    try:
        b_before = await kill_mid_stream(members, ready, mine.topic(invalidation.TOPIC), rounds,
                                         sync_resources.kafka, lambda m: len(m.work.batches))
        await until(lambda: _handled(members, b_before, set(events)), timeout=REBALANCE_S, step=0.2)
    finally:
        for member in members.values():
            await member.close()
    a, b = members["a"].work, members["b"].work
    print(f"\nrecommend group: a bumped {len(a.events())}, b {len(b.events())}, events {len(events)}")
    expected = {r: ROUNDS * sum(1 for p in resort_of.values() if p == r) for r in resorts}
    assert await _generations(sync_resources, resorts) == expected, "each change bumped its resort once"
    taken_over = {partition_of[events[event]] for event in b.events(b_before)}
    assert taken_over == set(range(PARTITIONS)), "b took every partition over, the killed member's too"


async def _handled(members: dict[str, Member], b_before: int, events: set[str]) -> bool:
    """Every event handled, and b got the batch a bumped but did not commit (its last)."""
    a, b = members["a"].work, members["b"].work
    return set(a.batches[-1]) <= set(b.events(b_before)) and set(a.events()) | set(b.events()) == events
