"""The night audit's rules: what a no-show keeps, which day closes when, and the day's figures."""

from __future__ import annotations

import datetime as dt

from app.frontdesk.audit_report import DayCounts, HoldPolicy, day_to_close, figures, may_close, no_show_fee

DAY = dt.date(2026, 2, 28)


def test_a_no_show_keeps_each_holds_fee_and_all_of_a_non_refundable_one() -> None:
    holds = [HoldPolicy(100_000, True, 30), HoldPolicy(50_000, False, 30), HoldPolicy(20_001, True, 0)]
    fee = no_show_fee(holds, 170_001)
    assert (fee.fee, fee.refund) == (80_000, 90_001)


def test_the_scheduled_audit_closes_yesterday_once_the_local_hour_has_come() -> None:
    assert [day_to_close(DAY, h, 3) for h in (2, 3)] == [DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1)]
    assert [may_close(d, DAY) for d in (DAY - dt.timedelta(days=1), DAY)] == [True, False]


def test_the_figures_round_half_up_and_a_day_without_rooms_is_zero() -> None:
    counts = DayCounts(rooms_available=3, rooms_sold=2, room_revenue=80_001, no_shows=0, no_show_fees=0,
                       cancellations=0, stays_rolled=2)
    report = figures("p", DAY, "done", counts)
    empty = figures("p", DAY, "done", DayCounts(rooms_available=0, rooms_sold=0, room_revenue=0, no_shows=0,
                                                no_show_fees=0, cancellations=0, stays_rolled=0))
    assert ((report.occupancy, report.adr, report.revpar), (empty.occupancy, empty.adr, empty.revpar)) == (
        (0.6667, 40_001, 26_667), (0.0, 0, 0))


def test_a_party_past_its_rooms_or_guests_a_room_is_refused_and_within_them_is_not() -> None:
    from app.frontdesk.domain import party_refusal

    assert [(party_refusal(r, g, 10, 4) or ("ok",))[0] for r, g in ((10, 40), (11, 2), (2, 9), (3, None))] == [
        "ok", "party_too_large", "too_many_guests_per_room", "ok"]
