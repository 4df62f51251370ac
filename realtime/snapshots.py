"""Snapshots, each tagged with the channel's (epoch, seq) read BEFORE the state, so every change after
that position arrives as an update (a change already in the snapshot may arrive again: availability
items carry per-night versions, and the subscriber drops items not newer than the snapshot's)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
from redis.asyncio import Redis

from realtime.channels import booking_key, frontdesk_bookings_key, stream_key
from realtime.queries import availability_snapshot, occupancy_rows, product_names, property_products
from realtime.store import StreamStore, parse_entries

OCCUPANCY_NIGHTS = 14
FEED_SIZE = 30
_decode = msgspec.json.decode
_ACTIVE = {"pending", "reserved", "converted", "paid", "confirmed"}


@dataclass(slots=True)
class Snapshot:
    epoch: str
    seq: int
    data: Any
    versions: dict[tuple[str, str], int] = field(default_factory=dict)


class Snapshots:
    def __init__(self, db: asyncpg.Pool, redis: Redis, store: StreamStore) -> None:
        self.db = db
        self.redis = redis
        self.store = store

    async def availability(self, channel: str, property_id: str, start: dt.date, end: dt.date) -> Snapshot | None:
        epoch, seq = await self.store.position(channel)
        data = await availability_snapshot(self.db, property_id, start, end)
        if data is None:
            return None
        versions = {(i["product_id"], i["night"]): i["version"] for i in data["items"]}
        return Snapshot(epoch, seq, data, versions)

    async def booking(self, channel: str, booking_id: str) -> Snapshot:
        """The booking's latest state, read in one MULTI with the position (exact, no overlap)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            await self.store.queue_position(pipe, channel)
            pipe.hget(booking_key(booking_id), "state")
            (epoch, seq), state = await pipe.execute()
        return Snapshot(epoch.decode(), int(seq), _decode(state) if state else {"booking_id": booking_id,
                                                                                 "status": None})

    async def frontdesk(self, channel: str, property_id: str) -> Snapshot | None:
        """Today's arrivals, departures and in-house guests and the recent feed (from Redis, in one MULTI
        with the position), then inventory rows of the next 14 nights (PostgreSQL, versioned)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            await self.store.queue_position(pipe, channel)
            pipe.hvals(frontdesk_bookings_key(property_id))
            pipe.xrevrange(stream_key(channel), "+", "-", count=FEED_SIZE)
            (epoch, seq), bookings, recent = await pipe.execute()
        zone = await self.db.fetchval("SELECT time_zone FROM properties WHERE id = $1", property_id)
        if zone is None:
            return None
        today = dt.datetime.now(zoneinfo.ZoneInfo(zone)).date()
        states = [_decode(b) for b in bookings]
        feed = [{"seq": e.seq, "t": e.t, "data": _decode(e.data)} for e in reversed(parse_entries(recent))]
        data = {"property_id": property_id, "today": today.isoformat(), **_stays(states, today),
                "occupancy": await occupancy_rows(self.db, property_id, today, OCCUPANCY_NIGHTS),
                "nights": OCCUPANCY_NIGHTS, "feed": feed,
                "products": product_names(await property_products(self.db, property_id))}
        return Snapshot(epoch.decode(), int(seq), data)


def _stays(states: list[dict[str, Any]], today: dt.date) -> dict[str, list[dict[str, Any]]]:
    day = today.isoformat()
    live = [s for s in states if s.get("status") in _ACTIVE and s.get("check_in") and s.get("check_out")]
    return {
        "arrivals": [s for s in live if s["check_in"] == day],
        "departures": [s for s in live if s["check_out"] == day],
        "in_house": [s for s in live if s["check_in"] <= day < s["check_out"]],
    }
