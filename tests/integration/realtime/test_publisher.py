"""The publisher's handler against real PostgreSQL and Redis: entries, prices, packages, dedupe, epochs."""

from __future__ import annotations

import json

import msgspec

from app.resources import Resources
from realtime.channels import booking_key
from realtime.publisher import Publisher
from realtime.store import StreamStore
from tests.integration.realtime import events


def _data(entry: object) -> dict:
    return json.loads(entry.data)  # type: ignore[attr-defined]


async def test_hold_becomes_availability_and_frontdesk_entries(catalog_resort, sync_resources: Resources,
                                                               publisher: Publisher, store: StreamStore) -> None:
    resort = catalog_resort
    prop = resort.property["id"]
    event = await events.hold(sync_resources.db, prop, resort.room["id"], resort.start, 2)
    assert await publisher.handle(event) == "published"
    [entry] = await store.after(f"availability:{prop}", 0)
    assert entry.seq == 1 and entry.t > 0
    items = {(i["product_id"], i["night"]): i for i in _data(entry)["items"]}
    night = resort.start.isoformat()
    room = items[(str(resort.room["id"]), night)]
    assert (room["free"], room["price"]) == (4, 150_000)
    package = items[(str(resort.package["id"]), night)]  # one room and two tickets: the room is scarcest
    assert (package["free"], package["price"]) == (4, 250_000)
    assert len(items) == 4
    [feed] = await store.after(f"frontdesk:{prop}", 0)
    assert _data(feed)["kind"] == "inventory" and _data(feed)["nights"][0]["held"] == 1

    assert await publisher.handle(event) == "duplicate"
    replay = msgspec.structs.replace(event, event_id=__import__("uuid").uuid4())
    assert await publisher.handle(replay) == "stale"  # same versions under another id: nothing new
    assert len(await store.after(f"availability:{prop}", 0)) == 1

    second = await events.hold(sync_resources.db, prop, resort.room["id"], resort.start, 1)
    assert await publisher.handle(second) == "published"
    entries = await store.after(f"availability:{prop}", 0)
    assert [e.seq for e in entries] == [1, 2]
    assert {i["free"] for i in _data(entries[1])["items"]} == {3}


async def test_lost_stream_starts_a_new_epoch(catalog_resort, sync_resources: Resources, publisher: Publisher,
                                              store: StreamStore, lose_stream) -> None:
    prop = catalog_resort.property["id"]
    channel = f"availability:{prop}"
    before, _ = await store.position(channel)
    await publisher.handle(await events.hold(sync_resources.db, prop, catalog_resort.room["id"],
                                             catalog_resort.start, 1))
    assert await store.position(channel) == (before, 1)
    await lose_stream(channel)
    after, seq = await store.position(channel)
    assert after != before and seq == 0
    await publisher.handle(await events.hold(sync_resources.db, prop, catalog_resort.room["id"],
                                             catalog_resort.start, 1))
    assert await store.position(channel) == (after, 1)


async def test_booking_events_record_owner_and_status(catalog_resort, sync_resources: Resources,
                                                      publisher: Publisher, store: StreamStore, unique: str) -> None:
    prop = catalog_resort.property["id"]
    booking_id = f"bk-{unique}"
    for version, status in enumerate(("pending", "reserved", "confirmed"), 1):
        event = await events.booking(sync_resources.db, prop, booking_id, status, owner_id="guest-1",
                                     version=version)
        assert await publisher.handle(event) == "published"
    entries = await store.after(f"booking:{booking_id}", 0)
    assert [_data(e)["status"] for e in entries] == ["pending", "reserved", "confirmed"]
    owner = await sync_resources.redis.hgetall(booking_key(booking_id))
    assert owner[b"owner_id"] == b"guest-1" and json.loads(owner[b"state"])["status"] == "confirmed"
    feed = await store.after(f"frontdesk:{prop}", 0)
    assert [_data(e)["event_type"] for e in feed] == ["booking.pending", "booking.reserved", "booking.confirmed"]


async def test_an_older_booking_state_never_follows_a_newer_one(catalog_resort, sync_resources: Resources,
                                                               publisher: Publisher, store: StreamStore,
                                                               unique: str) -> None:
    """A redelivery after a rebalance (or the repair racing the consumer) brings ``cancelling`` (version 4)
    after ``cancelled`` (version 5): the channel, the desk's feed and the latest state stay at ``cancelled``."""
    prop = catalog_resort.property["id"]
    booking_id = f"bk-{unique}"
    newer = await events.booking(sync_resources.db, prop, booking_id, "cancelled", owner_id="guest-1", version=5)
    older = await events.booking(sync_resources.db, prop, booking_id, "cancelling", owner_id="guest-1", version=4)
    assert await publisher.handle(newer) == "published"
    assert await publisher.handle(older) == "stale"
    assert [_data(e)["status"] for e in await store.after(f"booking:{booking_id}", 0)] == ["cancelled"]
    assert [_data(e)["status"] for e in await store.after(f"frontdesk:{prop}", 0)] == ["cancelled"]
    state = await sync_resources.redis.hget(booking_key(booking_id), "state")
    assert json.loads(state)["status"] == "cancelled"
