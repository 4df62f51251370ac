"""The payment port: what the app asks of a payment provider, and what it answers. Pure types.

One payment (a provider reference such as a Stripe PaymentIntent ``pi_...``) is opened when a booking is
reserved, authorized and captured by the saga's ``pay`` step, voided or refunded by its compensations.
Every call that changes money takes an idempotency key: the same key never has a second effect.

Errors say what the caller may do next: ``Declined`` and ``Refused`` are the provider's final answer to
that call; ``Unavailable`` (a 5xx, a reset connection, a busy key) and ``NoAnswer`` (the call's timeout)
are indeterminate: the effect may or may not have happened, so the caller asks (``retrieve``) before it
acts again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

# The provider's states of a payment, as the app reads them.
OPEN, AUTHORIZED, CAPTURED, CANCELED, PROCESSING = "open", "authorized", "captured", "canceled", "processing"


@dataclass(frozen=True, slots=True)
class Payment:
    reference: str
    status: str  # OPEN, AUTHORIZED, CAPTURED, CANCELED, PROCESSING
    amount: int
    captured: int
    currency: str
    booking_id: str | None = None
    decline: str | None = None  # why the last authorization was declined (open payments only)
    created: int = 0


@dataclass(frozen=True, slots=True)
class Refund:
    reference: str
    payment: str
    status: str  # succeeded, pending, failed
    amount: int
    created: int = 0
    purpose: str | None = None  # what the refund gives back (ITEMIZED, or the booking's own), as asked


# Refunds of part of a booking, each owed on its own: a room of a party (``room:<slot>``), a no-show's balance.
ROOM, NO_SHOW = "room:", "no_show"


def itemized(refund: Refund) -> bool:
    """Whether ``refund`` gave back one item of a booking (a room, a no-show's balance), not the booking."""
    return refund.purpose is not None and (refund.purpose.startswith(ROOM) or refund.purpose == NO_SHOW)


class PaymentError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class Declined(PaymentError):
    """The card was declined (final for this authorization)."""


class Refused(PaymentError):
    """The provider refused the call (final): a capture of an expired authorization, a bad state."""


class UnknownMethod(Refused):
    """The provider knows no such card token or payment method."""


class Unavailable(PaymentError):
    """The provider failed in a way worth retrying; the effect may have happened."""


class NoAnswer(Unavailable):
    """The call's own timeout passed: the effect may have happened."""


class PaymentPort(Protocol):
    async def open(self, key: str, method: str, amount: int, currency: str, booking_id: str) -> Payment: ...

    async def authorize(self, key: str, reference: str) -> Payment: ...

    async def capture(self, key: str, reference: str, amount: int) -> Payment: ...

    async def void(self, key: str, reference: str) -> Payment: ...

    async def refund(self, key: str, reference: str, amount: int, purpose: str | None = None) -> Refund: ...

    async def retrieve(self, reference: str) -> Payment: ...

    async def refunds_of(self, reference: str) -> list[Refund]: ...

    def payments_since(self, created_gte: int) -> AsyncIterator[Payment]: ...

    def refunds_since(self, created_gte: int) -> AsyncIterator[Refund]: ...

    async def close(self) -> None: ...
