"""The front desk's stay lists (a read model): one Redis hash per property and day, ``fdview:<property>:<day>``,
holding a document per stay the day concerns (arrival day to departure day) and a ``~built`` marker.

- Kept by events: the ``frontdesk-views`` role refreshes a booking's documents on each ``bookings`` and
  ``frontdesk`` event, and the desk refreshes what it just changed itself (the clerk reads their own write).
  A refresh loads the booking's CURRENT state from PostgreSQL and writes it only if its stamp
  (``version + desk_version``, raised by every change) is not older than the stored one: duplicates and
  reordering converge, nothing goes backwards. A Lua script moves the document between days atomically.
- Rebuilt from PostgreSQL on demand: a day without its marker (never read, expired, Redis flushed) is
  loaded whole, written through the same guarded script, then marked. A periodic round repairs the
  bookings whose event was lost: it follows the outbox from a watermark (``app.watermarks``), so it reads
  only what changed since its last round. Redis down: the lists are computed from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import OrderedDict

import asyncpg
import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.frontdesk.domain import DESK_LISTS, desk_list
from app.outbox import EventEnvelope
from app.resources import Resources
from app.settings import Settings
from app.watermarks import OutboxCursor
from app.worker import sleep_or_stop

log = structlog.get_logger("app.frontdesk.views")
BUILT = "~built"
SHOWN = ("confirmed", "checked_in", "checked_out", "no_show", "cancelling", "cancelled")
_ROOMS = ("coalesce((SELECT json_agg(json_build_object('room_id', a.room_id::text, 'number', r.number)"
          " ORDER BY r.number) FROM room_assignments a JOIN rooms r ON r.id = a.room_id"
          " WHERE a.booking_id = b.id AND a.kind = 'booking'), '[]')::text AS rooms")
_DOCS = ("SELECT b.id::text AS booking_id, b.property_id, b.status, b.check_in, b.check_out,"
         " b.guest->>'name' AS guest_name, b.confirmation_code, b.version + b.desk_version AS stamp,"
         " b.checked_out_on AS left_on, " + _ROOMS + " FROM bookings b")

# KEYS[1]: the booking's index (stamp|day keys); KEYS[2..]: its day hashes now. ARGV: booking id, stamp,
# document, ttl. Older than what is stored: nothing. Otherwise out of the days it left, into its days now.
_APPLY = """
local cur = redis.call('GET', KEYS[1])
local stamp = tonumber(ARGV[2])
if cur then
  local sep = string.find(cur, '|', 1, true)
  if tonumber(string.sub(cur, 1, sep - 1)) > stamp then return 0 end
  for key in string.gmatch(string.sub(cur, sep + 1), '[^,]+') do
    redis.call('HDEL', key, ARGV[1])
    redis.call('HINCRBY', key, '~gen', 1)
  end
end
local days = {}
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], ARGV[1], ARGV[3])
  redis.call('HINCRBY', KEYS[i], '~gen', 1)
  redis.call('EXPIRE', KEYS[i], ARGV[4])
  days[#days + 1] = KEYS[i]
end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. table.concat(days, ','), 'EX', ARGV[4])
return 1
"""
_META = (BUILT.encode(), b"~gen")


class Stay(msgspec.Struct, kw_only=True):
    """A stay as the desk's lists show it."""

    booking_id: str
    status: str
    check_in: dt.date
    check_out: dt.date
    guest_name: str | None = None
    confirmation_code: str | None = None
    rooms: list[dict[str, str]] = []
    left_on: dt.date | None = None
    stamp: int = 0


_STAY = msgspec.json.Decoder(Stay)


def day_key(property_id: str, day: dt.date) -> str:
    return f"fdview:{property_id}:{day.isoformat()}"


def _index_key(booking_id: str) -> str:
    return f"fdview:where:{booking_id}"


def _stay(row: asyncpg.Record) -> Stay:
    return Stay(booking_id=row["booking_id"], status=row["status"], check_in=row["check_in"],
                check_out=row["check_out"], guest_name=row["guest_name"], confirmation_code=row["confirmation_code"],
                rooms=msgspec.json.decode(row["rooms"]), left_on=row["left_on"], stamp=row["stamp"])


def _days(stay: Stay) -> list[dt.date]:
    return [stay.check_in + dt.timedelta(days=i) for i in range((stay.check_out - stay.check_in).days + 1)]


class DeskViews:
    def __init__(self, db: asyncpg.Pool, redis: Redis, settings: Settings) -> None:
        self.db, self.redis, self.ttl = db, redis, settings.frontdesk_view_ttl_s
        self._apply = redis.register_script(_APPLY)
        # Each api process keeps the days it read, valid while their ``~gen`` (raised by every write) holds.
        self._cache: OrderedDict[str, tuple[tuple[bytes, bytes], list[Stay]]] = OrderedDict()
        self._cache_size = settings.frontdesk_view_cache_days

    async def handle(self, envelope: EventEnvelope) -> str:
        """The role's work for a ``bookings`` or ``frontdesk`` event: its booking refreshed."""
        return await self.refresh(envelope.aggregate_id)

    async def refresh(self, booking_id: str | uuid.UUID) -> str:
        """Write the booking's current state into its days (older writes lose): ``written``, ``older`` (a
        newer state was there) or ``unknown`` (no such booking)."""
        row = await self.db.fetchrow(_DOCS + " WHERE b.id = $1", uuid.UUID(str(booking_id)))
        if row is None:
            return "unknown"
        return "written" if await self._write([(row["property_id"], _stay(row))]) == [1] else "older"

    async def refresh_quietly(self, booking_id: str | uuid.UUID) -> None:
        """After the desk's own change: a Redis outage is logged, the events and the repair catch up."""
        try:
            await self.refresh(booking_id)
        except (RedisError, OSError) as exc:
            log.warning("frontdesk_view_refresh_failed", booking_id=str(booking_id), error=repr(exc))

    async def _write(self, stays: list[tuple[str, Stay]]) -> list[int]:
        """Each stay through the guarded script: 1 where it was written, 0 where a newer one was stored."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for property_id, stay in stays:
                keys = [_index_key(stay.booking_id), *(day_key(property_id, d) for d in _days(stay))]
                await self._apply(keys=keys, args=[stay.booking_id, stay.stamp, msgspec.json.encode(stay), self.ttl],
                                  client=pipe)
            return list(await pipe.execute())

    async def _from_postgres(self, property_id: str, day: dt.date) -> list[Stay]:
        rows = await self.db.fetch(_DOCS + " WHERE b.property_id = $1 AND b.check_in <= $2 AND b.check_out >= $2"
                                   " AND b.status = ANY($3::text[])", property_id, day, list(SHOWN))
        return [_stay(r) for r in rows]

    async def stays(self, property_id: str, day: dt.date) -> tuple[list[Stay], str]:
        """Every stay ``day`` concerns, and where they came from (``cache``, ``redis``, ``rebuilt``,
        ``postgres``)."""
        key = day_key(property_id, day)
        try:
            built, gen = await self.redis.hmget(key, [BUILT, "~gen"])
            cached = self._cache.get(key)
            if built and cached is not None and cached[0] == (built, gen or b"0"):
                self._cache.move_to_end(key)
                return cached[1], "cache"
            raw, source = await self.redis.hgetall(key), "redis"
            if BUILT.encode() not in raw:
                await self._write([(property_id, s) for s in await self._from_postgres(property_id, day)])
                await self.redis.hset(key, BUILT, uuid.uuid4().hex)  # this build's own mark (see _keep)
                await self.redis.expire(key, self.ttl)
                raw, source = await self.redis.hgetall(key), "rebuilt"
        except (RedisError, OSError) as exc:
            log.warning("frontdesk_view_unavailable", property_id=property_id, error=repr(exc))
            return await self._from_postgres(property_id, day), "postgres"
        stays = [_STAY.decode(v) for k, v in raw.items() if k not in _META]
        self._keep(key, (raw.get(BUILT.encode(), b""), raw.get(b"~gen", b"0")), stays)
        return stays, source

    def _keep(self, key: str, mark: tuple[bytes, bytes], stays: list[Stay]) -> None:
        """Keep a day decoded under (its build's mark, its write count): a day rebuilt after it expired or
        a flush has another mark, so a count that happens to be the same again is never mistaken."""
        self._cache[key] = (mark, stays)
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def lists(self, property_id: str, day: dt.date) -> dict[str, list[Stay]]:
        """The day's lists (``domain.DESK_LISTS``): every stay the day concerns in exactly one of them."""
        found: dict[str, list[Stay]] = {name: [] for name in DESK_LISTS}
        for stay in (await self.stays(property_id, day))[0]:
            which = desk_list(stay.status, stay.check_in, stay.check_out, day, stay.left_on)
            if which is not None:
                found[which].append(stay)
        for stays in found.values():
            stays.sort(key=sort_key)
        return found

    async def reconcile(self, cursor: OutboxCursor) -> int:
        """The bookings named by events committed since the cursor's last round whose stored stamp is older
        (their event was lost): refreshed. A round after no change reads nothing (``app.watermarks``)."""
        return await cursor.repair_aggregates(self._repair)

    async def _repair(self, ids: list[str]) -> int:
        rows = await self.db.fetch("SELECT id::text AS id, version + desk_version AS stamp FROM bookings"
                                   " WHERE id = ANY($1::uuid[])", ids)  # a room event's id names no booking
        if not rows:
            return 0
        stored = await self.redis.mget([_index_key(r["id"]) for r in rows])
        drifted = [r["id"] for r, s in zip(rows, stored, strict=True)
                   if s is not None and int(s.split(b"|", 1)[0]) < r["stamp"]]
        for booking_id in drifted:
            await self.refresh(booking_id)
        return len(drifted)


def sort_key(stay: Stay) -> tuple[str, str]:
    return (stay.rooms[0]["number"] if stay.rooms else "~", stay.booking_id)


def views_cursor(db: asyncpg.Pool, settings: Settings) -> OutboxCursor:
    """The stay lists' repair follows the ``bookings`` and ``frontdesk`` events from its watermark."""
    return OutboxCursor(db, "frontdesk-views", ["bookings", "frontdesk"], settings.repair_batch_size,
                        settings.repair_settle_s)


async def _reconcile_periodically(views: DeskViews, settings: Settings, stop: asyncio.Event) -> None:
    cursor = views_cursor(views.db, settings)
    while not stop.is_set():
        await sleep_or_stop(stop, settings.frontdesk_views_reconcile_s)
        try:
            if drifted := await views.reconcile(cursor):
                log.info("frontdesk_views_repaired", count=drifted)
        except Exception as exc:  # noqa: BLE001 - a store is down: next round
            log.warning("frontdesk_views_reconcile_failed", error=repr(exc))


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``frontdesk-views`` role: the stay lists from ``bookings`` and ``frontdesk`` events, a repair, and
    the night audit's schedule (app/frontdesk/night_audit.py)."""
    from app.consumer import consume  # the saga's consumer loop (at-least-once, per-partition commits)
    from app.frontdesk.night_audit import scheduled as night_audit

    settings = resources.settings
    views = DeskViews(resources.db, resources.redis, settings)
    group = settings.frontdesk_views_group
    await asyncio.gather(consume(settings, "bookings", group, views.handle, stop),
                         consume(settings, "frontdesk", f"{group}-desk", views.handle, stop),
                         _reconcile_periodically(views, settings, stop), night_audit(resources, stop))
