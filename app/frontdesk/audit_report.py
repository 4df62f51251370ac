"""The night audit's rules, pure: which business day a property closes now, what a no-show keeps, and the
day's figures (occupancy, ADR, RevPAR) from the counts the audit read.

- occupancy = rooms sold / rooms available (physical rooms less those out of service that night);
- ADR (average daily rate) = room revenue / rooms sold; RevPAR = room revenue / rooms available;
- amounts in the currency's minor unit, rounded half up; a ratio over nothing is 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import msgspec


class DayCounts(msgspec.Struct, kw_only=True):
    """What the audit reads of the business day (its night) at the property."""

    rooms_available: int
    rooms_sold: int
    room_revenue: int
    no_shows: int
    no_show_fees: int
    cancellations: int
    stays_rolled: int
    currency: str | None = None


class AuditReport(DayCounts, kw_only=True):
    """A business day's close at one property: its counts and figures."""

    property_id: str
    business_date: dt.date
    state: str  # running (not every no-show settled yet), done
    occupancy: float
    adr: int
    revpar: int


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """A hold of a booking, with what its rate plan says of a no-show."""

    total: int
    refundable: bool
    no_show_fee_pct: int


@dataclass(frozen=True, slots=True)
class NoShowFee:
    fee: int  # kept of the prepaid stay
    refund: int  # goes back to the guest


def _div(amount: int, by: int) -> int:
    if by <= 0:
        return 0
    return int((Decimal(amount) / Decimal(by)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def figures(property_id: str, day: dt.date, state: str, c: DayCounts) -> AuditReport:
    occupancy = float((Decimal(c.rooms_sold) / Decimal(c.rooms_available)).quantize(Decimal("0.0001"))) \
        if c.rooms_available > 0 else 0.0
    return AuditReport(**msgspec.structs.asdict(c), property_id=property_id, business_date=day, state=state,
                       occupancy=occupancy, adr=_div(c.room_revenue, c.rooms_sold),
                       revpar=_div(c.room_revenue, c.rooms_available))


def no_show_fee(holds: list[HoldPolicy], paid: int) -> NoShowFee:
    """What a no-show keeps of the ``paid`` stay: each hold's fee by its rate plan (all of it when the plan is
    non-refundable); the balance goes back."""
    fee = sum(h.total if not h.refundable else h.total * h.no_show_fee_pct // 100 for h in holds)
    fee = min(fee, paid)
    return NoShowFee(fee, paid - fee)


def day_to_close(today: dt.date, local_hour: int, audit_hour: int) -> dt.date:
    """The business day the scheduled audit closes now: yesterday once the property's clock has passed
    ``audit_hour``, else the day before (its close may still be missing after a pause)."""
    return today - dt.timedelta(days=1 if local_hour >= audit_hour else 2)


def may_close(day: dt.date, today: dt.date) -> bool:
    """A business day can be closed once it is over at the property."""
    return day < today
