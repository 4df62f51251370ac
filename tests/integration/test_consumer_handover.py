"""Two consumers of one group (issue 27), as two instances of a Kafka role run them (``app.consumer.consume``,
the loop of the saga, services and booking-views roles): the partitions are split between them; one is told to
stop (SIGTERM sets its stop event) while messages flow, finishes its batch, commits and leaves; the other takes
every partition over; every message is handled, none twice. Real broker, a topic of its own with 12 partitions."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections import Counter

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.consumer import consume
from app.outbox import EventEnvelope, encode_envelope
from app.settings import Settings

PARTITIONS, MESSAGES = 12, 240


async def _topic(settings: Settings, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(settings.topic(name), num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()


async def _produce(settings: Settings, name: str, ids: list[str], pause: float) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for i, event_id in enumerate(ids):
            envelope = EventEnvelope(event_id=uuid.UUID(event_id), topic=name, event_type="test.handover",
                                     aggregate_type="test", aggregate_id=f"a{i}", version=1,
                                     occurred_at=dt.datetime.now(dt.UTC))
            await producer.send_and_wait(settings.topic(name), encode_envelope(envelope), key=f"a{i}".encode())
            await asyncio.sleep(pause)
    finally:
        await producer.stop()


async def test_two_consumers_split_the_partitions_and_one_hands_over_on_stop(settings: Settings,
                                                                             stack: object) -> None:
    name, group = f"handover-{uuid.uuid4().hex[:8]}", f"handover-{uuid.uuid4().hex[:8]}"
    await _topic(settings, name)
    handled: dict[str, list[str]] = {"a": [], "b": []}
    stops = {"a": asyncio.Event(), "b": asyncio.Event()}
    ready = {"a": asyncio.Event(), "b": asyncio.Event()}

    def handler(who: str):  # type: ignore[no-untyped-def]
        async def handle(envelope: EventEnvelope) -> None:
            handled[who].append(str(envelope.event_id))
        return handle

    tasks = {who: asyncio.create_task(consume(settings, name, group, handler(who), stops[who], ready[who]))
             for who in ("a", "b")}
    ids = [str(uuid.uuid4()) for _ in range(MESSAGES)]
    try:
        async with asyncio.timeout(90):
            await asyncio.gather(ready["a"].wait(), ready["b"].wait())
            producing = asyncio.create_task(_produce(settings, name, ids, 0.01))
            while len(handled["a"]) < 20 or len(handled["b"]) < 20:  # both have partitions, both work
                await asyncio.sleep(0.05)
            stops["a"].set()  # "a" finishes its batch, commits, leaves the group
            await tasks["a"]
            await producing
            while len(handled["a"]) + len(handled["b"]) < MESSAGES:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1)  # anything handled twice would show now
    finally:
        for who in ("a", "b"):
            stops[who].set()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks.values())
    counts = Counter(handled["a"] + handled["b"])
    print(f"\nhandover: a handled {len(handled['a'])}, b {len(handled['b'])}, duplicates "
          f"{sum(n - 1 for n in counts.values())}, missing {len(set(ids) - set(counts))}")
    assert set(counts) == set(ids) and max(counts.values()) == 1
    assert handled["a"] and handled["b"], "the partitions were split between the two"


async def test_a_cancelled_loop_leaves_no_handler_running(settings: Settings, stack: object) -> None:
    """A role's loop cancelled (its task, not its stop event) takes the messages it was handling with it:
    they are cancelled, not left running against stores the role is closing; their offsets stay uncommitted."""
    name, group = f"cancel-{uuid.uuid4().hex[:8]}", f"cancel-{uuid.uuid4().hex[:8]}"
    await _topic(settings, name)
    started, ended = asyncio.Event(), asyncio.Event()

    async def handle(envelope: EventEnvelope) -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # a handler waiting on a store that never answers
        finally:
            ended.set()

    loop = asyncio.create_task(consume(settings, name, group, handle, asyncio.Event()))
    await _produce(settings, name, [str(uuid.uuid4())], 0)
    await asyncio.wait_for(started.wait(), 60)
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop
    assert ended.is_set()
