"""The outbox relay: unpublished outbox rows -> Kafka, in id order, keyed by aggregate id.

One relay leads (a PostgreSQL advisory lock held on its own connection); others stand by and take
over when the leader's session ends. Each batch is locked ``FOR UPDATE`` in a transaction held while
publishing, and marked ``published_at`` only after the broker acked every message (``acks=all``). The
lock WAITS (never ``SKIP LOCKED``): a new leader whose predecessor still has a batch in flight must not
publish the rows after it first, or per-aggregate order breaks at failover. A crash between the ack and
the mark republishes the batch: delivery is at-least-once and consumers dedupe by ``event_id``.

Writers do not NOTIFY (a NOTIFY per row queued every writing transaction on one lock at commit); the
leader polls the partial index of unpublished rows every ``relay_poll_interval_s`` (50 ms by default)
and prunes published rows older than ``outbox_retention_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Collection
from typing import Any

import asyncpg
import msgspec
import structlog
from aiokafka import AIOKafkaProducer

from app import tracing
from app.outbox import EventEnvelope, encode_envelope
from app.resources import Resources
from app.settings import Settings
from app.worker import sleep_or_stop
from sync.metrics import RELAY_FAILURES, RELAY_LAG, RELAY_PUBLISHED

log = structlog.get_logger("sync.relay")
_LEADER_LOCK = 7_250_100

_SELECT_BATCH = """
SELECT id, event_id, topic, aggregate_type, aggregate_id, event_type, version, payload::text AS payload,
       created_at, traceparent
FROM outbox
WHERE published_at IS NULL AND ($2::text[] IS NULL OR topic = ANY($2::text[]))
  -- only rows whose writers are older than every running transaction: an aggregate's later event (written under
  -- its row lock, after the earlier one committed) never shows up below it (ids across aggregates can: app/watermarks.py)
  AND txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY id
LIMIT $1
FOR UPDATE
"""
_PRUNE = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE published_at < now() - make_interval(secs => $1) LIMIT $2)
"""
_PRUNE_EVERY_S = 30.0
_BATCH_LOCK_TIMEOUT = "5s"
_HELD_BACK_RETRY_S = 0.05
_OLDEST_AGE = """
SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM outbox WHERE published_at IS NULL AND ($1::text[] IS NULL OR topic = ANY($1::text[]))
"""


def envelope_of(row: asyncpg.Record | dict[str, Any], traceparent: str | None = None) -> EventEnvelope:
    """The Kafka message of one outbox row (``traceparent``: the relay's producer span, else the row's)."""
    return EventEnvelope(
        event_id=row["event_id"], topic=row["topic"], event_type=row["event_type"],
        aggregate_type=row["aggregate_type"], aggregate_id=row["aggregate_id"], version=row["version"],
        occurred_at=row["created_at"], payload=msgspec.json.decode(row["payload"]),
        traceparent=traceparent or row.get("traceparent"),
    )


def leader_lock_key(topics: Collection[str] | None) -> int:
    """One leader per set of topics handled (all topics: the base key)."""
    if not topics:
        return _LEADER_LOCK
    return _LEADER_LOCK + 1 + zlib.crc32(",".join(sorted(topics)).encode()) % 1_000_000


class OutboxRelay:
    """Publishes the outbox; ``topics`` restricts it to some outbox topics (None: all of them)."""

    def __init__(self, settings: Settings, db: asyncpg.Pool, producer: AIOKafkaProducer,
                 topics: Collection[str] | None = None) -> None:
        self.settings = settings
        self.db = db
        self.producer = producer
        self.topics = sorted(topics) if topics else None
        self.wake = asyncio.Event()
        self.is_leader = False
        self.pending = False  # rows left unpublished: held back behind a running transaction
        self.pruned_at = 0.0

    async def publish_batch(self) -> int:
        """Publish the next batch of unpublished rows; return how many were published."""
        async with self.db.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{_BATCH_LOCK_TIMEOUT}'")
            rows = await conn.fetch(_SELECT_BATCH, self.settings.relay_batch_size, self.topics)
            if not rows:
                return 0
            acks = [await self.send(row) for row in rows]
            await asyncio.gather(*acks)  # every message acked by the broker before we mark it
            await self.mark_published(conn, [row["id"] for row in rows])
        for row in rows:
            RELAY_PUBLISHED.labels(row["topic"]).inc()
        return len(rows)

    async def send(self, row: asyncpg.Record) -> asyncio.Future[Any]:
        """Queue one row's message; its producer span (tracing on) is the parent the consumers continue."""
        with tracing.span(f"publish {row['event_type']}", row["traceparent"], "producer", {
                "messaging.system": "kafka", "messaging.operation.type": "send",
                "messaging.destination.name": row["topic"], "messaging.message.id": str(row["event_id"])}):
            envelope = envelope_of(row, tracing.current_traceparent())
            return await self.producer.send(self.settings.topic(row["topic"]), encode_envelope(envelope),
                                            key=row["aggregate_id"].encode(),
                                            headers=tracing.kafka_headers(envelope.traceparent))

    async def mark_published(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", ids)

    async def drain(self) -> int:
        """Publish until nothing is left; update the lag gauge."""
        total = 0
        while (published := await self.publish_batch()) > 0:
            total += published
        lag = await self.db.fetchval(_OLDEST_AGE, self.topics)
        RELAY_LAG.set(lag)
        self.pending = lag > 0
        await self.prune()
        return total

    async def prune(self, force: bool = False) -> int:
        """Delete published rows past their retention, in bounded batches; at most every 30 s."""
        now = asyncio.get_running_loop().time()
        if not force and now - self.pruned_at < _PRUNE_EVERY_S:
            return 0
        self.pruned_at = now
        deleted = 0
        while True:
            status = await self.db.execute(_PRUNE, float(self.settings.outbox_retention_s), 5_000)
            count = int(status.rsplit(" ", 1)[1])
            deleted += count
            if count < 5_000:
                return deleted

    async def run(self, stop: asyncio.Event) -> None:
        """Lead (or stand by), drain on every NOTIFY and every poll interval, until ``stop``."""
        while not stop.is_set():
            try:
                await self._session(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("relay_connection_lost", error=str(exc))
            except Exception as exc:  # noqa: BLE001 - e.g. Kafka unavailable: back off and retry
                RELAY_FAILURES.inc()
                log.warning("relay_batch_failed", error=repr(exc))
            self.is_leader = False
            await sleep_or_stop(stop, self.settings.relay_poll_interval_s)

    async def _session(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.settings.database_url)
        try:
            while not stop.is_set() and not conn.is_closed():
                if not self.is_leader:
                    self.is_leader = await conn.fetchval("SELECT pg_try_advisory_lock($1)",
                                                         leader_lock_key(self.topics))
                    if self.is_leader:
                        log.info("relay_leading", topics=self.topics)
                if self.is_leader:
                    self.wake.clear()
                    published = await self.drain()
                    if published:
                        log.debug("relay_published", count=published)
                # Poll the partial index of unpublished rows (writers do not NOTIFY); ``wake`` lets
                # an in-process writer (tests, benchmarks) skip the wait.
                pause = _HELD_BACK_RETRY_S if self.pending else self.settings.relay_poll_interval_s
                await _wait_any(stop, self.wake, pause)
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await conn.close()


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``relay`` role."""
    await OutboxRelay(resources.settings, resources.db, resources.kafka).run(stop)
