"""HTTP for bookings: translate requests to the service and answers back; nothing else lives here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from app.auth.guards import requires_login, requires_roles, requires_scopes
from app.auth.principal import Principal, current_principal
from app.bookings.schemas import BookingIn, BookingOut, BookingPage, FeedPage, booking_out, feed_page
from app.bookings.service import BookingRefused, BookingService, Within
from app.bookings.views import as_out
from app.errors import refusals
from app.idempotency.http import Ticket, idempotent, json_answer
from app.idempotency.keys import OPENAPI_HEADER
from app.idempotency.store import StoredAnswer
from app.resources import Resources

READ_MODEL = "X-Read-Model"  # where a read was served from: mongo, postgres (the caller's own newer change)

Page = Annotated[int, Parameter(ge=1, le=10_000)]
PerPage = Annotated[int, Parameter(ge=1, le=100)]
CREATE_ANSWERS = {
    400: ResponseSpec(data_container=dict, description="`idempotency_key_missing`, `idempotency_key_invalid`"),
    409: ResponseSpec(data_container=dict, description="`hold_expired`, `hold_ended`, `hold_in_booking`, "
                                                       "`idempotency_in_flight`, `idempotency_taken_over`"),
    422: ResponseSpec(data_container=dict, description="`validation_failed`, `hold_not_found`, `invalid_hold_ids`, "
                                                       "`unknown_card_token`, `payment_refused`, "
                                                       "`party_too_large`, `idempotency_key_reused`"),
}


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal = current_principal(request)
    assert principal is not None  # the guards ran
    return principal


def accepted(booking: Any, hold_ids: list[Any]) -> StoredAnswer:
    body = booking_out(booking, hold_ids)
    return json_answer(202, body, {"Location": f"/bookings/{body.id}"})


def starting(run: Callable[[Within], Awaitable[Any]]) -> Callable[[Ticket], Awaitable[StoredAnswer]]:
    """The idempotent effect of a call that starts a saga (a booking, a cancellation): its 202 answer is
    recorded by the saga's own transaction, and a refusal of the rules becomes a problem+json."""

    async def effect(ticket: Ticket) -> StoredAnswer:
        answers: list[StoredAnswer] = []

        async def within(conn: Any, booking: Any, hold_ids: list[Any]) -> None:
            answers.append(accepted(booking, hold_ids))
            await ticket.record(conn, answers[0])

        with refusals(BookingRefused):
            await run(within)
        return answers[0]

    return effect


class BookingsController(Controller):
    path = "/bookings"
    tags = ["bookings"]
    guards = [requires_login]
    request_max_body_size = 16_384

    @post("/", summary="Book held inventory: starts the saga (reserve, convert, pay, confirm); Idempotency-Key",
          guards=[requires_scopes("bookings:write")], status_code=202, responses=CREATE_ANSWERS,
          opt={"headers": OPENAPI_HEADER, "links": {"booking_id": "/id"},
               "problems": {503: ("payment_provider_unavailable",)}, "rules": {
              422: "`hold_ids` must name your live holds (`hold_not_found`, `invalid_hold_ids`) and the card token"
                   " one the payment provider knows (`unknown_card_token`, `payment_refused`); a key is reused only"
                   " with the same body (`idempotency_key_reused`)"}})
    async def create(self, request: Request[Any, Any, Any], resources: Resources, bookings: BookingService,
                     data: BookingIn) -> Response[BookingOut]:
        principal = _principal(request)
        effect = starting(lambda within: bookings.create(principal, data, within))
        return await idempotent(request, resources, "POST /bookings", effect)  # type: ignore[return-value]

    @post("/{booking_id:str}/cancel", summary="Cancel a confirmed booking: refund by its rate plan's policy, "
          "nights back (Idempotency-Key)", guards=[requires_scopes("bookings:write")], status_code=202,
          responses={404: ResponseSpec(data_container=dict, description="`booking_not_found`"),
                     409: ResponseSpec(data_container=dict, description="`booking_pending`, `booking_cancelled`, "
                                       "`booking_failed`, `booking_checked_in`, `idempotency_in_flight`, "
                                       "`idempotency_taken_over`"),
                     400: CREATE_ANSWERS[400]},
          opt={"headers": OPENAPI_HEADER, "links": {"booking_id": "/id"}, "rules": {
              422: "an Idempotency-Key is reused only for the same booking (`idempotency_key_reused`)"}})
    async def cancel(self, request: Request[Any, Any, Any], booking_id: str, resources: Resources,
                     bookings: BookingService) -> Response[BookingOut]:
        principal = _principal(request)
        effect = starting(lambda within: bookings.cancel(principal, booking_id, within))
        return await idempotent(request, resources, f"POST /bookings/{booking_id}/cancel", effect)  # type: ignore

    @get("/", summary="My bookings (paginated), from the read model", guards=[requires_scopes("bookings:read")],
         opt={"links": {"booking_id": "/items/0/id"}})
    async def list_mine(self, request: Request[Any, Any, Any], bookings: BookingService, page: Page = 1,
                        per_page: PerPage = 20) -> Response[BookingPage]:
        items, total, source = await bookings.mine(_principal(request), page, per_page)
        body = BookingPage(items=[as_out(i) for i in items], page=page, per_page=per_page, total=total)
        return Response(body, headers={READ_MODEL: source})

    @get("/{booking_id:str}", summary="A booking with the timeline of its saga (its guest, partner, front desk)",
         guards=[requires_scopes("bookings:read")], opt={"links": {"booking_id": "/id"}},
         responses={404: ResponseSpec(data_container=dict, description="`booking_not_found`")})
    async def get_one(self, request: Request[Any, Any, Any], booking_id: str,
                      bookings: BookingService) -> Response[BookingOut]:
        with refusals(BookingRefused):
            view, source = await bookings.get(_principal(request), booking_id)
        return Response(as_out(view), headers={READ_MODEL: source})

class PartnerFeedController(Controller):
    path = "/partner"
    tags = ["partners"]
    guards = [requires_login, requires_roles("partner"), requires_scopes("bookings:read")]

    @get("/events", summary="My bookings' events in order, resumable: pass the last `next` as `after`")
    async def events(self, request: Request[Any, Any, Any], bookings: BookingService,
                     after: Annotated[str, Parameter(pattern=r"^[0-9]{1,18}$", description="a cursor")] = "0",
                     limit: Annotated[int, Parameter(ge=1, le=500)] = 100) -> FeedPage:
        rows = await bookings.partner_events(_principal(request), int(after), limit)
        return feed_page(rows, int(after), limit)
