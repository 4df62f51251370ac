"""Front-desk fixtures: a property with a room type, rooms, per-night inventory, and confirmed bookings made
directly in SQL (fast: a hold converted, its lines sold, the booking confirmed, exactly as the saga leaves
them). One end-to-end test goes through POST /bookings and the saga instead (``saga_roles``)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.bookings.conftest import provider, saga_roles  # noqa: F401 - the payment provider's client; the end-to-end test's role processes
from tests.support.dates import resort_today

DAY = dt.timedelta(days=1)


@dataclass
class Desk:
    """A property (time zone Asia/Seoul), one room type with rooms and inventory around the resort's today (app/clock.py)."""

    db: Any
    property_id: str
    room_type: uuid.UUID
    rooms: list[uuid.UUID]
    today: dt.date

    async def room(self, number: str, room_type: uuid.UUID | None = None) -> uuid.UUID:
        return await self.db.fetchval(
            "INSERT INTO rooms (property_id, number, floor, room_type_id) VALUES ($1, $2, 3, $3) RETURNING id",
            self.property_id, number, room_type or self.room_type)

    async def booking(self, check_in: dt.date, check_out: dt.date, room_type: uuid.UUID | None = None,
                      status: str = "confirmed", owner: tuple[str, str] = ("user", "test-guest"),
                      party: list[tuple[uuid.UUID, int]] | None = None) -> uuid.UUID:
        """A confirmed booking for [check_in, check_out) of one room of ``room_type`` (or of a ``party``: a
        hold of (room type, units) each, in that order), its nights sold, as the saga leaves it."""
        lines = party or [(room_type or self.room_type, 1)]
        nights = [check_in + i * DAY for i in range((check_out - check_in).days)]
        async with self.db.acquire() as conn, conn.transaction():
            booking = await conn.fetchval(
                "INSERT INTO bookings (owner_kind, owner_id, property_id, status, step, guest, payment_ref, total_amount,"
                " currency, check_in, check_out, confirmation_code, step_deadline, deadline)"
                " VALUES ($6, $7, $1, $2, 'done', $3::jsonb, NULL, 100000, 'KRW', $4, $5,"
                " 'GR-' || upper(substr(md5(random()::text), 1, 8)), now(), now()) RETURNING id",
                self.property_id, status, json.dumps({"name": "Hong Gil-dong", "email": "g@example.com"}),
                check_in, check_out, *owner)
            for i, (product, units) in enumerate(lines):
                hold = await conn.fetchval(
                    "INSERT INTO holds (owner_kind, owner_id, product_id, property_id, check_in, check_out, quantity,"
                    " guests, rate_plan, total_amount, currency, status, created_at, expires_at, ended_at, booking_id)"
                    " VALUES ('user', 'test-guest', $1, $2, $3, $4, $6, 2, 'standard', 100000, 'KRW', 'converted',"
                    " now() - interval '1 minute' + make_interval(secs => $7), now(), now(), $5) RETURNING id",
                    product, self.property_id, check_in, check_out, booking, units, i)
                await conn.execute("INSERT INTO booking_holds (booking_id, hold_id) VALUES ($1, $2)", booking, hold)
                await conn.execute("INSERT INTO hold_lines (hold_id, product_id, night, units)"
                                   " SELECT $1, $2, unnest($3::date[]), $4", hold, product, nights, units)
                await conn.execute("UPDATE inventory SET sold = sold + $3, version = version + 1"
                                   " WHERE product_id = $1 AND night = ANY($2::date[])", product, nights, units)
        return booking

    async def seat(self, booking: uuid.UUID, room: uuid.UUID) -> None:
        """Put a stay in a room directly (as it was assigned while its nights were ahead)."""
        await self.db.execute(
            "INSERT INTO room_assignments (room_id, kind, booking_id, stay) SELECT $1, 'booking', id,"
            " daterange(check_in, check_out) FROM bookings WHERE id = $2", room, booking)

    async def sold(self, night: dt.date, product: uuid.UUID | None = None) -> int:
        return await self.db.fetchval("SELECT sold FROM inventory WHERE product_id = $1 AND night = $2",
                                      product or self.room_type, night)

    async def overlaps(self) -> int:
        """Pairs of occupancy rows of one room whose nights overlap (the constraint says: never any)."""
        return await self.db.fetchval(
            "SELECT count(*) FROM room_assignments a JOIN room_assignments b ON a.room_id = b.room_id"
            " AND a.id < b.id AND a.stay && b.stay JOIN rooms r ON r.id = a.room_id WHERE r.property_id = $1",
            self.property_id)

    async def written(self, booking: uuid.UUID) -> tuple[Any, ...]:
        """Everything a front-desk call could write about a booking (to prove a refusal wrote nothing)."""
        row = await self.db.fetchrow("SELECT status, version FROM bookings WHERE id = $1", booking)
        events = await self.db.fetchval("SELECT count(*) FROM outbox WHERE aggregate_id = $1", str(booking))
        audit = await self.db.fetchval("SELECT count(*) FROM audit_log WHERE detail->>'booking_id' = $1", str(booking))
        rooms = await self.db.fetch("SELECT room_id, stay::text FROM room_assignments WHERE booking_id = $1", booking)
        lines = await self.db.fetchval("SELECT count(*) FROM hold_lines l JOIN booking_holds b ON b.hold_id = l.hold_id"
                                       " WHERE b.booking_id = $1", booking)
        return tuple(row), events, audit, [tuple(r) for r in rooms], lines


async def pay(desk: Desk, payments: Any, booking: uuid.UUID, amount: int = 100_000, card: str = "tok_approve") -> str:
    """The booking's stay paid at the provider (authorized and captured, as the saga leaves it); its reference."""
    payment = await payments.open(f"{booking}:open", card, amount, "KRW", str(booking))
    await payments.authorize(f"{booking}:authorize", payment.reference)
    await payments.capture(f"{booking}:capture", payment.reference, amount)
    await desk.db.execute("UPDATE bookings SET payment_ref = $2, total_amount = $3 WHERE id = $1", booking,
                          payment.reference, amount)
    return payment.reference


async def make_desk(catalog_factory: Any, db: Any, rooms: int = 4, capacity: int = 500) -> Desk:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    today = resort_today(await db.fetchval("SELECT time_zone FROM properties WHERE id = $1", prop["id"]))
    await add_inventory(db, product["id"], today - 10 * DAY, today + 40 * DAY, capacity)
    desk = Desk(db, prop["id"], product["id"], [], today)
    desk.rooms = [await desk.room(f"{i + 101}") for i in range(rooms)]
    return desk


async def add_inventory(db: Any, product_id: uuid.UUID, start: dt.date, end: dt.date, capacity: int) -> None:
    await db.execute("INSERT INTO inventory (product_id, night, capacity) SELECT $1, d::date, $4"
                     " FROM generate_series($2::date, $3::date - 1, interval '1 day') d ON CONFLICT DO NOTHING",
                     product_id, start, end, capacity)


@pytest.fixture
async def desk(catalog_factory: Any, sync_resources: Any) -> Desk:
    return await make_desk(catalog_factory, sync_resources.db)


StaffHeaders = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
async def staff_headers(auth_headers: Any, settings: Any) -> StaffHeaders:
    """Headers of staff granted ``property_id`` at the IdP (group ``property:<id>``), front desk by default."""

    async def make(property_id: str, *groups: str, subject: str | None = None) -> dict[str, str]:
        roles = settings.roles_for_groups([*(groups or ("staff", "front-desk")), f"property:{property_id}"])
        return await auth_headers(roles, subject)

    return make


@pytest.fixture
async def front_desk_headers(staff_headers: StaffHeaders, desk: Desk) -> dict[str, str]:
    """Front-desk staff of the desk's property (overrides the unscoped fixture of tests/support/auth.py)."""
    return await staff_headers(desk.property_id)
