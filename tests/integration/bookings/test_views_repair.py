"""The booking views' repair follows the outbox from a watermark: views whose events were lost are
refreshed once, and a round after no new change reads nothing, however many bookings came before."""

from __future__ import annotations

import uuid
from typing import Any

from app.bookings import views
from app.outbox import record_event
from app.resources import Resources
from app.watermarks import OutboxCursor
from tests.support.catalog import ended_stay
from tests.support.wait import until


async def _lost_event(resources: Resources, topic: str, booking_id: str) -> None:
    """The booking's event committed with it, never delivered (a broker restart forgot it)."""
    async with resources.db.acquire() as conn, conn.transaction():
        await record_event(conn, topic=topic, aggregate_type="booking", aggregate_id=booking_id,
                           event_type="booking.confirmed", version=1, payload={"booking_id": booking_id})


async def test_lost_views_are_repaired_once_and_a_quiet_round_reads_nothing(
        catalog_resort: Any, catalog_factory: Any, sync_resources: Resources) -> None:
    # This test's own topic name: no other test's booking event can come along and be counted.
    topic = f"bookings-test-{uuid.uuid4().hex[:8]}"
    cursor = OutboxCursor(sync_resources.db, topic, [topic], settle_s=0)
    await views.reconcile(sync_resources, cursor)  # the watermark starts at the outbox's end
    booked = [await ended_stay(catalog_factory, catalog_resort.room, f"views-{i}") for i in range(12)]
    for booking_id in booked:
        await _lost_event(sync_resources, topic, booking_id)

    async def repaired() -> bool:  # events of transactions older than a running one wait for it (as the relay)
        await views.reconcile(sync_resources, cursor)
        return cursor.reads == len(booked)

    await until(repaired, timeout=30)
    stored = await views.collection(sync_resources).count_documents({"_id": {"$in": booked}})
    assert stored == len(booked)

    quiet = cursor.reads
    assert await views.reconcile(sync_resources, cursor) == 0
    assert cursor.reads == quiet
