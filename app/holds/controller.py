"""HTTP for holds: translate requests to the service and answers back; nothing else lives here."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter

from app.auth.guards import requires_login, requires_scopes
from app.auth.principal import Principal, current_principal
from app.errors import refusals
from app.holds.domain import HoldRefused
from app.holds.schemas import EXAMPLE, HoldIn, HoldOut, HoldPage, hold_out
from app.holds.service import HoldService
from app.idempotency.http import Ticket, idempotent, json_answer
from app.idempotency.keys import OPENAPI_HEADER
from app.idempotency.store import StoredAnswer
from app.resources import Resources

IDEMPOTENCY_DOC = (
    "Send an `Idempotency-Key` header (1-255 printable ASCII characters): a retry with the same key and body "
    "gets the first answer replayed (status, body, `Location`; header `Idempotent-Replayed: true`), errors "
    "included, for at least 24 hours. Another body with the same key: 422 `idempotency_key_reused`; while "
    "the first request runs: 409 `idempotency_in_flight`; a first request so slow that its retry took the key "
    "over: 409 `idempotency_taken_over` (only the retry's effect is kept). Keys are private to each caller. Answers that mean "
    "\"try again\" (429, 503 `busy`) are not kept."
)
def _problems(**answers: str) -> dict[int, ResponseSpec]:
    """Error answers of an operation, documented as problem+json (see app/problem_docs.py)."""
    return {int(status[1:]): ResponseSpec(data_container=dict, description=text) for status, text in answers.items()}


CREATE_ANSWERS = _problems(
    s400="`idempotency_key_missing` or `idempotency_key_invalid`",
    s409="`sold_out` (with the `nights` short of capacity), `too_many_holds`, `idempotency_in_flight` "
         "(with `Retry-After`), `idempotency_taken_over`",
    s413="`payload_too_large`: bodies are at most 16 KiB",
    s422="`validation_failed`, `unknown_product`, `unknown_rate_plan`, `date_in_past`, `beyond_sale_horizon`, "
         "`empty_date_range`, `invalid_date_range`, `date_range_too_long`, `no_rate`, `closed`, `min_stay`, "
         "`closed_to_arrival`, `closed_to_departure`, `max_occupancy`, `party_too_large`, `too_many_guests_per_room`, "
         "`idempotency_key_reused`",
    s503="`busy`: the nights are contended right now; retry after `Retry-After` seconds",
)
# Links (app.contract_docs): a hold's id books it (a sandbox card and guest), and its stay can be held again.
SANDBOX_BOOKING = {"guest": {"name": "Hong Gil-dong", "email": "gildong@example.com"},
                   "payment": {"card_token": "tok_approve"}}
FIELDS = ("product_id", "check_in", "check_out", "quantity", "guests", "rate_plan")


def hold_links(at: str) -> dict[str, Any]:
    """The links of an answer holding a hold at the JSON pointer ``at`` (``""``: the whole body)."""
    return {"links": {"hold_id": f"{at}/id"}, "feeds": {
        "POST /bookings": {"hold_ids": [f"{at}/id"], **SANDBOX_BOOKING},
        "POST /holds": {name: f"{at}/{name}" for name in FIELDS}}}


NOT_FOUND = _problems(s404="`hold_not_found`: no such hold, or not yours")
Page = Annotated[int, Parameter(ge=1, le=10_000)]
PerPage = Annotated[int, Parameter(ge=1, le=100)]


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal = current_principal(request)
    assert principal is not None  # the guards ran
    return principal


def created(hold: Any) -> StoredAnswer:
    body = hold_out(hold)
    return json_answer(201, body, {"Location": f"/holds/{body.id}"})


class HoldsController(Controller):
    path = "/holds"
    tags = ["holds"]
    guards = [requires_login]
    request_max_body_size = 16_384

    @post("/", summary="Hold inventory for a short time while paying (Idempotency-Key required)",
          description=IDEMPOTENCY_DOC, guards=[requires_scopes("bookings:write")], status_code=201,
          responses=CREATE_ANSWERS,
          opt={"headers": OPENAPI_HEADER, **hold_links(""), "rules": {
              422: "the product, rate plan and nights must exist and be sellable for the party (codes above); "
                   "a key is reused only with the same body (`idempotency_key_reused`)"}})
    async def create(self, request: Request[Any, Any, Any], resources: Resources, holds: HoldService,
                     data: Annotated[HoldIn, Body(examples=[Example(summary="two nights", value=EXAMPLE)])],
                     ) -> Response[HoldOut]:
        principal = _principal(request)

        async def effect(ticket: Ticket) -> StoredAnswer:
            async def within(conn: Any, hold: Any) -> None:
                await ticket.record(conn, created(hold))

            with refusals(HoldRefused):
                return created(await holds.create(principal, data.to_request(), within))

        return await idempotent(request, resources, "POST /holds", effect)  # type: ignore[return-value]

    @get("/", summary="My active holds (paginated)", guards=[requires_scopes("bookings:read")],
         opt=hold_links("/items/0"))
    async def list_mine(self, request: Request[Any, Any, Any], holds: HoldService, page: Page = 1,
                        per_page: PerPage = 20) -> HoldPage:
        rows, total = await holds.list_active(_principal(request), page, per_page)
        return HoldPage(items=[hold_out(r) for r in rows], page=page, per_page=per_page, total=total)

    @get("/{hold_id:str}", summary="One hold (its owner, front desk or admin)",
         description="A released hold is gone (`410 hold_released`): its owner's `DELETE`, or a booking that "
                     "failed or was cancelled, gave its nights back. An expired hold, or one that became a "
                     "booking, stays readable.",
         guards=[requires_scopes("bookings:read")], responses=NOT_FOUND,
         opt={**hold_links(""), "problems": {410: ("hold_released",)}})
    async def get_one(self, request: Request[Any, Any, Any], hold_id: str, holds: HoldService) -> HoldOut:
        with refusals(HoldRefused):
            return hold_out(await holds.get(_principal(request), hold_id))

    @delete("/{hold_id:str}", summary="Release a hold now: its nights come back at once (idempotent)",
            guards=[requires_scopes("bookings:write")], status_code=204,
            responses=NOT_FOUND | _problems(s409="`hold_converted`: it became a booking; cancel that instead;"
                                                  " `hold_in_booking`: a booking is converting it"))
    async def release(self, request: Request[Any, Any, Any], hold_id: str, holds: HoldService) -> None:
        with refusals(HoldRefused):
            await holds.release(_principal(request), hold_id)
