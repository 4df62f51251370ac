"""The ``activity`` worker role: Kafka -> MongoDB raw events, and the incremental rollup.

It reads the api's ``activity`` topic and the ``holds`` and ``bookings`` events the outbox relays, turns
each message into at most one event (``app.activity.events``), fills what a message lacks from PostgreSQL
(a booking's products and rate plans, a viewed product's resort), stores the batch (duplicates refused by
``_id``) and only then commits the offsets: a crash redelivers, the redelivery counts once.

The rollup runs beside it every ``activity_rollup_interval_s``: one process at a time (a Redis lease),
each round a transaction over the next ``activity_rollup_batch`` new events (``store.rollup_once``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge
from pymongo.errors import PyMongoError

from app.activity import events as ev
from app.activity import popularity, repository, store
from app.activity.domain import PAIRS_SUBJECT_MAX
from app.fetch_pace import pace_of
from app.outbox import EventEnvelope, decode_envelope
from app.resources import Resources
from app.settings import Settings
from app.worker import sleep_or_stop

log = structlog.get_logger("app.activity.ingest")
CONSUMED = Counter("resort_activity_messages", "Messages the activity role read (redeliveries too)", ["topic"])
INGESTED = Counter("resort_activity_ingested", "Activity events stored (first delivery)")
ROLLED = Counter("resort_activity_rolled", "Activity events counted into the rollups")
BACKLOG = Gauge("resort_activity_rollup_backlog", "Stored events not yet counted into the rollups")
TOPICS = (ev.ACTIVITY_TOPIC, ev.HOLDS_TOPIC, ev.BOOKINGS_TOPIC)
LEASE_KEY = "activity:rollup:lease"
MIN_BATCH = 25
_RETRY_S = 0.5


async def events_of(resources: Resources, envelopes: list[EventEnvelope]) -> list[dict[str, Any]]:
    """The activity events of a batch of messages (PostgreSQL fills what they lack)."""
    found: list[dict[str, Any]] = []
    for envelope in envelopes:
        if envelope.topic == ev.ACTIVITY_TOPIC:
            event = ev.from_activity(envelope)
        elif envelope.topic == ev.HOLDS_TOPIC:
            event = ev.from_hold(envelope)
        elif ev.booking_kind(envelope):
            event = ev.from_booking(envelope, await repository.booking_lines(resources.db, envelope.aggregate_id))
        else:
            event = None
        if event is not None:
            found.append(event)
    unplaced = [e for e in found if e["property_id"] == "all" and e["type"] != "search" and e.get("product_id")]
    if unplaced:
        places = await repository.properties_of(resources.db, [e["product_id"] for e in unplaced])
        for event in unplaced:
            event["property_id"] = places.get(event["product_id"], "all")
    return found


def _decoded(raw: bytes) -> EventEnvelope | None:
    """The message (its ``topic`` is the bare name); None for a poison message, skipped, never retried."""
    try:
        return decode_envelope(raw)
    except Exception:  # noqa: BLE001
        log.error("activity_message_undecodable", size=len(raw))
        return None


async def store_batch(resources: Resources, envelopes: list[EventEnvelope], stop: asyncio.Event) -> None:
    """Store until it works (or the role stops): the offsets are committed only after."""
    db = resources.mongo[resources.settings.mongo_db]
    while True:
        try:
            INGESTED.inc(await store.ingest(db, await events_of(resources, envelopes)))
            return
        except Exception as exc:  # noqa: BLE001 - a store is down: retry the batch, offsets uncommitted
            log.warning("activity_ingest_retry", error=repr(exc))
            if stop.is_set():
                raise
            await asyncio.sleep(_RETRY_S)


async def ensure_topics(resources: Resources, topics: tuple[str, ...], stop: asyncio.Event) -> None:
    """Have the broker create the topics before the consumer joins (a subscription to a topic that does not
    exist yet would wait for the next metadata refresh, minutes)."""
    for topic in topics:
        while not stop.is_set():
            try:
                await resources.kafka.partitions_for(resources.settings.topic(topic))
                break
            except Exception:  # noqa: BLE001 - the broker is creating it, or is not up yet
                await asyncio.sleep(0.1)


Store = Callable[[Resources, list[EventEnvelope], asyncio.Event], Awaitable[None]]


async def consume(resources: Resources, stop: asyncio.Event, store_with: Store = store_batch,
                  ready: asyncio.Event | None = None) -> None:
    """The Kafka half of the role: each fetch stored (``store_with``), then its offsets committed; ``ready``
    is set once the consumer has partitions."""
    settings = resources.settings
    await ensure_topics(resources, TOPICS, stop)
    consumer = AIOKafkaConsumer(*(settings.topic(t) for t in TOPICS), bootstrap_servers=settings.kafka_bootstrap,
                                group_id=settings.activity_group, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=100,
                                session_timeout_ms=6_000, heartbeat_interval_ms=1_000)
    await consumer.start()
    pace, announced = pace_of(consumer, settings), False
    try:
        while not stop.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=settings.activity_fetch_max)
                pace.after(batches)
            except KafkaError as exc:
                log.warning("activity_fetch_failed", error=repr(exc))
                await asyncio.sleep(_RETRY_S)
                continue
            if not announced and consumer.assignment():
                announced = True
                log.info("activity_consumer_ready", partitions=len(consumer.assignment()))
                if ready is not None:
                    ready.set()
            envelopes = [e for messages in batches.values() for m in messages if (e := _decoded(m.value)) is not None]
            if envelopes:
                await store_with(resources, envelopes, stop)
            for envelope in envelopes:
                CONSUMED.labels(envelope.topic).inc()
            if batches:
                with contextlib.suppress(KafkaError, TimeoutError):  # not fatal: redelivered, counted once
                    async with asyncio.timeout(2):
                        await consumer.commit({tp: ms[-1].offset + 1 for tp, ms in batches.items()})
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await consumer.stop()


class Batch:
    """The rollup's batch size: halved when a transaction is aborted (too long for the server's transaction
    lifetime on a loaded machine, or a write conflict), doubled back up to the setting after a success; and
    the most products a subject's co-booking pairs are kept for (``RESORT_ACTIVITY_PAIRS_SUBJECT_MAX``)."""

    def __init__(self, most: int, pairs_most: int = PAIRS_SUBJECT_MAX) -> None:
        self.most = self.size = max(most, MIN_BATCH)
        self.pairs_most = pairs_most

    @classmethod
    def of(cls, settings: Settings) -> Batch:
        return cls(settings.activity_rollup_batch, settings.activity_pairs_subject_max)

    def failed(self) -> None:
        self.size = max(MIN_BATCH, self.size // 2)

    def succeeded(self) -> None:
        self.size = min(self.most, self.size * 2)


async def drain(client: Any, db: Any, batch: Batch, on_round: Any = None) -> int:
    """Count every new event, round after round (a transient abort retries with a smaller batch)."""
    total = 0
    while True:
        try:
            counted = await store.rollup_once(client, db, batch.size, batch.pairs_most)
        except PyMongoError as exc:
            if not exc.has_error_label("TransientTransactionError") or batch.size == MIN_BATCH:
                raise
            log.warning("activity_rollup_smaller_batch", size=batch.size // 2, error=repr(exc))
            batch.failed()
            continue
        if counted == 0:
            return total
        total += counted
        batch.succeeded()
        ROLLED.inc(counted)
        if on_round is not None:
            await on_round()


async def rollup_round(resources: Resources, batch: Batch | None = None) -> int:
    """Count every new event, then update the search documents of the products whose popularity changed
    (while this process holds the lease); how many events were counted."""
    settings, redis = resources.settings, resources.redis
    token = uuid.uuid4().hex
    lease_ms = int(max(settings.activity_rollup_interval_s * 10, 30) * 1000)
    if not await redis.set(LEASE_KEY, token, nx=True, px=lease_ms):
        return 0
    db = resources.mongo[settings.mongo_db]
    try:
        total = await drain(resources.mongo, db, batch or Batch.of(settings),
                            lambda: redis.pexpire(LEASE_KEY, lease_ms))
        BACKLOG.set(0)
        await popularity.publish(db, resources.es, settings.search_index, dt.datetime.now(dt.UTC).date(),
                                 settings.search_popularity_days)
    finally:
        if await redis.get(LEASE_KEY) == token.encode():
            await redis.delete(LEASE_KEY)
    return total


async def roll_up(resources: Resources, stop: asyncio.Event) -> None:
    batch = Batch.of(resources.settings)
    while not stop.is_set():
        try:
            await rollup_round(resources, batch)
        except Exception as exc:  # noqa: BLE001 - a store is down: the transaction rolled back, next round
            log.warning("activity_rollup_failed", error=repr(exc))
        await sleep_or_stop(stop, resources.settings.activity_rollup_interval_s)


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``activity`` role."""
    await store.ensure_indexes(resources.mongo[resources.settings.mongo_db], resources.settings.activity_retention_days)
    await asyncio.gather(consume(resources, stop), roll_up(resources, stop))
