"""The publisher's repair: channel values whose events were lost (a broker restart forgets messages) are
published again from PostgreSQL, as ordinary updates, once."""

from __future__ import annotations

import datetime as dt
import json

from app.resources import Resources
from realtime.channels import booking_key
from realtime.publisher import Publisher
from realtime.repair import availability_properties, repair_availability, repair_bookings
from realtime.store import StreamStore
from tests.integration.realtime import events
from tests.support.catalog import ended_stay


async def test_lost_availability_events_are_published_from_postgres(
        catalog_resort, sync_resources: Resources, publisher: Publisher, store: StreamStore) -> None:
    prop, room, start = catalog_resort.property["id"], catalog_resort.room, catalog_resort.start
    channel = f"availability:{prop}"
    assert await publisher.handle(await events.hold(sync_resources.db, prop, room["id"], start, 1)) == "published"
    assert prop in await availability_properties(publisher)
    await repair_availability(publisher, prop, 62)  # the nights nobody published yet
    assert await repair_availability(publisher, prop, 62) == 0
    _, before = await store.position(channel)

    await events.hold(sync_resources.db, prop, room["id"], start, 2)  # its event never reaches the publisher
    assert await repair_availability(publisher, prop, 62) == 4  # two nights of the room and of its package
    [entry] = await store.after(channel, before)
    data = json.loads(entry.data)
    assert data["cause"] == "repair" and entry.seq == before + 1
    free = {i["night"]: i["free"] for i in data["items"] if i["product_id"] == str(room["id"])}
    assert free == {start.isoformat(): 3, (start + dt.timedelta(days=1)).isoformat(): 4}
    assert await repair_availability(publisher, prop, 62) == 0


async def test_a_booking_whose_last_event_was_lost_is_published_again(
        catalog_resort, catalog_factory, sync_resources: Resources, publisher: Publisher, store: StreamStore) -> None:
    prop = catalog_resort.property["id"]
    booking_id = await ended_stay(catalog_factory, catalog_resort.room, "repair-guest", status="confirmed")
    await sync_resources.db.execute("UPDATE bookings SET updated_at = now() - interval '5 seconds'"
                                    " WHERE id = $1::uuid", booking_id)
    pending = await events.booking(sync_resources.db, prop, booking_id, "pending", owner_id="repair-guest")
    assert await publisher.handle(pending) == "published"  # the 'confirmed' event was lost

    assert await repair_bookings(publisher, prop) == 1
    entries = await store.after(f"booking:{booking_id}", 0)
    assert [json.loads(e.data)["status"] for e in entries] == ["pending", "confirmed"]
    state = await sync_resources.redis.hget(booking_key(booking_id), "state")
    assert json.loads(state)["status"] == "confirmed"
    assert await repair_bookings(publisher, prop) == 0
