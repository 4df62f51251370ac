"""Two ``frontdesk-views`` roles in one consumer group (issue 27): they split a 6-partition ``bookings`` topic,
one is killed right after refreshing a stay and before committing its offset (its task cancelled, its own
clients closed, as a process dies), the bookings change, the other takes every partition over, gets that
event again and the new ones, and every stay is in exactly its days at its last state. The killed member's
last write, arriving again late (a paused process, a client retrying a write whose answer it lost), is
refused by the stamp check and changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec

from app.consumer import consume
from app.frontdesk.views import DeskViews, Stay, day_key
from app.outbox import EventEnvelope
from app.resources import Resources
from app.settings import Settings
from tests.integration.bookings.conftest import create_topics
from tests.integration.frontdesk.conftest import DAY, Desk
from tests.support.groups import REBALANCE_S, Noting, keyed, kill_mid_stream, start_pair
from tests.support.wait import until

PARTITIONS, BOOKINGS, STALL_AT = 6, 12, 4
_STAY = msgspec.json.Decoder(Stay)


class NotingViews(Noting, DeskViews):
    """The role's views, noting what each delivery did (and able to stall: see ``Noting``) and what it wrote last."""

    last_write: list[tuple[str, Stay]]

    async def _write(self, stays: list[tuple[str, Stay]]) -> list[int]:
        self.last_write = stays
        return await super()._write(stays)


def _refreshing(ready: asyncio.Event, stall_at: int = 0) -> Any:
    async def loop(resources: Resources, stop: asyncio.Event) -> tuple[NotingViews, Any]:
        settings = resources.settings
        views = NotingViews(resources.db, resources.redis, settings)
        views.noting(stall_at)
        return views, consume(settings, "bookings", settings.frontdesk_views_group, views.handle, stop, ready=ready)
    return loop


def _event(booking: uuid.UUID) -> EventEnvelope:
    return EventEnvelope(event_id=uuid.uuid4(), topic="bookings", event_type="booking.confirmed",
                         aggregate_type="booking", aggregate_id=str(booking), version=1,
                         occurred_at=dt.datetime.now(dt.UTC), payload={"booking_id": str(booking)})


async def _stored(redis: Any, desk: Desk) -> set[tuple[str, dt.date, str | None, int]]:
    """(booking, day, guest name, stamp) of every stay document of the desk's days."""
    found = set()
    for day in (desk.today + i * DAY for i in range(-1, 10)):
        for field, raw in (await redis.hgetall(day_key(desk.property_id, day))).items():
            if not field.startswith(b"~"):
                stay = _STAY.decode(raw)
                found.add((stay.booking_id, day, stay.guest_name, stay.stamp))
    return found


async def _expected(desk: Desk, bookings: list[uuid.UUID]) -> set[tuple[str, dt.date, str | None, int]]:
    rows = await desk.db.fetch("SELECT id, check_in, check_out, guest->>'name' AS name, version + desk_version AS"
                               " stamp FROM bookings WHERE id = ANY($1::uuid[])", bookings)
    return {(str(r["id"]), r["check_in"] + i * DAY, r["name"], r["stamp"]) for r in rows
            for i in range((r["check_out"] - r["check_in"]).days + 1)}


async def test_a_killed_views_role_hands_its_partitions_over_and_every_stay_ends_at_its_last_state(
    sync_resources: Resources, settings: Settings, desk: Desk, unique: str
) -> None:
    mine = msgspec.structs.replace(settings, kafka_topic_prefix=f"test.{unique}.",
                                   frontdesk_views_group=f"test-views-{unique}")
    await create_topics(mine, ("bookings",), PARTITIONS)
    bookings = [await desk.booking(desk.today + (i % 4) * DAY, desk.today + (i % 4 + 2) * DAY)
                for i in range(BOOKINGS)]
    partition_of = {str(b): i % PARTITIONS for i, b in enumerate(bookings)}  # every partition carries stays
    sent = [[_event(b) for b in bookings] for _ in range(2)]
    rounds = keyed(sent, partition_of)
    # "a" dies right after its 4th refresh, before committing its offset: "b" gets that event again
    members, ready = await start_pair(mine, _refreshing, STALL_AT)

    async def change() -> None:  # while "a" is dead: every stay renamed and one night longer
        await desk.db.execute("UPDATE bookings SET check_out = check_out + 1, desk_version = desk_version + 1,"
                              " guest = jsonb_set(guest, '{name}', '\"Kim Cheol-su\"') WHERE id = ANY($1::uuid[])",
                              bookings)

    try:
        b_before = await kill_mid_stream(members, ready, mine.topic("bookings"), rounds, sync_resources.kafka,
                                         lambda m: len(m.work.outcomes), on_kill=change)
        expected = await _expected(desk, bookings)
        await until(lambda: _converged(sync_resources, desk, expected), timeout=REBALANCE_S, step=0.2)
    finally:
        for member in members.values():
            await member.close()
    a, b = members["a"].work, members["b"].work
    print(f"\nviews group: a refreshed {len(a.outcomes)}, b {len(b.outcomes)}, events {2 * BOOKINGS}")
    late = await DeskViews(sync_resources.db, sync_resources.redis, mine)._write(a.last_write)
    assert await _stored(sync_resources.redis, desk) == expected, "every stay in exactly its days, at its last state"
    assert late == [0], "the killed member's late write was refused"
    assert (a.outcomes[STALL_AT - 1][0], "written") in b.outcomes[b_before:], "b got a's uncommitted event again"
    booking_of = {str(e.event_id): e.aggregate_id for r in sent for e in r}
    taken_over = {partition_of[booking_of[event]] for event, _ in b.outcomes[b_before:]}
    assert taken_over == set(range(PARTITIONS)), "b took every partition over, the killed member's too"


async def _converged(resources: Resources, desk: Desk, expected: set[Any]) -> bool:
    return await _stored(resources.redis, desk) == expected
