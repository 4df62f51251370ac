"""The ``recommend-cache`` worker role: availability changes (``inventory`` topic) bump their resort's
recommendation generation (once per event), so no cached ranking outlives the inventory it was ranked on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from app.activity.ingest import ensure_topics
from app.fetch_pace import pace_of
from app.outbox import decode_envelope
from app.recommend.cache import bump
from app.resources import Resources

log = structlog.get_logger("app.recommend.invalidation")
TOPIC = "inventory"
GROUP = "recommend-cache"


Invalidate = Callable[[Resources, list[tuple[str, str]], asyncio.Event], Awaitable[None]]


async def run(resources: Resources, stop: asyncio.Event, invalidate: Invalidate | None = None,
              ready: asyncio.Event | None = None) -> None:
    """Each fetch's changes (event id, property id) invalidated (``invalidate``: bump until it works), then
    its offsets committed; a redelivered event bumps nothing (``cache.bump``). ``ready``: set once the
    consumer has partitions."""
    settings, invalidate = resources.settings, invalidate or bump_until_done
    await ensure_topics(resources, (TOPIC,), stop)
    consumer = AIOKafkaConsumer(settings.topic(TOPIC), bootstrap_servers=settings.kafka_bootstrap,
                                group_id=f"{settings.activity_group}-{GROUP}", enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=50,
                                session_timeout_ms=6_000, heartbeat_interval_ms=1_000)
    await consumer.start()
    pace = pace_of(consumer, settings)
    try:
        while not stop.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=500)
                pace.after(batches)
            except KafkaError as exc:
                log.warning("recommend_fetch_failed", error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            if ready is not None and consumer.assignment():
                ready.set()
            changes = [change for messages in batches.values() for m in messages if (change := _change(m.value))]
            if changes:
                await invalidate(resources, changes, stop)
            if batches:
                with contextlib.suppress(KafkaError, TimeoutError):
                    async with asyncio.timeout(2):
                        await consumer.commit({tp: ms[-1].offset + 1 for tp, ms in batches.items()})
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await consumer.stop()


def _change(raw: bytes) -> tuple[str, str] | None:
    """(event id, property id) of an availability change; None for a message this code cannot read."""
    try:
        envelope = decode_envelope(raw)
        return str(envelope.event_id), str(envelope.payload["property_id"])
    except Exception:  # noqa: BLE001 - a poison message is skipped
        return None


async def bump_until_done(resources: Resources, changes: list[tuple[str, str]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await bump(resources.redis, changes)
            return
        except Exception as exc:  # noqa: BLE001 - Redis down: its cache is gone with it anyway; retry
            log.warning("recommend_bump_failed", error=repr(exc))
            await asyncio.sleep(0.5)
