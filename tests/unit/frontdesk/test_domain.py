"""The front desk's pure rules."""

from __future__ import annotations

import datetime as dt

import pytest

from app.frontdesk import domain
from app.frontdesk.domain import FrontDeskRefused, Occupancy, Stay

D = dt.date(2027, 3, 10)
DAY = dt.timedelta(days=1)


def _code(call: object) -> str:
    with pytest.raises(FrontDeskRefused) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


def test_check_in_from_the_arrival_day_with_a_room_and_again_is_a_no_op() -> None:
    stay = Stay("confirmed", D, D + 2 * DAY, True)
    assert domain.check_in(stay, D) and domain.check_in(stay, D + DAY)
    assert not domain.check_in(Stay("checked_in", D, D + 2 * DAY, True), D)
    assert _code(lambda: domain.check_in(stay, D - DAY)) == "before_arrival"
    assert _code(lambda: domain.check_in(stay, D + 2 * DAY)) == "stay_over"
    assert _code(lambda: domain.check_in(Stay("confirmed", D, D + DAY, False), D)) == "no_room_assigned"
    assert _code(lambda: domain.check_in(Stay("pending", D, D + DAY, True), D)) == "invalid_status"


def test_check_out_only_after_check_in_and_no_show_only_after_the_arrival_day() -> None:
    assert domain.check_out(Stay("checked_in", D, D + DAY, True))
    assert not domain.check_out(Stay("checked_out", D, D + DAY, True))
    assert _code(lambda: domain.check_out(Stay("confirmed", D, D + DAY, True))) == "not_checked_in"
    confirmed = Stay("confirmed", D, D + 3 * DAY, False)
    assert domain.no_show(confirmed, D + DAY)
    assert _code(lambda: domain.no_show(confirmed, D)) == "arrival_day_not_over"
    assert _code(lambda: domain.no_show(Stay("checked_in", D, D + DAY, True), D + DAY)) == "checked_in"
    assert not domain.no_show(Stay("no_show", D, D + DAY, True), D + DAY)


def test_unused_nights_start_tonight_and_a_checked_in_stay_cannot_be_cancelled_by_the_guest() -> None:
    stay = Stay("checked_in", D, D + 3 * DAY, True)
    assert domain.unused_from(stay, D + DAY) == D + DAY
    assert domain.unused_from(stay, D + 3 * DAY) is None
    assert domain.unused_from(stay, D - DAY) == D
    assert [domain.guest_may_cancel(s) for s in ("confirmed", "checked_in", "checked_out", "no_show")] == [
        True, False, False, False]


def test_a_guest_in_the_house_moves_from_tonight_and_a_stay_whose_departure_came_cannot_move() -> None:
    assert domain.stay_start("checked_in", D, D + 3 * DAY, D + 2 * DAY) == D + 2 * DAY
    assert domain.stay_start("confirmed", D, D + 3 * DAY, D + 2 * DAY) == D
    assert domain.stay_start("checked_in", D, D + 3 * DAY, D) == D
    assert _code(lambda: domain.stay_start("checked_in", D, D + 3 * DAY, D + 3 * DAY)) == "stay_over"
    assert _code(lambda: domain.stay_start("confirmed", D, D + 3 * DAY, D + 4 * DAY)) == "stay_over"


def test_a_stay_is_in_exactly_one_desk_list_of_each_day_it_concerns_through_its_whole_life() -> None:
    ci, co = D, D + 2 * DAY

    def lists(status: str, left_on: dt.date | None = None) -> list[str | None]:
        return [domain.desk_list(status, ci, co, D + i * DAY, left_on) for i in range(-1, 4)]

    assert lists("confirmed") == [None, "arrivals", "arrivals", None, None]
    assert lists("checked_in") == [None, "in_house", "in_house", "departures", "departures"]
    assert lists("checked_out") == [None, None, None, "departed", None]
    assert lists("checked_out", D + DAY) == [None, None, "departed", None, None]  # left early
    assert lists("no_show") == [None, "no_shows", "no_shows", None, None]
    assert lists("cancelled") == lists("cancelling") == [None, "cancelled", "cancelled", None, None]
    assert lists("pending") == lists("failed") == [None] * 5


def test_the_board_marks_each_night_of_each_room() -> None:
    nights = domain.board_range(D, D + 4 * DAY)
    rows = [Occupancy("a", D - DAY, D + DAY, "booking", "b1", "checked_in"),
            Occupancy("a", D + 2 * DAY, D + 9 * DAY, "booking", "b2", "confirmed"),
            Occupancy("b", D + DAY, D + 2 * DAY, "out_of_service"),
            Occupancy("zz", D, D + DAY, "booking", "b3", "confirmed")]
    grid = domain.board(["a", "b", "c"], nights, rows)
    assert grid["a"].cells == ["occupied", "free", "assigned", "assigned"]
    assert grid["a"].bookings == ["b1", None, "b2", "b2"]
    assert grid["b"].cells == ["free", "out_of_service", "free", "free"]
    assert grid["c"].cells == ["free"] * 4
    assert _code(lambda: domain.board_range(D, D)) == "invalid_date_range"
    assert _code(lambda: domain.board_range(D, D + 63 * DAY)) == "date_range_too_long"
