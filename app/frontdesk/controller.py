"""HTTP for the front desk: translate requests to the service and answers back; nothing else lives here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from app.auth.guards import requires_roles
from app.auth.principal import current_principal
from app.errors import refusals
from app.frontdesk import housekeeping, party, room_cancel
from app.frontdesk.audit_report import AuditReport
from app.frontdesk.domain import FrontDeskRefused, Staff
from app.frontdesk.guest import ROOM_CANCEL_ANSWERS, ROOM_CANCEL_OPT, SUMMARY, cancelling
from app.frontdesk.schemas import (
    AssignIn,
    AssignmentOut,
    AutoAssignOut,
    BoardOut,
    DeskOut,
    HousekeepingIn,
    MoneyOwedList,
    OutOfServiceIn,
    OutOfServiceOut,
    PartyOut,
    RoomCancelOut,
    RoomIn,
    RoomOut,
    StayList,
    StayOut,
    desk_out,
    money_owed_out,
    party_out,
    room_out,
    stay_of_booking,
    stay_out,
)
from app.frontdesk.service import FrontDeskService
from app.idempotency.http import idempotent
from app.resources import Resources


def _problems(**answers: str) -> dict[int, ResponseSpec]:
    """Error answers of an operation, documented as problem+json (see app/problem_docs.py)."""
    return {int(status[1:]): ResponseSpec(data_container=dict, description=text) for status, text in answers.items()}


PROPERTY_404 = _problems(s404="`property_not_found`")
BOOKING_404 = "`booking_not_found`"
TRANSITION = "`invalid_status` (with the `stay_status`)"
ASSIGN_ANSWERS = _problems(
    s404=BOOKING_404,
    s409="`room_taken` (with the other `booking_id` and its nights), `room_out_of_service`, `stay_over` (its "
         "departure day has come: nothing left to move), " + TRANSITION,
    s422="`validation_failed`, `room_not_found`, `room_type_mismatch`")
Day = Annotated[dt.date | None, Parameter(query="date", description="the property's local date (default: today)")]


def _actor(request: Request[Any, Any, Any]) -> str:
    return _staff(request).actor


def _staff(request: Request[Any, Any, Any], property_id: str | None = None) -> Staff:
    """The caller as front-desk staff (the properties they may act on); refuses ``property_id`` if not theirs."""
    principal = current_principal(request)
    assert principal is not None  # the guards ran
    staff = Staff(principal.actor, None if principal.has_any_role("admin") else principal.properties)
    if property_id is not None:
        with refusals(FrontDeskRefused):
            staff.check(property_id)
    return staff


class AdminRoomsController(Controller):
    path = "/admin/properties/{property_id:str}/rooms"
    tags = ["front desk"]
    guards = [requires_roles("admin")]
    request_max_body_size = 4096

    @post("/", summary="Add a physical room of a room type (admin)", status_code=201,
          responses=PROPERTY_404 | _problems(s409="`room_exists`", s422="`validation_failed`, `unknown_room_type`"),
          opt={"rules": {422: "`room_type_id` must be a room type of this property (`unknown_room_type`)"}})
    async def create(self, property_id: str, data: RoomIn, frontdesk: FrontDeskService) -> RoomOut:
        with refusals(FrontDeskRefused):
            return room_out(await frontdesk.add_room(property_id, data.number, data.floor, data.room_type_id))

    @post("/{room_id:str}/out-of-service", summary="Take a room out of service for some nights (admin)",
          opt={"rules": {422: "`end` must be after `start` (`invalid_date_range`), a bounded range "
                              "(`date_range_too_long`)"}},
          status_code=201, responses=_problems(
              s404="`room_not_found`", s409="`room_taken` (naming the booking), `room_out_of_service`, "
                   "`capacity_sold` (the room type is sold on some of these nights: `nights` and the `bookings`)",
              s422="`validation_failed`, `invalid_date_range`, `date_range_too_long`"))
    async def out_of_service(self, request: Request[Any, Any, Any], property_id: str, room_id: str,
                             data: OutOfServiceIn, frontdesk: FrontDeskService) -> OutOfServiceOut:
        with refusals(FrontDeskRefused):
            row = await frontdesk.out_of_service(property_id, room_id, data.start, data.end, data.reason,
                                                 _actor(request))
        return OutOfServiceOut(id=row["id"], room_id=room_id, start=row["start"], end=row["end"], reason=row["reason"])

    @delete("/{room_id:str}/out-of-service/{period_id:int}", summary="End an out-of-service period (admin; idempotent)",
            status_code=204, responses=_problems(s404="`room_not_found`"))
    async def back_in_service(self, request: Request[Any, Any, Any], property_id: str, room_id: str, period_id: int,
                              frontdesk: FrontDeskService) -> None:
        with refusals(FrontDeskRefused):
            await frontdesk.back_in_service(property_id, room_id, period_id, _actor(request))


class FrontDeskController(Controller):
    path = "/frontdesk"
    tags = ["front desk"]
    guards = [requires_roles("front_desk", "admin")]
    request_max_body_size = 4096
    opt = {"problems": {403: ("property_forbidden",)}}

    @get("/{property_id:str}/rooms", summary="The property's rooms", responses=PROPERTY_404)
    async def rooms(self, request: Request[Any, Any, Any], property_id: str,
                    frontdesk: FrontDeskService) -> list[RoomOut]:
        _staff(request, property_id)
        with refusals(FrontDeskRefused):
            return [room_out(r) for r in await frontdesk.rooms(property_id)]

    @put("/bookings/{booking_id:str}/room", summary="Assign (or move) the stay to a room of its type; never overlaps",
         responses=ASSIGN_ANSWERS,
         opt={"rules": {422: "`room_id` must name a room of the booking's property (`room_not_found`) of the booked "
                             "room type (`room_type_mismatch`)"}})
    async def assign(self, request: Request[Any, Any, Any], booking_id: str, data: AssignIn,
                     frontdesk: FrontDeskService) -> AssignmentOut:
        with refusals(FrontDeskRefused):
            row = await frontdesk.assign(booking_id, data.room_id, _staff(request))
        return AssignmentOut(booking_id=booking_id, room_id=str(row["room_id"]), room_number=row["number"],
                             start=row["start"], end=row["end"])

    @get("/bookings/{booking_id:str}/rooms", summary="The rooms of a booking's party, with their state",
         responses=_problems(s404=BOOKING_404))
    async def party_rooms(self, request: Request[Any, Any, Any], booking_id: str,
                          frontdesk: FrontDeskService) -> PartyOut:
        with refusals(FrontDeskRefused):
            return party_out(*await party.party(frontdesk, booking_id, _staff(request)), party.room_state)

    @put("/bookings/{booking_id:str}/rooms/{slot:int}/room", responses=ASSIGN_ANSWERS | _problems(
        s404=f"{BOOKING_404}, `slot_not_found`"), summary="Assign (or move) one room of a party; never overlaps",
         opt={"rules": {422: "`room_id` must name a room of the booking's property (`room_not_found`) of the room "
                             "type of that room of the party (`room_type_mismatch`)"}})
    async def assign_slot(self, request: Request[Any, Any, Any], booking_id: str, slot: int, data: AssignIn,
                          frontdesk: FrontDeskService) -> AssignmentOut:
        with refusals(FrontDeskRefused):
            row = await frontdesk.assign(booking_id, data.room_id, _staff(request), slot)
        return AssignmentOut(booking_id=booking_id, slot=slot, room_id=str(row["room_id"]), room_number=row["number"],
                             start=row["start"], end=row["end"])

    @post("/bookings/{booking_id:str}/rooms/{slot:int}/check-in", status_code=200, responses=_problems(
        s404=f"{BOOKING_404}, `slot_not_found`",
        s409=f"`before_arrival`, `stay_over`, `no_room_assigned`, `room_checked_out`, {TRANSITION}"),
        summary="Check in one room of a party (idempotent); the first checks the booking in")
    async def check_in_slot(self, request: Request[Any, Any, Any], booking_id: str, slot: int,
                            frontdesk: FrontDeskService) -> PartyOut:
        with refusals(FrontDeskRefused):
            return party_out(*await party.check_in_room(frontdesk, booking_id, slot, _staff(request)),
                             party.room_state)

    @post("/bookings/{booking_id:str}/rooms/{slot:int}/check-out", status_code=200, responses=_problems(
        s404=f"{BOOKING_404}, `slot_not_found`", s409="`not_checked_in`"),
        summary="Check out one room of a party (idempotent; unused nights of that room go back); the last room "
                "in the house checks the booking out")
    async def check_out_slot(self, request: Request[Any, Any, Any], booking_id: str, slot: int,
                             frontdesk: FrontDeskService) -> PartyOut:
        with refusals(FrontDeskRefused):
            return party_out(*await party.check_out_room(frontdesk, booking_id, slot, _staff(request)),
                             party.room_state)

    @post("/bookings/{booking_id:str}/rooms/{slot:int}/cancel", summary=SUMMARY, status_code=200,
          responses=ROOM_CANCEL_ANSWERS, opt=ROOM_CANCEL_OPT)
    async def cancel_room(self, request: Request[Any, Any, Any], booking_id: str, slot: int, resources: Resources,
                          frontdesk: FrontDeskService) -> Response[RoomCancelOut]:
        staff = _staff(request)
        effect = cancelling(resources, lambda: room_cancel.cancel_room(frontdesk, booking_id, slot, staff.actor,
                                                                       lambda b: staff.check(b["property_id"])))
        return await idempotent(request, resources, f"POST /frontdesk/bookings/{booking_id}/rooms/{slot}/cancel",
                                effect)  # type: ignore[return-value]

    @delete("/bookings/{booking_id:str}/room", summary="Unassign the stay's room (idempotent)", status_code=204,
            responses=_problems(s404=BOOKING_404, s409="`checked_in`: move the guest instead"))
    async def unassign(self, request: Request[Any, Any, Any], booking_id: str, frontdesk: FrontDeskService) -> None:
        with refusals(FrontDeskRefused):
            await frontdesk.unassign(booking_id, _staff(request))

    @post("/{property_id:str}/assign", summary="Assign rooms to every unassigned arrival of a date", status_code=200,
          responses=PROPERTY_404)
    async def auto_assign(self, request: Request[Any, Any, Any], property_id: str, frontdesk: FrontDeskService,
                          day: Annotated[dt.date, Parameter(query="date")]) -> AutoAssignOut:
        with refusals(FrontDeskRefused):
            result = await frontdesk.auto_assign(property_id, day, _staff(request, property_id).actor)
        return AutoAssignOut(date=day, **result)

    @post("/bookings/{booking_id:str}/check-in", status_code=200, responses=_problems(
        s404=BOOKING_404, s409=f"`before_arrival`, `stay_over`, `no_room_assigned`, {TRANSITION}"),
        summary="Check the guest in: on or after the arrival date (property time), with a room (idempotent)")
    async def check_in(self, request: Request[Any, Any, Any], booking_id: str, frontdesk: FrontDeskService) -> StayOut:
        with refusals(FrontDeskRefused):
            return stay_of_booking(*await frontdesk.check_in(booking_id, _staff(request)))

    @post("/bookings/{booking_id:str}/check-out", status_code=200, responses=_problems(
        s404=BOOKING_404, s409="`not_checked_in`"),
        summary="Check the guest out; an early departure gives the unused nights back (idempotent)")
    async def check_out(self, request: Request[Any, Any, Any], booking_id: str, frontdesk: FrontDeskService) -> StayOut:
        with refusals(FrontDeskRefused):
            return stay_of_booking(*await frontdesk.check_out(booking_id, _staff(request)))

    @post("/bookings/{booking_id:str}/no-show", status_code=200, responses=_problems(
        s404=BOOKING_404, s409=f"`arrival_day_not_over`, `checked_in`, {TRANSITION}"),
        summary="Mark a no-show once the arrival day has ended at the property (idempotent)")
    async def no_show(self, request: Request[Any, Any, Any], booking_id: str, frontdesk: FrontDeskService) -> StayOut:
        with refusals(FrontDeskRefused):
            return stay_of_booking(*await frontdesk.no_show(booking_id, _staff(request)))

    @get("/{property_id:str}/arrivals", summary="Arrivals of a date, with rooms and status", responses=PROPERTY_404)
    async def arrivals(self, request: Request[Any, Any, Any], property_id: str, frontdesk: FrontDeskService, day: Day = None) -> StayList:
        return await self._view(request, frontdesk, property_id, "arrivals", day)

    @get("/{property_id:str}/departures", summary="Departures of a date, with rooms and status",
         responses=PROPERTY_404)
    async def departures(self, request: Request[Any, Any, Any], property_id: str, frontdesk: FrontDeskService, day: Day = None) -> StayList:
        return await self._view(request, frontdesk, property_id, "departures", day)

    @get("/{property_id:str}/in-house", summary="Guests in the house on the night of a date", responses=PROPERTY_404)
    async def in_house(self, request: Request[Any, Any, Any], property_id: str, frontdesk: FrontDeskService, day: Day = None) -> StayList:
        return await self._view(request, frontdesk, property_id, "in-house", day)

    @staticmethod
    async def _view(request: Request[Any, Any, Any], frontdesk: FrontDeskService, property_id: str, which: str,
                    day: dt.date | None) -> StayList:
        _staff(request, property_id)
        with refusals(FrontDeskRefused):
            day, rows = await frontdesk.view(property_id, which, day)
        return StayList(property_id=property_id, date=day, items=[stay_out(r) for r in rows])

    @get("/{property_id:str}/money-owed", summary="Bookings that owe a guest money back: a void or refund the "
         "payment provider has not done yet (refund_pending, needs_attention)", responses=PROPERTY_404)
    async def money_owed(self, request: Request[Any, Any, Any], property_id: str,
                         frontdesk: FrontDeskService) -> MoneyOwedList:
        _staff(request, property_id)
        with refusals(FrontDeskRefused):
            return money_owed_out(property_id, await frontdesk.money_owed(property_id))

    @get("/{property_id:str}/stays", summary="The desk's lists of a date: arrivals, in house, departures, departed, "
         "no-shows, cancelled; each stay of the day in exactly one", responses=PROPERTY_404)
    async def stays(self, request: Request[Any, Any, Any], property_id: str, frontdesk: FrontDeskService,
                    day: Day = None) -> DeskOut:
        _staff(request, property_id)
        with refusals(FrontDeskRefused):
            day, lists = await frontdesk.desk(property_id, day)
        return desk_out(property_id, day, lists, await frontdesk.audit(property_id, None))

    @get("/{property_id:str}/audits/{day:date}", summary="The night audit's report of a business day: "
         "occupancy, ADR, RevPAR, no-shows, cancellations", responses=_problems(
             s404="`property_not_found`, `audit_not_found` (the day was not closed)"))
    async def audit(self, request: Request[Any, Any, Any], property_id: str, day: dt.date,
                    frontdesk: FrontDeskService) -> AuditReport:
        _staff(request, property_id)
        with refusals(FrontDeskRefused):
            report = await frontdesk.audit(property_id, day)
            if report is None:
                raise FrontDeskRefused(404, "audit_not_found", f"the business day {day.isoformat()} was not closed",
                                       business_date=day.isoformat())
        return report

    @get("/{property_id:str}/board", summary="The room board: rooms x nights (free, assigned, occupied, "
         "out_of_service); at most 62 nights", responses=PROPERTY_404 | _problems(
             s422="`validation_failed`, `invalid_date_range`, `date_range_too_long`"),
         opt={"rules": {422: "`to` must be after `from` (`invalid_date_range`; `from` defaults to today in the "
                             "resort), at most 62 nights apart (`date_range_too_long`)"}})
    async def board(self, request: Request[Any, Any, Any], property_id: str, frontdesk: FrontDeskService,
                    start: Annotated[dt.date | None, Parameter(query="from")] = None,
                    end: Annotated[dt.date | None, Parameter(query="to")] = None) -> Response[BoardOut]:
        _staff(request, property_id)
        with refusals(FrontDeskRefused):
            return Response(await frontdesk.board(property_id, start, end), media_type=MediaType.JSON)


class HousekeepingController(Controller):
    path = "/housekeeping"
    tags = ["front desk"]
    guards = [requires_roles("housekeeping", "front_desk", "admin")]
    request_max_body_size = 1024
    opt = {"problems": {403: ("property_forbidden",)}}

    @get("/{property_id:str}/rooms", summary="The property's rooms with their housekeeping state",
         responses=PROPERTY_404)
    async def rooms(self, request: Request[Any, Any, Any], property_id: str,
                    frontdesk: FrontDeskService) -> list[RoomOut]:
        with refusals(FrontDeskRefused):
            return [room_out(r) for r in await housekeeping.rooms(frontdesk, property_id, _staff(request))]

    @put("/rooms/{room_id:str}/state", summary="Set a room's housekeeping state (dirty, clean, inspected, "
         "out_of_order; idempotent)", responses=_problems(s404="`room_not_found`"))
    async def set_state(self, request: Request[Any, Any, Any], room_id: str, data: HousekeepingIn,
                        frontdesk: FrontDeskService) -> RoomOut:
        with refusals(FrontDeskRefused):
            return room_out(await housekeeping.set_state(frontdesk, room_id, data.state, _staff(request)))
