"""Availability and price quotes honour every restriction (pure domain rules, no server)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.catalog.domain import (
    NightInventory,
    NightRate,
    PartyRequest,
    ProductKind,
    RangeError,
    availability,
    capacity_conflicts,
    nights_of,
    package_free,
    quote,
)

D0 = dt.date(2027, 1, 10)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def rates(count: int = 10, **overrides: object) -> dict[dt.date, NightRate]:
    return {
        day(i): NightRate(day(i), amount=100_000, extra_guest_amount=20_000, included_guests=2, **overrides)
        for i in range(count)
    }  # type: ignore[arg-type]


def free(count: int = 10, units: int = 3) -> dict[dt.date, int]:
    return {day(i): units for i in range(count)}


def codes(q: object) -> set[str]:
    return {r.code for r in q.refusals}  # type: ignore[attr-defined]


def room(start: int, end: int, guests: int = 2, units: int = 1, r=None, f=None, occupancy: int = 4):
    return quote(
        ProductKind.ROOM_TYPE,
        occupancy,
        PartyRequest(day(start), day(end), guests, units),
        rates() if r is None else r,
        free() if f is None else f,
    )


def test_plain_stay_is_priced_night_by_night() -> None:
    q = room(0, 3)
    assert q.available and q.total == 300_000
    assert [n.night for n in q.nights] == [day(0), day(1), day(2)]


def test_extra_guests_pay_per_night_above_included() -> None:
    q = room(0, 2, guests=4)
    assert q.available and q.total == 2 * (100_000 + 2 * 20_000)


def test_several_units_include_guests_per_unit() -> None:
    q = room(0, 1, guests=4, units=2)
    assert q.available and q.total == 200_000


def test_party_above_max_occupancy_is_refused() -> None:
    assert codes(room(0, 2, guests=5, occupancy=4)) == {"max_occupancy"}
    assert room(0, 2, guests=4, occupancy=4).available


def test_empty_party_is_refused() -> None:
    assert codes(room(0, 2, guests=0)) == {"invalid_party"}


def test_min_stay_is_read_from_the_arrival_night() -> None:
    r = rates()
    r[day(2)] = NightRate(day(2), 100_000, min_stay=3)
    assert codes(room(2, 4, r=r)) == {"min_stay"}
    assert room(2, 5, r=r).available
    assert room(1, 3, r=r).available  # arriving the night before: its own min stay (1) applies


def test_closed_night_inside_the_stay_is_refused() -> None:
    r = rates()
    r[day(3)] = NightRate(day(3), 100_000, closed=True)
    q = room(1, 5, r=r)
    assert not q.available and q.total == 0
    assert [(x.code, x.night) for x in q.refusals] == [("closed", day(3))]
    assert room(4, 6, r=r).available


def test_closed_to_arrival_only_refuses_arriving_that_night() -> None:
    r = rates()
    r[day(2)] = NightRate(day(2), 100_000, closed_to_arrival=True)
    assert codes(room(2, 4, r=r)) == {"closed_to_arrival"}
    assert room(1, 4, r=r).available


def test_closed_to_departure_only_refuses_leaving_that_day() -> None:
    r = rates()
    r[day(4)] = NightRate(day(4), 100_000, closed_to_departure=True)
    assert codes(room(2, 4, r=r)) == {"closed_to_departure"}
    assert room(2, 5, r=r).available
    assert room(4, 6, r=r).available  # arriving that day is fine


def test_night_without_rate_cannot_be_sold() -> None:
    r = rates()
    del r[day(1)]
    assert codes(room(0, 3, r=r)) == {"no_rate"}


def test_not_enough_free_units_is_sold_out() -> None:
    f = free()
    f[day(2)] = 1
    assert codes(room(1, 4, units=2, guests=2, f=f)) == {"sold_out"}
    assert room(1, 4, units=1, f=f).available
    f[day(2)] = 0
    assert codes(room(1, 4, f=f)) == {"sold_out"}


def test_missing_inventory_counts_as_no_free_unit() -> None:
    assert codes(room(0, 2, f={})) == {"sold_out"}


def test_every_broken_rule_is_listed() -> None:
    r = rates()
    r[day(0)] = NightRate(day(0), 1, min_stay=5, closed_to_arrival=True, closed=True)
    r[day(2)] = NightRate(day(2), 1, closed_to_departure=True)
    assert codes(room(0, 2, r=r, f={})) == {
        "min_stay",
        "closed_to_arrival",
        "closed",
        "closed_to_departure",
        "sold_out",
    }


def test_tickets_are_priced_and_stocked_per_person() -> None:
    q = quote(ProductKind.TICKET, 10, PartyRequest(day(0), day(1), guests=3), rates(), free(units=3))
    assert q.available and q.total == 300_000
    q = quote(ProductKind.TICKET, 10, PartyRequest(day(0), day(1), guests=4), rates(), free(units=3))
    assert codes(q) == {"sold_out"}
    q = quote(ProductKind.TICKET, 2, PartyRequest(day(0), day(1), guests=3), rates(), free(units=9))
    assert codes(q) == {"max_occupancy"}


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (3, 1, "invalid_date_range"),
        (2, 2, "empty_date_range"),
        (0, 400, "date_range_too_long"),
    ],
)
def test_bad_ranges_are_refused(start: int, end: int, code: str) -> None:
    with pytest.raises(RangeError) as caught:
        room(start, end)
    assert caught.value.code == code and caught.value.field == "end"


def test_nights_of_is_half_open() -> None:
    assert nights_of(day(0), day(2)) == [day(0), day(1)]


def test_availability_calendar_shows_price_restrictions_and_free_units() -> None:
    r = rates(2)
    r[day(1)] = NightRate(day(1), 90_000, closed=True, min_stay=2)
    cal = availability([day(0), day(1), day(2)], r, {day(0): 2, day(1): 4})
    assert [(c.free, c.amount, c.closed, c.bookable) for c in cal] == [
        (2, 100_000, False, True),
        (4, 90_000, True, False),
        (0, None, False, False),
    ]
    assert cal[1].min_stay == 2


def test_package_free_is_the_scarcest_component_in_whole_packages() -> None:
    nights = [day(0), day(1)]
    result = package_free(
        nights, {"room": {day(0): 3, day(1): 1}, "ticket": {day(0): 5, day(1): 10}}, {"room": 1, "ticket": 2}
    )
    assert result == {day(0): 2, day(1): 1}
    assert package_free(nights, {"room": {day(0): 3}}, {"room": 1, "spa": 1}) == {day(0): 0, day(1): 0}
    assert package_free(nights, {}, {}) == {day(0): 0, day(1): 0}


def test_capacity_below_held_plus_sold_is_a_conflict() -> None:
    rows = [NightInventory(day(0), 5, held=1, sold=2), NightInventory(day(1), 5, held=0, sold=4)]
    assert capacity_conflicts(rows, 3) == [day(1)]
    assert capacity_conflicts(rows, 4) == []
    assert capacity_conflicts(rows, 2) == [day(0), day(1)]


def test_free_units_never_negative() -> None:
    assert NightInventory(day(0), 1, held=1, sold=0).free == 0
