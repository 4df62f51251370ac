"""A room out of order lowers what can be sold of its room type, through the inventory aggregate
(``app.inventory``): each night of the period takes one unit ``out_of_service`` under the aggregate's guard
(never below what is held and sold), and putting the room back gives it back. Both are availability events
(topic ``inventory``), so live availability follows. Runs in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from app.catalog.availability import record_availability
from app.frontdesk.domain import FrontDeskRefused
from app.inventory import repository as inventory

_HOLDERS = (
    "SELECT DISTINCT b.id::text AS booking_id, l.night FROM hold_lines l JOIN booking_holds bh ON bh.hold_id = l.hold_id"
    " JOIN bookings b ON b.id = bh.booking_id WHERE l.product_id = $1 AND l.night = ANY($2::date[])"
    " AND b.status IN ('pending', 'confirmed', 'checked_in') ORDER BY l.night, 1"
)


def nights_of(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


async def _move(conn: asyncpg.Connection, room: Any, nights: list[dt.date], delta: int) -> tuple[
        list[asyncpg.Record], list[dt.date]]:
    """Move the room type's out-of-service count by ``delta`` on each existing night; the rows that moved,
    and the nights the aggregate refused (a night with no inventory row is not for sale: nothing to do)."""
    product = room["room_type_id"]
    existing = [n.night for n in await inventory.lock_product_nights(conn, product, nights)]
    if not existing:
        return [], []
    moved = await inventory.change_out_of_service(conn, [product] * len(existing), existing, [delta] * len(existing))
    done = {r["night"] for r in moved}
    return list(moved), [n for n in existing if n not in done]


async def take_out(conn: asyncpg.Connection, room: Any, start: dt.date, end: dt.date, cause: str) -> list[dt.date]:
    """One unit of the room's type out of service on every night of [start, end); refuses (409
    ``capacity_sold``, naming the bookings that hold those nights) when a night is fully held and sold."""
    moved, refused = await _move(conn, room, nights_of(start, end), +1)
    if refused:
        holders = await conn.fetch(_HOLDERS, room["room_type_id"], refused)
        raise FrontDeskRefused(
            409, "capacity_sold", "every unit of this room type is sold (or held) on "
            f"{', '.join(n.isoformat() for n in refused)}: move or cancel a booking first",
            nights=[n.isoformat() for n in refused], bookings=sorted({h["booking_id"] for h in holders}))
    if moved:
        await record_availability(conn, room["room_type_id"], room["property_id"], cause, None, moved)
    return [r["night"] for r in moved]


async def put_back(conn: asyncpg.Connection, room: Any, start: dt.date, end: dt.date, cause: str) -> list[str]:
    """The unit comes back on every night of [start, end) (a night whose count is already 0 is left as is);
    returns the sold-out marks to clear (``product:night``)."""
    moved, _ = await _move(conn, room, nights_of(start, end), -1)
    if moved:
        await record_availability(conn, room["room_type_id"], room["property_id"], cause, None, moved)
    return [f"{room['room_type_id']}:{r['night'].isoformat()}" for r in moved]


__all__ = ["nights_of", "put_back", "take_out"]
