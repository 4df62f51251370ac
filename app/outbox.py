"""The transactional outbox: record an event in the caller's transaction; the relay publishes it.

The Kafka message is an :class:`EventEnvelope` (JSON), keyed by aggregate id so one aggregate's events
stay in order on one partition. With tracing on, the row and the envelope carry the W3C ``traceparent`` of
the span that wrote the event (``app.tracing``); it is optional, so rows and messages without it decode.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import msgspec

from app import tracing


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    event_id: uuid.UUID
    topic: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    version: int
    occurred_at: dt.datetime
    payload: dict[str, Any] = {}
    traceparent: str | None = None


_encoder = msgspec.json.Encoder()  # omit_defaults: no traceparent key when tracing is off
_decoder = msgspec.json.Decoder(EventEnvelope)


def encode_envelope(envelope: EventEnvelope) -> bytes:
    return _encoder.encode(envelope)


def decode_envelope(raw: bytes) -> EventEnvelope:
    return _decoder.decode(raw)


async def record_event(
    conn: asyncpg.Connection,
    *,
    topic: str,
    aggregate_type: str,
    aggregate_id: str,
    event_type: str,
    version: int,
    payload: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Insert the event into the outbox; must be called inside the transaction that made the change.

    ``topic`` is the bare name (``catalog``); the relay adds the configured prefix.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("record_event must run inside the transaction that made the change")
    event_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO outbox (topic, aggregate_type, aggregate_id, event_type, version, payload, traceparent)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING event_id",
        topic, aggregate_type, aggregate_id, event_type, version, _encoder.encode(payload or {}).decode(),
        tracing.current_traceparent(),
    )
    return event_id
