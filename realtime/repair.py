"""The publisher's repair of live channels whose events never came (a broker restart forgets messages).

Every ``live_repair_interval_s``, for each property with an availability channel, the items of the next
``live_max_range_days`` nights whose PostgreSQL version is above the one last published (or that were
never published) go out as one ordinary update (``cause: repair``); and each booking changed in the
last 10 minutes (but not in the last 2 s) whose channel exists and tells another status than
PostgreSQL's gets its state published again. Subscribers see plain updates with consecutive seqs:
their sequences stay gapless, their values converge.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import msgspec
import structlog

from app.settings import Settings
from app.worker import sleep_or_stop
from realtime.channels import booking_key, meta_key, versions_key
from realtime.publisher import Publisher, booking_append
from realtime.queries import items_for, property_products
from realtime.store import Append

log = structlog.get_logger("realtime.repair")
BOOKING_WINDOW_S = 600  # events lost in a broker restart are recent; bounded work every round
_BOOKINGS = ("SELECT id::text AS booking_id, status, step, reason, property_id, owner_kind, owner_id,"
             " check_in::text, check_out::text, confirmation_code FROM bookings"
             " WHERE updated_at > now() - make_interval(secs => $1)"
             " AND updated_at < now() - interval '2 seconds'"  # younger: its event is normally on its way
             " AND ($2::text IS NULL OR property_id = $2)")


async def repair_availability(publisher: Publisher, property_id: str, days: int) -> int:
    """Publish the property's items PostgreSQL has newer than the channel; how many."""
    start = dt.date.today()
    nights = [start + dt.timedelta(days=i) for i in range(days)]
    async with publisher.db.acquire() as conn:
        products = await property_products(conn, property_id)
        items = await items_for(conn, [p["id"] for p in products if p["kind"] != "package"]
                                + [p["id"] for p in products if p["kind"] == "package"], nights)
    fresh = await publisher.newer(property_id, items)
    if not fresh:
        return 0
    append = Append(f"repair:{uuid.uuid4()}", int(time.time() * 1000))
    append.entries.append((f"availability:{property_id}", msgspec.json.encode({"cause": "repair", "items": fresh})))
    append.fields += [(versions_key(property_id), f"{i['product_id']}:{i['night']}", str(i["version"]))
                      for i in fresh]
    await publisher.store.append(append)
    return len(fresh)


async def repair_bookings(publisher: Publisher, property_id: str | None = None,
                          window_s: float = BOOKING_WINDOW_S) -> int:
    """Publish again the state of every recent booking (of a property, or all) whose channel tells another
    status; how many."""
    rows = await publisher.db.fetch(_BOOKINGS, window_s, property_id)
    if not rows:
        return 0
    async with publisher.redis.pipeline(transaction=False) as pipe:
        for row in rows:
            pipe.hget(booking_key(row["booking_id"]), "state")
            pipe.exists(meta_key(f"booking:{row['booking_id']}"))
        published = await pipe.execute()
    repaired = 0
    for row, state, channel in zip(rows, published[::2], published[1::2], strict=True):
        if not channel:  # no channel (or Redis lost it): a subscriber's snapshot comes from PostgreSQL
            continue
        if state is not None and msgspec.json.decode(state).get("status") == row["status"]:
            continue
        payload = dict(row) | {"partner_client_id": row["owner_id"] if row["owner_kind"] == "partner" else None,
                               "at": dt.datetime.now(dt.UTC).isoformat()}
        await publisher.store.append(booking_append(f"repair:{uuid.uuid4()}", int(time.time() * 1000),
                                                    row["booking_id"], payload, f"booking.{row['status']}"))
        repaired += 1
    return repaired


async def availability_properties(publisher: Publisher) -> list[str]:
    """The properties whose availability channel exists (someone subscribed, or an event was published)."""
    prefix = meta_key("availability:")
    return [key.decode()[len(prefix):] async for key in publisher.redis.scan_iter(match=f"{prefix}*", count=500)]


async def repair_periodically(publisher: Publisher, settings: Settings, stop: asyncio.Event) -> None:
    interval = settings.live_repair_interval_s
    if interval <= 0:
        return
    while not stop.is_set():
        await sleep_or_stop(stop, interval)
        try:
            items = 0
            for property_id in await availability_properties(publisher):
                items += await repair_availability(publisher, property_id, settings.live_max_range_days)
            bookings = await repair_bookings(publisher)
            if items or bookings:
                log.info("live_repaired", items=items, bookings=bookings)
        except Exception as exc:  # noqa: BLE001 - a store is down: next round
            log.warning("live_repair_failed", error=repr(exc))
