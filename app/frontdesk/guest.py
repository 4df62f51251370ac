"""HTTP for a guest (or partner) cancelling one room of their party: translate the request and the answer."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Controller, Request, post
from litestar.openapi.datastructures import ResponseSpec

from app.auth.guards import requires_login, requires_scopes
from app.auth.principal import current_principal
from app.errors import refusals
from app.frontdesk import room_cancel
from app.frontdesk.domain import FrontDeskRefused
from app.frontdesk.schemas import RoomCancelOut
from app.frontdesk.service import FrontDeskService
from app.holds.service import may_see

ROOM_CANCEL_ANSWERS = {
    404: ResponseSpec(data_container=dict, description="`booking_not_found`, `slot_not_found`"),
    409: ResponseSpec(data_container=dict, description="`booking_pending`, `booking_cancelled`, `booking_failed`, "
                                                       "`booking_checked_in`, `last_room` (cancel the booking)"),
}
SUMMARY = ("Cancel one room of a party: its nights back, its refund by the rate plan's policy (idempotent); the "
           "other rooms stay")


def room_cancel_out(done: room_cancel.Cancelled) -> RoomCancelOut:
    return RoomCancelOut(booking_id=done.booking_id, slot=done.slot, refund_amount=done.refund_amount,
                         cancel_fee=done.cancel_fee, rule=done.rule, refund_status=done.refund_status,
                         refund_reference=done.refund_reference)


class PartyRoomsController(Controller):
    path = "/bookings"
    tags = ["bookings"]
    guards = [requires_login]

    @post("/{booking_id:str}/rooms/{slot:int}/cancel", summary=SUMMARY, status_code=200,
          guards=[requires_scopes("bookings:write")], responses=ROOM_CANCEL_ANSWERS)
    async def cancel_room(self, request: Request[Any, Any, Any], booking_id: str, slot: int,
                          frontdesk: FrontDeskService) -> RoomCancelOut:
        principal = current_principal(request)
        assert principal is not None  # the guards ran

        def mine(booking: asyncpg.Record) -> None:
            if not may_see(principal, booking):
                raise FrontDeskRefused(404, "booking_not_found", f"no booking {booking_id} of yours")

        with refusals(FrontDeskRefused):
            return room_cancel_out(await room_cancel.cancel_room(frontdesk, booking_id, slot, principal.actor, mine))
