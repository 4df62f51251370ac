"""Money owed back item by item: a room of a party cancelled on its own (purpose ``room:<slot>``, its payments
row: operation ``refund`` with its ``slot``) and a no-show's balance (purpose ``no_show``, operation
``no_show``). Each is refunded through the provider once, tagged with its purpose.

``settle`` is the one way such a refund is asked. It reads the payment's refunds at the provider first: one
of the item's that succeeded is the answer (never a second refund). A refund the provider declined (created
``failed``: final under its idempotency key) is asked again under a new key, ``<key>:<n>`` (n: the item's
declined refunds so far), so that a retry neither replays the decline nor refunds twice.

An item still ``failed`` (declined, or no answer) is money owed: ``retry_round``, run by the services role's
owed round (``sagas.payments.PaymentSteps.owed_round``), asks again every ``payment_owed_retry_interval_s``,
ten times less often once the row has ``payment_owed_attention_after`` tries (an operator should look), and
reconciliation (``app.payments.reconcile``) reports the booking until it is paid.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import asyncpg
import structlog
from prometheus_client import Gauge

from app.payments.port import NO_SHOW, ROOM, PaymentError, PaymentPort
from app.unit_of_work import UnitOfWork

log = structlog.get_logger("app.payments.owed")
OWED_ITEMS = Gauge("resort_payments_owed_items", "Refunds of single rooms and no-shows still owed back (declined,"
                   " or not answered), at the last owed round")
ACTOR = "system:payments"
# The items owed, oldest try first, each when its pause is over; the amount from where it was fixed.
_OWED = "p.status = 'failed' AND (p.operation = 'no_show' OR (p.operation = 'refund' AND p.slot IS NOT NULL))"
_DUE = (
    f"SELECT p.booking_id, p.slot FROM payments p WHERE {_OWED}"
    " AND p.updated_at <= now() - make_interval(secs => $1 * CASE WHEN p.attempts >= $2 THEN 10 ELSE 1 END)"
    " ORDER BY p.updated_at LIMIT $3"
)
_LOCK = (
    "SELECT p.id, p.booking_id, p.slot, b.payment_ref, CASE WHEN p.slot IS NULL THEN b.refund_amount"
    " ELSE c.refund_amount END AS amount FROM payments p JOIN bookings b ON b.id = p.booking_id"
    " LEFT JOIN cancelled_rooms c ON c.booking_id = p.booking_id AND c.slot = p.slot"
    " WHERE p.booking_id = $1 AND p.slot IS NOT DISTINCT FROM $2 AND p.status = 'failed'"
    " AND p.operation = CASE WHEN $2::int IS NULL THEN 'no_show' ELSE 'refund' END FOR UPDATE OF p SKIP LOCKED"
)


@dataclass(frozen=True, slots=True)
class Item:
    booking_id: uuid.UUID
    slot: int | None  # the room of the party; None: the no-show's balance
    amount: int
    payment_ref: str

    @property
    def purpose(self) -> str:
        return f"{ROOM}{self.slot}" if self.slot is not None else NO_SHOW

    @property
    def key(self) -> str:
        return f"{self.booking_id}:room:{self.slot}:refund" if self.slot is not None else f"{self.booking_id}:no_show"


@dataclass(frozen=True, slots=True)
class Settled:
    status: str  # approved (the provider refunded it), failed (still owed)
    reference: str | None
    detail: str | None = None


async def settle(provider: PaymentPort, item: Item) -> Settled:
    """The item's refund, made once: what the provider has of it, else a new refund under the next key."""
    try:
        mine = [r for r in await provider.refunds_of(item.payment_ref) if r.purpose == item.purpose]
    except PaymentError as exc:
        return Settled("failed", item.payment_ref, exc.code)
    done = next((r for r in mine if r.status == "succeeded"), None)
    if done is not None:
        return Settled("approved", done.reference)
    if any(r.status == "pending" for r in mine):
        return Settled("failed", item.payment_ref, "refund_pending")  # the provider has not decided yet
    declined = sum(1 for r in mine if r.status == "failed")
    key = f"{item.key}:{declined}" if declined else item.key
    try:
        refund = await provider.refund(key, item.payment_ref, item.amount, item.purpose)
    except PaymentError as exc:
        return Settled("failed", item.payment_ref, exc.code)
    ok = refund.status == "succeeded"
    return Settled("approved" if ok else "failed", refund.reference, None if ok else f"refund_{refund.status}")


async def retry_round(db: asyncpg.Pool, provider: PaymentPort, interval_s: float, attention_after: int,
                      batch: int = 20) -> int:
    """Ask again for the items still owed whose pause is over; returns how many were asked."""
    due = await db.fetch(_DUE, interval_s, attention_after, batch)
    for row in due:
        try:
            await _retry(db, provider, row["booking_id"], row["slot"])
        except Exception:  # one item's trouble never holds back the others' money
            log.exception("payment_owed_item_retry_failed", booking_id=str(row["booking_id"]), slot=row["slot"])
    OWED_ITEMS.set(await db.fetchval(f"SELECT count(*) FROM payments p WHERE {_OWED}"))
    return len(due)


async def _retry(db: asyncpg.Pool, provider: PaymentPort, booking_id: uuid.UUID, slot: int | None) -> None:
    async with UnitOfWork(db) as uow:
        conn = uow.conn
        row = await conn.fetchrow(_LOCK, booking_id, slot)
        if row is None or not row["payment_ref"]:
            return  # another services process has it, or it was paid meanwhile
        item = Item(booking_id, slot, row["amount"] or 0, row["payment_ref"])
        settled = await settle(provider, item)
        await conn.execute("UPDATE payments SET status = $2, provider_ref = $3, detail = $4, attempts = attempts + 1,"
                           " updated_at = now() WHERE id = $1", row["id"], settled.status, settled.reference,
                           settled.detail)
        await conn.execute("INSERT INTO audit_log (actor, action, outcome, detail) VALUES ($1, $2, $3, $4::jsonb)",
                           ACTOR, "payment.owed_item_refunded" if settled.status == "approved" else
                           "payment.owed_item_failed", "ok" if settled.status == "approved" else "error",
                           json.dumps({"booking_id": str(booking_id), "purpose": item.purpose,
                                       "amount": item.amount, "reference": settled.reference,
                                       "error": settled.detail}))
    log.info("payment_owed_item", booking_id=str(booking_id), purpose=item.purpose, status=settled.status,
             error=settled.detail)
