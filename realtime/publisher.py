"""The ``publisher`` role: Kafka (inventory, holds, bookings; catalog apart) -> sequenced per-channel entries in Redis.

A catalog event of a price or restriction change (``product.changed``, change ``prices`` or ``rate_plan``)
publishes the product's items of the next ``live_max_range_days`` nights whose version grew (an item's
version counts its rates' versions): watchers see the new price, minimum stay and closed-to-arrival as
they see counts, so the guest page never shows a price the hold will refuse.

At-least-once from Kafka (offsets committed after the entries are written), effectively once in Redis:
each event's entries and state are written by one script that first claims ``rt:seen:<event_id>``, and
availability items whose per-night version is not above the last published one are dropped, so a
redelivered or reordered event changes nothing. The version check is made again inside the write's script,
atomically (two publishers, or the repair beside the consumer, racing on one (product, night) cannot publish
an older value after a newer one). Each entry's data is encoded here, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import asyncpg
import msgspec
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from redis.asyncio import Redis

from app import clock, tracing
from app.outbox import EventEnvelope, decode_envelope
from app.resources import Resources
from app.settings import Settings
from realtime.channels import booking_key, seen_key, versions_key
from realtime.metrics import PUBLISHED, PUBLISHER_SKIPPED
from realtime.queries import items_for
from realtime.store import Append, StreamStore

log = structlog.get_logger("realtime.publisher")
TOPICS = ("inventory", "holds", "bookings", "frontdesk")
PRICES = "catalog"  # read by a consumer of its own, from the newest message: see prices_consumer_of
RATE_CHANGES = ("prices", "rate_plan")
_encode = msgspec.json.encode
_COMMIT_TIMEOUT_S = 2.0
_HOLD_FIELDS = ("hold_id", "property_id", "product_id", "product_kind", "check_in", "check_out", "quantity",
                "guests", "status", "expires_at", "total_amount", "currency")
_BOOKING_FIELDS = ("booking_id", "status", "step", "reason", "check_in", "check_out", "confirmation_code", "at")


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


class Publisher:
    def __init__(self, db: asyncpg.Pool, redis: Redis, store: StreamStore, group: str = "realtime-publisher",
                 horizon_days: int = 62) -> None:
        self.db = db
        self.redis = redis
        self.store = store
        self.group = group  # its consumer group (the name of its spans' consumer)
        self.horizon_days = horizon_days  # the nights a price change publishes (as many as a watcher may see)

    async def handle(self, envelope: EventEnvelope) -> str:
        """Write one event's entries; returns published, duplicate, stale or ignored."""
        if await self.redis.exists(seen_key(str(envelope.event_id))):
            return "duplicate"
        if envelope.topic not in (*TOPICS, PRICES) or (envelope.topic == PRICES
                                                       and envelope.payload.get("change") not in RATE_CHANGES):
            return "ignored"
        append = await self.prepare(envelope)
        if append is None:
            return "stale"
        append.traceparent = tracing.current_traceparent()  # the api's push of these entries continues it
        return {1: "published", 0: "duplicate", 2: "stale"}[await self.store.write(append)]

    async def prepare(self, envelope: EventEnvelope) -> Append | None:
        """What the event writes (None: nothing newer than what was published); checked again on write."""
        handler = {"inventory": self._inventory, "holds": self._hold, "bookings": self._booking,
                   "frontdesk": self._housekeeping, "catalog": self._rates}[envelope.topic]
        return await handler(envelope)

    async def _rates(self, envelope: EventEnvelope) -> Append | None:
        """A price or restriction change: the product's items whose version grew, from today on."""
        payload = envelope.payload
        if envelope.event_type != "product.changed" or payload.get("change") not in RATE_CHANGES:
            return None
        property_id, product_id = str(payload["property_id"]), uuid.UUID(str(payload["product_id"]))
        async with self.db.acquire() as conn:
            zone = await conn.fetchval("SELECT time_zone FROM properties WHERE id = $1", property_id)
            today = clock.today(zone or "UTC")
            nights = [today - dt.timedelta(days=1) + dt.timedelta(days=i) for i in range(self.horizon_days + 1)]
            items = await items_for(conn, [product_id], nights)
        fresh = await self.newer(property_id, [i for i in items if i["product_id"] == str(product_id)])
        if not fresh:
            return None
        append = Append(str(envelope.event_id), _ms(envelope.occurred_at))
        append.entries.append((f"availability:{property_id}", _encode({"cause": "rates", "items": fresh})))
        append.fields += [(versions_key(property_id), f"{i['product_id']}:{i['night']}", str(i["version"]))
                          for i in fresh]
        return append

    async def _inventory(self, envelope: EventEnvelope) -> Append | None:
        payload = envelope.payload
        property_id, product_id = str(payload["property_id"]), uuid.UUID(str(payload["product_id"]))
        nights = {dt.date.fromisoformat(n["night"]): n for n in payload.get("nights", [])}
        async with self.db.acquire() as conn:
            items = await items_for(conn, [product_id], sorted(nights),
                                    {(product_id, d): (int(n["free"]), int(n["version"])) for d, n in nights.items()})
        fresh = await self.newer(property_id, items)
        if not fresh:
            return None
        own = {i["night"] for i in fresh if i["product_id"] == str(product_id)}
        feed = {"kind": "inventory", "cause": payload.get("cause"), "hold_id": payload.get("hold_id"),
                "product_id": str(product_id),
                "nights": [{k: n[k] for k in ("night", "capacity", "held", "sold", "version")}
                           for n in payload.get("nights", []) if n["night"] in own]}
        append = Append(str(envelope.event_id), _ms(envelope.occurred_at))
        append.entries.append((f"availability:{property_id}", _encode({"cause": payload.get("cause"),
                                                                         "items": fresh})))
        if feed["nights"]:
            append.entries.append((f"frontdesk:{property_id}", _encode(feed)))
        append.fields += [(versions_key(property_id), f"{i['product_id']}:{i['night']}", str(i["version"]))
                          for i in fresh]
        return append

    async def newer(self, property_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items whose version is above the one last published for their (product, night)."""
        if not items:
            return []
        stored = await self.redis.hmget(versions_key(property_id), [f"{i['product_id']}:{i['night']}" for i in items])
        return [i for i, seen in zip(items, stored, strict=True) if seen is None or i["version"] > int(seen)]

    async def _hold(self, envelope: EventEnvelope) -> Append:
        payload = envelope.payload
        data = {"kind": "hold", "event_type": envelope.event_type} | {k: payload.get(k) for k in _HOLD_FIELDS}
        append = Append(str(envelope.event_id), _ms(envelope.occurred_at))
        append.entries.append((f"frontdesk:{payload['property_id']}", _encode(data)))
        return append

    async def _housekeeping(self, envelope: EventEnvelope) -> Append | None:
        """A room's housekeeping state on the front desk's feed (the desk's other room events are not live)."""
        payload = envelope.payload
        if envelope.event_type != "room.housekeeping":
            return None
        append = Append(str(envelope.event_id), _ms(envelope.occurred_at))
        append.entries.append((f"frontdesk:{payload['property_id']}", _encode(
            {"kind": "housekeeping", "room_id": payload["room_id"], "number": payload["number"],
             "housekeeping": payload["housekeeping"]})))
        return append

    async def _booking(self, envelope: EventEnvelope) -> Append:
        payload = envelope.payload
        booking_id = str(payload.get("booking_id") or envelope.aggregate_id)
        return booking_append(str(envelope.event_id), _ms(envelope.occurred_at), booking_id, payload,
                              envelope.event_type, envelope.version)


def booking_append(event_id: str, at_ms: int, booking_id: str, payload: dict[str, Any], event_type: str,
                   version: int) -> Append:
    """A booking's state on its channel and the front desk's feed, and its owner and latest state, guarded by
    the booking's version: a state older than the one published (a redelivery after a rebalance, the repair
    racing the consumer) writes nothing, so a channel never goes back from ``cancelled`` to ``cancelling``."""
    state = {k: payload.get(k) for k in _BOOKING_FIELDS} | {"booking_id": booking_id}
    append = Append(event_id, at_ms)
    append.entries.append((f"booking:{booking_id}", _encode(state)))
    append.entries.append((f"frontdesk:{payload['property_id']}",
                           _encode({"kind": "booking", "event_type": event_type} | state)))
    key = booking_key(booking_id)
    owner = {"owner_kind": payload.get("owner_kind"), "owner_id": payload.get("owner_id"),
             "partner_client_id": payload.get("partner_client_id"), "property_id": payload.get("property_id")}
    append.fields += [(key, name, str(value)) for name, value in owner.items() if value is not None]
    append.fields.append((key, "state", _encode(state).decode()))
    append.guard = (key, "version", version)
    return append


async def consume(publisher: Publisher, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
    """Apply batches and commit after each; a poison message is logged and skipped, never blocking. A
    commit the broker refuses (it restarted and forgot its topics) is given up after a while instead of
    retried forever: the batch comes again and changes nothing (each event is claimed once)."""
    while not stop.is_set():
        try:
            batches = await consumer.getmany(timeout_ms=300, max_records=200)
        except KafkaError as exc:  # the broker restarted: aiokafka reconnects
            log.warning("publisher_fetch_failed", error=repr(exc))
            await asyncio.sleep(0.5)
            continue
        for messages in batches.values():
            for message in messages:
                await _apply(publisher, message.value, stop)
        if batches:
            try:
                async with asyncio.timeout(_COMMIT_TIMEOUT_S):
                    await consumer.commit()
            except (KafkaError, TimeoutError) as exc:
                log.warning("publisher_commit_failed", error=repr(exc))


async def _apply(publisher: Publisher, raw: bytes | None, stop: asyncio.Event) -> None:
    try:
        envelope = decode_envelope(raw or b"")
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        PUBLISHER_SKIPPED.inc()
        log.error("publisher_bad_event", error=repr(exc))
        return
    with tracing.message_span(envelope, publisher.group):
        await _attempts(publisher, envelope, stop)


async def _attempts(publisher: Publisher, envelope: EventEnvelope, stop: asyncio.Event) -> None:
    delay = 0.2
    while True:
        try:
            PUBLISHED.labels(await publisher.handle(envelope)).inc()
            return
        except (KeyError, ValueError, TypeError) as exc:
            PUBLISHER_SKIPPED.inc()
            log.error("publisher_bad_event", error=repr(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a store unreachable: retry until it passes or we stop
            if stop.is_set():
                raise
            log.warning("publisher_retry", error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def consumer_of(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *(settings.topic(t) for t in TOPICS), bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.live_publisher_group, enable_auto_commit=False, auto_offset_reset="earliest",
    )


def prices_consumer_of(settings: Settings) -> AIOKafkaConsumer:
    """The catalog topic, apart (its volume never delays counts), from its newest message when the group is
    new: a price change it never saw is published by the repair, which compares versions that count rates."""
    return AIOKafkaConsumer(
        settings.topic(PRICES), bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"{settings.live_publisher_group}-prices", enable_auto_commit=False, auto_offset_reset="latest",
    )


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``publisher`` role."""
    settings = resources.settings
    publisher = Publisher(resources.db, resources.redis, StreamStore(resources.redis, settings.live_stream_maxlen),
                          settings.live_publisher_group, settings.live_max_range_days)
    from realtime.repair import repair_periodically

    consumer, prices = consumer_of(settings), prices_consumer_of(settings)
    await consumer.start()
    await prices.start()
    log.info("publisher_started", topics=[settings.topic(t) for t in (*TOPICS, PRICES)])
    side = [asyncio.create_task(repair_periodically(publisher, settings, stop), name="live-repair"),
            asyncio.create_task(consume(publisher, prices, stop), name="live-prices")]
    try:
        await consume(publisher, consumer, stop)
    finally:
        for task in side:
            task.cancel()
        await asyncio.gather(*side, return_exceptions=True)
        await consumer.stop()
        await prices.stop()
