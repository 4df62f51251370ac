"""Payments behind one interface, so a real provider plugs in later; the sandbox is deterministic by token.

A provider must make every operation idempotent per ``key`` (the booking id and the operation): a retry
of the same authorize/capture/void/refund never charges or returns money twice. A real provider needs
exactly this: an idempotency key per call (Stripe, Adyen and Toss all accept one), a reference for
later capture/void/refund, and a way to tell a decline (final) from a transient error (retry).

Sandbox tokens: ``tok_approve``; ``tok_decline`` (declined); ``tok_timeout`` (never answers: the
participant's call times out and the saga's deadline compensates); ``tok_flaky`` (fails transiently
twice per key, then approves).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Protocol

SANDBOX_TOKENS = frozenset({"tok_approve", "tok_decline", "tok_timeout", "tok_flaky"})


class TransientPaymentError(RuntimeError):
    """The provider failed in a way worth retrying (a 5xx, a reset connection)."""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    approved: bool
    reference: str | None = None
    reason: str | None = None


class PaymentProvider(Protocol):
    def accepts(self, card_token: str) -> bool: ...

    async def authorize(self, key: str, card_token: str, amount: int, currency: str) -> PaymentResult: ...

    async def capture(self, key: str, reference: str, amount: int) -> PaymentResult: ...

    async def void(self, key: str, reference: str) -> PaymentResult: ...

    async def refund(self, key: str, reference: str, amount: int) -> PaymentResult: ...


class SandboxProvider:
    """Deterministic outcomes by card token; remembers what it did per key (idempotent like a real one)."""

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}

    def accepts(self, card_token: str) -> bool:
        return card_token in SANDBOX_TOKENS

    @staticmethod
    def _ref(key: str) -> str:
        return "sbx_" + hashlib.sha256(key.encode()).hexdigest()[:16]

    async def authorize(self, key: str, card_token: str, amount: int, currency: str) -> PaymentResult:
        if card_token == "tok_timeout":
            await asyncio.Event().wait()  # never answers; the caller's timeout decides
        if card_token == "tok_flaky" and self.failures.get(key, 0) < 2:
            self.failures[key] = self.failures.get(key, 0) + 1
            raise TransientPaymentError("sandbox: temporarily unavailable")
        if card_token == "tok_decline" or not self.accepts(card_token):
            return PaymentResult(False, self._ref(key), "payment_declined")
        return PaymentResult(True, self._ref(key))

    async def capture(self, key: str, reference: str, amount: int) -> PaymentResult:
        return PaymentResult(True, reference)

    async def void(self, key: str, reference: str) -> PaymentResult:
        return PaymentResult(True, reference)

    async def refund(self, key: str, reference: str, amount: int) -> PaymentResult:
        return PaymentResult(True, reference)
