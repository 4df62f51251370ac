"""A step the sweeper takes on a deadline continues the booking's own trace: the booking row keeps the
traceparent of the request that started its saga, the deadline's span is its child, and the command the
sweeper re-sends carries the same trace onward (in-process, spans kept in memory)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.settings import Settings
from app.tracing import setup
from sagas.orchestrator import deadlines
from tests.support.dates import days_from_today


@pytest.fixture
def spans(settings: Settings) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert setup.configure(msgspec.structs.replace(settings, otel_service_name="resort"), "sweeper", exporter=exporter)
    yield exporter
    setup.shutdown()


async def _overdue_booking(db: Any, property_id: str, traceparent: str) -> Any:
    return await db.fetchval(
        "INSERT INTO bookings (owner_kind, owner_id, property_id, status, step, guest, payment_ref, total_amount,"
        " currency, check_in, check_out, step_deadline, deadline, traceparent) VALUES ('user', 'trace-guest', $1,"
        " 'pending', 'convert', '{}', NULL, 1000, 'KRW', $3::date, $3::date + 1,"
        " now() - interval '1 second', now() + interval '1 hour', $2) RETURNING id", property_id, traceparent,
        days_from_today(30))


async def test_a_deadline_step_continues_the_bookings_trace(spans: InMemorySpanExporter, sync_resources: Any,
                                                            catalog_factory: Any, settings: Settings) -> None:
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    prop = await catalog_factory.property()
    booking = await _overdue_booking(sync_resources.db, prop["id"], f"00-{trace_id}-{parent}-01")
    while await deadlines(sync_resources.db, settings) > 0:
        pass
    setup._State.provider.force_flush()
    (step,) = [s for s in spans.get_finished_spans() if s.attributes.get("resort.booking_id") == str(booking)]
    assert step.name == "deadline convert"
    assert (format(step.context.trace_id, "032x"), format(step.parent.span_id, "016x")) == (trace_id, parent)
    row = await sync_resources.db.fetchrow(
        "SELECT event_type, traceparent, payload::text AS payload FROM outbox WHERE aggregate_id = $1"
        " AND topic LIKE '%saga.commands' ORDER BY id DESC LIMIT 1", str(booking))
    assert (row["event_type"], json.loads(row["payload"])["attempt"]) == ("inventory.convert", 1)
    assert row["traceparent"].split("-")[1] == trace_id  # the re-sent command carries the trace onward
