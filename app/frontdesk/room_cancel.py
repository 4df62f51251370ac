"""Cancelling one room of a party: the room's nights go back to inventory (the inventory aggregate, one unit
of its room type per night), its refund follows its rate plan's cancellation policy (``app.bookings.policy``) and
goes through the payment provider once (``app.payments.owed``: key ``<booking>:room:<slot>:refund``; one
payments row per (booking, room)); the rest of the party stays booked. Asked again, it answers the same and
only retries a refund the provider has not made yet; a refund still owed is also retried in the background
(the services role's owed round). The last room left is the booking: cancel the booking instead.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from app import clock
from app.bookings.policy import RatePolicy, refund_for
from app.catalog.repository import as_uuid
from app.frontdesk import repository as repo
from app.frontdesk.domain import FrontDeskRefused, slot_type
from app.frontdesk.service import FrontDeskService
from app.payments import owed
from app.unit_of_work import UnitOfWork

log = structlog.get_logger("app.frontdesk.room_cancel")
Check = Callable[[asyncpg.Record], None]  # refuses a caller who may not act on the booking
REFUSED = {"pending": (409, "booking_pending", "the booking is still being confirmed"),
           "cancelling": (409, "booking_cancelled", "this booking is being cancelled"),
           "cancelled": (409, "booking_cancelled", "this booking is cancelled"),
           "failed": (409, "booking_failed", "this booking failed; there is nothing to cancel")}
_SLOTS = (
    "SELECT h.id AS hold_id, p.id AS room_type_id, h.quantity * coalesce(pc.quantity, 1) AS units, h.total_amount, h.check_in,"
    " rp.refundable, rp.free_cancel_hours, rp.late_cancel_fee_pct, pr.time_zone FROM booking_holds bh"
    " JOIN holds h ON h.id = bh.hold_id LEFT JOIN package_components pc ON pc.package_id = h.product_id"
    " JOIN products p ON p.kind = 'room_type' AND p.id = coalesce(pc.component_id, h.product_id)"
    " JOIN rate_plans rp ON rp.product_id = h.product_id AND rp.code = h.rate_plan"
    " JOIN properties pr ON pr.id = h.property_id WHERE bh.booking_id = $1 ORDER BY h.created_at, h.id, p.id"
)  # the rooms of the party in repository.party's order, with each hold's price and policy


@dataclass(frozen=True, slots=True)
class Cancelled:
    booking_id: str
    slot: int
    refund_amount: int
    cancel_fee: int
    rule: str
    refund_status: str  # refunded (or nothing due), pending (the provider has not refunded it yet)
    refund_reference: str | None


async def cancel_room(desk: FrontDeskService, booking_id: str, slot: int, actor: str, check: Check) -> Cancelled:
    bid = as_uuid(booking_id)
    if bid is None:
        raise FrontDeskRefused(404, "booking_not_found", "no such booking")
    returned: list[asyncpg.Record] = []
    async with UnitOfWork(desk.db) as uow:
        conn = uow.conn
        booking = await repo.lock_booking(conn, bid)
        if booking is None:
            raise FrontDeskRefused(404, "booking_not_found", f"no booking {booking_id}")
        check(booking)
        if slot not in await repo.cancelled_slots(conn, bid):
            returned = await _cancel(conn, booking, slot, actor)
    if returned:
        await desk.views.refresh_quietly(bid)
        await desk.locks.clear_sold_out([f"{r['product_id']}:{r['night'].isoformat()}" for r in returned])
    return await _refund(desk, booking, slot)


async def _cancel(conn: asyncpg.Connection, booking: asyncpg.Record, slot: int, actor: str) -> list[asyncpg.Record]:
    if booking["status"] in REFUSED:
        raise FrontDeskRefused(*REFUSED[booking["status"]])
    if booking["status"] != "confirmed":  # in the house or gone: the desk checks the room out instead
        raise FrontDeskRefused(409, "booking_checked_in", f"a {booking['status'].replace('_', ' ')} stay cannot be "
                               "cancelled", stay_status=booking["status"])
    rooms = await _party(conn, booking["id"])
    room = slot_type(rooms, slot)
    if len(rooms) - len(await repo.cancelled_slots(conn, booking["id"])) <= 1:
        raise FrontDeskRefused(409, "last_room", "this is the last room of the booking: cancel the booking instead")
    zone = room["time_zone"]
    refund = refund_for(room["total_amount"] // room["units"], RatePolicy(
        room["refundable"], room["free_cancel_hours"], room["late_cancel_fee_pct"]), room["check_in"], zone,
        clock.now_at(zone))
    await conn.execute("INSERT INTO cancelled_rooms (booking_id, slot, room_type_id, refund_amount, cancel_fee, rule,"
                       " cancelled_by) VALUES ($1, $2, $3, $4, $5, $6, $7)", booking["id"], slot,
                       room["room_type_id"], refund.amount, refund.fee, refund.rule, actor)
    await conn.execute("DELETE FROM room_assignments WHERE booking_id = $1 AND kind = 'booking' AND slot = $2",
                       booking["id"], slot)
    returned = await repo.give_back_room(conn, booking, room["room_type_id"], booking["check_in"])
    await repo.record(conn, booking, actor, "room.cancelled", {"slot": slot, "refund": refund.amount,
                                                               "fee": refund.fee, "rule": refund.rule}, returned)
    log.info("party_room_cancelled", booking_id=str(booking["id"]), slot=slot, actor=actor, refund=refund.amount)
    return returned


async def _party(conn: asyncpg.Connection, booking_id: uuid.UUID) -> list[asyncpg.Record]:
    """The party's rooms, one entry per room, in slot order (slot 1 first)."""
    return [r for r in await conn.fetch(_SLOTS, booking_id) for _ in range(r["units"])]


async def cancelled_shares(conn: asyncpg.Connection, booking_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Per hold, the price share of its rooms cancelled on their own (each settled by its own refund under
    its own policy): what a later cancellation of the booking leaves out."""
    cancelled = await conn.fetch("SELECT slot, refund_amount + cancel_fee AS share FROM cancelled_rooms"
                                 " WHERE booking_id = $1", booking_id)
    if not cancelled:
        return {}
    rooms, shares = await _party(conn, booking_id), defaultdict(int)
    for row in cancelled:
        shares[rooms[row["slot"] - 1]["hold_id"]] += row["share"]
    return dict(shares)


async def _refund(desk: FrontDeskService, booking: asyncpg.Record, slot: int) -> Cancelled:
    """The room's refund through the provider, unless it was made before; what the provider answered."""
    bid = booking["id"]
    room = await desk.db.fetchrow("SELECT refund_amount, cancel_fee, rule FROM cancelled_rooms WHERE booking_id = $1"
                                  " AND slot = $2", bid, slot)
    done = await desk.db.fetchrow("SELECT status, provider_ref FROM payments WHERE booking_id = $1 AND slot = $2"
                                  " AND operation = 'refund'", bid, slot)
    status, reference, detail = (done["status"], done["provider_ref"], None) if done else ("failed", None, None)
    if status != "approved":
        status, reference, detail = await _ask_provider(desk, booking, slot, room["refund_amount"])
        await _record(desk.db, booking, slot, room["refund_amount"], status, reference, detail)
    return Cancelled(str(bid), slot, room["refund_amount"], room["cancel_fee"], room["rule"],
                     "refunded" if status == "approved" else "pending", reference)


async def _ask_provider(desk: FrontDeskService, booking: asyncpg.Record, slot: int,
                        amount: int) -> tuple[str, str | None, str | None]:
    if amount <= 0 or not booking["payment_ref"] or desk.provider is None:
        return "approved", booking["payment_ref"], "nothing_due" if amount <= 0 else "no_payment"
    settled = await owed.settle(desk.provider, owed.Item(booking["id"], slot, amount, booking["payment_ref"]))
    if settled.status != "approved":  # still owed: the services role's owed round asks again
        log.warning("party_room_refund_failed", booking_id=str(booking["id"]), slot=slot, error=settled.detail)
    return settled.status, settled.reference, settled.detail


async def _record(db: asyncpg.Pool, booking: asyncpg.Record, slot: int, amount: int, status: str,
                  reference: str | None, detail: str | None) -> None:
    await db.execute(
        "INSERT INTO payments (booking_id, slot, operation, status, amount, currency, provider_ref, detail)"
        " VALUES ($1, $2, 'refund', $3, $4, $5, $6, $7) ON CONFLICT (booking_id, slot, operation) WHERE slot IS NOT NULL"
        " DO UPDATE SET status = EXCLUDED.status, provider_ref = EXCLUDED.provider_ref, detail = EXCLUDED.detail,"
        " attempts = payments.attempts + 1, updated_at = now() WHERE payments.status = 'failed'",
        booking["id"], slot, status, amount, booking["currency"], reference, detail)
