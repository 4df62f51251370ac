"""The outbox relay against the real PostgreSQL and Kafka: order, keys, promptness, two relays, crashes.

Each test writes outbox rows of a topic of its own and runs relays restricted to that topic, so it
never publishes (or waits for) other tests' rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from app.outbox import decode_envelope, record_event
from app.resources import Resources
from app.settings import Settings
from sync.relay import OutboxRelay
from tests.support.wait import until


async def _record(resources: Resources, topic: str, count: int, aggregates: int = 3) -> list[uuid.UUID]:
    ids = []
    async with resources.db.acquire() as conn:
        for i in range(count):
            async with conn.transaction():
                ids.append(await record_event(conn, topic=topic, aggregate_type="product",
                                              aggregate_id=f"agg-{i % aggregates}", event_type="product.changed",
                                              version=i, payload={"n": i}))
    return ids


@contextlib.asynccontextmanager
async def _relays(resources: Resources, settings: Settings, topic: str, count: int = 1,
                  relay_class: type[OutboxRelay] = OutboxRelay) -> AsyncIterator[list[OutboxRelay]]:
    relays = [relay_class(settings, resources.db, resources.kafka, topics=[topic]) for _ in range(count)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    try:
        yield relays
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)


async def _consume(settings: Settings, topic: str, expected: int, timeout: float = 20) -> list[tuple[bytes, bytes]]:
    """Everything on the topic, up to its end offsets read once publishing is over (call it after the relays
    stopped or the outbox is drained): duplicates included, no waiting for ones that may never come."""
    name = settings.topic(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    got: list[tuple[bytes, bytes]] = []
    try:
        async def partitions() -> set[int] | None:
            await consumer.topics()  # refreshes the metadata
            return consumer.partitions_for_topic(name)

        tps = [TopicPartition(name, p) for p in sorted(await until(partitions, timeout=timeout))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, f"{name}: not all of {sum(ends.values())} messages read"
            for messages in (await consumer.getmany(*tps, timeout_ms=300)).values():
                got.extend((m.key, m.value) for m in messages)
    finally:
        await consumer.stop()
    assert len(got) >= expected, (len(got), expected)
    return got


async def _unpublished(resources: Resources, topic: str) -> int:
    return await resources.db.fetchval("SELECT count(*) FROM outbox WHERE topic = $1 AND published_at IS NULL",
                                       topic)


async def test_publishes_in_order_keyed_by_aggregate_and_marks_rows(sync_resources: Resources,
                                                                     settings: Settings, unique: str) -> None:
    topic = f"relay{unique}"
    ids = await _record(sync_resources, topic, 12)
    async with _relays(sync_resources, settings, topic):
        await until(lambda: _none_left(sync_resources, topic))
    got = await _consume(settings, topic, 12)
    envelopes = [decode_envelope(value) for _, value in got]
    assert sorted(e.event_id for e in envelopes) == sorted(ids)
    _assert_in_order_per_aggregate(envelopes, ids)
    assert all(key.decode() == e.aggregate_id for (key, _), e in zip(got, envelopes, strict=True))
    fifth = next(e for e in envelopes if e.event_id == ids[5])
    assert fifth.payload == {"n": 5} and fifth.topic == topic and fifth.aggregate_id == "agg-2"


async def _none_left(resources: Resources, topic: str) -> bool:
    return await _unpublished(resources, topic) == 0


async def test_writers_do_not_notify_and_the_poll_publishes_promptly(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    """A NOTIFY per outbox row made every writing transaction queue on one lock at commit: writers no
    longer notify; the leader's 50 ms poll of the unpublished index publishes the row anyway."""
    topic = f"relay{unique}"
    heard: list[str] = []

    def hear(*args: object) -> None:
        heard.append(str(args[-1]))

    async with sync_resources.db.acquire() as listener:
        await listener.add_listener("outbox", hear)
        async with _relays(sync_resources, settings, topic) as (relay,):
            await until(lambda: _leads(relay))
            began = time.monotonic()
            await _record(sync_resources, topic, 3)
            await until(lambda: _none_left(sync_resources, topic), timeout=5, step=0.005)
            elapsed = time.monotonic() - began
            await listener.execute("SELECT 1")  # a round trip: any pending notification is delivered
        await listener.remove_listener("outbox", hear)
    print(f"\nrelay: outbox commit -> published_at in {elapsed * 1000:.1f} ms (no NOTIFY)")
    assert heard == []


async def test_a_new_leader_waits_for_its_predecessors_batch(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    """A batch still locked by a predecessor (in flight at failover) is waited for, never skipped: with
    SKIP LOCKED the new leader would publish the later rows of the same aggregate first."""
    topic = f"relay{unique}"
    ids = await _record(sync_resources, topic, 4, aggregates=1)
    async with sync_resources.db.acquire() as old_leader:
        batch = old_leader.transaction()
        await batch.start()
        await old_leader.fetch("SELECT id FROM outbox WHERE topic = $1 ORDER BY id LIMIT 2 FOR UPDATE", topic)
        relay = OutboxRelay(settings, sync_resources.db, sync_resources.kafka, topics=[topic])
        publishing = asyncio.create_task(relay.publish_batch())
        await until(lambda: _waits_on_a_lock(sync_resources, old_leader))
        assert await _unpublished(sync_resources, topic) == 4 and not publishing.done()
        await batch.rollback()  # the predecessor died without marking its batch
        assert await asyncio.wait_for(publishing, 10) == 4
    got = [decode_envelope(value).event_id for _, value in await _consume(settings, topic, 4)]
    assert got == ids


async def _waits_on_a_lock(resources: Resources, holder: asyncpg.Connection) -> bool:
    pid = holder.get_server_pid()
    return bool(await resources.db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))",
        pid))


async def test_published_rows_are_pruned_after_retention(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    topic = f"relay{unique}"
    await _record(sync_resources, topic, 3)
    async with _relays(sync_resources, settings, topic):
        await until(lambda: _none_left(sync_resources, topic))
    await sync_resources.db.execute(
        "UPDATE outbox SET published_at = now() - interval '2 hours' WHERE topic = $1", topic)
    await _record(sync_resources, topic, 1)  # unpublished: must survive
    relay = OutboxRelay(settings, sync_resources.db, sync_resources.kafka, topics=[topic])
    assert await relay.prune(force=True) >= 3
    assert await sync_resources.db.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic) == 1


async def _leads(relay: OutboxRelay) -> bool:
    return relay.is_leader


async def _holds_back(relay: OutboxRelay) -> bool:
    return relay.pending


async def test_two_relays_publish_every_row_exactly_once(sync_resources: Resources, settings: Settings,
                                                         unique: str) -> None:
    topic = f"relay{unique}"
    async with _relays(sync_resources, settings, topic, count=2) as relays:
        writers = [asyncio.create_task(_record(sync_resources, topic, 40, aggregates=5)) for _ in range(3)]
        ids = [i for batch in await asyncio.gather(*writers) for i in batch]
        await until(lambda: _none_left(sync_resources, topic))
        assert sum(r.is_leader for r in relays) == 1
    got = [decode_envelope(value) for _, value in await _consume(settings, topic, len(ids))]
    assert sorted(e.event_id for e in got) == sorted(ids)  # all of them, none twice
    ordered = [r["event_id"] for r in await sync_resources.db.fetch(
        "SELECT event_id FROM outbox WHERE topic = $1 ORDER BY id", topic)]
    _assert_in_order_per_aggregate(got, ordered)


def _assert_in_order_per_aggregate(received: list, ordered_ids: list[uuid.UUID]) -> None:
    """Kafka orders within a partition, so per key: each aggregate's events arrive in outbox id order."""
    rank = {event_id: n for n, event_id in enumerate(ordered_ids)}
    for aggregate in {e.aggregate_id for e in received}:
        ranks = [rank[e.event_id] for e in received if e.aggregate_id == aggregate]
        assert ranks == sorted(ranks), aggregate


class _CrashAfterPublish(OutboxRelay):
    """Dies once after the broker acked a batch, before marking it published."""

    crashed = False

    async def mark_published(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        if not _CrashAfterPublish.crashed:
            _CrashAfterPublish.crashed = True
            raise ConnectionResetError("crash between publish and mark")
        await super().mark_published(conn, ids)


async def test_crash_between_publish_and_mark_republishes(sync_resources: Resources, settings: Settings,
                                                          unique: str) -> None:
    topic = f"relay{unique}"
    ids = await _record(sync_resources, topic, 5)
    _CrashAfterPublish.crashed = False
    async with _relays(sync_resources, settings, topic, relay_class=_CrashAfterPublish):
        await until(lambda: _none_left(sync_resources, topic))
    got = [decode_envelope(value).event_id for _, value in await _consume(settings, topic, 10)]
    assert _CrashAfterPublish.crashed
    assert sorted(got) == sorted(ids * 2)  # at least once: the batch went out twice, nothing lost


async def test_a_row_committed_early_waits_for_a_lower_id_still_in_flight(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    """Ids are taken at INSERT, commits happen later in any order: the relay must not publish id n+1
    while id n may still commit, or the aggregate's events would reach Kafka out of order."""
    topic = f"relay{unique}"

    async def record(conn: asyncpg.Connection, n: int) -> uuid.UUID:
        return await record_event(conn, topic=topic, aggregate_type="product", aggregate_id="agg-0",
                                  event_type="product.changed", version=n, payload={"n": n})

    async with sync_resources.db.acquire() as slow, sync_resources.db.acquire() as fast:
        async with _relays(sync_resources, settings, topic) as (relay,):
            await until(lambda: _leads(relay))
            slow_tx = slow.transaction()
            await slow_tx.start()
            first = await record(slow, 1)  # the lower id, not committed yet
            async with fast.transaction():
                second = await record(fast, 2)  # the higher id, committed first
            # The leader looked at the outbox after that commit and held the committed row back (a relay
            # that published it would have nothing pending).
            await until(lambda: _holds_back(relay), timeout=10)
            published = await sync_resources.db.fetchval(
                "SELECT count(*) FROM outbox WHERE topic = $1 AND published_at IS NOT NULL", topic)
            assert published == 0  # held back while the lower id is in flight
            await slow_tx.commit()
            await until(lambda: _none_left(sync_resources, topic))
    got = [decode_envelope(value) for _, value in await _consume(settings, topic, 2)]
    assert [e.event_id for e in got] == [first, second]
