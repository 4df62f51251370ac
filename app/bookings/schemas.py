"""The bookings API's bodies and answers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

import asyncpg
from msgspec import Meta, Struct

HoldId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]
NoNul = r"^[^\x00]*$"


class GuestIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=NoNul)]
    email: Annotated[str, Meta(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]
    phone: Annotated[str, Meta(pattern=r"^\+?[0-9 ()-]{6,20}$")] | None = None
    requests: Annotated[str, Meta(max_length=2000, pattern=NoNul)] | None = None


class PaymentIn(Struct, forbid_unknown_fields=True, kw_only=True):
    card_token: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_]+$",
                                    description="a card token or payment method from the payment provider,"
                                                " passed to it and never stored here (the sandbox's test cards:"
                                                " tok_approve, tok_decline, tok_insufficient_funds, tok_timeout,"
                                                " tok_late, tok_flaky, tok_capture_late, tok_capture_fail, tok_void_fail,"
                                                " tok_refund_flaky, tok_refund_reject, tok_refund_reject_once)")]


class BookingIn(Struct, forbid_unknown_fields=True, kw_only=True):
    hold_ids: Annotated[list[HoldId], Meta(min_length=1, max_length=10)]
    guest: GuestIn
    payment: PaymentIn


class StepOut(Struct, kw_only=True):
    at: dt.datetime
    step: str
    outcome: str
    detail: dict[str, Any]


class BookingOut(Struct, kw_only=True):
    id: str
    status: Annotated[str, Meta(description="pending, confirmed, failed, cancelling or cancelled")]
    step: str
    reason: str | None
    hold_ids: list[str]
    property_id: str
    check_in: dt.date
    check_out: dt.date
    total_amount: int
    currency: str
    confirmation_code: str | None
    guest: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    refund_amount: int | None = None
    cancel_fee: int | None = None
    refund_state: Annotated[str | None, Meta(description="money owed back: refund_pending (being retried),"
                                                         " needs_attention (an operator must look), refunded"
                                                         " (given back later); null when nothing is owed")] = None
    timeline: list[StepOut] = []


class BookingPage(Struct, kw_only=True):
    items: list[BookingOut]
    page: int
    per_page: int
    total: int


def booking_out(row: asyncpg.Record, hold_ids: list[Any], steps: list[asyncpg.Record] | None = None) -> BookingOut:
    return BookingOut(
        id=str(row["id"]), status=row["status"], step=row["step"], reason=row["reason"],
        hold_ids=[str(h) for h in hold_ids], property_id=row["property_id"], check_in=row["check_in"],
        check_out=row["check_out"], total_amount=row["total_amount"], currency=row["currency"].strip(),
        confirmation_code=row["confirmation_code"], guest=json.loads(row["guest"]), created_at=row["created_at"],
        updated_at=row["updated_at"], refund_amount=row["refund_amount"], cancel_fee=row["cancel_fee"],
        refund_state=row["refund_state"],
        timeline=[StepOut(at=s["at"], step=s["step"], outcome=s["outcome"], detail=json.loads(s["detail"]))
                  for s in steps or []],
    )


FeedType = Literal["booking.created", "booking.confirmed", "booking.failed", "booking.cancelled",
                   "booking.checked_in", "booking.checked_out", "booking.no_show"]


class FeedEvent(Struct, kw_only=True):
    cursor: str
    type: Annotated[FeedType, Meta(description="What happened to the booking: the saga's outcomes, then the stay's"
                                               " check-in, check-out or no-show at the front desk")]
    booking_id: str
    at: dt.datetime
    data: dict[str, Any]


class FeedPage(Struct, kw_only=True):
    events: list[FeedEvent]
    next: Annotated[str, Meta(description="pass as `after` to read on; the same cursor when nothing is new")]
    has_more: bool


def feed_page(rows: list[asyncpg.Record], after: int, limit: int) -> FeedPage:
    events = [FeedEvent(cursor=str(r["id"]), type=r["event_type"], booking_id=str(r["booking_id"]), at=r["created_at"],
                        data=json.loads(r["payload"])) for r in rows]
    return FeedPage(events=events, next=events[-1].cursor if events else str(after), has_more=len(rows) == limit)
