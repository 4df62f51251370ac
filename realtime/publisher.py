"""The ``publisher`` role: Kafka (inventory, holds, bookings) -> sequenced per-channel entries in Redis.

At-least-once from Kafka (offsets committed after the entries are written), effectively once in Redis:
each event's entries and state are written by one script that first claims ``rt:seen:<event_id>``, and
availability items whose per-night version is not above the last published one are dropped, so a
redelivered or reordered event changes nothing. Each entry's data is encoded here, once.
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

from app import tracing
from app.outbox import EventEnvelope, decode_envelope
from app.resources import Resources
from app.settings import Settings
from realtime.channels import booking_key, seen_key, versions_key
from realtime.metrics import PUBLISHED, PUBLISHER_SKIPPED
from realtime.queries import items_for
from realtime.store import Append, StreamStore

log = structlog.get_logger("realtime.publisher")
TOPICS = ("inventory", "holds", "bookings", "frontdesk")
_encode = msgspec.json.encode
_COMMIT_TIMEOUT_S = 2.0
_HOLD_FIELDS = ("hold_id", "property_id", "product_id", "product_kind", "check_in", "check_out", "quantity",
                "guests", "status", "expires_at", "total_amount", "currency")
_BOOKING_FIELDS = ("booking_id", "status", "step", "reason", "check_in", "check_out", "confirmation_code", "at")


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


class Publisher:
    def __init__(self, db: asyncpg.Pool, redis: Redis, store: StreamStore, group: str = "realtime-publisher") -> None:
        self.db = db
        self.redis = redis
        self.store = store
        self.group = group  # its consumer group (the name of its spans' consumer)

    async def handle(self, envelope: EventEnvelope) -> str:
        """Write one event's entries; returns published, duplicate, stale or ignored."""
        if await self.redis.exists(seen_key(str(envelope.event_id))):
            return "duplicate"
        handler = {"inventory": self._inventory, "holds": self._hold, "bookings": self._booking,
                   "frontdesk": self._housekeeping}.get(envelope.topic)
        append = await handler(envelope) if handler else None
        if append is None:
            return "ignored" if handler is None else "stale"
        append.traceparent = tracing.current_traceparent()  # the api's push of these entries continues it
        return "published" if await self.store.append(append) else "duplicate"

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
                              envelope.event_type)


def booking_append(event_id: str, at_ms: int, booking_id: str, payload: dict[str, Any], event_type: str) -> Append:
    """A booking's state on its channel and the front desk's feed, and its owner and latest state."""
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


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``publisher`` role."""
    settings = resources.settings
    publisher = Publisher(resources.db, resources.redis, StreamStore(resources.redis, settings.live_stream_maxlen),
                          settings.live_publisher_group)
    from realtime.repair import repair_periodically

    consumer = consumer_of(settings)
    await consumer.start()
    log.info("publisher_started", topics=[settings.topic(t) for t in TOPICS])
    repairs = asyncio.create_task(repair_periodically(publisher, settings, stop), name="live-repair")
    try:
        await consume(publisher, consumer, stop)
    finally:
        repairs.cancel()
        await asyncio.gather(repairs, return_exceptions=True)
        await consumer.stop()
