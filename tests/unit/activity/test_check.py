"""The cross-check's pure parts: what bookings should count, and the differences."""

from __future__ import annotations

import datetime as dt

from app.activity.check import Difference, differences, expected

NOW = dt.datetime(2027, 1, 5, 12, tzinfo=dt.UTC)
START, END = dt.date(2027, 2, 1), dt.date(2027, 2, 28)


def _booking(owner: str, status: str, check_in: str, check_out: str, minutes_ago: int = 60) -> dict:
    at = NOW - dt.timedelta(minutes=minutes_ago)
    return {"owner_kind": "user", "owner_id": owner, "status": status, "created_at": at, "updated_at": at,
            "check_in": dt.date.fromisoformat(check_in), "check_out": dt.date.fromisoformat(check_out),
            "products": ["r"], "plans": ["r|bar"]}


def test_a_cancelled_stay_counts_a_booking_and_a_cancellation_per_night_inside_the_range() -> None:
    counts, left_out = expected([_booking("a", "cancelled", "2027-01-31", "2027-02-02")], {}, START, END)
    assert (counts, left_out) == ({"demand": {"r|2027-02-01": {"bookings": 1, "cancellations": 1}},
                                   "rates": {"r|bar": {"bookings": 1, "cancellations": 1}}}, 0)


def test_a_guest_forgotten_after_booking_is_left_out_one_who_booked_after_is_not() -> None:
    bookings = [_booking("a", "confirmed", "2027-02-01", "2027-02-02", minutes_ago=60),
                _booking("a", "confirmed", "2027-02-03", "2027-02-04", minutes_ago=5)]
    counts, left_out = expected(bookings, {"user:a": NOW - dt.timedelta(minutes=30)}, START, END)
    assert (sorted(counts["demand"]), left_out) == (["r|2027-02-03"], 1)


def test_differences_name_each_counter_that_disagrees() -> None:
    truth = {"demand": {"r|2027-02-01": {"bookings": 2}}, "rates": {"r|bar": {"bookings": 2}}}
    counted = {"demand": {"r|2027-02-01": {"bookings": 2}}, "rates": {"r|bar": {"bookings": 1, "cancellations": 1}}}
    assert differences(truth, counted) == [Difference("rates", "r|bar", "bookings", 2, 1),
                                           Difference("rates", "r|bar", "cancellations", 0, 1)]
