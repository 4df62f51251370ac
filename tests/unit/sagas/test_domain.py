"""The saga's state machine, cancellation policy and the sandbox provider's rules, without any server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.bookings.policy import RatePolicy, Refund, combine, refund_for
from app.payments.sandbox.api import Sandbox
from app.payments.sandbox.ledger import Ledger
from sagas.domain import COMMANDS, Transition, confirmation_code, on_deadline, on_reply


def test_the_happy_path_and_each_failure_compensate_in_reverse() -> None:
    assert on_reply("convert", "pending", "converted", None, None) == Transition("pay", "pending")
    assert on_reply("pay", "pending", "paid", None, None) == Transition("done", "confirmed")
    declined = on_reply("pay", "pending", "payment_failed", "payment_declined", None)
    assert declined == Transition("revert", "pending", "payment_declined") and declined.command == "inventory.revert"
    assert on_reply("revert", "pending", "reverted", None, "payment_declined") == Transition(
        "done", "failed", "payment_declined")
    assert on_reply("void", "pending", "voided", None, "payment_timeout").step == "revert"
    assert on_reply("refund", "cancelling", "refunded", None, None).command == "inventory.release"
    assert on_reply("release", "cancelling", "released", None, None).status == "cancelled"


def test_a_reply_to_another_step_changes_nothing() -> None:
    assert on_reply("pay", "pending", "converted", None, None) is None  # late duplicate of convert
    assert on_reply("done", "confirmed", "paid", None, None) is None


def test_deadlines_resend_then_compensate_but_compensations_always_resend() -> None:
    assert on_deadline("pay", "pending", 0, 2) is None and on_deadline("pay", "pending", 1, 2) is None
    assert on_deadline("pay", "pending", 2, 2) == Transition("void", "pending", "payment_timeout")
    assert on_deadline("convert", "pending", 2, 2) == Transition("revert", "pending", "convert_timeout")
    for step in ("void", "revert", "refund", "release"):
        assert on_deadline(step, "pending", 99, 2) is None
    assert set(COMMANDS) == {"convert", "pay", "void", "revert", "refund", "release"}


def test_confirmation_codes_avoid_look_alikes() -> None:
    codes = {confirmation_code() for _ in range(200)}
    assert len(codes) == 200 and all(c.startswith("GR-") and len(c) == 11 for c in codes)
    assert not any(ch in c[3:] for c in codes for ch in "01ILO")


SEOUL_CHECK_IN = dt.date(2027, 1, 10)


@pytest.mark.parametrize(("policy", "now", "expected"), [
    (RatePolicy(True, 72, 50), dt.datetime(2027, 1, 6, 14, 59, tzinfo=dt.UTC), Refund(1000, 0, "free")),
    # 72 h before 2027-01-10 00:00 in Seoul is 2027-01-06 15:00 UTC
    (RatePolicy(True, 72, 50), dt.datetime(2027, 1, 6, 15, 0, tzinfo=dt.UTC), Refund(500, 500, "late")),
    (RatePolicy(True, 0, 30), dt.datetime(2027, 1, 9, 14, 0, tzinfo=dt.UTC), Refund(1000, 0, "free")),
    (RatePolicy(False), dt.datetime(2026, 1, 1, tzinfo=dt.UTC), Refund(0, 1000, "non_refundable")),
])
def test_refunds_follow_the_policy_in_the_resorts_time_zone(policy: RatePolicy, now: dt.datetime,
                                                            expected: Refund) -> None:
    assert refund_for(1000, policy, SEOUL_CHECK_IN, "Asia/Seoul", now) == expected


def test_refunds_of_several_holds_add_up() -> None:
    assert combine([Refund(100, 0, "free"), Refund(50, 50, "late")]) == Refund(150, 50, "mixed")
    assert combine([Refund(100, 0, "free")]) == Refund(100, 0, "free")


def test_a_failed_capture_voids_and_money_not_given_back_still_moves_on() -> None:
    assert on_reply("pay", "pending", "capture_failed", "capture_failed", None) == Transition(
        "void", "pending", "capture_failed")
    assert on_reply("void", "pending", "void_failed", None, "capture_failed") == Transition(
        "revert", "pending", "capture_failed")
    assert on_reply("refund", "cancelling", "refund_failed", None, None) == Transition("release", "cancelling")


def test_the_sandbox_ledger_answers_by_test_card(tmp_path: Path) -> None:
    sandbox = Sandbox(Ledger(tmp_path / "ledger.sqlite3"))

    def opened(card: str) -> str:
        return sandbox.create({"amount": "1000", "currency": "krw", "payment_method": card}).body["id"]

    approved = opened("tok_approve")
    assert sandbox.confirm(approved).body["status"] == "requires_capture"
    assert sandbox.capture(approved, {}).body["amount_received"] == 1000
    assert sandbox.refund({"payment_intent": approved, "amount": "400"}).body["status"] == "succeeded"
    assert sandbox.refund({"payment_intent": approved, "amount": "700"}).status == 400  # more than is left
    assert [line["kind"] for line in sandbox.ledger.lines(approved)] == ["authorization", "capture", "refund"]
    assert sandbox.confirm(opened("tok_insufficient_funds")).body["error"]["decline_code"] == "insufficient_funds"
    flaky = opened("tok_flaky")
    assert [sandbox.confirm(flaky).status for _ in range(3)] == [500, 500, 200]
    assert sandbox.confirm(opened("tok_hang")).hang
    late = sandbox.confirm(opened("tok_late"))
    assert late.late and late.body["status"] == "requires_capture"  # the effect is there before the answer
    rejected = opened("tok_refund_reject")
    sandbox.confirm(rejected)
    sandbox.capture(rejected, {})
    assert sandbox.refund({"payment_intent": rejected}).body["status"] == "failed"
    assert sandbox.create({"amount": "1", "currency": "krw", "payment_method": "tok_stolen"}).status == 400


def test_the_sandbox_declines_the_first_refund_of_a_reject_once_card_and_makes_the_next(tmp_path: Path) -> None:
    sandbox = Sandbox(Ledger(tmp_path / "ledger.sqlite3"))
    paid = sandbox.create({"amount": "1000", "currency": "krw", "payment_method": "tok_refund_reject_once"}).body["id"]
    sandbox.confirm(paid)
    sandbox.capture(paid, {})

    answers = [sandbox.refund({"payment_intent": paid, "amount": "300"}).body["status"] for _ in range(3)]

    assert (answers, sandbox.ledger.refunded(paid)) == (["failed", "succeeded", "succeeded"], 600)
