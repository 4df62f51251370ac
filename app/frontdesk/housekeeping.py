"""Housekeeping: each room's state (dirty, clean, inspected, out of order), set to dirty by a check-out and
changed by housekeeping staff (role ``housekeeping``, or the front desk, or admin) of the room's property;
every change is a ``room.housekeeping`` event (topic ``frontdesk``) that reaches the live front desk."""

from __future__ import annotations

import asyncpg

from app.catalog.repository import as_uuid
from app.frontdesk import repository as repo
from app.frontdesk.domain import FrontDeskRefused, Staff
from app.frontdesk.service import FrontDeskService
from app.unit_of_work import UnitOfWork


async def rooms(desk: FrontDeskService, property_id: str, staff: Staff) -> list[asyncpg.Record]:
    staff.check(property_id)
    return await desk.rooms(property_id)


async def set_state(desk: FrontDeskService, room_id: str, state: str, staff: Staff) -> asyncpg.Record:
    """The room in ``state`` (idempotent: the same state again changes and announces nothing)."""
    rid = as_uuid(room_id)
    async with UnitOfWork(desk.db) as uow:
        conn = uow.conn
        room = await repo.room(conn, rid) if rid is not None else None
        if room is None:
            raise FrontDeskRefused(404, "room_not_found", f"no room {room_id}")
        staff.check(room["property_id"])
        await repo.set_housekeeping(conn, [rid], state, staff.actor)
        return await repo.room(conn, rid)
