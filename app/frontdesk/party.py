"""Parties: the rooms of one booking, each assigned, checked in and checked out on its own.

A booking's party is every unit of its holds' room types (``repository.party``), numbered from 1 in the
order the holds were made. The booking is ``checked_in`` with its first room and ``checked_out`` when no
room of the party is in the house any more (a room that never arrived does not keep the folio open). A room
that leaves early gives its own unused nights back (one unit of its type per night). Every change locks the
booking row first, like the rest of the desk (``service.py``).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import structlog

from app.frontdesk import domain
from app.frontdesk import repository as repo
from app.frontdesk.domain import FrontDeskRefused, Staff, Stay
from app.frontdesk.service import FrontDeskService
from app.unit_of_work import UnitOfWork

log = structlog.get_logger("app.frontdesk")
# the booking, its room types, its rooms, the slots cancelled on their own (app/frontdesk/room_cancel.py)
Party = tuple[asyncpg.Record, list[uuid.UUID], list[asyncpg.Record], set[int]]


def _booking_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise FrontDeskRefused(404, "booking_not_found", "no such booking") from None


async def party(desk: FrontDeskService, booking_id: str, staff: Staff) -> Party:
    bid = _booking_id(booking_id)
    async with UnitOfWork(desk.db) as uow:
        conn = uow.conn
        booking = await desk._booking(conn, bid, staff)
        return booking, await repo.party(conn, bid), await repo.assignments(conn, bid), await repo.cancelled_slots(
            conn, bid)


def room_state(room: asyncpg.Record | None) -> str:
    """A room of a party: ``unassigned``, ``assigned``, ``checked_in`` or ``checked_out``."""
    if room is None:
        return "unassigned"
    return "checked_out" if room["checked_out_at"] else "checked_in" if room["checked_in_at"] else "assigned"


async def check_in_room(desk: FrontDeskService, booking_id: str, slot: int, staff: Staff) -> Party:
    """Check in one room of the party (idempotent); the first one checks the booking in."""
    bid = _booking_id(booking_id)
    async with UnitOfWork(desk.db) as uow:
        conn = uow.conn
        booking = await desk._booking(conn, bid, staff)
        domain.slot_type(await repo.party(conn, bid), slot)
        domain.not_cancelled(slot, await repo.cancelled_slots(conn, bid))
        room = await repo.assignment(conn, bid, slot)
        state = room_state(room)
        if state == "checked_in":
            return await _answer(conn, bid)
        if state == "checked_out":
            raise FrontDeskRefused(409, "room_checked_out", f"room {slot} of the party has checked out")
        if booking["status"] not in ("confirmed", "checked_in"):
            raise FrontDeskRefused(409, "invalid_status", f"cannot check in a stay that is {booking['status']}",
                                   stay_status=booking["status"])
        today = await desk._property_today(conn, booking["property_id"])
        domain.check_in(Stay("confirmed", booking["check_in"], booking["check_out"], room is not None), today)
        domain.ready_for_guest(room["housekeeping"], await repo.checkin_requires_clean(conn, booking["property_id"]))
        await repo.mark_rooms(conn, bid, [slot], "checked_in")
        detail = {"slot": slot, "room_id": str(room["room_id"]), "today": today.isoformat()}
        if booking["status"] == "confirmed":
            booking = await repo.set_status(conn, bid, "checked_in", "confirmed", today)
            await repo.record(conn, booking, staff.actor, "booking.checked_in", detail)
        else:
            await repo.record(conn, booking, staff.actor, "room.checked_in", detail)
        answer = await _answer(conn, bid)
    await desk.views.refresh_quietly(bid)
    return answer


async def check_out_room(desk: FrontDeskService, booking_id: str, slot: int, staff: Staff) -> Party:
    """Check out one room of the party (idempotent): its unused nights go back; the last room in the house
    checks the booking out."""
    bid = _booking_id(booking_id)
    returned: list[asyncpg.Record] = []
    async with UnitOfWork(desk.db) as uow:
        conn = uow.conn
        booking = await desk._booking(conn, bid, staff)
        room_type = domain.slot_type(await repo.party(conn, bid), slot)
        room = await repo.assignment(conn, bid, slot)
        state = room_state(room)
        if state == "checked_out":
            return await _answer(conn, bid)
        if state != "checked_in":
            raise FrontDeskRefused(409, "not_checked_in", f"room {slot} of the party is {state}: check it in first",
                                   room_status=state)
        today = await desk._property_today(conn, booking["property_id"])
        detail: dict[str, Any] = {"slot": slot, "room_id": str(room["room_id"]), "today": today.isoformat()}
        await repo.mark_rooms(conn, bid, [slot], "checked_out")
        await repo.set_housekeeping(conn, [room["room_id"]], "dirty", staff.actor)
        stay = Stay("checked_in", booking["check_in"], booking["check_out"], True)
        if (first := domain.unused_from(stay, today)) is not None:
            returned = await repo.give_back_room(conn, booking, room_type, first)
            await repo.shorten_assignment(conn, bid, first, [slot])
            detail["returned_from"] = first.isoformat()
        if not any(room_state(r) == "checked_in" for r in await repo.assignments(conn, bid)):
            booking = await repo.set_status(conn, bid, "checked_out", "checked_in", today)
            await repo.record(conn, booking, staff.actor, "booking.checked_out", detail, returned)
        else:
            await repo.record(conn, booking, staff.actor, "room.checked_out", detail, returned)
        answer = await _answer(conn, bid)
    await desk.views.refresh_quietly(bid)
    if returned:
        await desk.locks.clear_sold_out([f"{r['product_id']}:{r['night'].isoformat()}" for r in returned])
    log.info("party_room_out", booking_id=str(bid), slot=slot, actor=staff.actor, nights_returned=len(returned))
    return answer


async def _answer(conn: asyncpg.Connection, bid: uuid.UUID) -> Party:
    booking = await repo.lock_booking(conn, bid)
    return booking, await repo.party(conn, bid), await repo.assignments(conn, bid), await repo.cancelled_slots(conn, bid)
