"""The rules of a hold as plain functions: dates, the inventory lines it takes, locks, limits, lifetime.

No I/O: the service hands in the product, its components, rates and free units; these functions decide.
Prices, restrictions and availability are the catalogue's own rules (:mod:`app.catalog.domain`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.catalog.domain import (
    PartyRequest,
    ProductKind,
    Quote,
    RangeError,
    nights_of,
    units_needed,
)

# Refusals of a quote that mean "not now" (409) rather than "never like this" (422).
CONFLICT_REFUSALS = frozenset({"sold_out"})


class HoldRefused(ValueError):
    """A request the rules refuse: ``status`` (409/422), a stable ``code``, the ``field`` or ``nights``."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 nights: list[dt.date] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field, self.nights = status, code, field, nights or []

    @property
    def extra(self) -> dict[str, Any]:
        """What the problem body adds: the ``nights`` concerned, the ``errors`` of the ``field``."""
        extra: dict[str, Any] = {}
        if self.nights:
            extra["nights"] = [n.isoformat() for n in self.nights]
        if self.field:
            extra["errors"] = [{"field": self.field, "message": str(self)}]
        return extra


def gone(status: str) -> HoldRefused | None:
    """A released hold is gone (410 ``hold_released``), whoever released it: its owner's ``DELETE``, or a
    booking that failed or was cancelled. An expired hold or one that became a booking stays readable."""
    if status == "released":
        return HoldRefused(410, "hold_released", "this hold was released: its nights are back on sale")
    return None


@dataclass(frozen=True, slots=True)
class HoldRequest:
    product_id: str
    check_in: dt.date
    check_out: dt.date
    quantity: int
    guests: int
    rate_plan: str = "standard"

    @property
    def party(self) -> PartyRequest:
        return PartyRequest(self.check_in, self.check_out, self.guests, self.quantity)


@dataclass(frozen=True, slots=True)
class Line:
    """Units of one product's inventory on one night."""

    product_id: str
    night: dt.date
    units: int

    @property
    def resource(self) -> str:
        return f"{self.product_id}:{self.night.isoformat()}"


def stay_nights(request: HoldRequest, today: dt.date, horizon_days: int) -> list[dt.date]:
    """The nights of the stay; refuses past dates, dates beyond the sale horizon, empty/inverted ranges."""
    try:
        nights = nights_of(request.check_in, request.check_out)
    except RangeError as exc:
        raise HoldRefused(422, exc.code, str(exc), field="check_out") from None
    if request.check_in < today:
        raise HoldRefused(422, "date_in_past", f"check_in {request.check_in} is before today ({today})",
                          field="check_in")
    if request.check_out > today + dt.timedelta(days=horizon_days):
        raise HoldRefused(422, "beyond_sale_horizon", f"sales open {horizon_days} days ahead", field="check_out")
    return nights


def lines_for(kind: ProductKind, product_id: str, request: HoldRequest, nights: list[dt.date],
              components: Mapping[str, int]) -> list[Line]:
    """What the hold takes from inventory, sorted: a package takes ``quantity`` of each component."""
    units = units_needed(kind, request.party)
    if kind is not ProductKind.PACKAGE:
        return [Line(product_id, night, units) for night in nights]
    lines = [Line(cid, night, units * q) for cid, q in components.items() for night in nights]
    return sorted(lines, key=lambda line: (line.product_id, line.night))


def lock_keys(lines: Iterable[Line]) -> list[str]:
    """One lock per (product, night), in one global order (the deadlock defence)."""
    return sorted({line.resource for line in lines})


def refusal_of(q: Quote) -> HoldRefused | None:
    """The first rule a quote breaks, as the answer to give: restrictions before capacity."""
    if q.available:
        return None
    rules = [r for r in q.refusals if r.code not in CONFLICT_REFUSALS]
    if rules:
        first = rules[0]
        nights = sorted({r.night for r in rules if r.code == first.code and r.night})
        return HoldRefused(422, first.code, _RULE_TEXT.get(first.code, first.code), nights=nights)
    short = sorted({r.night for r in q.refusals if r.night})
    return sold_out(short)


def sold_out(nights: list[dt.date]) -> HoldRefused:
    listed = ", ".join(n.isoformat() for n in nights)
    return HoldRefused(409, "sold_out", f"not enough units left on {listed}", nights=nights)


_RULE_TEXT = {
    "no_rate": "a night has no price for this rate plan: it is not for sale",
    "closed": "a night is closed to sale",
    "min_stay": "the stay is shorter than the minimum stay of its arrival night",
    "closed_to_arrival": "arrival is not allowed on this date",
    "closed_to_departure": "departure is not allowed on this date",
    "max_occupancy": "the party is larger than the product's occupancy",
    "invalid_party": "guests and quantity must be at least 1",
}


def expiry(now: dt.datetime, ttl_s: int, max_lifetime_s: int) -> dt.datetime:
    """When a hold placed ``now`` ends: its TTL, never past the maximum lifetime."""
    return now + dt.timedelta(seconds=min(ttl_s, max_lifetime_s))


def over_limit(active: int, limit: int) -> bool:
    return limit > 0 and active >= limit
