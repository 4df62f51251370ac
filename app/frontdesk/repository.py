"""PostgreSQL for the front desk: rooms, occupancy rows (under the exclusion constraint), stay status moves,
unused nights given back, events and audit rows."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.bookings.repository import BOOKING_COLUMNS, announce
from app.catalog.availability import record_availability
from app.inventory import repository as inventory
from app.outbox import record_event

ROOM_COLUMNS = "r.id, r.property_id, r.number, r.floor, r.room_type_id, r.housekeeping"
_PARTY = (
    "SELECT p.id, h.quantity * coalesce(pc.quantity, 1) AS units FROM booking_holds bh JOIN holds h ON h.id = bh.hold_id"
    " LEFT JOIN package_components pc ON pc.package_id = h.product_id"
    " JOIN products p ON p.kind = 'room_type' AND p.id = coalesce(pc.component_id, h.product_id)"
    " WHERE bh.booking_id = $1 ORDER BY h.created_at, h.id, p.id"
)


_PARTY_SIZE = (
    "SELECT coalesce(sum(h.quantity * coalesce(pc.quantity, 1)), 0) FROM booking_holds bh JOIN holds h ON h.id ="
    " bh.hold_id LEFT JOIN package_components pc ON pc.package_id = h.product_id JOIN products p ON p.kind ="
    " 'room_type' AND p.id = coalesce(pc.component_id, h.product_id) WHERE bh.booking_id = b.id"
)  # the rooms of booking b's party (as _PARTY)


async def rooms_of_holds(db: Any, hold_ids: list[uuid.UUID]) -> int:
    """How many rooms a booking of these holds would take (its party, as ``_PARTY`` counts them)."""
    return await db.fetchval(
        "SELECT coalesce(sum(h.quantity * coalesce(pc.quantity, 1)), 0)::int FROM holds h LEFT JOIN package_components"
        " pc ON pc.package_id = h.product_id JOIN products p ON p.kind = 'room_type'"
        " AND p.id = coalesce(pc.component_id, h.product_id) WHERE h.id = ANY($1::uuid[])", hold_ids)


async def property_time_zone(db: asyncpg.Pool | asyncpg.Connection, property_id: str) -> str | None:
    """The property's time zone, or None when there is no such property."""
    return await db.fetchval("SELECT time_zone FROM properties WHERE id = $1", property_id)


async def room_type_of(conn: asyncpg.Connection, property_id: str, product_id: uuid.UUID) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM products WHERE id = $1 AND property_id = $2"
                               " AND kind = 'room_type')", product_id, property_id)


async def insert_room(conn: asyncpg.Connection, property_id: str, number: str, floor: int,
                      room_type_id: uuid.UUID) -> asyncpg.Record | None:
    """The new room, or None when the property already has a room with this number."""
    return await conn.fetchrow(
        "INSERT INTO rooms AS r (property_id, number, floor, room_type_id) VALUES ($1, $2, $3, $4)"
        f" ON CONFLICT (property_id, number) DO NOTHING RETURNING {ROOM_COLUMNS}",
        property_id, number, floor, room_type_id)


async def seed_rooms(conn: asyncpg.Connection, property_id: str, rooms: list[tuple[str, int, uuid.UUID]]) -> int:
    """Demo rooms (number, floor, room type); existing numbers are left alone. Returns how many were new."""
    result = await conn.execute(
        "INSERT INTO rooms (property_id, number, floor, room_type_id)"
        " SELECT $1, n, f, t FROM unnest($2::text[], $3::int[], $4::uuid[]) AS x(n, f, t)"
        " ON CONFLICT (property_id, number) DO NOTHING",
        property_id, [r[0] for r in rooms], [r[1] for r in rooms], [r[2] for r in rooms])
    return int(result.split()[-1])


async def rooms_of(db: asyncpg.Pool | asyncpg.Connection, property_id: str) -> list[asyncpg.Record]:
    return await db.fetch(f"SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.property_id = $1 ORDER BY r.number", property_id)


async def room(conn: asyncpg.Connection, room_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1", room_id)


async def set_housekeeping(conn: asyncpg.Connection, room_ids: list[uuid.UUID], state: str,
                           actor: str) -> list[asyncpg.Record]:
    """The rooms' housekeeping state (stamped); each room whose state changed, with its property."""
    rows = await conn.fetch(
        f"UPDATE rooms r SET housekeeping = $2, housekeeping_at = now(), housekeeping_by = $3 WHERE r.id = ANY($1::uuid[])"
        f" AND r.housekeeping <> $2 RETURNING {ROOM_COLUMNS}", room_ids, state, actor)
    for room in rows:
        await record_event(conn, topic="frontdesk", aggregate_type="room", aggregate_id=str(room["id"]),
                           event_type="room.housekeeping", version=int(time.time() * 1000),
                           payload={"room_id": str(room["id"]), "property_id": room["property_id"],
                                    "number": room["number"], "housekeeping": state})
        await audit(conn, actor, "room.housekeeping", {"room_id": str(room["id"]), "housekeeping": state})
    return rows


async def checkin_requires_clean(conn: asyncpg.Connection, property_id: str) -> bool:
    return bool(await conn.fetchval("SELECT checkin_requires_clean FROM properties WHERE id = $1", property_id))


async def lock_booking(conn: asyncpg.Connection, booking_id: uuid.UUID) -> asyncpg.Record | None:
    """The booking, locked: every front-desk change of one booking runs one at a time."""
    return await conn.fetchrow(f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1 FOR UPDATE", booking_id)


async def party(conn: asyncpg.Connection, booking_id: uuid.UUID) -> list[uuid.UUID]:
    """The room type of each room of the booking's party, slot 1 first: every unit of its holds' room types
    (a package's room-type components times their quantity), in the order the holds were made."""
    rows = await conn.fetch(_PARTY, booking_id)
    return [r["id"] for r in rows for _ in range(r["units"])]


_ASSIGNMENT = ("SELECT a.slot, a.room_id, r.number, r.housekeeping, lower(a.stay) AS start, upper(a.stay) AS end,"
               " a.checked_in_at,"
               " a.checked_out_at FROM room_assignments a JOIN rooms r ON r.id = a.room_id"
               " WHERE a.booking_id = $1 AND a.kind = 'booking'")


async def assignment(conn: asyncpg.Connection, booking_id: uuid.UUID, slot: int = 1) -> asyncpg.Record | None:
    return await conn.fetchrow(_ASSIGNMENT + " AND a.slot = $2", booking_id, slot)


async def assignments(conn: asyncpg.Connection, booking_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every room of the booking's party that has one, by slot."""
    return await conn.fetch(_ASSIGNMENT + " ORDER BY a.slot", booking_id)


async def put_assignment(conn: asyncpg.Connection, booking: asyncpg.Record, room_id: uuid.UUID, actor: str,
                         start: dt.date | None = None, slot: int = 1) -> None:
    """Assign or move the stay of the party's room ``slot`` (from ``start``, default its arrival) to
    ``room_id``. Raises ``asyncpg.ExclusionViolationError`` when the room is taken for any of those nights
    (another stay or an out-of-service period)."""
    await conn.execute(
        "INSERT INTO room_assignments (room_id, kind, booking_id, stay, created_by, slot)"
        " VALUES ($1, 'booking', $2, daterange($3, $4), $5, $6) ON CONFLICT (booking_id, slot) WHERE kind = 'booking'"
        " DO UPDATE SET room_id = excluded.room_id, stay = excluded.stay, created_by = excluded.created_by,"
        " created_at = now()", room_id, booking["id"], start or booking["check_in"], booking["check_out"], actor, slot)


async def mark_rooms(conn: asyncpg.Connection, booking_id: uuid.UUID, slots: list[int], status: str) -> None:
    """Stamp the party's rooms ``slots`` as checked in or out (a room already stamped keeps its time)."""
    column = {"checked_in": "checked_in_at", "checked_out": "checked_out_at"}[status]
    await conn.execute(f"UPDATE room_assignments SET {column} = coalesce({column}, now()) WHERE booking_id = $1"
                       " AND kind = 'booking' AND slot = ANY($2::int[])", booking_id, slots)


async def conflict_with(conn: asyncpg.Connection, room_id: uuid.UUID, start: dt.date, end: dt.date,
                        booking_id: uuid.UUID | None) -> asyncpg.Record | None:
    """The occupancy row that overlaps these nights of the room (for a 409 naming it)."""
    return await conn.fetchrow(
        "SELECT kind, booking_id, lower(stay) AS start, upper(stay) AS end FROM room_assignments"
        " WHERE room_id = $1 AND stay && daterange($2, $3) AND booking_id IS DISTINCT FROM $4 LIMIT 1",
        room_id, start, end, booking_id)


async def insert_out_of_service(conn: asyncpg.Connection, room_id: uuid.UUID, start: dt.date, end: dt.date,
                                reason: str | None, actor: str) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO room_assignments (room_id, kind, stay, reason, created_by)"
        " VALUES ($1, 'out_of_service', daterange($2, $3), $4, $5)"
        " RETURNING id, lower(stay) AS start, upper(stay) AS end, reason", room_id, start, end, reason, actor)


async def delete_out_of_service(conn: asyncpg.Connection, room_id: uuid.UUID, period_id: int) -> asyncpg.Record | None:
    """The period that ended (its nights), or None when there was none."""
    return await conn.fetchrow("DELETE FROM room_assignments WHERE id = $1 AND room_id = $2 AND kind = 'out_of_service'"
                               " RETURNING lower(stay) AS start, upper(stay) AS end", period_id, room_id)


async def delete_assignment(conn: asyncpg.Connection, booking_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("DELETE FROM room_assignments WHERE booking_id = $1 AND kind = 'booking'"
                               " RETURNING room_id", booking_id)


async def shorten_assignment(conn: asyncpg.Connection, booking_id: uuid.UUID, until: dt.date,
                             slots: list[int] | None = None) -> None:
    """After an early departure the rooms (of ``slots``, default all) are free from ``until`` (no row left
    if the guest slept no night)."""
    await conn.execute("DELETE FROM room_assignments WHERE booking_id = $1 AND kind = 'booking'"
                       " AND lower(stay) >= $2 AND ($3::int[] IS NULL OR slot = ANY($3::int[]))", booking_id, until,
                       slots)
    await conn.execute("UPDATE room_assignments SET stay = daterange(lower(stay), $2) WHERE booking_id = $1"
                       " AND kind = 'booking' AND upper(stay) > $2 AND ($3::int[] IS NULL OR slot = ANY($3::int[]))",
                       booking_id, until, slots)


async def set_status(conn: asyncpg.Connection, booking_id: uuid.UUID, status: str, was: str,
                     today: dt.date) -> asyncpg.Record:
    """Guarded move (``was`` -> ``status``), stamped (a check-out with the property's business date),
    version bumped."""
    row = await conn.fetchrow(
        f"UPDATE bookings SET status = $2, updated_at = now(), version = version + 1,"
        f" checked_in_at = CASE WHEN $2 = 'checked_in' THEN now() ELSE checked_in_at END,"
        f" checked_out_at = CASE WHEN $2 = 'checked_out' THEN now() ELSE checked_out_at END,"
        f" checked_out_on = CASE WHEN $2 = 'checked_out' THEN $4 ELSE checked_out_on END"
        f" WHERE id = $1 AND status = $3 RETURNING {BOOKING_COLUMNS}", booking_id, status, was, today)
    if row is None:
        raise RuntimeError(f"booking {booking_id} left {was} under its own lock")
    return row


async def give_back_nights(conn: asyncpg.Connection, booking: asyncpg.Record, first: dt.date) -> list[asyncpg.Record]:
    """Every unit the booking's holds sold from ``first`` on goes back to inventory (guarded: sold never
    below zero), and those hold lines are dropped so that nothing can return them twice."""
    await conn.fetch(
        "SELECT 1 FROM inventory i JOIN hold_lines l ON i.product_id = l.product_id AND i.night = l.night"
        " JOIN booking_holds bh ON bh.hold_id = l.hold_id WHERE bh.booking_id = $1 AND l.night >= $2"
        " ORDER BY i.product_id, i.night FOR UPDATE OF i", booking["id"], first)
    lines = await conn.fetch(
        "WITH gone AS (DELETE FROM hold_lines l USING booking_holds bh WHERE bh.booking_id = $1"
        " AND l.hold_id = bh.hold_id AND l.night >= $2 RETURNING l.product_id, l.night, l.units)"
        " SELECT product_id, night, sum(units)::int AS units FROM gone GROUP BY product_id, night", booking["id"], first)
    if not lines:
        return []
    rows = await inventory.unsell_lines(conn, [r["product_id"] for r in lines], [r["night"] for r in lines],
                                        [r["units"] for r in lines])
    if len(rows) != len(lines):
        raise RuntimeError(f"inventory of booking {booking['id']} sold fewer units than its lines")
    return rows


async def give_back_room(conn: asyncpg.Connection, booking: asyncpg.Record, product_id: uuid.UUID,
                         first: dt.date) -> list[asyncpg.Record]:
    """One room of the party leaves early: one unit of its room type per night from ``first`` on goes back
    to inventory, taken off the booking's hold lines (so that nothing returns it twice)."""
    lines = await conn.fetch(
        "SELECT DISTINCT ON (l.night) l.hold_id, l.night, l.units FROM hold_lines l JOIN booking_holds bh"
        " ON bh.hold_id = l.hold_id WHERE bh.booking_id = $1 AND l.product_id = $2 AND l.night >= $3"
        " ORDER BY l.night, l.hold_id", booking["id"], product_id, first)
    if not lines:
        return []
    nights = [r["night"] for r in lines]
    await inventory.lock(conn, [_Line(product_id, n, 1) for n in nights])
    await conn.execute(
        "DELETE FROM hold_lines l USING unnest($1::uuid[], $2::date[]) AS x(hold_id, night) WHERE l.hold_id = x.hold_id"
        " AND l.night = x.night AND l.product_id = $3 AND l.units = 1", [r["hold_id"] for r in lines], nights, product_id)
    await conn.execute(
        "UPDATE hold_lines l SET units = l.units - 1 FROM unnest($1::uuid[], $2::date[]) AS x(hold_id, night)"
        " WHERE l.hold_id = x.hold_id AND l.night = x.night AND l.product_id = $3 AND l.units > 1",
        [r["hold_id"] for r in lines], nights, product_id)
    rows = await inventory.unsell_lines(conn, [product_id] * len(nights), nights, [1] * len(nights))
    if len(rows) != len(nights):
        raise RuntimeError(f"inventory of booking {booking['id']} sold fewer units than its lines")
    return rows


@dataclass(frozen=True, slots=True)
class _Line:
    product_id: uuid.UUID
    night: dt.date
    units: int


async def record(conn: asyncpg.Connection, booking: asyncpg.Record, actor: str, action: str,
                 detail: dict[str, Any], inventory: list[asyncpg.Record] | None = None) -> None:
    """The booking's event (topic ``bookings``, when its status moved), availability events for nights that
    came back, and the audit row naming the clerk. Every desk change raises the booking's ``desk_version``
    (the stay lists' stamp, app/frontdesk/views.py)."""
    await conn.execute("UPDATE bookings SET desk_version = desk_version + 1, updated_at = now() WHERE id = $1",
                       booking["id"])
    if action.startswith("booking."):
        await announce(conn, booking)
    else:
        await record_event(conn, topic="frontdesk", aggregate_type="booking", aggregate_id=str(booking["id"]),
                           event_type=action, version=booking["version"],
                           payload={"booking_id": str(booking["id"]), "property_id": booking["property_id"],
                                    **detail})
    by_product: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for row in inventory or []:
        by_product.setdefault(row["product_id"], []).append(row)
    for product_id, nights in sorted(by_product.items()):
        await record_availability(conn, product_id, booking["property_id"], action, None, nights)
    await audit(conn, actor, action, {"booking_id": str(booking["id"]), **detail})


async def audit(conn: asyncpg.Connection, actor: str, action: str, detail: dict[str, Any]) -> None:
    await conn.execute("INSERT INTO audit_log (actor, action, outcome, detail) VALUES ($1, $2, 'ok', $3::jsonb)",
                       actor, action, json.dumps(detail, default=str))


async def arrivals_to_seat(conn: asyncpg.Connection, property_id: str, day: dt.date) -> list[asyncpg.Record]:
    """Confirmed arrivals of ``day`` with fewer rooms assigned than their party has (cancelled rooms aside)."""
    return await conn.fetch(
        "SELECT b.id FROM bookings b WHERE b.property_id = $1 AND b.check_in = $2 AND b.status = 'confirmed'"
        " AND (SELECT count(*) FROM room_assignments a WHERE a.booking_id = b.id AND a.kind = 'booking')"
        " + (SELECT count(*) FROM cancelled_rooms c WHERE c.booking_id = b.id) < (" + _PARTY_SIZE + ")"
        " ORDER BY b.created_at, b.id", property_id, day)


async def free_rooms(conn: asyncpg.Connection, room_type_ids: list[uuid.UUID], start: dt.date,
                     end: dt.date) -> list[uuid.UUID]:
    """Rooms of these types with no occupancy row overlapping [start, end), in number order."""
    return [r["id"] for r in await conn.fetch(
        "SELECT r.id FROM rooms r WHERE r.room_type_id = ANY($1::uuid[]) AND NOT EXISTS (SELECT 1 FROM"
        " room_assignments a WHERE a.room_id = r.id AND a.stay && daterange($2, $3)) ORDER BY r.number",
        room_type_ids, start, end)]


async def board_version(db: asyncpg.Pool | asyncpg.Connection, property_id: str) -> int:
    """The property's room board version (migration 0098): raised by every change the board shows."""
    return await db.fetchval("SELECT coalesce((SELECT version FROM board_versions WHERE property_id = $1), 0)",
                             property_id)


async def occupancy(db: asyncpg.Pool | asyncpg.Connection, property_id: str, start: dt.date, end: dt.date) -> list[asyncpg.Record]:
    """Every occupancy row of the property's rooms overlapping [start, end), with the booking's status (the
    columns in the order of ``domain.Occupancy``)."""
    return await db.fetch(
        "SELECT a.room_id, lower(a.stay) AS start, upper(a.stay) AS end, a.kind, a.booking_id, b.status"
        " FROM room_assignments a JOIN rooms r ON r.id = a.room_id LEFT JOIN bookings b ON b.id = a.booking_id"
        " WHERE r.property_id = $1 AND a.stay && daterange($2, $3)", property_id, start, end)

MONEY_OWED_LIMIT = 500  # an operator's list: the oldest first; more is a page nobody reads


async def money_owed(db: Any, property_id: str, attention_after: int) -> list[asyncpg.Record]:
    """The property's bookings that owe a guest money back (a void or refund the provider kept refusing), and
    the items still owed of others (a room of a party, a no-show's balance: app.payments.owed)."""
    return await db.fetch(
        "SELECT id, status, refund_state, total_amount, refund_amount, currency, confirmation_code, check_in,"
        " check_out, updated_at, 'booking' AS purpose FROM bookings WHERE property_id = $1"
        " AND refund_state IN ('refund_pending', 'needs_attention') UNION ALL"
        " SELECT b.id, b.status, CASE WHEN p.attempts >= $3 THEN 'needs_attention' ELSE 'refund_pending' END,"
        " b.total_amount, coalesce(c.refund_amount, b.refund_amount), b.currency, b.confirmation_code, b.check_in,"
        " b.check_out, p.updated_at, coalesce('room:' || p.slot, 'no_show') FROM payments p JOIN bookings b"
        " ON b.id = p.booking_id LEFT JOIN cancelled_rooms c ON c.booking_id = p.booking_id AND c.slot = p.slot"
        " WHERE b.property_id = $1 AND p.status = 'failed' AND (p.operation = 'no_show' OR (p.operation = 'refund'"
        " AND p.slot IS NOT NULL)) ORDER BY updated_at LIMIT $2", property_id, MONEY_OWED_LIMIT, attention_after)


async def cancelled_slots(db: Any, booking_id: uuid.UUID) -> set[int]:
    """The rooms of the party cancelled on their own (app/frontdesk/room_cancel.py)."""
    return {r["slot"] for r in await db.fetch("SELECT slot FROM cancelled_rooms WHERE booking_id = $1", booking_id)}
