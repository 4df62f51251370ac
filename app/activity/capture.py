"""The api's side of activity: events put on a bounded in-process queue and sent to Kafka (topic
``activity``) by a background task, so a request never waits for Kafka or MongoDB. A full queue (Kafka
down for long) drops the event and counts it: analytics may lose a little, a guest's request never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import uuid
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter

from app.activity.events import ACTIVITY_TOPIC
from app.outbox import EventEnvelope, encode_envelope
from app.settings import Settings

log = structlog.get_logger("app.activity.capture")
CAPTURED = Counter("resort_activity_captured", "Activity events queued for Kafka", ["type"])
DROPPED = Counter("resort_activity_dropped", "Activity events dropped (queue full or Kafka refused)", ["reason"])
SESSION_HEADER = "x-session-id"
SESSION_COOKIE = "resort_sid"
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_FLUSH_TIMEOUT_S = 5.0


def anonymous_subject(session_id: str | None) -> str:
    """``anon:<id>`` for a well-formed session id the guest page set, else the shared ``anon``."""
    return f"anon:{session_id}" if session_id and _SESSION.match(session_id) else "anon"


def envelope(kind: str, payload: dict[str, Any]) -> EventEnvelope:
    return EventEnvelope(event_id=uuid.uuid4(), topic=ACTIVITY_TOPIC, event_type=f"activity.{kind}",
                         aggregate_type="subject", aggregate_id=str(payload.get("subject")), version=0,
                         occurred_at=dt.datetime.now(dt.UTC), payload=payload)


class Emitter:
    """Queue of activity events and the task that sends them (``start``/``stop`` in the api's lifespan)."""

    def __init__(self, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.settings, self.producer = settings, producer
        self.queue: asyncio.Queue[EventEnvelope] = asyncio.Queue(settings.activity_queue_max)
        self.task: asyncio.Task[None] | None = None

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue one event; never blocks, never raises."""
        try:
            self.queue.put_nowait(envelope(kind, payload))
            CAPTURED.labels(kind).inc()
        except asyncio.QueueFull:
            DROPPED.labels("queue_full").inc()

    def start(self) -> None:
        self.task = asyncio.create_task(self._send_forever(), name="activity-sender")

    async def stop(self) -> None:
        """Send what is queued (bounded wait), then end the task."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_FLUSH_TIMEOUT_S):
                await self.queue.join()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _send_forever(self) -> None:
        topic = self.settings.topic(ACTIVITY_TOPIC)
        while True:
            item = await self.queue.get()
            try:
                await self.producer.send(topic, encode_envelope(item), key=item.aggregate_id.encode())
            except Exception as exc:  # noqa: BLE001 - Kafka trouble costs this event, not the api
                DROPPED.labels("kafka").inc()
                log.warning("activity_send_failed", error=repr(exc))
            finally:
                self.queue.task_done()
