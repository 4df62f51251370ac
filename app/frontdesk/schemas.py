"""The front desk API's bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import asyncpg
from msgspec import Meta, Struct

from app.frontdesk.audit_report import AuditReport
from app.frontdesk.domain import READY, BoardRow
from app.frontdesk.views import Stay


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
    housekeeping: Annotated[str, Meta(description="dirty, clean, inspected or out_of_order")] = "clean"


class HousekeepingIn(Struct, forbid_unknown_fields=True, kw_only=True):
    state: Literal["dirty", "clean", "inspected", "out_of_order"]


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
    slot: Annotated[int, Meta(description="the room of the party (1 for a booking of one room)")] = 1
    room_id: str
    room_number: str
    start: dt.date
    end: dt.date


class PartyRoomOut(Struct, kw_only=True):
    slot: Annotated[int, Meta(description="the room's number in the party, from 1")]
    room_type_id: str
    status: Annotated[str, Meta(description="unassigned, assigned, checked_in, checked_out or cancelled")]
    room_id: str | None
    room_number: str | None


class PartyOut(Struct, kw_only=True):
    """The rooms of a booking (a party of one or more rooms), each assigned, checked in and out on its own."""

    booking_id: str
    status: str
    rooms: list[PartyRoomOut]


def party_out(booking: Any, types: list[Any], rooms: list[Any], cancelled: set[int], state: Any) -> PartyOut:
    by_slot = {r["slot"]: r for r in rooms}
    return PartyOut(booking_id=str(booking["id"]), status=booking["status"], rooms=[
        PartyRoomOut(slot=slot, room_type_id=str(t),
                     status="cancelled" if slot in cancelled else state(by_slot.get(slot)),
                     room_id=str(by_slot[slot]["room_id"]) if slot in by_slot else None,
                     room_number=by_slot[slot]["number"] if slot in by_slot else None)
        for slot, t in enumerate(types, start=1)])


class RoomCancelOut(Struct, kw_only=True):
    """One room of a party cancelled: what its rate plan's policy refunds and keeps, and the refund's state."""

    booking_id: str
    slot: int
    refund_amount: int
    cancel_fee: int
    rule: Annotated[str, Meta(description="free, late or non_refundable")]
    refund_status: Annotated[str, Meta(description="refunded (or nothing due); pending: the provider has not "
                                                   "refunded it yet, asking again retries")]
    refund_reference: str | None = None


class AutoAssignOut(Struct, kw_only=True):
    date: dt.date
    assigned: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]


class StayRoomOut(Struct, kw_only=True):
    room_id: str
    number: str


class StayOut(Struct, kw_only=True):
    booking_id: str
    status: Annotated[str, Meta(description="confirmed, checked_in, checked_out or no_show (also others)")]
    check_in: dt.date
    check_out: dt.date
    guest_name: str | None
    confirmation_code: str | None
    room_id: Annotated[str | None, Meta(description="the stay's first room (see `rooms` for a party)")]
    room_number: str | None
    rooms: list[StayRoomOut] = []
    warnings: Annotated[list[str], Meta(description="`room_not_clean`: checked into a room housekeeping has not "
                                                    "made ready")] = []


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
                   room_type_id=str(r["room_type_id"]), housekeeping=r["housekeeping"])


def stay_out(s: Stay) -> StayOut:
    first = s.rooms[0] if s.rooms else None
    return StayOut(booking_id=s.booking_id, status=s.status, check_in=s.check_in, check_out=s.check_out,
                   guest_name=s.guest_name, confirmation_code=s.confirmation_code,
                   room_id=first["room_id"] if first else None, room_number=first["number"] if first else None,
                   rooms=[StayRoomOut(room_id=r["room_id"], number=r["number"]) for r in s.rooms])


class DeskOut(Struct, kw_only=True):
    """The desk's lists of a date: every stay the day concerns is in exactly one."""

    property_id: str
    date: dt.date
    arrivals: Annotated[list[StayOut], Meta(description="expected today: confirmed, not yet checked in")]
    in_house: Annotated[list[StayOut], Meta(description="checked in, staying tonight")]
    departures: Annotated[list[StayOut], Meta(description="checked in, due out today (or overdue)")]
    departed: Annotated[list[StayOut], Meta(description="checked out today")]
    no_shows: list[StayOut]
    cancelled: list[StayOut]
    last_audit: Annotated[AuditReport | None, Meta(description="the latest closed business day's night audit")] = None


def desk_out(property_id: str, day: dt.date, lists: dict[str, list[Stay]],
             last_audit: AuditReport | None = None) -> DeskOut:
    return DeskOut(property_id=property_id, date=day, last_audit=last_audit,
                   **{k: [stay_out(s) for s in v] for k, v in lists.items()})


def stay_of_booking(b: asyncpg.Record, room: asyncpg.Record | None) -> StayOut:
    not_ready = b["status"] == "checked_in" and room is not None and room["housekeeping"] not in READY
    return StayOut(booking_id=str(b["id"]), status=b["status"], check_in=b["check_in"], check_out=b["check_out"],
                   guest_name=None, confirmation_code=b["confirmation_code"],
                   room_id=str(room["room_id"]) if room else None, room_number=room["number"] if room else None,
                   warnings=["room_not_clean"] if not_ready else [])


def board_out(property_id: str, nights: list[dt.date], rooms: list[asyncpg.Record],
              grid: dict[Any, BoardRow]) -> BoardOut:
    return BoardOut(property_id=property_id, nights=nights, rooms=[
        BoardRoomOut(id=str(r["id"]), number=r["number"], floor=r["floor"], room_type_id=str(r["room_type_id"]),
                     cells=grid[r["id"]].cells, bookings=grid[r["id"]].bookings) for r in rooms])


class MoneyOwedOut(Struct, kw_only=True):
    """A booking whose void or refund (or one item's refund) the payment provider has not done yet: the guest
    is owed money."""

    booking_id: str
    purpose: Annotated[str, Meta(description="what is owed: the booking's void or refund (`booking`), the refund "
                                             "of one room of its party (`room:<slot>`), a no-show's balance "
                                             "(`no_show`)")]
    status: str
    refund_state: Annotated[str, Meta(description="refund_pending (being retried) or needs_attention (an operator must act)")]
    amount_owed: Annotated[int, Meta(description="what goes back to the guest: the refund, or the whole amount of a voided booking")]
    currency: str
    confirmation_code: str | None
    check_in: dt.date
    check_out: dt.date
    since: dt.datetime


class MoneyOwedList(Struct, kw_only=True):
    property_id: str
    items: list[MoneyOwedOut]


def money_owed_out(property_id: str, rows: list[Any]) -> MoneyOwedList:
    return MoneyOwedList(property_id=property_id, items=[MoneyOwedOut(
        booking_id=str(r["id"]), purpose=r["purpose"], status=r["status"], refund_state=r["refund_state"],
        amount_owed=r["refund_amount"] if r["refund_amount"] is not None else r["total_amount"],
        currency=r["currency"].strip(), confirmation_code=r["confirmation_code"], check_in=r["check_in"],
        check_out=r["check_out"], since=r["updated_at"]) for r in rows])
