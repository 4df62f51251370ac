"""The front desk API's bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import asyncpg
from msgspec import Meta, Struct

from app.frontdesk.domain import BoardRow


class RoomIn(Struct, forbid_unknown_fields=True, kw_only=True):
    number: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$", description="e.g. 1204")]
    floor: Annotated[int, Meta(ge=-10, le=300)]
    room_type_id: Annotated[str, Meta(min_length=1, max_length=64)]


class RoomOut(Struct, kw_only=True):
    id: str
    property_id: str
    number: str
    floor: int
    room_type_id: str


class OutOfServiceIn(Struct, forbid_unknown_fields=True, kw_only=True):
    start: Annotated[dt.date, Meta(description="first night out of service")]
    end: Annotated[dt.date, Meta(description="the day the room is back (exclusive)")]
    reason: Annotated[str, Meta(max_length=200, pattern=r"^[^\x00]*$")] | None = None


class OutOfServiceOut(Struct, kw_only=True):
    id: int
    room_id: str
    start: dt.date
    end: dt.date
    reason: str | None


class AssignIn(Struct, forbid_unknown_fields=True, kw_only=True):
    room_id: Annotated[str, Meta(min_length=1, max_length=64)]


class AssignmentOut(Struct, kw_only=True):
    booking_id: str
    room_id: str
    room_number: str
    start: dt.date
    end: dt.date


class AutoAssignOut(Struct, kw_only=True):
    date: dt.date
    assigned: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]


class StayOut(Struct, kw_only=True):
    booking_id: str
    status: Annotated[str, Meta(description="confirmed, checked_in, checked_out or no_show (also others)")]
    check_in: dt.date
    check_out: dt.date
    guest_name: str | None
    confirmation_code: str | None
    room_id: str | None
    room_number: str | None


class StayList(Struct, kw_only=True):
    property_id: str
    date: dt.date
    items: list[StayOut]


class BoardRoomOut(Struct, kw_only=True):
    id: str
    number: str
    floor: int
    room_type_id: str
    cells: Annotated[list[str], Meta(description="one per night: free, assigned, occupied or out_of_service")]
    bookings: Annotated[list[str | None], Meta(description="one per night: the booking in the room, if any")]


class BoardOut(Struct, kw_only=True):
    property_id: str
    nights: list[dt.date]
    rooms: list[BoardRoomOut]


def room_out(r: asyncpg.Record) -> RoomOut:
    return RoomOut(id=str(r["id"]), property_id=r["property_id"], number=r["number"], floor=r["floor"],
                   room_type_id=str(r["room_type_id"]))


def stay_out(b: asyncpg.Record) -> StayOut:
    return StayOut(booking_id=str(b["id"]), status=b["status"], check_in=b["check_in"], check_out=b["check_out"],
                   guest_name=b["guest_name"], confirmation_code=b["confirmation_code"],
                   room_id=str(b["room_id"]) if b["room_id"] else None, room_number=b["room_number"])


def stay_of_booking(b: asyncpg.Record, room: asyncpg.Record | None) -> StayOut:
    return StayOut(booking_id=str(b["id"]), status=b["status"], check_in=b["check_in"], check_out=b["check_out"],
                   guest_name=None, confirmation_code=b["confirmation_code"],
                   room_id=str(room["room_id"]) if room else None, room_number=room["number"] if room else None)


def board_out(property_id: str, nights: list[dt.date], rooms: list[asyncpg.Record],
              grid: dict[Any, BoardRow]) -> BoardOut:
    return BoardOut(property_id=property_id, nights=nights, rooms=[
        BoardRoomOut(id=str(r["id"]), number=r["number"], floor=r["floor"], room_type_id=str(r["room_type_id"]),
                     cells=grid[r["id"]].cells, bookings=grid[r["id"]].bookings) for r in rooms])
