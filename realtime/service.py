"""The live-update parts of one api process, built in the app's lifespan (``app.state.live``)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from redis.asyncio import Redis

from app import clock
from app.auth.service import AuthService
from app.frontdesk.views import DeskViews
from app.settings import Settings
from realtime.access import allowed_origins
from realtime.bounds import Bounds, Seats
from realtime.channels import Channel
from realtime.hub import Hub
from realtime.snapshots import Snapshot, Snapshots
from realtime.store import StreamStore

_PROPERTY_TTL_S = 60.0


@dataclass(slots=True)
class LiveService:
    settings: Settings
    db: asyncpg.Pool
    redis: Redis
    auth: AuthService
    store: StreamStore
    hub: Hub
    snapshots: Snapshots
    origins: frozenset[str]
    bounds: Bounds = field(default_factory=Bounds)
    per_ip: Seats = field(default_factory=lambda: Seats(500))
    per_subject: Seats = field(default_factory=lambda: Seats(16))
    _properties: dict[str, tuple[float, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, db: asyncpg.Pool, redis: Redis, auth: AuthService) -> LiveService:
        store = StreamStore(redis, settings.live_stream_maxlen)
        bounds = Bounds.of(settings)
        return cls(settings, db, redis, auth, store, Hub(redis, store), Snapshots(db, redis, store, DeskViews(db, redis, settings)),
                   allowed_origins(settings), bounds, Seats(bounds.connections_per_ip),
                   Seats(bounds.connections_per_subject))

    async def property_zone(self, property_id: str) -> str | None:
        """The property's time zone, None if there is no such property (positive answers cached a minute:
        properties are not deleted, and a changed zone may take that long to show)."""
        now = time.monotonic()
        cached = self._properties.get(property_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        zone = await self.db.fetchval("SELECT time_zone FROM properties WHERE id = $1", property_id)
        if zone is None:
            return None
        if len(self._properties) > 10_000:
            self._properties.clear()
        self._properties[property_id] = (now + _PROPERTY_TTL_S, zone)
        return zone

    async def property_exists(self, property_id: str) -> bool:
        return await self.property_zone(property_id) is not None

    async def resort_today(self, property_id: str) -> dt.date:
        """Today at the property (at UTC for an unknown one, refused later as such)."""
        return clock.today(await self.property_zone(property_id) or "UTC")

    async def snapshot(self, channel: Channel, params: dict[str, Any]) -> Snapshot | None:
        if channel.kind == "availability":
            start, end = params["range"]
            return await self.snapshots.availability(channel.name, channel.key, start, end)
        if channel.kind == "booking":
            return await self.snapshots.booking(channel.name, channel.key)
        return await self.snapshots.frontdesk(channel.name, channel.key)
