"""The payment port spoken in the Stripe API with the official ``stripe`` SDK: PaymentIntents with manual
capture, Refunds, idempotency keys. Pointed at the sandbox (``payment_provider_url``) locally and in the
tests, at Stripe in production: only the settings change.

Each call has its own timeout (``payment_*_timeout_s``); the SDK's own retries are off (the saga retries
with its backoff, and asks the provider before acting again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import stripe

from app.payments.port import (
    AUTHORIZED,
    CANCELED,
    CAPTURED,
    OPEN,
    PROCESSING,
    Declined,
    NoAnswer,
    Payment,
    Refund,
    Refused,
    Unavailable,
    UnknownMethod,
)
from app.settings import Settings

T = TypeVar("T")
# The SDK logs every request at INFO and their bodies (a card token among them) at DEBUG: never ours.
logging.getLogger("stripe").setLevel(logging.WARNING)
STATES = {"requires_payment_method": OPEN, "requires_confirmation": OPEN, "requires_action": OPEN,
          "requires_capture": AUTHORIZED, "succeeded": CAPTURED, "canceled": CANCELED, "processing": PROCESSING}


def payment_of(obj: Any) -> Payment:
    intent = obj.to_dict()
    failure = intent.get("last_payment_error") or {}
    metadata = intent.get("metadata") or {}
    return Payment(reference=intent["id"], status=STATES.get(intent["status"], PROCESSING), amount=intent["amount"],
                   captured=intent.get("amount_received") or 0, currency=intent["currency"],
                   booking_id=metadata.get("booking_id"), created=intent.get("created") or 0,
                   decline=(failure.get("decline_code") or failure.get("code")) if failure else None)


def refund_of(obj: Any) -> Refund:
    refund = obj.to_dict()
    return Refund(reference=refund["id"], payment=refund.get("payment_intent") or "", status=refund["status"],
                  amount=refund["amount"], created=refund.get("created") or 0,
                  purpose=(refund.get("metadata") or {}).get("purpose"))


class StripeProvider:
    def __init__(self, settings: Settings) -> None:
        s = settings
        self.timeouts = {"open": s.payment_open_timeout_s, "authorize": s.payment_timeout_s,
                         "capture": s.payment_capture_timeout_s, "void": s.payment_void_timeout_s,
                         "refund": s.payment_refund_timeout_s, "retrieve": s.payment_retrieve_timeout_s}
        self.http = stripe.HTTPXClient(timeout=max(self.timeouts.values()) + 1)
        self.client = stripe.StripeClient(s.payment_api_key, base_addresses={"api": s.payment_provider_url},
                                          max_network_retries=0, http_client=self.http)
        self.intents, self.refunds = self.client.v1.payment_intents, self.client.v1.refunds

    async def _call(self, operation: str, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.timeouts[operation]):
                return await call
        except TimeoutError:
            raise NoAnswer("timeout", f"the provider did not answer {operation} in time") from None
        except stripe.CardError as exc:
            raise Declined(exc.error.decline_code or exc.code or "card_declined", str(exc)) from None
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing" and exc.param == "payment_method":
                raise UnknownMethod("unknown_payment_method", str(exc)) from None
            raise Refused(exc.code or "invalid_request", str(exc)) from None
        except stripe.IdempotencyError as exc:  # the same key is still being answered, or was used otherwise
            raise Unavailable("idempotency_conflict", str(exc)) from None
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as exc:
            raise Unavailable(getattr(exc, "code", None) or "provider_error", str(exc)) from None

    async def open(self, key: str, method: str, amount: int, currency: str, booking_id: str) -> Payment:
        params: Any = {"amount": amount, "currency": currency.lower(), "payment_method": method,
                       "capture_method": "manual", "metadata": {"booking_id": booking_id}}
        return payment_of(await self._call("open", self.intents.create_async(params, {"idempotency_key": key})))

    async def authorize(self, key: str, reference: str) -> Payment:
        return payment_of(await self._call("authorize", self.intents.confirm_async(
            reference, options={"idempotency_key": key})))

    async def capture(self, key: str, reference: str, amount: int) -> Payment:
        return payment_of(await self._call("capture", self.intents.capture_async(
            reference, {"amount_to_capture": amount}, {"idempotency_key": key})))

    async def void(self, key: str, reference: str) -> Payment:
        return payment_of(await self._call("void", self.intents.cancel_async(
            reference, options={"idempotency_key": key})))

    async def refund(self, key: str, reference: str, amount: int, purpose: str | None = None) -> Refund:
        params: Any = {"payment_intent": reference, "amount": amount}
        if purpose is not None:
            params["metadata"] = {"purpose": purpose}
        return refund_of(await self._call("refund", self.refunds.create_async(params, {"idempotency_key": key})))

    async def retrieve(self, reference: str) -> Payment:
        return payment_of(await self._call("retrieve", self.intents.retrieve_async(reference)))

    async def refunds_of(self, reference: str) -> list[Refund]:
        page = await self._call("retrieve", self.refunds.list_async({"payment_intent": reference, "limit": 100}))
        return [refund_of(r) for r in page.data]

    async def payments_since(self, created_gte: int) -> AsyncIterator[Payment]:
        page = await self._call("retrieve", self.intents.list_async({"created": {"gte": created_gte}, "limit": 100}))
        async for intent in page.auto_paging_iter():
            yield payment_of(intent)

    async def refunds_since(self, created_gte: int) -> AsyncIterator[Refund]:
        page = await self._call("retrieve", self.refunds.list_async({"created": {"gte": created_gte}, "limit": 100}))
        async for refund in page.auto_paging_iter():
            yield refund_of(refund)

    async def close(self) -> None:
        await self.http.close_async()
