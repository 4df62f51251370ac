"""The publisher's repair: channel values whose events were lost (a broker restart forgets messages) are
published again from PostgreSQL, as ordinary updates, once. It follows the outbox from a watermark: a
round reads only the events committed since the last one."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

from app.outbox import record_event
from app.resources import Resources
from app.watermarks import OutboxCursor
from realtime.channels import booking_key
from realtime.publisher import Publisher
from realtime.repair import Repaired, repair_round
from realtime.store import StreamStore
from tests.integration.realtime import events
from tests.support.catalog import ended_stay


async def _round_covering(publisher: Publisher, cursor: OutboxCursor, prop: str, new_events: int) -> Repaired:
    """Rounds until the watermark has read ``new_events`` more events (one committed after a transaction
    that is still running elsewhere waits for it, as the relay does), adding up what they repaired."""
    total, target = Repaired(), cursor.reads + new_events
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        done = await repair_round(publisher, cursor, prop)
        total.items, total.bookings = total.items + done.items, total.bookings + done.bookings
        if cursor.reads >= target:
            return total
        assert asyncio.get_running_loop().time() < deadline, "the watermark never reached the new events"
        await asyncio.sleep(0.05)


def _cursor(resources: Resources) -> OutboxCursor:
    """A watermark of this test's own, with no settling time (the test's events are the lost ones)."""
    return OutboxCursor(resources.db, f"test-live-{uuid.uuid4().hex[:8]}", ["inventory", "bookings"], settle_s=0)


async def test_lost_availability_events_are_published_from_postgres(
        catalog_resort, sync_resources: Resources, publisher: Publisher, store: StreamStore) -> None:
    prop, room, start = catalog_resort.property["id"], catalog_resort.room, catalog_resort.start
    channel = f"availability:{prop}"
    cursor = _cursor(sync_resources)
    await repair_round(publisher, cursor, prop)  # the watermark starts at the outbox's end
    assert await publisher.handle(await events.hold(sync_resources.db, prop, room["id"], start, 1)) == "published"
    assert (await _round_covering(publisher, cursor, prop, 1)).items == 0  # delivered: nothing to repair
    _, before = await store.position(channel)

    await events.hold(sync_resources.db, prop, room["id"], start, 2)  # its event never reaches the publisher
    assert (await _round_covering(publisher, cursor, prop, 1)).items == 4  # two nights of the room and its package
    [entry] = await store.after(channel, before)
    data = json.loads(entry.data)
    assert data["cause"] == "repair" and entry.seq == before + 1
    free = {i["night"]: i["free"] for i in data["items"] if i["product_id"] == str(room["id"])}
    assert free == {start.isoformat(): 3, (start + dt.timedelta(days=1)).isoformat(): 4}
    assert (await repair_round(publisher, cursor, prop)).items == 0


async def test_a_booking_whose_last_event_was_lost_is_published_again(
        catalog_resort, catalog_factory, sync_resources: Resources, publisher: Publisher, store: StreamStore) -> None:
    prop = catalog_resort.property["id"]
    cursor = _cursor(sync_resources)
    await repair_round(publisher, cursor, prop)
    booking_id = await ended_stay(catalog_factory, catalog_resort.room, "repair-guest", status="confirmed")
    pending = await events.booking(sync_resources.db, prop, booking_id, "pending", owner_id="repair-guest")
    assert await publisher.handle(pending) == "published"
    async with sync_resources.db.acquire() as conn, conn.transaction():  # 'confirmed' committed; its event lost
        await conn.execute("UPDATE bookings SET version = greatest(version, 2) WHERE id = $1::uuid", booking_id)
        await record_event(conn, topic="bookings", aggregate_type="booking", aggregate_id=booking_id,
                           event_type="booking.confirmed", version=2, payload={"booking_id": booking_id})

    assert (await _round_covering(publisher, cursor, prop, 1)).bookings == 1
    entries = await store.after(f"booking:{booking_id}", 0)
    assert [json.loads(e.data)["status"] for e in entries] == ["pending", "confirmed"]
    state = await sync_resources.redis.hget(booking_key(booking_id), "state")
    assert json.loads(state)["status"] == "confirmed"
    assert (await repair_round(publisher, cursor, prop)).bookings == 0


async def test_a_round_with_no_new_change_reads_nothing(
        catalog_resort, sync_resources: Resources, publisher: Publisher) -> None:
    prop, room, start = catalog_resort.property["id"], catalog_resort.room, catalog_resort.start
    cursor = _cursor(sync_resources)
    await repair_round(publisher, cursor, prop)
    for _ in range(20):
        await events.hold(sync_resources.db, prop, room["id"], start, 1)
        await events.hold(sync_resources.db, prop, room["id"], start, 1, quantity=-1)
    await _round_covering(publisher, cursor, prop, 40)  # every change read once
    quiet = cursor.reads
    for _ in range(3):
        await repair_round(publisher, cursor, prop)
    assert cursor.reads == quiet  # nothing changed: nothing read, however many bookings came before
