"""The booking saga as a pure state machine: which command each step sends, what each reply or deadline
moves it to, and the compensations in reverse. No I/O; ``sagas.orchestrator`` applies the decisions.

    reserve (the booking row, pending, holds attached) -> convert (holds held -> sold) -> pay (authorize +
    capture) -> confirmed.   A failure or a deadline past its re-sends compensates in reverse:
    pay failed -> revert (nights back) -> failed;  pay timed out or capture failed -> void (give back whatever
    the provider holds) -> revert -> failed;  a void or refund the provider kept refusing still moves on, the
    booking marked as owing money back (``sagas.payments``);  convert failed or timed out -> revert -> failed.
    Cancellation: refund (what the rate plan's policy allows) -> release (sold nights back) -> cancelled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

# step -> (participant command it sends, is it a compensation)
COMMANDS = {
    "convert": "inventory.convert",
    "pay": "payment.charge",
    "void": "payment.void",
    "revert": "inventory.revert",
    "refund": "payment.refund",
    "release": "inventory.release",
}
COMPENSATIONS = frozenset({"void", "revert", "refund", "release"})
TERMINAL = frozenset({"confirmed", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class Transition:
    """Where the saga goes: its new ``step`` (``done`` when terminal), ``status``, and the failure reason."""

    step: str
    status: str
    reason: str | None = None

    @property
    def command(self) -> str | None:
        return COMMANDS.get(self.step)


def on_reply(step: str, status: str, reply: str, reason: str | None, current_reason: str | None) -> Transition | None:
    """The transition a participant's reply causes; None when it answers another step (late, duplicate)."""
    table: dict[tuple[str, str], Transition] = {
        ("convert", "converted"): Transition("pay", status),
        ("convert", "convert_failed"): Transition("revert", status, reason or "convert_failed"),
        ("pay", "paid"): Transition("done", "confirmed"),
        ("pay", "payment_failed"): Transition("revert", status, reason or "payment_failed"),
        ("pay", "capture_failed"): Transition("void", status, reason or "capture_failed"),
        ("void", "voided"): Transition("revert", status, current_reason),
        # the money did not go back (yet): the booking says so (refund_state) and the nights go back anyway
        ("void", "void_failed"): Transition("revert", status, current_reason),
        ("refund", "refund_failed"): Transition("release", status, current_reason),
        ("revert", "reverted"): Transition("done", "failed", current_reason),
        ("refund", "refunded"): Transition("release", status, current_reason),
        ("release", "released"): Transition("done", "cancelled", current_reason),
    }
    return table.get((step, reply))


def on_deadline(step: str, status: str, attempt: int, max_resends: int) -> Transition | None:
    """A step past its deadline: None means "send its command again"; else compensate."""
    if step in COMPENSATIONS or attempt < max_resends:
        return None  # compensations are re-sent until they succeed: they must finish
    if step == "pay":
        return Transition("void", status, "payment_timeout")
    if step == "convert":
        return Transition("revert", status, "convert_timeout")
    return Transition("revert", status, f"{step}_timeout")


def confirmation_code() -> str:
    """``GR-`` and 8 characters of an alphabet without look-alikes (no 0/O, 1/I/L)."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "GR-" + "".join(secrets.choice(alphabet) for _ in range(8))
