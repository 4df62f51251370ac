"""HTTP for a guest (or partner) cancelling one room of their party: translate the request and the answer.
Both room-cancel routes (this one and the front desk's) take an ``Idempotency-Key`` (app.idempotency)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec

from app.auth.guards import requires_login, requires_scopes
from app.auth.principal import current_principal
from app.errors import refusals
from app.frontdesk import room_cancel
from app.frontdesk.domain import FrontDeskRefused
from app.frontdesk.schemas import RoomCancelOut
from app.frontdesk.service import FrontDeskService
from app.holds.service import may_see
from app.idempotency.http import Effect, Ticket, idempotent, json_answer, keep
from app.idempotency.keys import OPENAPI_HEADER
from app.idempotency.store import StoredAnswer
from app.resources import Resources

ROOM_CANCEL_ANSWERS = {
    400: ResponseSpec(data_container=dict, description="`idempotency_key_missing`, `idempotency_key_invalid`"),
    404: ResponseSpec(data_container=dict, description="`booking_not_found`, `slot_not_found`"),
    409: ResponseSpec(data_container=dict, description="`booking_pending`, `booking_cancelled`, `booking_failed`, "
                                                       "`booking_checked_in`, `last_room` (cancel the booking), "
                                                       "`idempotency_in_flight`, `idempotency_taken_over`"),
}
ROOM_CANCEL_OPT = {"headers": OPENAPI_HEADER, "rules": {
    422: "an Idempotency-Key is reused only for the same room of the same booking (`idempotency_key_reused`)"}}
SUMMARY = ("Cancel one room of a party: its nights back, its refund by the rate plan's policy (Idempotency-Key); "
           "the other rooms stay")


def room_cancel_out(done: room_cancel.Cancelled) -> RoomCancelOut:
    return RoomCancelOut(booking_id=done.booking_id, slot=done.slot, refund_amount=done.refund_amount,
                         cancel_fee=done.cancel_fee, rule=done.rule, refund_status=done.refund_status,
                         refund_reference=done.refund_reference)


def cancelling(resources: Resources, run: Callable[[], Awaitable[room_cancel.Cancelled]]) -> Effect:
    """The idempotent effect of cancelling a room: its answer (or refusal) is what every retry of the key gets."""

    async def effect(ticket: Ticket) -> StoredAnswer:
        with refusals(FrontDeskRefused):
            answer = json_answer(200, room_cancel_out(await run()))
        return await keep(resources, ticket, answer)  # cancelling a room is idempotent itself

    return effect


class PartyRoomsController(Controller):
    path = "/bookings"
    tags = ["bookings"]
    guards = [requires_login]

    @post("/{booking_id:str}/rooms/{slot:int}/cancel", summary=SUMMARY, status_code=200,
          guards=[requires_scopes("bookings:write")], responses=ROOM_CANCEL_ANSWERS, opt=ROOM_CANCEL_OPT)
    async def cancel_room(self, request: Request[Any, Any, Any], booking_id: str, slot: int, resources: Resources,
                          frontdesk: FrontDeskService) -> Response[RoomCancelOut]:
        principal = current_principal(request)
        assert principal is not None  # the guards ran

        def mine(booking: asyncpg.Record) -> None:
            if not may_see(principal, booking):
                raise FrontDeskRefused(404, "booking_not_found", f"no booking {booking_id} of yours")

        effect = cancelling(resources, lambda: room_cancel.cancel_room(frontdesk, booking_id, slot, principal.actor,
                                                                       mine))
        return await idempotent(request, resources, f"POST /bookings/{booking_id}/rooms/{slot}/cancel",
                                effect)  # type: ignore[return-value]
