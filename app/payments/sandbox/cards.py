"""The sandbox's test cards: the ``payment_method`` a client sends chooses how the provider behaves.

Like a real provider's test cards, each one exercises one failure a real provider has:

| card | what the sandbox does |
|---|---|
| ``tok_approve`` (also ``tok_visa``, ``pm_card_visa``) | authorizes, captures, cancels and refunds |
| ``tok_decline`` | the authorization is declined (402 ``card_declined``, ``generic_decline``) |
| ``tok_insufficient_funds`` | declined (402 ``card_declined``, ``insufficient_funds``) |
| ``tok_timeout``, ``tok_hang`` | the authorization never answers and takes no effect |
| ``tok_late`` | the authorization takes effect at once but answers only after the caller gave up |
| ``tok_flaky`` | the authorization fails with a 500 twice per payment, then authorizes |
| ``tok_capture_late`` | authorizes; the capture takes effect at once but answers only after the caller gave up |
| ``tok_capture_fail`` | authorizes; every capture is refused (400 ``charge_expired_for_capture``) |
| ``tok_void_fail`` | as ``tok_capture_fail``, and every cancellation fails (500) |
| ``tok_refund_flaky`` | authorizes and captures; the first two refunds fail (500), then they succeed |
| ``tok_refund_reject`` | authorizes and captures; every refund is created ``failed`` (no money moves) |
| ``tok_refund_reject_once`` | authorizes and captures; the first refund of each payment is created ``failed``, later ones succeed |

Any other value is unknown to the provider (400 ``resource_missing``). A request repeated with the same
``Idempotency-Key`` gets the first answer again (``Idempotent-Replayed: true``) and no second effect.
"""

from __future__ import annotations

from enum import Enum


class Behaviour(Enum):
    APPROVE = "approve"
    DECLINE = "decline"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    HANG = "hang"
    LATE = "late"
    FLAKY = "flaky"
    CAPTURE_LATE = "capture_late"
    CAPTURE_FAIL = "capture_fail"
    VOID_FAIL = "void_fail"
    REFUND_FLAKY = "refund_flaky"
    REFUND_REJECT = "refund_reject"
    REFUND_REJECT_ONCE = "refund_reject_once"


CARDS: dict[str, Behaviour] = {
    "tok_approve": Behaviour.APPROVE, "tok_visa": Behaviour.APPROVE, "pm_card_visa": Behaviour.APPROVE,
    "tok_decline": Behaviour.DECLINE, "tok_insufficient_funds": Behaviour.INSUFFICIENT_FUNDS,
    "tok_timeout": Behaviour.HANG, "tok_hang": Behaviour.HANG, "tok_late": Behaviour.LATE,
    "tok_flaky": Behaviour.FLAKY, "tok_capture_late": Behaviour.CAPTURE_LATE, "tok_capture_fail": Behaviour.CAPTURE_FAIL,
    "tok_void_fail": Behaviour.VOID_FAIL, "tok_refund_flaky": Behaviour.REFUND_FLAKY,
    "tok_refund_reject": Behaviour.REFUND_REJECT, "tok_refund_reject_once": Behaviour.REFUND_REJECT_ONCE,
}
# How many times a flaky card fails, per payment, before it succeeds.
FLAKY_FAILURES = 2


def behaviour(payment_method: str) -> Behaviour | None:
    return CARDS.get(payment_method)
