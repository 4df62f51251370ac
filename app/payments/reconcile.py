"""Reconciliation: the provider's ledger (its payments and refunds, listed through the port) against the
bookings. What must hold, for every booking whose payment the provider knows:

- every capture belongs to a confirmed (or stayed) booking, or is refunded: a failed booking keeps nothing;
- every confirmed booking has exactly one capture, of its whole amount, and no refund (but the rooms of its
  party cancelled on their own, and a no-show's balance its no-show fee left, given back by the night audit);
- every cancelled booking was refunded exactly what its rate plan's policy allowed (``refund_amount``, on
  the rooms still booked), plus the refunds of the rooms of its party cancelled on their own before;
- no authorization stays open once its booking has ended.

``compare`` is pure; ``reconcile`` reads both sides; ``resort payments reconcile`` prints the report and the
services role runs it every ``payments_reconcile_interval_s`` (metric ``resort_payments_mismatches``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from prometheus_client import Gauge

from app.payments.port import AUTHORIZED, CAPTURED, Payment, PaymentPort, Refund
from app.settings import Settings

MISMATCHES = Gauge("resort_payments_mismatches", "Money mismatches between the provider's ledger and bookings"
                   " at the last reconciliation, by kind", ["kind"])
KINDS = ("capture_without_booking", "capture_kept_by_failed_booking", "confirmed_without_capture",
         "capture_amount", "double_capture", "refund_on_confirmed", "refund_not_policy", "authorization_open")
KEPT = frozenset({"confirmed", "checked_in", "checked_out", "no_show"})
ENDED = KEPT | {"failed", "cancelled"}


@dataclass(frozen=True, slots=True)
class BookingMoney:
    id: str
    status: str
    total_amount: int
    refund_amount: int | None
    payment_ref: str | None
    refund_state: str | None = None
    room_refunds: int = 0  # what the policy gave back of the party's rooms cancelled on their own


@dataclass(frozen=True, slots=True)
class Mismatch:
    kind: str
    booking_id: str | None
    reference: str | None
    detail: str


@dataclass
class Report:
    payments: int = 0
    refunds: int = 0
    bookings: int = 0
    captured: int = 0
    refunded: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.mismatches


def compare(payments: list[Payment], refunds: list[Refund], bookings: list[BookingMoney]) -> Report:
    """Every rule above, checked between the two sides; bookings still in their saga are left out."""
    refunded: dict[str, int] = defaultdict(int)
    for r in refunds:
        if r.status == "succeeded":
            refunded[r.payment] += r.amount
    by_id = {b.id: b for b in bookings}
    report = Report(len(payments), len(refunds), len(bookings), sum(p.captured for p in payments),
                    sum(refunded.values()))
    captures: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        booking = by_id.get(payment.booking_id or "")
        kept = payment.captured - refunded[payment.reference]
        if payment.captured:
            captures[payment.booking_id or ""].append(payment)
        if booking is None:
            if kept:
                report.mismatches.append(Mismatch("capture_without_booking", payment.booking_id, payment.reference,
                                                  f"{kept} captured and kept for no booking"))
            continue
        report.mismatches += _check(booking, payment, refunded[payment.reference])
    for booking in bookings:
        held = [p for p in captures.get(booking.id, []) if p.reference != booking.payment_ref]
        if held and booking.status in KEPT:
            report.mismatches.append(Mismatch("double_capture", booking.id, held[0].reference,
                                              f"{len(held) + 1} payments captured for one booking"))
    return report


def _kept_back(booking: BookingMoney) -> int:
    """What a booking that kept its payment gave back: the rooms of its party cancelled on their own, and a
    no-show's balance (the night audit)."""
    return booking.room_refunds + ((booking.refund_amount or 0) if booking.status == "no_show" else 0)


def _cancelled_back(booking: BookingMoney) -> int:
    """What a cancelled booking gave back: the rooms of its party cancelled on their own (each by its own
    policy), and the policy's refund of the rest (``refund_amount``)."""
    return booking.room_refunds + (booking.refund_amount or 0)


def _check(booking: BookingMoney, payment: Payment, refunded: int) -> list[Mismatch]:
    if booking.status not in ENDED or payment.reference != booking.payment_ref:
        return []
    found, kept = [], payment.captured - refunded

    def miss(kind: str, detail: str) -> None:
        found.append(Mismatch(kind, booking.id, payment.reference, detail))

    if booking.status in KEPT:
        if payment.status != CAPTURED:
            miss("confirmed_without_capture", f"the provider says {payment.status}")
        elif payment.captured != booking.total_amount:
            miss("capture_amount", f"captured {payment.captured}, the booking's amount is {booking.total_amount}")
        elif refunded != _kept_back(booking):
            miss("refund_on_confirmed", f"{refunded} refunded on a {booking.status} booking"
                                        f" ({_kept_back(booking)} due back)")
    elif booking.status == "failed" and kept:
        miss("capture_kept_by_failed_booking", f"{kept} captured and not refunded ({booking.refund_state or 'ended'})")
    elif booking.status == "cancelled" and payment.captured and refunded != _cancelled_back(booking):
        miss("refund_not_policy", f"refunded {refunded}, the policy says {_cancelled_back(booking)}"
                                  f" ({booking.refund_state or 'ended'})")
    if booking.status not in KEPT and payment.status == AUTHORIZED:
        miss("authorization_open", f"the booking is {booking.status} and its authorization is still open")
    return found


async def reconcile(db: asyncpg.Pool | asyncpg.Connection, provider: PaymentPort, since: int) -> Report:
    """The provider's payments and refunds created since ``since`` (epoch seconds) against their bookings."""
    payments = [p async for p in provider.payments_since(since)]
    refunds = [r async for r in provider.refunds_since(since)]
    rows = await db.fetch("SELECT id::text, status, total_amount, refund_amount, payment_ref, refund_state,"
                          " (SELECT coalesce(sum(c.refund_amount), 0) FROM cancelled_rooms c WHERE c.booking_id = b.id)"
                          "::bigint AS room_refunds FROM bookings b WHERE payment_ref = ANY($1::text[])",
                          [p.reference for p in payments])
    report = compare(payments, refunds, [BookingMoney(**dict(r)) for r in rows])
    for kind in KINDS:
        MISMATCHES.labels(kind).set(sum(1 for m in report.mismatches if m.kind == kind))
    return report


def since_hours(hours: float) -> int:
    return int(time.time() - hours * 3600)


def lines(report: Report) -> list[str]:
    """The report for people: totals, then one line per mismatch."""
    out = [f"provider: {report.payments} payments ({report.captured} captured), {report.refunds} refunds"
           f" ({report.refunded} refunded); bookings: {report.bookings}",
           "money reconciled: no mismatch" if report.clean else f"{len(report.mismatches)} mismatch(es):"]
    out += [f"  {m.kind}: booking {m.booking_id} payment {m.reference}: {m.detail}" for m in report.mismatches]
    return out


def as_json(report: Report) -> dict[str, Any]:
    return {"payments": report.payments, "refunds": report.refunds, "bookings": report.bookings,
            "captured": report.captured, "refunded": report.refunded,
            "mismatches": [{"kind": m.kind, "booking_id": m.booking_id, "reference": m.reference,
                            "detail": m.detail} for m in report.mismatches]}


async def reconcile_command(settings: Settings, hours: float | None) -> Report:
    """``resort payments reconcile``: its own pool and provider client, one run."""
    from app.payments.stripe_provider import StripeProvider

    db = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    provider = StripeProvider(settings)
    try:
        return await reconcile(db, provider, since_hours(hours or settings.payments_reconcile_window_h))
    finally:
        await provider.close()
        await db.close()
