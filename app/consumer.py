"""One Kafka consumer loop for the saga's roles: fetch, handle (up to ``saga_consumer_concurrency`` at once,
each booking's messages in order: ``app.lanes``), commit each partition after its effects. A failing message is retried with backoff (its offset stays uncommitted), so delivery is
at-least-once; handlers are idempotent (inbox or state checks)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from app import tracing
from app.fetch_pace import pace_of
from app.lanes import Lanes
from app.outbox import EventEnvelope, decode_envelope
from app.settings import Settings

log = structlog.get_logger("app.consumer")
# A message this code cannot read (a malformed id, a missing field): skipped and logged. What it asked for
# is not lost: deadlines re-send commands, the views reconcile against PostgreSQL.
POISON = (ValueError, KeyError, TypeError)
_COMMIT_TIMEOUT_S = 0.5
_LEAVING_COMMIT_TIMEOUT_S = 5.0  # a leaving consumer's last commit: what it handled must not come again
_COMMIT_PAUSE_S = 5.0
_DRAIN_S = 3.0  # on stop: how long the messages still being handled may finish
Handler = Callable[[EventEnvelope], Awaitable[None]]


async def consume(settings: Settings, topic: str, group: str, handle: Handler, stop: asyncio.Event,
                  ready: asyncio.Event | None = None) -> None:
    consumer = AIOKafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                fetch_max_wait_ms=settings.kafka_fetch_wait_ms,
                                session_timeout_ms=6_000, heartbeat_interval_ms=1_000)
    await consumer.start()
    pace, commits = pace_of(consumer, settings), _Commits(consumer)
    lanes = Lanes(settings.saga_consumer_concurrency)
    announced = False
    try:
        while not stop.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=100)
                pace.after(batches)
            except KafkaError as exc:  # the broker restarted or moved: aiokafka reconnects and rejoins
                log.warning("saga_fetch_failed", topic=topic, error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            if not announced and consumer.assignment():
                announced = True
                log.info("saga_consumer_ready", topic=topic, group=group,
                         partitions=sorted(tp.partition for tp in consumer.assignment()))
                if ready is not None:
                    ready.set()
            for tp, messages in batches.items():
                for message in messages:
                    await lanes.submit(tp, message.offset, message.key,
                                       lambda raw=message.value: _handle(handle, raw, stop, group))
            await _commit_done(lanes, commits)
        await lanes.drain(_DRAIN_S)
        offsets = lanes.committable()
        if offsets:
            await commits.leave(offsets)
    finally:
        lanes.cancel()  # cancelled rather than stopped: no handler outlives its loop
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await consumer.stop()


async def _commit_done(lanes: Lanes, commits: _Commits) -> None:
    offsets = lanes.committable()
    if offsets:
        await commits.commit(offsets)


class _Commits:
    """Offsets are committed after their effects; a commit refused after a rebalance or a broker restart
    is not fatal (the messages come again, the handlers are idempotent), and while the broker keeps
    refusing them (a restarted broker forgets its topics for a while) commits pause instead of blocking
    the loop on aiokafka's retries."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer, self.paused_until = consumer, 0.0

    async def commit(self, offsets: dict) -> None:  # type: ignore[type-arg]
        loop = asyncio.get_running_loop()
        if loop.time() < self.paused_until:
            return
        try:
            async with asyncio.timeout(_COMMIT_TIMEOUT_S):  # aiokafka retries some errors forever
                await self.consumer.commit(offsets)
        except (KafkaError, TimeoutError) as exc:
            self.paused_until = loop.time() + _COMMIT_PAUSE_S
            log.warning("saga_commit_failed", error=repr(exc))

    async def leave(self, offsets: dict) -> None:  # type: ignore[type-arg]
        """The last commit of a consumer leaving its group, however the earlier ones went: a longer bound, no
        pause, so the consumer taking its partitions over starts after what this one handled."""
        try:
            async with asyncio.timeout(_LEAVING_COMMIT_TIMEOUT_S):
                await self.consumer.commit(offsets)
        except (KafkaError, TimeoutError) as exc:
            log.warning("saga_leaving_commit_failed", error=repr(exc))


async def _handle(handle: Handler, raw: bytes, stop: asyncio.Event, group: str) -> None:
    try:
        envelope = decode_envelope(raw)
    except Exception:  # noqa: BLE001 - a poison message is logged and skipped, never retried forever
        log.error("saga_message_undecodable", size=len(raw))
        return
    with tracing.message_span(envelope, group):  # a child of the span that sent it: one saga, one trace
        await _attempts(handle, envelope, stop)


async def _attempts(handle: Handler, envelope: EventEnvelope, stop: asyncio.Event) -> None:
    delay = 0.1
    while True:
        try:
            return await handle(envelope)
        except POISON as exc:  # not the store's fault: retrying would block the partition forever
            log.error("saga_message_skipped", message_type=envelope.event_type, booking_id=envelope.aggregate_id,
                      error=repr(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a store is down: retry, the offset stays uncommitted
            log.warning("saga_message_retry", message_type=envelope.event_type, booking_id=envelope.aggregate_id,
                        error=repr(exc))
            if stop.is_set():
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


BatchHandler = Callable[[list[EventEnvelope]], Awaitable[None]]


async def consume_batches(settings: Settings, topic: str, group: str, handle: BatchHandler,
                          stop: asyncio.Event, max_records: int = 500) -> None:
    """As :func:`consume`, for handlers whose work folds: each fetch's messages of one partition are handed
    over together (at most ``max_records``; a read model writes each aggregate once per batch), retried
    whole until they succeed, and committed after."""
    consumer = AIOKafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                fetch_max_wait_ms=settings.kafka_fetch_wait_ms, session_timeout_ms=6_000,
                                heartbeat_interval_ms=1_000)
    await consumer.start()
    pace, commits, done = pace_of(consumer, settings), _Commits(consumer), {}
    try:
        while not stop.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=max_records)
                pace.after(batches)
            except KafkaError as exc:
                log.warning("saga_fetch_failed", topic=topic, error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            for tp, messages in batches.items():
                envelopes = [e for e in (_decoded(m.value) for m in messages) if e is not None]
                await _batch_attempts(handle, envelopes, stop, topic, group)
                done[tp] = messages[-1].offset + 1
                await commits.commit({tp: done[tp]})
        if done:
            await commits.leave(done)
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await consumer.stop()


def _decoded(raw: bytes) -> EventEnvelope | None:
    try:
        return decode_envelope(raw)
    except Exception:  # noqa: BLE001 - a poison message is logged and skipped
        log.error("saga_message_undecodable", size=len(raw))
        return None


async def _batch_attempts(handle: BatchHandler, envelopes: list[EventEnvelope], stop: asyncio.Event,
                          topic: str, group: str) -> None:
    delay = 0.1
    while envelopes:
        try:
            with contextlib.ExitStack() as spans:  # each message's span, a child of the span that sent it
                for envelope in envelopes:
                    spans.enter_context(tracing.message_span(envelope, group))
                return await handle(envelopes)
        except POISON as exc:  # one message this code cannot read: the others still count, one by one
            if len(envelopes) > 1:
                for envelope in envelopes:
                    await _batch_attempts(handle, [envelope], stop, topic, group)
                return
            log.error("saga_message_skipped", topic=topic, message_type=envelopes[0].event_type,
                      aggregate=envelopes[0].aggregate_id, error=repr(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a store is down: retry, the offsets stay uncommitted
            log.warning("saga_batch_retry", topic=topic, size=len(envelopes), error=repr(exc))
            if stop.is_set():
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
