"""The front desk's use cases: rooms, assignment (manual and automatic), check-in, check-out, no-show,
and the views (arrivals, departures, in-house, the room board).

Every write locks the booking row first, applies the pure rules (``domain``), and writes its effect, its
event and its audit row in one transaction. Double assignment is impossible by construction: the
exclusion constraint of ``room_assignments`` refuses an overlapping row at commit of whichever insert
comes second, whatever the application believed when it chose the room.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
import structlog

from app import clock
from app.bookings import views
from app.catalog.repository import as_uuid
from app.frontdesk import audit_repository, domain, outofservice
from app.frontdesk import repository as repo
from app.frontdesk.audit_report import AuditReport
from app.frontdesk.board_cache import BoardCache, BoardKey
from app.frontdesk.domain import FrontDeskRefused, Staff, Stay
from app.frontdesk.schemas import board_out
from app.frontdesk.views import DeskViews, sort_key
from app.frontdesk.views import Stay as DeskStay
from app.holds.locks import HoldLocks
from app.payments.port import PaymentPort
from app.resources import Resources
from app.unit_of_work import UnitOfWork

log = structlog.get_logger("app.frontdesk")
_AUTO_ATTEMPTS = 8
Rule = Callable[[Stay, dt.date], bool]
Moved = tuple[asyncpg.Record, asyncpg.Record | None]  # the booking, its room
# The REST lists of a date, over the stay lists' documents (app/frontdesk/views.py).
VIEWS: dict[str, Callable[[Any, dt.date], bool]] = {
    "arrivals": lambda s, d: s.check_in == d and s.status in ("confirmed", "checked_in", "checked_out", "no_show"),
    "departures": lambda s, d: s.check_out == d and s.status in ("confirmed", "checked_in", "checked_out"),
    "in-house": lambda s, d: s.check_in <= d < s.check_out and s.status == "checked_in",
}


def _id(raw: str, code: str, what: str) -> uuid.UUID:
    value = as_uuid(raw)
    if value is None:
        raise FrontDeskRefused(404, code, f"no such {what}")
    return value


class FrontDeskService:
    def __init__(self, resources: Resources, provider: PaymentPort | None = None) -> None:
        s = resources.settings
        self.resources, self.db, self.provider = resources, resources.db, provider
        self.locks = HoldLocks(resources.redis, s.hold_lock_ttl_ms, s.hold_lock_wait_ms, s.hold_soldout_mark_ms)
        self.views = DeskViews(resources.db, resources.redis, s)
        self.board_cache = BoardCache(s.frontdesk_board_cache_bytes)

    # -- rooms ------------------------------------------------------------------------------------

    async def add_room(self, property_id: str, number: str, floor: int, room_type_id: str) -> asyncpg.Record:
        type_id = as_uuid(room_type_id)
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            await self._property_today(conn, property_id)
            if type_id is None or not await repo.room_type_of(conn, property_id, type_id):
                raise FrontDeskRefused(422, "unknown_room_type", "room_type_id is not a room type of this property",
                                       errors=[{"field": "room_type_id", "message": "unknown room type"}])
            room = await repo.insert_room(conn, property_id, number, floor, type_id)
            if room is None:
                raise FrontDeskRefused(409, "room_exists", f"the property already has a room {number}")
            return room

    async def money_owed(self, property_id: str) -> list[asyncpg.Record]:
        """Bookings of the property whose money is still owed back to the guest (operators follow them up)."""
        await self._property_today(self.db, property_id)
        return await repo.money_owed(self.db, property_id, self.resources.settings.payment_owed_attention_after)

    async def rooms(self, property_id: str) -> list[asyncpg.Record]:
        await self._property_today(self.db, property_id)
        return await repo.rooms_of(self.db, property_id)

    async def out_of_service(self, property_id: str, room_id: str, start: dt.date, end: dt.date,
                             reason: str | None, actor: str) -> asyncpg.Record:
        domain.board_range(start, end)
        rid = _id(room_id, "room_not_found", "room")
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            room = await repo.room(conn, rid)
            if room is None or room["property_id"] != property_id:
                raise FrontDeskRefused(404, "room_not_found", f"no room {room_id} at {property_id}")
            try:
                period = await _insist(lambda: repo.insert_out_of_service(conn, rid, start, end, reason, actor), conn)
            except asyncpg.ExclusionViolationError:
                raise await self._conflict(conn, rid, start, end, None) from None
            await outofservice.take_out(conn, room, start, end, "room.out_of_service")
            await repo.audit(conn, actor, "room.out_of_service", {"room_id": str(rid), "period_id": period["id"],
                                                                   "start": start, "end": end})
            return period

    async def back_in_service(self, property_id: str, room_id: str, period_id: int, actor: str) -> None:
        """End an out-of-service period (idempotent: an unknown period is already gone)."""
        rid = _id(room_id, "room_not_found", "room")
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            room = await repo.room(conn, rid)
            if room is None or room["property_id"] != property_id:
                raise FrontDeskRefused(404, "room_not_found", f"no room {room_id} at {property_id}")
            period = await repo.delete_out_of_service(conn, rid, period_id)
            if period is None:
                return
            marks = await outofservice.put_back(conn, room, period["start"], period["end"], "room.back_in_service")
            await repo.audit(conn, actor, "room.back_in_service", {"room_id": str(rid), "period_id": period_id})
        await self.locks.clear_sold_out(marks)

    # -- assignment -------------------------------------------------------------------------------

    async def assign(self, booking_id: str, room_id: str, staff: Staff, slot: int = 1) -> asyncpg.Record:
        """Put the stay of the party's room ``slot`` in ``room_id`` (or move it there); 409 naming whoever has
        the room."""
        bid, rid = _id(booking_id, "booking_not_found", "booking"), as_uuid(room_id)
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await self._booking(conn, bid, staff)
            actor = staff.actor
            domain.may_assign(booking["status"])
            room = await repo.room(conn, rid) if rid is not None else None
            if room is None or room["property_id"] != booking["property_id"]:
                raise FrontDeskRefused(422, "room_not_found", f"no room {room_id} at {booking['property_id']}",
                                       errors=[{"field": "room_id", "message": "unknown room"}])
            if room["room_type_id"] != domain.slot_type(await repo.party(conn, bid), slot):
                raise FrontDeskRefused(422, "room_type_mismatch", f"room {room['number']} is not of the booked type",
                                       errors=[{"field": "room_id", "message": "another room type"}])
            domain.not_cancelled(slot, await repo.cancelled_slots(conn, bid))
            before = await repo.assignment(conn, bid, slot)
            if before is not None and before["room_id"] == rid:
                return before  # idempotent
            start = domain.stay_start(booking["status"], booking["check_in"], booking["check_out"],
                                      await self._property_today(conn, booking["property_id"]))
            try:
                await _insist(lambda: repo.put_assignment(conn, booking, rid, actor, start, slot), conn)
            except asyncpg.ExclusionViolationError:
                raise await self._conflict(conn, rid, start, booking["check_out"], bid) from None
            detail = {"room_id": str(rid), "room_number": room["number"], "slot": slot,
                      "previous_room_id": str(before["room_id"]) if before else None}
            await repo.record(conn, booking, actor, "room.assigned", detail)
            assigned = await repo.assignment(conn, bid, slot)
        await self.views.refresh_quietly(bid)
        return assigned

    async def unassign(self, booking_id: str, staff: Staff) -> None:
        bid = _id(booking_id, "booking_not_found", "booking")
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await self._booking(conn, bid, staff)
            actor = staff.actor
            if booking["status"] == "checked_in":
                raise FrontDeskRefused(409, "checked_in", "the guest is in the room: move the stay to another room")
            gone = await repo.delete_assignment(conn, bid)
            if gone is not None:
                await repo.record(conn, booking, actor, "room.unassigned", {"room_id": str(gone["room_id"])})
        await self.views.refresh_quietly(bid)

    async def auto_assign(self, property_id: str, day: dt.date, actor: str) -> dict[str, list[dict[str, Any]]]:
        """A room for every unassigned room of every confirmed arrival of ``day`` (each room of a party, of
        its own type): a free room of the type in number order; a room taken meanwhile (a clerk, another run)
        makes the constraint refuse and the next one is tried."""
        await self._property_today(self.db, property_id)
        async with self.db.acquire() as conn:
            ids = [r["id"] for r in await repo.arrivals_to_seat(conn, property_id, day)]
        assigned: list[dict[str, Any]] = []
        left: list[dict[str, Any]] = []
        for bid in ids:
            seated, missing = await self._auto_one(bid, actor)
            if seated:
                await self.views.refresh_quietly(bid)
            assigned += [{"booking_id": str(bid), "slot": r["slot"], "room_id": str(r["room_id"]),
                          "room_number": r["number"]} for r in seated]
            left += [{"booking_id": str(bid), "slot": slot, "reason": "no_free_room"} for slot in missing]
        return {"assigned": assigned, "unassigned": left}

    async def _auto_one(self, bid: uuid.UUID, actor: str) -> tuple[list[asyncpg.Record], list[int]]:
        """Seat every room of the party that has none (a clerk's or another run's choice is left alone); the
        rooms given, and the slots no free room was found for."""
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await repo.lock_booking(conn, bid)
            if booking is None or booking["status"] != "confirmed":
                return [], []
            taken = {r["slot"] for r in await repo.assignments(conn, bid)} | await repo.cancelled_slots(conn, bid)
            seated: list[asyncpg.Record] = []
            missing: list[int] = []
            for slot, room_type in enumerate(await repo.party(conn, bid), start=1):
                if slot in taken:
                    continue
                room = await self._seat(conn, booking, slot, room_type, actor)
                if room is None:
                    missing.append(slot)
                else:
                    seated.append(room)
            return seated, missing

    @staticmethod
    async def _seat(conn: asyncpg.Connection, booking: asyncpg.Record, slot: int, room_type: uuid.UUID,
                    actor: str) -> asyncpg.Record | None:
        for _ in range(_AUTO_ATTEMPTS):
            free = await repo.free_rooms(conn, [room_type], booking["check_in"], booking["check_out"])
            if not free:
                return None
            try:
                await _insist(functools.partial(repo.put_assignment, conn, booking, free[0], actor, None, slot), conn)
            except asyncpg.ExclusionViolationError:
                continue  # taken between our look and our insert: look again
            room = await repo.assignment(conn, booking["id"], slot)
            await repo.record(conn, booking, actor, "room.assigned", {"room_id": str(free[0]), "slot": slot,
                                                                      "room_number": room["number"], "automatic": True})
            return room
        return None

    # -- the stay ---------------------------------------------------------------------------------

    async def check_in(self, booking_id: str, staff: Staff) -> Moved:
        return await self._transition(booking_id, staff, "checked_in", domain.check_in)

    async def no_show(self, booking_id: str, staff: Staff) -> Moved:
        return await self._transition(booking_id, staff, "no_show", domain.no_show)

    async def check_out(self, booking_id: str, staff: Staff) -> Moved:
        return await self._transition(booking_id, staff, "checked_out", lambda stay, _: domain.check_out(stay))

    async def _transition(self, booking_id: str, staff: Staff, status: str, rule: Rule) -> Moved:
        bid = _id(booking_id, "booking_not_found", "booking")
        returned: list[asyncpg.Record] = []
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await self._booking(conn, bid, staff)
            actor = staff.actor
            today = await self._property_today(conn, booking["property_id"])
            room = await repo.assignment(conn, bid)
            rooms = await repo.assignments(conn, bid)
            cancelled = len(await repo.cancelled_slots(conn, bid))
            seated = len(rooms) >= max(1, len(await repo.party(conn, bid)) - cancelled)  # every room has one
            stay = Stay(booking["status"], booking["check_in"], booking["check_out"], seated)
            if not rule(stay, today):
                return booking, room  # already done: the same answer, nothing written
            detail: dict[str, Any] = {"room_id": str(room["room_id"]) if room else None, "today": today.isoformat()}
            if status == "checked_in":
                refuse = await repo.checkin_requires_clean(conn, booking["property_id"])
                for r in rooms:
                    domain.ready_for_guest(r["housekeeping"], refuse)
            if status in ("checked_in", "checked_out"):
                await repo.mark_rooms(conn, bid, [r["slot"] for r in rooms], status)
            if status == "checked_out":
                await repo.set_housekeeping(conn, [r["room_id"] for r in rooms], "dirty", actor)
            if status == "checked_out" and (first := domain.unused_from(stay, today)) is not None:
                returned = await repo.give_back_nights(conn, booking, first)
                await repo.shorten_assignment(conn, bid, first)
                detail["returned_from"] = first.isoformat()
            if status == "no_show":
                await repo.delete_assignment(conn, bid)
            moved = await repo.set_status(conn, bid, status, booking["status"], today)
            await repo.record(conn, moved, actor, f"booking.{status}", detail, returned)
            room = await repo.assignment(conn, bid)
        await views.remember(self.resources, actor, str(bid), moved["version"])  # the clerk reads what they did
        await self.views.refresh_quietly(bid)
        if returned:
            await self.locks.clear_sold_out([f"{r['product_id']}:{r['night'].isoformat()}" for r in returned])
        log.info("stay_moved", booking_id=str(bid), status=status, actor=actor, nights_returned=len(returned))
        return moved, room

    # -- views ------------------------------------------------------------------------------------

    async def view(self, property_id: str, which: str, day: dt.date | None) -> tuple[dt.date, list[DeskStay]]:
        """A REST list of a date (arrivals, departures, in-house) from the stay lists' read model."""
        today = await self._property_today(self.db, property_id)
        day = day or today
        stays, _ = await self.views.stays(property_id, day)
        return day, sorted((s for s in stays if VIEWS[which](s, day)), key=sort_key)

    async def desk(self, property_id: str, day: dt.date | None) -> tuple[dt.date, dict[str, list[DeskStay]]]:
        """The desk's lists of a date: every stay the day concerns, in exactly one list."""
        today = await self._property_today(self.db, property_id)
        day = day or today
        return day, await self.views.lists(property_id, day)

    async def audit(self, property_id: str, day: dt.date | None) -> AuditReport | None:
        """The night audit's report of ``day`` (None: the latest closed day), or None when there is none."""
        await self._property_today(self.db, property_id)
        return await audit_repository.report(self.db, property_id, day)

    async def board(self, property_id: str, start: dt.date | None, end: dt.date | None) -> bytes:
        """The room board's answer (JSON), from this process's copy while the board's version is the same
        (app/frontdesk/board_cache.py)."""
        today = await self._property_today(self.db, property_id)
        start = start or today
        nights = domain.board_range(start, end or start + dt.timedelta(days=14))
        key = BoardKey(property_id, nights[0], len(nights))
        version = await repo.board_version(self.db, property_id)
        return await self.board_cache.answer(key, version, functools.partial(self._board, property_id, nights))

    async def _board(self, property_id: str, nights: list[dt.date]) -> tuple[int, bytes]:
        """The board built now, and the version it is at least as new as (read first, in its snapshot)."""
        async with self.db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            version = await repo.board_version(conn, property_id)
            rooms = await repo.rooms_of(conn, property_id)
            rows = await repo.occupancy(conn, property_id, nights[0], nights[-1] + dt.timedelta(days=1))
        grid = domain.board([r["id"] for r in rooms], nights, map(domain.Occupancy._make, rows))
        return version, msgspec.json.encode(board_out(property_id, nights, rooms, grid))

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    async def _property_today(db: Any, property_id: str) -> dt.date:
        """Today at the property (its time zone, not the server's)."""
        zone = await repo.property_time_zone(db, property_id)
        if zone is None:
            raise FrontDeskRefused(404, "property_not_found", f"no property {property_id}")
        return clock.today(zone)

    @staticmethod
    async def _booking(conn: asyncpg.Connection, bid: uuid.UUID, staff: Staff) -> asyncpg.Record:
        booking = await repo.lock_booking(conn, bid)
        if booking is None:
            raise FrontDeskRefused(404, "booking_not_found", f"no booking {bid}")
        staff.check(booking["property_id"])
        return booking

    @staticmethod
    async def _conflict(conn: asyncpg.Connection, room_id: uuid.UUID, start: dt.date, end: dt.date,
                        booking_id: uuid.UUID | None) -> FrontDeskRefused:
        other = await repo.conflict_with(conn, room_id, start, end, booking_id)
        if other is not None and other["kind"] == "out_of_service":
            return FrontDeskRefused(409, "room_out_of_service", "the room is out of service for some of these nights",
                                    start=other["start"].isoformat(), end=other["end"].isoformat())
        other_id = str(other["booking_id"]) if other else None
        return FrontDeskRefused(409, "room_taken", f"the room is assigned to booking {other_id} for some of these "
                                "nights", booking_id=other_id, start=other["start"].isoformat() if other else None,
                                end=other["end"].isoformat() if other else None)


async def _insist(write: Any, conn: asyncpg.Connection, attempts: int = 3) -> Any:
    """Run ``write`` in a savepoint. Two overlapping inserts checked by the same exclusion constraint can
    deadlock on each other's speculative insertion: PostgreSQL aborts one, and its retry then meets the
    winner's committed row (an exclusion violation, answered 409) instead of a 500."""
    for attempt in range(attempts):
        try:
            async with conn.transaction():
                return await write()
        except asyncpg.DeadlockDetectedError:
            if attempt == attempts - 1:
                raise
    return None
