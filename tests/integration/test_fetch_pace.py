"""The fetch pace on the real broker (issue 21: background work in proportion to change). An idle consumer
used to ask the broker 50 times a second; paced, it asks a few times a second once it has seen nothing for
a while, and a message that then arrives is still delivered, after which the pace is fast again. Also the
guard for the aiokafka internal the pace writes (``_fetcher._fetch_max_wait_ms``)."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.protocol.fetch import FetchRequest

from app.fetch_pace import pace_of
from app.settings import Settings


def _count_fetches(consumer: AIOKafkaConsumer) -> list[float]:
    """Times at which the consumer's client sent a fetch request to the broker."""
    sent: list[float] = []
    client, send = consumer._client, consumer._client.send

    async def counting(node_id, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(request, FetchRequest):
            sent.append(time.monotonic())
        return await send(node_id, request, *args, **kwargs)

    client.send = counting
    return sent


async def test_an_idle_consumer_asks_seldom_and_still_gets_the_next_message(settings: Settings,
                                                                             stack: object) -> None:
    topic = settings.topic(f"pace-{uuid.uuid4().hex[:8]}")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    await producer.send_and_wait(topic, b"first")
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest",
                                fetch_max_wait_ms=settings.kafka_fetch_wait_ms)
    await consumer.start()
    try:
        assert hasattr(consumer._fetcher, "_fetch_max_wait_ms")  # what the pace writes
        pace, sent = pace_of(consumer, settings), _count_fetches(consumer)
        async with asyncio.timeout(30):
            while not any((await consumer.getmany(timeout_ms=200)).values()):
                pass
            while pace.wait_ms < settings.kafka_idle_fetch_wait_ms:  # a quiet spell: the hold grows
                pace.after(await consumer.getmany(timeout_ms=200))
            quiet_from = time.monotonic()
            for _ in range(5):
                pace.after(await consumer.getmany(timeout_ms=200))
            quiet_s, asked = time.monotonic() - quiet_from, len([t for t in sent if t >= quiet_from])
            await producer.send_and_wait(topic, b"next")
            got: dict = {}
            while not any(got.values()):
                got = await consumer.getmany(timeout_ms=200)
                pace.after(got)
        assert [m.value for ms in got.values() for m in ms] == [b"next"]
        assert asked <= quiet_s * 1000 / settings.kafka_idle_fetch_wait_ms + 2  # unpaced: one per 20 ms
        assert consumer._fetcher._fetch_max_wait_ms == settings.kafka_fetch_wait_ms
    finally:
        await consumer.stop()
        await producer.stop()
