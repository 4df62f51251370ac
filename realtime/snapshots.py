"""Snapshots, each tagged with the channel's (epoch, seq) read BEFORE the state, so every change after
that position arrives as an update (a change already in the snapshot may arrive again: availability
items carry per-night versions, and the subscriber drops items not newer than the snapshot's)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
from redis.asyncio import Redis

from app import clock
from app.frontdesk.views import DeskViews
from realtime.channels import booking_key, stream_key
from realtime.queries import availability_snapshot, occupancy_rows, product_names, property_products
from realtime.store import StreamStore, parse_entries

OCCUPANCY_NIGHTS = 14
FEED_SIZE = 30
_decode = msgspec.json.decode
_STATE = ("SELECT id::text AS booking_id, status, step, reason, property_id, check_in::text, check_out::text,"
          " confirmation_code, guest->>'name' AS guest_name FROM bookings")


@dataclass(slots=True)
class Snapshot:
    epoch: str
    seq: int
    data: Any
    versions: dict[tuple[str, str], int] = field(default_factory=dict)


class Snapshots:
    def __init__(self, db: asyncpg.Pool, redis: Redis, store: StreamStore, desk: DeskViews) -> None:
        self.db = db
        self.redis = redis
        self.store = store
        self.desk = desk  # the front desk's stay lists (app/frontdesk/views.py)

    async def availability(self, channel: str, property_id: str, start: dt.date, end: dt.date) -> Snapshot | None:
        epoch, seq = await self.store.position(channel)
        data = await availability_snapshot(self.db, property_id, start, end)
        if data is None:
            return None
        versions = {(i["product_id"], i["night"]): i["version"] for i in data["items"]}
        return Snapshot(epoch, seq, data, versions)

    async def booking(self, channel: str, booking_id: str) -> Snapshot:
        """The booking's latest state as its events told it, read in one MULTI with the position (exact);
        if Redis has none (lost, or the first event still on its way), from PostgreSQL."""
        async with self.redis.pipeline(transaction=True) as pipe:
            await self.store.queue_position(pipe, channel)
            pipe.hget(booking_key(booking_id), "state")
            (epoch, seq), state = await pipe.execute()
        data = _decode(state) if state else await booking_row(self.db, booking_id)
        return Snapshot(epoch.decode(), int(seq), data or {"booking_id": booking_id, "status": None})

    async def frontdesk(self, channel: str, property_id: str) -> Snapshot | None:
        """The recent feed (Redis, in one MULTI with the position), then today's stay lists from the front
        desk's read model (every stay of the day in exactly one list: arrivals, in house, departures,
        departed, no-shows, cancelled) and the inventory rows of the next 14 nights (versioned)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            await self.store.queue_position(pipe, channel)
            pipe.xrevrange(stream_key(channel), "+", "-", count=FEED_SIZE)
            (epoch, seq), recent = await pipe.execute()
        zone = await self.db.fetchval("SELECT time_zone FROM properties WHERE id = $1", property_id)
        if zone is None:
            return None
        today = clock.today(zone)
        lists = msgspec.to_builtins(await self.desk.lists(property_id, today))
        feed = [{"seq": e.seq, "t": e.t, "data": _decode(e.data)} for e in reversed(parse_entries(recent))]
        data = {"property_id": property_id, "today": today.isoformat(), **lists,
                "occupancy": await occupancy_rows(self.db, property_id, today, OCCUPANCY_NIGHTS),
                "nights": OCCUPANCY_NIGHTS, "feed": feed,
                "products": product_names(await property_products(self.db, property_id))}
        return Snapshot(epoch.decode(), int(seq), data)


async def booking_row(db: asyncpg.Pool, booking_id: str) -> dict[str, Any] | None:
    try:
        key = uuid.UUID(booking_id)
    except ValueError:
        return None
    row = await db.fetchrow(_STATE + " WHERE id = $1", key)
    return dict(row) if row is not None else None
