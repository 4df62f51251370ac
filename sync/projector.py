"""The catalogue projector: Kafka product events -> Elasticsearch, MongoDB read model, Redis.

For each event it rebuilds the product from the CURRENT state of PostgreSQL and MongoDB (never from the
payload), writes the search document (compare-and-set, version-aware) and the read model together with
the inbox entry of the message (one MongoDB transaction), then invalidates the cached product view,
bumps the search generation and announces the change on ``catalog:changes``. Offsets are committed
after the effects: a crash redelivers, the inbox turns the redelivery into a no-op.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from dataclasses import dataclass

import asyncpg
import msgspec
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.mongo_client import AsyncMongoClient
from redis.asyncio import Redis

from app import tracing
from app.catalog.cache import bump_search_generation, invalidate_product
from app.outbox import EventEnvelope, decode_envelope
from app.resources import Resources
from app.search.versions import ensure_current
from app.settings import Settings
from app.worker import sleep_or_stop
from sync import stores
from sync.documents import build_read_model, build_search_document
from sync.errors import is_transient
from sync.metrics import (
    PROJECTOR_DUPLICATES,
    PROJECTOR_FAILURES,
    PROJECTOR_PROCESSED,
    PROJECTOR_STALE,
    PROJECTOR_UNKNOWN,
)
from sync.state import load_state

log = structlog.get_logger("sync.projector")
CHANGES_CHANNEL = "catalog:changes"


@dataclass(slots=True)
class ProjectionResult:
    product_id: str
    search: stores.Outcome
    read_model: stores.Outcome
    version: int | None
    property_id: str | None


class CatalogProjector:
    """Projects products; ``consumer`` names its inbox (one per consumer group)."""

    def __init__(self, settings: Settings, db: asyncpg.Pool, mongo_client: AsyncMongoClient,
                 es: AsyncElasticsearch, redis: Redis, consumer: str | None = None) -> None:
        self.settings = settings
        self.db = db
        self.mongo_client = mongo_client
        self.mongo = mongo_client[settings.mongo_db]
        self.es = es
        self.redis = redis
        self.consumer = consumer or settings.projector_group
        self.seen: collections.Counter[str] = collections.Counter()  # outcome -> messages
        self.pending: list[tuple[EventEnvelope, str | None]] = []  # announcements due after a refresh

    @classmethod
    def from_resources(cls, resources: Resources, consumer: str | None = None) -> CatalogProjector:
        return cls(resources.settings, resources.db, resources.mongo, resources.es, resources.redis, consumer)

    async def prepare(self) -> None:
        await ensure_current(self.es, self.settings.search_index)
        await stores.ensure_inbox_indexes(self.mongo)

    async def project(self, product_id: str, inbox: tuple[str, str] | None = None,
                      *, refresh: bool | str = False) -> ProjectionResult:
        """Rebuild one product from the current state and write both stores (also used by repairs)."""
        state = await load_state(self.db, self.mongo, product_id, self.settings.search_price_horizon_days,
                                 popularity_days=self.settings.search_popularity_days)
        index = self.settings.search_index
        if state is None:
            search = await stores.delete_search_document(self.es, index, product_id, refresh=refresh)
            model = await stores.write_read_model(self.mongo_client, self.mongo, None, product_id, inbox)
            return ProjectionResult(product_id, search, model, None, None)
        if state.active:
            search = await stores.write_search_document(self.es, index, build_search_document(state),
                                                        refresh=refresh)
        else:
            search = await stores.delete_search_document(self.es, index, product_id, refresh=refresh)
        model = await stores.write_read_model(self.mongo_client, self.mongo, build_read_model(state),
                                              product_id, inbox)
        return ProjectionResult(product_id, search, model, state.version, str(state.property["id"]))

    async def handle(self, envelope: EventEnvelope) -> str:
        """Apply one event; returns what happened (processed, duplicate, stale, unknown, ignored)."""
        if envelope.aggregate_type != "product":
            return "ignored"
        message_id, product_id = str(envelope.event_id), envelope.aggregate_id
        entry = await stores.inbox_entry(self.mongo, self.consumer, message_id)
        if entry is not None:
            if not entry.get("effects_done"):  # crashed after the effect, before the notifications
                self.pending.append((envelope, envelope.payload.get("property_id")))
            PROJECTOR_DUPLICATES.inc()
            return "duplicate"
        stored = await stores.read_model_version(self.mongo, product_id)
        if stored is not None and envelope.version < stored:
            await stores.record_inbox(self.mongo, self.consumer, message_id)
            PROJECTOR_STALE.inc()
            return "stale"
        result = await self.project(product_id, (self.consumer, message_id))
        self.pending.append((envelope, result.property_id))
        if result.version is None:
            PROJECTOR_UNKNOWN.inc()
            log.warning("projector_unknown_product", product_id=product_id, event_id=message_id)
            return "unknown"
        PROJECTOR_PROCESSED.labels(envelope.event_type).inc()
        return "processed"

    async def flush(self) -> None:
        """Make the batch's documents searchable, then announce them (in this order, so a search that
        follows the new generation can never cache a result that misses them)."""
        if not self.pending:
            return
        await self.es.indices.refresh(index=self.settings.search_index)
        await bump_search_generation(self.redis)  # once for the whole batch
        while self.pending:
            await self._announce(*self.pending[0])
            self.pending.pop(0)

    async def _announce(self, envelope: EventEnvelope, property_id: str | None) -> None:
        """The product view's invalidation and the live-update note; idempotent, so safe to repeat."""
        product_id = envelope.aggregate_id
        await invalidate_product(self.redis, product_id)
        note = {"product_id": product_id, "property_id": property_id, "version": envelope.version,
                "event_type": envelope.event_type, "change": envelope.payload.get("change")}
        await self.redis.publish(CHANGES_CHANNEL, msgspec.json.encode(note))
        await stores.mark_effects_done(self.mongo, self.consumer, str(envelope.event_id))

    async def handle_raw(self, raw: bytes | None, stop: asyncio.Event | None = None) -> str:
        """Decode and apply one Kafka message value, retrying what can be retried.

        Transient failures (a store unreachable) are retried until they pass or ``stop`` is set;
        other failures ``projector_max_attempts`` times, then the message is skipped (counted, logged;
        reconciliation repairs what it missed) so one poison message never blocks its partition.
        """
        try:
            envelope = decode_envelope(raw or b"")
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            PROJECTOR_FAILURES.labels("undecodable").inc()
            log.error("projector_undecodable_message", error=str(exc))
            self.seen["undecodable"] += 1
            return "undecodable"
        with tracing.message_span(envelope, self.consumer):
            return await self._attempts(envelope, stop)

    async def _attempts(self, envelope: EventEnvelope, stop: asyncio.Event | None) -> str:
        attempt, delay = 0, 0.2
        while True:
            try:
                outcome = await self.handle(envelope)
                self.seen[outcome] += 1
                return outcome
            except Exception as exc:  # noqa: BLE001 - classified below
                attempt += 1
                transient = is_transient(exc)
                PROJECTOR_FAILURES.labels("transient" if transient else "error").inc()
                if not transient and attempt >= self.settings.projector_max_attempts:
                    PROJECTOR_FAILURES.labels("skipped").inc()
                    log.error("projector_gave_up", event_id=str(envelope.event_id), exc_info=exc)
                    self.seen["failed"] += 1
                    return "failed"
                log.warning("projector_retry", event_id=str(envelope.event_id), attempt=attempt,
                            error=repr(exc))
            if stop is not None and stop.is_set():
                raise ProjectorStopping
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class ProjectorStopping(Exception):
    """Stop was requested while a message was still failing: leave without committing it."""


def make_consumer(settings: Settings, group_id: str, offset_reset: str = "earliest") -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        settings.topic("catalog"),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset=offset_reset,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
    )


async def consume(projector: CatalogProjector, stop: asyncio.Event, *, group_id: str | None = None,
                  offset_reset: str = "earliest", ready: asyncio.Event | None = None) -> None:
    """The consumer loop: fetch, apply in order, commit each partition's offset after its effects."""
    consumer = make_consumer(projector.settings, group_id or projector.settings.projector_group, offset_reset)
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=300, max_records=100)
            if ready is not None and not ready.is_set() and consumer.assignment():
                for tp in consumer.assignment():
                    await consumer.position(tp)  # resolve the start offset before saying ready
                ready.set()
            for tp, messages in batches.items():
                for message in messages:
                    await projector.handle_raw(message.value, stop)
                await _flush(projector, stop)
                try:
                    async with asyncio.timeout(3.0):  # aiokafka retries some commit errors forever
                        await consumer.commit({tp: messages[-1].offset + 1})
                except (KafkaError, TimeoutError) as exc:  # a rebalance or a broker restart: redelivered, applied idempotently
                    log.warning("projector_commit_failed", error=repr(exc))
    except ProjectorStopping:
        log.info("projector_stopping_mid_retry")
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await consumer.stop()


async def _flush(projector: CatalogProjector, stop: asyncio.Event) -> None:
    """Announce the batch, waiting out a store that is down (the offsets stay uncommitted meanwhile)."""
    delay = 0.2
    while True:
        try:
            return await projector.flush()
        except Exception as exc:
            if not is_transient(exc) or stop.is_set():
                raise
            PROJECTOR_FAILURES.labels("transient").inc()
            log.warning("projector_flush_retry", error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def reconcile_periodically(resources: Resources, stop: asyncio.Event) -> None:
    """Run reconciliation every ``reconcile_interval_s`` (one projector at a time, by a Redis lock)."""
    from sync.reconcile import reconcile

    interval = resources.settings.reconcile_interval_s
    if interval <= 0:
        return
    while not stop.is_set():
        await sleep_or_stop(stop, interval)
        if stop.is_set():
            return
        if not await resources.redis.set("sync:reconcile:lock", str(time.time()), nx=True,
                                         ex=max(int(interval), 1)):
            continue
        try:
            report = await reconcile(resources)
            log.info("reconcile_done", **report.summary())
        except Exception as exc:  # noqa: BLE001 - try again next interval
            log.warning("reconcile_failed", error=repr(exc))


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``projector`` role."""
    projector = CatalogProjector.from_resources(resources)
    await projector.prepare()
    periodic = asyncio.create_task(reconcile_periodically(resources, stop), name="reconcile")
    try:
        await consume(projector, stop)
    finally:
        periodic.cancel()
        await asyncio.gather(periodic, return_exceptions=True)

