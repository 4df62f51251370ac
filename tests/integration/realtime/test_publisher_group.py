"""Two live publishers in one consumer group (issues 21 and 27): they split 6-partition topics, one is killed
mid-stream (its loop cancelled, its own clients closed, as a process dies), the other takes its partitions
over, and every channel's sequence has each event's entry once, in order, with no gap: effectively once by
event id (a redelivered event finds its claim and writes nothing)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import msgspec
from aiokafka import TopicPartition

from app.resources import Resources
from app.settings import Settings
from realtime.channels import seen_key
from realtime.publisher import TOPICS, Publisher, consume, consumer_of
from realtime.store import StreamStore
from tests.integration.bookings.conftest import create_topics
from tests.integration.realtime import events as contract
from tests.support.groups import REBALANCE_S, Member, Noting, keyed, produce_rounds, start_member
from tests.support.wait import until

PARTITIONS, BOOKINGS = 6, 24
STATUSES = ("pending", "reserved", "confirmed", "cancelled")


class NotingPublisher(Noting, Publisher):
    """The role's publisher, noting what each delivery did (and able to stall: see ``Noting``)."""


def _publishing(stall_at: int) -> Any:
    async def loop(resources: Resources, stop: asyncio.Event) -> tuple[tuple[NotingPublisher, Any], Any]:
        settings = resources.settings
        publisher = NotingPublisher(resources.db, resources.redis,
                                    StreamStore(resources.redis, settings.live_stream_maxlen),
                                    settings.live_publisher_group, settings.live_max_range_days)
        publisher.noting(stall_at)
        consumer = consumer_of(settings)
        await consumer.start()
        return (publisher, consumer), _loop(publisher, consumer, stop)
    return loop


async def _loop(publisher: Publisher, consumer: Any, stop: asyncio.Event) -> None:
    """The role's loop; the consumer leaves the group when the loop ends, however it ends (as ``run`` does)."""
    try:
        await consume(publisher, consumer, stop)
    finally:
        await asyncio.shield(consumer.stop())


def _bookings_partitions(member: Member, settings: Settings) -> set[int]:
    _, consumer = member.work
    topic = settings.topic("bookings")
    return {tp.partition for tp in consumer.assignment() if isinstance(tp, TopicPartition) and tp.topic == topic}


def _published(member: Member) -> int:
    return sum(1 for _, outcome in member.work[0].outcomes if outcome == "published")


async def _entries(resources: Resources, settings: Settings, channel: str) -> list[tuple[int, dict[str, Any]]]:
    store = StreamStore(resources.redis, settings.live_stream_maxlen)
    return [(e.seq, json.loads(e.data)) for e in await store.after(channel, 0)]


async def test_a_killed_publisher_hands_its_partitions_over_and_every_event_is_published_once(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    mine = msgspec.structs.replace(settings, kafka_topic_prefix=f"test.{unique}.", live_repair_interval_s=0.0,
                                   live_publisher_group=f"test-publisher-{unique}")
    await create_topics(mine, TOPICS, PARTITIONS)
    prop, bookings = f"grp-{unique}", [f"bk-{unique}-{i}" for i in range(BOOKINGS)]
    # bookings events of the contract, on this test's own topics (no other consumer reads them)
    sent = [[await contract.booking(sync_resources.db, prop, b, status, owner_id="guest-group", version=v)
             for b in bookings] for v, status in enumerate(STATUSES, 1)]
    partition_of = {b: i % PARTITIONS for i, b in enumerate(bookings)}  # every partition carries bookings
    rounds = keyed(sent, partition_of)
    events = {str(e.event_id): e for r in sent for e in r}
    # "a" dies right after its 4th event's entries, before its offset is committed: "b" gets that event again
    members = {name: await start_member(name, mine, _publishing(stall_at)) for name, stall_at in (("a", 4), ("b", 0))}
    killed = asyncio.Event()
    producing: asyncio.Task[None] | None = None
    try:
        await until(lambda: _split(members, mine), timeout=REBALANCE_S, step=0.2)
        producing = asyncio.create_task(produce_rounds(sync_resources.kafka, mine.topic("bookings"), rounds, killed))
        await asyncio.wait_for(members["a"].work[0].stalled.wait(), REBALANCE_S)
        await until(lambda: _worked(members["b"], 4), timeout=REBALANCE_S)  # both worked
        await members["a"].kill()  # mid-stream: "a" still has events of its partitions to publish
        b_before = len(members["b"].work[0].outcomes)
        killed.set()
        await producing
        await until(lambda: _takes_all(members["b"], mine), timeout=REBALANCE_S, step=0.2)
        await until(lambda: _all_published(sync_resources, mine, prop, len(events)), timeout=REBALANCE_S, step=0.2)
    finally:
        if producing is not None:
            producing.cancel()
        for member in members.values():
            await member.close()
    a, b = members["a"].work[0].outcomes, members["b"].work[0].outcomes
    print(f"\npublisher group: a published {_published(members['a'])}, b {_published(members['b'])}, "
          f"redelivered {sum(1 for _, o in a + b if o == 'duplicate')}, events {len(events)}")
    for booking in bookings:  # each booking's channel: its four states once each, in order, seqs 1..4
        entries = await _entries(sync_resources, mine, f"booking:{booking}")
        assert [(seq, d["status"]) for seq, d in entries] == list(enumerate(STATUSES, 1)), booking
    desk = await _entries(sync_resources, mine, f"frontdesk:{prop}")
    assert [seq for seq, _ in desk] == list(range(1, len(events) + 1)), "no gap"
    written = Counter((d["booking_id"], d["event_type"]) for _, d in desk)
    assert written == Counter((e.aggregate_id, e.event_type) for e in events.values()), "each event once"
    claims = await sync_resources.redis.exists(*[seen_key(event) for event in events])
    assert claims == len(events)
    assert (a[-1][0], "duplicate") in b, "b got the event a published but did not commit, and left it alone"
    taken_over = {partition_of[events[event].aggregate_id] for event, _ in b[b_before:]}
    assert taken_over == set(range(PARTITIONS)), "b took every partition over, the killed member's too"


async def _split(members: dict[str, Member], settings: Settings) -> bool:
    a, b = (_bookings_partitions(m, settings) for m in members.values())
    return bool(a) and bool(b) and not a & b and a | b == set(range(PARTITIONS))


async def _takes_all(member: Member, settings: Settings) -> bool:
    return _bookings_partitions(member, settings) == set(range(PARTITIONS))


async def _all_published(resources: Resources, settings: Settings, prop: str, count: int) -> bool:
    return len(await _entries(resources, settings, f"frontdesk:{prop}")) >= count


async def _worked(member: Member, count: int) -> bool:
    return _published(member) >= count
