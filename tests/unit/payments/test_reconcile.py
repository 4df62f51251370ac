"""The reconciliation's rules, on the provider's ledger and bookings given as values."""

from __future__ import annotations

from app.payments.port import AUTHORIZED, CANCELED, CAPTURED, OPEN, Payment, Refund
from app.payments.reconcile import BookingMoney, compare


def _paid(ref: str, booking: str, amount: int, captured: int | None = None, status: str = CAPTURED) -> Payment:
    return Payment(ref, status, amount, amount if captured is None else captured, "krw", booking)


def _refund(ref: str, amount: int, status: str = "succeeded") -> Refund:
    return Refund(f"re_{ref}_{amount}_{status}", ref, status, amount)


def test_a_ledger_that_matches_every_booking_is_clean() -> None:
    payments = [_paid("pi_1", "b1", 100), _paid("pi_2", "b2", 100), _paid("pi_3", "b3", 100, 0, OPEN),
                _paid("pi_4", "b4", 100, 0, CANCELED)]
    refunds = [_refund("pi_2", 70), _refund("pi_2", 30, "failed")]
    bookings = [BookingMoney("b1", "confirmed", 100, None, "pi_1"), BookingMoney("b2", "cancelled", 100, 70, "pi_2"),
                BookingMoney("b3", "failed", 100, None, "pi_3"), BookingMoney("b4", "failed", 100, None, "pi_4")]
    report = compare(payments, refunds, bookings)
    assert report.clean and (report.captured, report.refunded) == (200, 70)


def test_each_kind_of_money_mismatch_is_reported() -> None:
    payments = [_paid("pi_1", "b1", 100, 90), _paid("pi_2", "b2", 100), _paid("pi_3", "b3", 100),
                _paid("pi_4", "nobody", 50), _paid("pi_5", "b5", 100, 0, AUTHORIZED), _paid("pi_6", "b6", 100, 0, OPEN),
                _paid("pi_7", "b7", 100), _paid("pi_8", "b7", 100)]
    bookings = [BookingMoney("b1", "confirmed", 100, None, "pi_1"), BookingMoney("b2", "cancelled", 100, 100, "pi_2"),
                BookingMoney("b3", "failed", 100, None, "pi_3", "refund_pending"),
                BookingMoney("b5", "failed", 100, None, "pi_5"), BookingMoney("b6", "checked_in", 100, None, "pi_6"),
                BookingMoney("b7", "confirmed", 100, None, "pi_7")]
    kinds = sorted((m.kind, m.booking_id) for m in compare(payments, [_refund("pi_2", 60)], bookings).mismatches)
    assert kinds == [("authorization_open", "b5"), ("capture_amount", "b1"), ("capture_kept_by_failed_booking", "b3"),
                     ("capture_without_booking", "nobody"), ("confirmed_without_capture", "b6"),
                     ("double_capture", "b7"), ("refund_not_policy", "b2")]


def test_bookings_still_in_their_saga_are_left_out() -> None:
    report = compare([_paid("pi_1", "b1", 100)], [], [BookingMoney("b1", "pending", 100, None, "pi_1")])
    assert report.clean


def test_a_no_show_may_have_its_balance_back_and_nothing_more() -> None:
    payments = [_paid("pi_1", "b1", 100), _paid("pi_2", "b2", 100)]
    bookings = [BookingMoney("b1", "no_show", 100, 70, "pi_1"), BookingMoney("b2", "no_show", 100, 0, "pi_2")]
    found = compare(payments, [_refund("pi_1", 70), _refund("pi_2", 30)], bookings).mismatches
    assert [(m.kind, m.booking_id) for m in found] == [("refund_on_confirmed", "b2")]


def test_a_cancelled_party_owes_its_rooms_refunds_and_the_policy_on_the_rest() -> None:
    payments = [_paid("pi_1", "b1", 300), _paid("pi_2", "b2", 300)]
    bookings = [BookingMoney("b1", "cancelled", 300, 100, "pi_1", room_refunds=100),
                BookingMoney("b2", "cancelled", 300, 100, "pi_2", room_refunds=100)]
    refunds = [_refund("pi_1", 100), _refund("pi_1", 60), _refund("pi_1", 40), _refund("pi_2", 100)]  # b2: its room only
    found = compare(payments, refunds, bookings).mismatches
    assert [(m.kind, m.booking_id) for m in found] == [("refund_not_policy", "b2")]
