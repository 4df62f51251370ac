"""The sandbox's operations, answering the subset of the Stripe API the app uses: PaymentIntents
(create, confirm, capture, cancel, retrieve, list) with manual capture, and Refunds (create, retrieve,
list). Each returns ``Answer``: the HTTP status and body, and whether the caller waits (hang, late)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from app.payments.sandbox.cards import FLAKY_FAILURES, Behaviour, behaviour
from app.payments.sandbox.ledger import Account, Ledger


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    save: bool = True  # kept under the idempotency key (a 500 is not: the retry runs again)
    hang: bool = False  # never answer (until the caller hangs up)
    late: bool = False  # answer only after the sandbox's "late" delay (the effect is already made)


def error(status: int, kind: str, code: str, message: str, **extra: Any) -> Answer:
    return Answer(status, {"error": {"type": kind, "code": code, "message": message, **extra}}, save=status < 500)


def unavailable(message: str) -> Answer:
    return error(500, "api_error", "sandbox_unavailable", message)


def intent_json(row: dict[str, Any]) -> dict[str, Any]:
    failure = json.loads(row["last_error"]) if row["last_error"] else None
    return {"id": row["id"], "object": "payment_intent", "amount": row["amount"],
            "amount_capturable": row["amount_capturable"], "amount_received": row["amount_received"],
            "currency": row["currency"], "status": row["status"], "capture_method": "manual",
            # a reference to the card, never the card (nor the token the client sent) itself
            "payment_method": "pm_" + hashlib.sha256(row["payment_method"].encode()).hexdigest()[:24],
            "metadata": json.loads(row["metadata"]), "created": row["created"], "livemode": False,
            "canceled_at": row["canceled_at"], "last_payment_error": failure}


def refund_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "object": "refund", "amount": row["amount"], "currency": row["currency"],
            "payment_intent": row["payment_intent"], "status": row["status"],
            "failure_reason": row["failure_reason"], "metadata": json.loads(row["metadata"]),
            "created": row["created"]}


def _unexpected(row: dict[str, Any], action: str) -> Answer:
    return error(400, "invalid_request_error", "payment_intent_unexpected_state",
                 f"You cannot {action} this PaymentIntent because it has a status of {row['status']}.",
                 payment_intent=intent_json(row))


class Sandbox:
    def __init__(self, ledger: Ledger | Account) -> None:
        self.ledger = ledger  # an account's books (the server's), or the whole ledger (account '')

    def create(self, params: dict[str, Any]) -> Answer:
        method = str(params.get("payment_method", ""))
        if behaviour(method) is None:
            return error(400, "invalid_request_error", "resource_missing", "No such PaymentMethod",
                         param="payment_method")
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            amount = -1
        currency = str(params.get("currency", "")).lower()
        if amount < 0 or len(currency) != 3:
            return error(400, "invalid_request_error", "parameter_invalid", "amount and currency are required",
                         param="amount")
        if params.get("capture_method", "manual") != "manual":
            return error(400, "invalid_request_error", "parameter_invalid", "only manual capture here",
                         param="capture_method")
        row = self.ledger.create_intent(amount, currency, method, params.get("metadata") or {})
        return Answer(200, intent_json(row))

    def retrieve(self, intent_id: str) -> Answer:
        row = self.ledger.intent(intent_id)
        return Answer(200, intent_json(row)) if row else self._missing(intent_id)

    @staticmethod
    def _missing(object_id: str) -> Answer:
        return error(404, "invalid_request_error", "resource_missing", f"No such object: '{object_id}'")

    def confirm(self, intent_id: str) -> Answer:
        row = self.ledger.intent(intent_id)
        if row is None:
            return self._missing(intent_id)
        if row["status"] not in ("requires_confirmation", "requires_payment_method"):
            return _unexpected(row, "confirm")
        card = behaviour(row["payment_method"])
        if card is Behaviour.HANG:
            return Answer(0, {}, save=False, hang=True)
        if card is Behaviour.FLAKY and self.ledger.bump(f"confirm:{intent_id}") < FLAKY_FAILURES:
            return unavailable("the card network did not answer in time; retry")
        if card in (Behaviour.DECLINE, Behaviour.INSUFFICIENT_FUNDS):
            decline = "insufficient_funds" if card is Behaviour.INSUFFICIENT_FUNDS else "generic_decline"
            failure = {"code": "card_declined", "decline_code": decline, "message": "Your card was declined."}
            row = self.ledger.move(intent_id, status="requires_payment_method", last_error=json.dumps(failure))
            return error(402, "card_error", "card_declined", "Your card was declined.", decline_code=decline,
                         payment_intent=intent_json(row))
        row = self.ledger.move(intent_id, ("authorization", row["amount"]), status="requires_capture",
                               amount_capturable=row["amount"], last_error=None)
        return Answer(200, intent_json(row), late=card is Behaviour.LATE)

    def capture(self, intent_id: str, params: dict[str, Any]) -> Answer:
        row = self.ledger.intent(intent_id)
        if row is None:
            return self._missing(intent_id)
        if row["status"] != "requires_capture":
            return _unexpected(row, "capture")
        if behaviour(row["payment_method"]) in (Behaviour.CAPTURE_FAIL, Behaviour.VOID_FAIL):
            return error(400, "invalid_request_error", "charge_expired_for_capture",
                         "The charge cannot be captured: its authorization has expired.",
                         payment_intent=intent_json(row))
        amount = int(params.get("amount_to_capture") or row["amount_capturable"])
        if not 0 < amount <= row["amount_capturable"]:
            return error(400, "invalid_request_error", "amount_too_large", "amount_to_capture is too large",
                         param="amount_to_capture")
        row = self.ledger.move(intent_id, ("capture", amount), status="succeeded", amount_received=amount,
                               amount_capturable=0)
        return Answer(200, intent_json(row), late=behaviour(row["payment_method"]) is Behaviour.CAPTURE_LATE)

    def cancel(self, intent_id: str) -> Answer:
        row = self.ledger.intent(intent_id)
        if row is None:
            return self._missing(intent_id)
        if row["status"] in ("succeeded", "canceled"):
            return _unexpected(row, "cancel")
        if behaviour(row["payment_method"]) is Behaviour.VOID_FAIL:
            return unavailable("the authorization could not be released; retry later")
        line = ("cancel", row["amount_capturable"]) if row["amount_capturable"] else None
        row = self.ledger.move(intent_id, line, status="canceled", amount_capturable=0,
                               canceled_at=row["created"])
        return Answer(200, intent_json(row))

    def refund(self, params: dict[str, Any]) -> Answer:
        intent_id = str(params.get("payment_intent", ""))
        row = self.ledger.intent(intent_id)
        if row is None:
            return self._missing(intent_id)
        if row["status"] != "succeeded":
            return _unexpected(row, "refund")
        left = row["amount_received"] - self.ledger.refunded(intent_id)
        amount = int(params.get("amount") or left)
        if left <= 0:
            return error(400, "invalid_request_error", "charge_already_refunded", "Already fully refunded.")
        if not 0 < amount <= left:
            return error(400, "invalid_request_error", "amount_too_large", "The refund exceeds what is left.",
                         param="amount")
        card = behaviour(row["payment_method"])
        if card is Behaviour.REFUND_FLAKY and self.ledger.bump(f"refund:{intent_id}") < FLAKY_FAILURES:
            return unavailable("the refund could not be processed now; retry")
        rejected = card is Behaviour.REFUND_REJECT or (
            card is Behaviour.REFUND_REJECT_ONCE and self.ledger.bump(f"refund_reject:{intent_id}") == 0)
        refund = self.ledger.add_refund(row, amount, "failed" if rejected else "succeeded",
                                        "declined" if rejected else None, params.get("metadata") or {})
        return Answer(200, refund_json(refund))

    def refund_of(self, refund_id: str) -> Answer:
        row = self.ledger.refund(refund_id)
        return Answer(200, refund_json(row)) if row else self._missing(refund_id)

    def list_intents(self, query: dict[str, Any]) -> Answer:
        limit, created, after = _page(query)
        rows = self.ledger.intents(created, after, limit + 1)
        return Answer(200, _list("/v1/payment_intents", [intent_json(r) for r in rows[:limit]], len(rows) > limit))

    def list_refunds(self, query: dict[str, Any]) -> Answer:
        limit, created, after = _page(query)
        rows = self.ledger.refunds(query.get("payment_intent"), created, after, limit + 1)
        return Answer(200, _list("/v1/refunds", [refund_json(r) for r in rows[:limit]], len(rows) > limit))


def _page(query: dict[str, Any]) -> tuple[int, int, str | None]:
    limit = max(1, min(100, int(query.get("limit") or 10)))
    created = query.get("created") or {}
    return limit, int(created.get("gte", 0)) if isinstance(created, dict) else 0, query.get("starting_after")


def _list(url: str, data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {"object": "list", "url": url, "data": data, "has_more": more}
