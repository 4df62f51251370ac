"""The catalogue's rules as plain functions: date ranges, availability, price quotes, capacity changes,
the "from" price, a resort's "today", and the version a writer expects.

No I/O here: the repositories hand in nightly rates and free units, these functions decide.

Conventions (shared by every kind):
- a range is ``[start, end)``: the nights (or visit/slot dates) from ``start`` up to, not including, ``end``;
- restrictions are read from the rate of a night: ``min_stay`` and ``closed_to_arrival`` from the first
  night, ``closed_to_departure`` from the rate of the ``end`` date (if that date has one), ``closed``
  from every night;
- a night without a rate cannot be sold; a night needs ``units`` free units.
- Room types, facility slots and packages sell ``units`` (default 1) per night and price
  ``amount * units`` plus ``extra_guest_amount`` for each guest above ``included_guests * units``;
  a party larger than ``max_occupancy * units`` is refused. Tickets are sold per person: ``units`` is
  the party size and the price is ``amount * guests``; ``max_occupancy`` caps one purchase.
- A package has no inventory of its own: a night's free packages are the smallest
  ``free // quantity`` over its components.
- "Today" at a resort is the date in the property's time zone, never the server's (``resort_today``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from app.clock import pinned_today, resort_date
from app.inventory.domain import Night as NightInventory  # noqa: F401 - the aggregate's night
from app.inventory.domain import capacity_conflicts  # noqa: F401 - re-exported for the catalogue

MAX_RANGE_NIGHTS = 366
DEFAULT_TIME_ZONE = "Asia/Seoul"  # a resort's, unless it names another


class ProductKind(StrEnum):
    ROOM_TYPE = "room_type"
    FACILITY_SLOT = "facility_slot"
    TICKET = "ticket"
    PACKAGE = "package"


class RangeError(ValueError):
    """A date range that cannot be served; ``code`` is the stable error code, ``field`` the culprit."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field = code, field


@dataclass(frozen=True, slots=True)
class NightRate:
    night: dt.date
    amount: int
    extra_guest_amount: int = 0
    included_guests: int = 2
    min_stay: int = 1
    closed: bool = False
    closed_to_arrival: bool = False
    closed_to_departure: bool = False




@dataclass(frozen=True, slots=True)
class PartyRequest:
    start: dt.date
    end: dt.date
    guests: int
    units: int = 1


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a quote cannot be sold; ``night`` is None when the whole request is at fault."""

    code: str
    night: dt.date | None = None


@dataclass(frozen=True, slots=True)
class QuoteNight:
    night: dt.date
    amount: int
    free: int


@dataclass(frozen=True, slots=True)
class Quote:
    available: bool
    total: int
    nights: list[QuoteNight] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NightAvailability:
    night: dt.date
    free: int
    amount: int | None
    closed: bool
    closed_to_arrival: bool
    closed_to_departure: bool
    min_stay: int

    @property
    def bookable(self) -> bool:
        return self.free > 0 and self.amount is not None and not self.closed


def nights_of(start: dt.date, end: dt.date, *, max_nights: int = MAX_RANGE_NIGHTS) -> list[dt.date]:
    """The nights of ``[start, end)``; refuses an inverted, empty or too long range."""
    if end < start:
        raise RangeError("invalid_date_range", "end", f"the range ends ({end}) before it starts ({start})")
    if end == start:
        raise RangeError("empty_date_range", "end", "the range holds no night: end must be after start")
    count = (end - start).days
    if count > max_nights:
        raise RangeError("date_range_too_long", "end", f"at most {max_nights} nights per request")
    return [start + dt.timedelta(days=i) for i in range(count)]


def units_needed(kind: ProductKind, request: PartyRequest) -> int:
    """Inventory units a request takes per night: tickets one per guest, others ``units``."""
    return request.guests if kind is ProductKind.TICKET else request.units


def night_price(kind: ProductKind, rate: NightRate, request: PartyRequest) -> int:
    """The price of one night (integer minor units, no rounding)."""
    if kind is ProductKind.TICKET:
        return rate.amount * request.guests
    extra_guests = max(0, request.guests - rate.included_guests * request.units)
    return rate.amount * request.units + extra_guests * rate.extra_guest_amount


def party_refusals(kind: ProductKind, max_occupancy: int, request: PartyRequest) -> list[Refusal]:
    """Refusals that depend only on the party: size and units."""
    if request.guests < 1 or request.units < 1:
        return [Refusal("invalid_party")]
    limit = max_occupancy if kind is ProductKind.TICKET else max_occupancy * request.units
    return [Refusal("max_occupancy")] if request.guests > limit else []


def stay_refusals(nights: list[dt.date], end: dt.date, rates: Mapping[dt.date, NightRate]) -> list[Refusal]:
    """Restrictions that depend on the arrival and departure: min stay, CTA, CTD."""
    refusals: list[Refusal] = []
    first = rates.get(nights[0])
    if first is not None:
        if len(nights) < first.min_stay:
            refusals.append(Refusal("min_stay", nights[0]))
        if first.closed_to_arrival:
            refusals.append(Refusal("closed_to_arrival", nights[0]))
    departure = rates.get(end)
    if departure is not None and departure.closed_to_departure:
        refusals.append(Refusal("closed_to_departure", end))
    return refusals


def night_refusals(night: dt.date, rate: NightRate | None, free: int, needed: int) -> list[Refusal]:
    """Why one night cannot be sold: no rate, closed, not enough free units."""
    refusals = []
    if rate is None:
        refusals.append(Refusal("no_rate", night))
    elif rate.closed:
        refusals.append(Refusal("closed", night))
    if free < needed:
        refusals.append(Refusal("sold_out", night))
    return refusals


def quote(
    kind: ProductKind,
    max_occupancy: int,
    request: PartyRequest,
    rates: Mapping[dt.date, NightRate],
    free: Mapping[dt.date, int],
) -> Quote:
    """Price ``request`` night by night and list every rule it breaks; available only if none."""
    nights = nights_of(request.start, request.end)
    refusals = party_refusals(kind, max_occupancy, request)
    if refusals:
        return Quote(False, 0, [], refusals)
    refusals = stay_refusals(nights, request.end, rates)
    needed = units_needed(kind, request)
    lines: list[QuoteNight] = []
    for night in nights:
        rate, units_free = rates.get(night), free.get(night, 0)
        refusals.extend(night_refusals(night, rate, units_free, needed))
        lines.append(QuoteNight(night, night_price(kind, rate, request) if rate else 0, units_free))
    total = sum(line.amount for line in lines)
    return Quote(not refusals, total if not refusals else 0, lines, refusals)


def availability(
    nights: list[dt.date], rates: Mapping[dt.date, NightRate], free: Mapping[dt.date, int]
) -> list[NightAvailability]:
    """A calendar: free units, price and restrictions of each night."""
    calendar = []
    for night in nights:
        rate = rates.get(night)
        calendar.append(
            NightAvailability(
                night=night,
                free=free.get(night, 0),
                amount=rate.amount if rate else None,
                closed=rate.closed if rate else False,
                closed_to_arrival=rate.closed_to_arrival if rate else False,
                closed_to_departure=rate.closed_to_departure if rate else False,
                min_stay=rate.min_stay if rate else 1,
            )
        )
    return calendar


def package_free(
    nights: Iterable[dt.date],
    component_free: Mapping[str, Mapping[dt.date, int]],
    quantities: Mapping[str, int],
) -> dict[dt.date, int]:
    """Free packages per night: the scarcest component, counted in whole packages."""
    result: dict[dt.date, int] = {}
    for night in nights:
        if not quantities:
            result[night] = 0
            continue
        result[night] = min(component_free.get(c, {}).get(night, 0) // q for c, q in quantities.items())
    return result




def resort_today(time_zone: str, now: dt.datetime) -> dt.date:
    """What "today" is at a resort at the instant ``now`` (timezone-aware): the date in the property's time
    zone, which near midnight differs from the server's (UTC) date. A run pinned by ``RESORT_TODAY`` asks
    :func:`app.clock.today` instead, which calls this when nothing is pinned."""
    return resort_date(time_zone, now)


@dataclass(frozen=True, slots=True)
class PriceRange:
    low: int | None = None  # the product's "from" price
    high: int | None = None


def price_range(rates: Iterable[NightRate], today: dt.date, horizon_days: int) -> PriceRange:
    """The product's "from" price (``low``) and highest price (``high``): the nightly amounts of every rate
    plan over the open (not closed) nights of ``[today, today + horizon_days)``, ``today`` being the
    resort's. The one definition: the product page shows ``low`` as ``from_price``, search indexes (and
    filters and sorts on) ``low`` and ``high`` as ``price_min`` and ``price_max``."""
    end = today + dt.timedelta(days=horizon_days)
    amounts = [r.amount for r in rates if today <= r.night < end and not r.closed]
    return PriceRange(min(amounts), max(amounts)) if amounts else PriceRange()


def price_nights_to_read(now: dt.datetime, horizon_days: int) -> tuple[dt.date, dt.date]:
    """``[start, end)`` of the nights to read for :func:`price_range` before the resort's time zone is known:
    a local date is within a day of the UTC date, so every time zone's window lies inside."""
    utc_today = pinned_today() or now.astimezone(dt.UTC).date()
    return utc_today - dt.timedelta(days=1), utc_today + dt.timedelta(days=horizon_days + 1)


@dataclass(frozen=True, slots=True)
class ExpectedVersion:
    """The versions a writer read and expects to change (from ``If-Match``); ``versions`` None: any."""

    versions: frozenset[int] | None = None

    def matches(self, current: int) -> bool:
        return self.versions is None or current in self.versions


ANY_VERSION = ExpectedVersion()
