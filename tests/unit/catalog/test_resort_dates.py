"""A resort's "today" and the "from" price it starts from, with a clock near midnight (no server)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.catalog.domain import (
    NightRate,
    PriceRange,
    price_nights_to_read,
    price_range,
    resort_today,
)
from app.holds.domain import HoldRefused, HoldRequest, stay_nights

# 00:30 on 2 March in Seoul is still 1 March on a server that runs on UTC.
NEAR_MIDNIGHT = dt.datetime(2027, 3, 1, 15, 30, tzinfo=dt.UTC)
MARCH_1, MARCH_2, MARCH_3 = dt.date(2027, 3, 1), dt.date(2027, 3, 2), dt.date(2027, 3, 3)


def test_today_at_the_resort_is_not_the_servers_date_near_midnight() -> None:
    assert NEAR_MIDNIGHT.date() == MARCH_1
    assert resort_today("Asia/Seoul", NEAR_MIDNIGHT) == MARCH_2
    assert resort_today("America/Los_Angeles", NEAR_MIDNIGHT) == MARCH_1
    assert resort_today("Pacific/Honolulu", dt.datetime(2027, 3, 2, 9, 59, tzinfo=dt.UTC)) == MARCH_1


def test_a_stay_starting_on_the_resorts_yesterday_is_in_the_past() -> None:
    """The hold rule gets the resort's date: arriving on 1 March at 00:30 on the 2nd in Seoul is refused."""
    request = HoldRequest("p", MARCH_1, MARCH_3, 1, 2)
    with pytest.raises(HoldRefused) as refused:
        stay_nights(request, resort_today("Asia/Seoul", NEAR_MIDNIGHT), 365)
    assert refused.value.code == "date_in_past"
    assert stay_nights(request, NEAR_MIDNIGHT.date(), 365) == [MARCH_1, MARCH_2]  # what a UTC date let through


def test_the_from_price_is_the_lowest_open_night_of_every_plan_from_the_resorts_today() -> None:
    rates = [
        NightRate(MARCH_1, 50_000),  # the resort's yesterday
        NightRate(MARCH_2, 150_000),  # standard
        NightRate(MARCH_2, 120_000),  # another plan, same night
        NightRate(MARCH_3, 90_000, closed=True),  # not for sale
        NightRate(MARCH_3, 160_000),
        NightRate(dt.date(2027, 3, 12), 40_000),  # beyond the horizon
    ]
    today = resort_today("Asia/Seoul", NEAR_MIDNIGHT)
    assert price_range(rates, today, horizon_days=10) == PriceRange(low=120_000, high=160_000)
    assert price_range(rates, NEAR_MIDNIGHT.date(), horizon_days=10).low == 50_000  # the server's date
    assert price_range([NightRate(MARCH_3, 1, closed=True)], today, 10) == PriceRange(None, None)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Seoul", "UTC"])
@pytest.mark.parametrize("hour", [0, 11, 23])
def test_the_nights_read_hold_every_time_zones_window(zone: str, hour: int) -> None:
    now = dt.datetime(2027, 3, 1, hour, 59, tzinfo=dt.UTC)
    start, end = price_nights_to_read(now, 90)
    today = resort_today(zone, now)
    assert start <= today and today + dt.timedelta(days=90) <= end
