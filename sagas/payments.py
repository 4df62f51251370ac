"""The saga's payment participant, true to the provider (``app.payments.port``): every step records what
the provider answered, with its reference, and nothing is taken for done that the provider did not say.

- ``payment.charge``: ask the provider for the booking's payment first (a crash or a lost answer may have
  left it authorized or captured), then authorize, then capture, and check the capture (the whole amount)
  before answering ``paid``. A decline answers ``payment_failed``; a refused or short capture answers
  ``capture_failed`` (the saga voids); no answer (the call's timeout) answers nothing: the step's deadline
  re-sends, and the next try asks the provider again.
- ``payment.void`` (the failed saga's compensation) and ``payment.refund`` (a cancellation's, the amount the
  rate plan's policy allows): cancel an authorization or refund a capture, retried with backoff; if the
  provider keeps refusing, the booking is marked as owing money back (``refund_state``: ``refund_pending``,
  audit, metric), the saga is answered ``void_failed`` / ``refund_failed`` (never "done"), and ``owed_round``
  tries again every ``payment_owed_retry_interval_s`` (``needs_attention`` past
  ``payment_owed_attention_after`` tries).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import structlog
from prometheus_client import Counter, Gauge

from app.bookings import repository as booking_repo
from app.payments import owed
from app.payments.port import (
    AUTHORIZED,
    CANCELED,
    CAPTURED,
    OPEN,
    Declined,
    NoAnswer,
    Payment,
    PaymentError,
    PaymentPort,
    Refused,
    Unavailable,
    itemized,
)
from app.resources import Resources
from app.unit_of_work import UnitOfWork
from sagas import repository as repo

log = structlog.get_logger("sagas.payments")
T = TypeVar("T")
ACTOR = "system:payments"
PAYMENT_CALLS = Counter("resort_payment_calls_total", "Calls to the payment provider, by operation and outcome",
                        ["operation", "outcome"])
MONEY_OWED = Gauge("resort_payments_owed", "Bookings owing money back (a void or refund that kept failing)",
                   ["state"])
OWED = ("refund_pending", "needs_attention")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What giving money back came to: the operation, whether the provider did it, its reference."""

    operation: str
    ok: bool
    reference: str | None
    attempts: int
    detail: str | None = None


class PaymentSteps:
    def __init__(self, resources: Resources, provider: PaymentPort) -> None:
        self.db, self.settings, self.provider = resources.db, resources.settings, provider

    async def _retrying(self, operation: str, call: Callable[[], Awaitable[T]], *,
                        on_timeout: bool = True) -> tuple[T, int]:
        """``call`` until the provider answers for sure, at most ``payment_retry_attempts`` times."""
        delay = self.settings.payment_retry_backoff_s
        for attempt in range(1, self.settings.payment_retry_attempts + 1):
            try:
                result = await call()
                PAYMENT_CALLS.labels(operation, "ok").inc()
                return result, attempt
            except Unavailable as exc:
                PAYMENT_CALLS.labels(operation, exc.code).inc()
                log.warning("payment_retry", operation=operation, attempt=attempt, error=exc.code)
                if attempt == self.settings.payment_retry_attempts or (isinstance(exc, NoAnswer) and not on_timeout):
                    raise
                await asyncio.sleep(delay)
                delay *= 2
            except PaymentError as exc:
                PAYMENT_CALLS.labels(operation, exc.code).inc()
                raise
        raise AssertionError("unreachable")

    async def _ask(self, reference: str) -> Payment | None:
        """The payment as the provider has it now; None when it does not answer."""
        try:
            return (await self._retrying("retrieve", lambda: self.provider.retrieve(reference)))[0]
        except Unavailable:
            return None

    # -- charge -----------------------------------------------------------------------------------

    async def charge(self, booking_id: uuid.UUID, step: str) -> None:
        booking = await booking_repo.get_booking(self.db, booking_id)
        if booking is None or booking["step"] != "pay" or step != "pay":
            return  # late: the saga moved on; never take money for nights that are no longer ours
        captured = await repo.payment(self.db, booking_id, "capture")
        if captured is not None and captured["status"] == "approved":
            return await self._answer(booking, "paid")  # done before; the reply was lost
        payment = await self._ask(booking["payment_ref"])
        if payment is None:
            return log.warning("payment_no_answer", booking_id=str(booking_id), operation="retrieve")
        attempts = 0
        if payment.status == OPEN:
            if payment.decline is not None:  # declined before; that answer was not recorded
                return await self._declined(booking, payment.decline, 1)
            try:
                payment, attempts = await self._retrying("authorize", lambda: self.provider.authorize(
                    f"{booking_id}:authorize", booking["payment_ref"]), on_timeout=False)
            except Declined as exc:
                return await self._declined(booking, exc.code, 1)
            except (Unavailable, Refused):
                payment = await self._ask(booking["payment_ref"])  # did it happen? (a late answer, a crash)
                if payment is None or payment.status not in (AUTHORIZED, CAPTURED):
                    return log.warning("payment_no_answer", booking_id=str(booking_id), operation="authorize")
        if payment.status == AUTHORIZED:
            payment = await self._capture(booking, payment)
            if payment is None:
                return None
        if payment.status == CANCELED:
            return await self._declined(booking, "payment_canceled", max(attempts, 1))
        if payment.status == CAPTURED:
            await self._captured(booking, payment, max(attempts, 1))
        return None

    async def _capture(self, booking: asyncpg.Record, payment: Payment) -> Payment | None:
        """Capture the whole amount, if the saga still waits for it; None when nothing more is to be done now."""
        if (await booking_repo.get_booking(self.db, booking["id"]))["step"] != "pay":
            return None  # the saga compensates meanwhile: its void step cancels this authorization
        try:
            return (await self._retrying("capture", lambda: self.provider.capture(
                f"{booking['id']}:capture", payment.reference, booking["total_amount"])))[0]
        except Refused as exc:
            await self._capture_failed(booking, payment, exc.code)
        except Unavailable:
            now = await self._ask(payment.reference)
            if now is not None and now.status == CAPTURED:
                return now
            log.warning("payment_no_answer", booking_id=str(booking["id"]), operation="capture")
        return None

    async def _declined(self, booking: asyncpg.Record, code: str, attempts: int) -> None:
        reason = "insufficient_funds" if code == "insufficient_funds" else "payment_declined"
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            await repo.record_payment(conn, booking, "authorize", "declined", booking["payment_ref"], attempts,
                                      detail=code)
            if await _waits(conn, booking["id"], "pay"):
                await repo.reply(conn, str(booking["id"]), "pay", "payment_failed", reason)

    async def _capture_failed(self, booking: asyncpg.Record, payment: Payment, code: str) -> None:
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            await repo.record_payment(conn, booking, "authorize", "approved", payment.reference, 1)
            await repo.record_payment(conn, booking, "capture", "failed", payment.reference, 1, detail=code)
            if await _waits(conn, booking["id"], "pay"):
                await repo.reply(conn, str(booking["id"]), "pay", "capture_failed", "capture_failed")

    async def _captured(self, booking: asyncpg.Record, payment: Payment, attempts: int) -> None:
        """Record the capture as the provider has it; ``paid`` only for the whole amount."""
        whole = payment.captured == booking["total_amount"]
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            await repo.record_payment(conn, booking, "authorize", "approved", payment.reference, attempts)
            await repo.record_payment(conn, booking, "capture", "approved" if whole else "failed", payment.reference,
                                      1, amount=payment.captured, detail=None if whole else "capture_mismatch")
            if await _waits(conn, booking["id"], "pay"):
                await repo.reply(conn, str(booking["id"]), "pay", "paid" if whole else "capture_failed",
                                 None if whole else "capture_mismatch")

    async def _answer(self, booking: asyncpg.Record, answer: str, reason: str | None = None) -> None:
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            if await _waits(conn, booking["id"], booking["step"]):
                await repo.reply(conn, str(booking["id"]), booking["step"], answer, reason)

    # -- giving money back ------------------------------------------------------------------------

    async def void(self, booking_id: uuid.UUID, step: str) -> None:
        """The failed saga's compensation: whatever the provider holds of this booking's money goes back."""
        await self._compensate(booking_id, step, "void", "voided", "void_failed")

    async def refund(self, booking_id: uuid.UUID, step: str) -> None:
        """A cancellation's refund: the amount the policy allowed, once (what the provider refunded)."""
        await self._compensate(booking_id, step, "refund", "refunded", "refund_failed")

    async def _compensate(self, booking_id: uuid.UUID, step: str, expected: str, done: str, failed: str) -> None:
        booking = await booking_repo.get_booking(self.db, booking_id)
        if booking is None or booking["step"] != expected or step != expected:
            return
        for operation in ("void", "refund"):
            row = await repo.payment(self.db, booking_id, operation)
            if row is not None and row["status"] == "approved":
                return await self._answer(booking, done)  # done before; the reply was lost
        outcome = await self.give_back(booking)
        if outcome is None:
            return None  # the provider's payment is still moving: the step's deadline re-sends
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            current = await booking_repo.get_booking(conn, booking_id, lock=True)
            await self._record(conn, booking, outcome)
            if current is None or current["step"] != expected:
                return None
            if not outcome.ok:
                await owe(conn, booking, outcome)
            await repo.reply(conn, str(booking_id), expected, done if outcome.ok else failed)
        return None

    def _due(self, booking: asyncpg.Record, payment: Payment) -> int:
        """What goes back: a cancellation's policy amount, else every captured unit."""
        if booking["status"] in ("cancelling", "cancelled"):
            return booking["refund_amount"] or 0
        return payment.captured

    async def give_back(self, booking: asyncpg.Record) -> Outcome | None:
        """Cancel the authorization, or refund what is due of the capture (what was refunded before counts)."""
        reference = booking["payment_ref"]
        payment = await self._ask(reference)
        if payment is None:
            return Outcome("refund" if booking["status"] == "cancelling" else "void", False, reference, 1,
                           "provider_unavailable")
        if payment.status == CANCELED:
            return Outcome("void", True, reference, 1)
        if payment.status in (OPEN, AUTHORIZED):
            return await self._cancel(booking, payment)
        if payment.status == CAPTURED:
            return await self._refund(booking, payment, self._due(booking, payment))
        return None

    async def _cancel(self, booking: asyncpg.Record, payment: Payment) -> Outcome:
        try:
            _, attempts = await self._retrying("void", lambda: self.provider.void(
                f"{booking['id']}:void", payment.reference))
            return Outcome("void", True, payment.reference, attempts)
        except (Refused, Unavailable) as exc:
            now = await self._ask(payment.reference)
            if now is not None and now.status == CANCELED:
                return Outcome("void", True, payment.reference, self.settings.payment_retry_attempts)
            return Outcome("void", False, payment.reference, self.settings.payment_retry_attempts, exc.code)

    async def _refund(self, booking: asyncpg.Record, payment: Payment, due: int) -> Outcome:
        try:
            refunds, _ = await self._retrying("retrieve", lambda: self.provider.refunds_of(payment.reference))
        except Unavailable as exc:
            return Outcome("refund", False, payment.reference, 1, exc.code)
        own = [r for r in refunds if not itemized(r)]  # a room's or a no-show's refund is owed on its own
        given = [r for r in own if r.status == "succeeded"]
        left = due - sum(r.amount for r in given)
        if left <= 0:
            return Outcome("refund", True, given[-1].reference if given else payment.reference, 1)
        # a failed refund is final at the provider: the next try is a new refund, under its own key
        key = f"{booking['id']}:refund:{sum(1 for r in own if r.status != 'succeeded')}"
        try:
            refund, attempts = await self._retrying("refund", lambda: self.provider.refund(
                key, payment.reference, left, "booking"))
        except (Refused, Unavailable) as exc:
            return Outcome("refund", False, payment.reference, self.settings.payment_retry_attempts, exc.code)
        ok = refund.status == "succeeded"
        return Outcome("refund", ok, refund.reference, attempts, None if ok else f"refund_{refund.status}")

    async def _record(self, conn: asyncpg.Connection, booking: asyncpg.Record, outcome: Outcome) -> None:
        amount = (booking["refund_amount"] or 0) if booking["status"] in ("cancelling", "cancelled") else None
        await repo.record_payment(conn, booking, outcome.operation, "approved" if outcome.ok else "failed",
                                  outcome.reference, outcome.attempts, amount=amount, detail=outcome.detail)

    # -- money still owed -------------------------------------------------------------------------

    async def owed_round(self, batch: int = 20) -> int:
        """Try again to give back what bookings still owe; returns how many were tried."""
        interval = self.settings.payment_owed_retry_interval_s
        # what needs an operator is still tried, ten times less often
        ids = [r["id"] for r in await self.db.fetch(
            "SELECT id FROM bookings WHERE (refund_state = 'refund_pending' AND updated_at <= now() - make_interval("
            "secs => $1)) OR (refund_state = 'needs_attention' AND updated_at <= now() - make_interval(secs => $1 * 10))"
            " ORDER BY updated_at LIMIT $2", interval, batch)]
        for booking_id in ids:
            try:
                await self._settle_owed(booking_id)
            except Exception:  # one booking's trouble never holds back the others' money
                log.exception("payment_owed_retry_failed", booking_id=str(booking_id))
                await self.db.execute("UPDATE bookings SET updated_at = now() WHERE id = $1", booking_id)
        # and what a room of a party or a no-show still owes, on its own payments row (app.payments.owed)
        items = await owed.retry_round(self.db, self.provider, interval, self.settings.payment_owed_attention_after,
                                       batch)
        for row in await self.db.fetch("SELECT s AS state, (SELECT count(*) FROM bookings WHERE refund_state = s)"
                                       " AS n FROM unnest($1::text[]) AS s", list(OWED)):
            MONEY_OWED.labels(row["state"]).set(row["n"])
        return len(ids) + items

    async def _settle_owed(self, booking_id: uuid.UUID) -> None:
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await conn.fetchrow(f"SELECT {booking_repo.BOOKING_COLUMNS} FROM bookings WHERE id = $1"
                                          " AND refund_state IN ('refund_pending', 'needs_attention')"
                                          " FOR UPDATE SKIP LOCKED", booking_id)
            if booking is None or booking["status"] in ("pending", "cancelling"):
                return  # another services process has it, or its saga still runs
            if booking["payment_ref"] is None:
                raise LookupError("money owed back but no payment reference to give it back through")
            outcome = await self.give_back(booking)
            if outcome is None:
                return
            await self._record(conn, booking, outcome)
            if outcome.ok:
                await conn.execute("UPDATE bookings SET refund_state = 'refunded', updated_at = now(),"
                                   " version = version + 1 WHERE id = $1", booking_id)
                await booking_repo.timeline(conn, booking_id, "owed", "refunded", {"operation": outcome.operation})
                await _audit(conn, booking, "payment.owed_refunded", "ok", outcome)
            else:
                await owe(conn, booking, outcome, self.settings.payment_owed_attention_after)


async def _waits(conn: asyncpg.Connection, booking_id: uuid.UUID, step: str) -> bool:
    """Whether the saga still waits in ``step`` (row locked until the caller's transaction ends)."""
    return await conn.fetchval("SELECT step = $2 FROM bookings WHERE id = $1 FOR UPDATE", booking_id, step) is True


async def owe(conn: asyncpg.Connection, booking: asyncpg.Record, outcome: Outcome, attention_after: int = 0) -> None:
    """Mark the booking as owing money back (or needing an operator, past ``attention_after`` tries)."""
    tries = await conn.fetchval("SELECT coalesce(sum(attempts), 0) FROM payments WHERE booking_id = $1"
                                " AND status = 'failed' AND operation IN ('void', 'refund') AND slot IS NULL", booking["id"])
    state = "needs_attention" if attention_after and tries >= attention_after else "refund_pending"
    changed = await conn.fetchval("UPDATE bookings SET refund_state = $2, updated_at = now(),"
                                  " version = version + (refund_state IS DISTINCT FROM $2)::int"
                                  " WHERE id = $1 RETURNING true", booking["id"], state)
    if changed and booking["refund_state"] != state:
        await _audit(conn, booking, f"payment.{state}", "error", outcome)
        log.error("payment_money_owed", booking_id=str(booking["id"]), state=state, operation=outcome.operation,
                  error=outcome.detail)


async def _audit(conn: asyncpg.Connection, booking: asyncpg.Record, action: str, outcome: str, what: Outcome) -> None:
    await conn.execute("INSERT INTO audit_log (actor, action, outcome, detail) VALUES ($1, $2, $3, $4::jsonb)",
                       ACTOR, action, outcome, json.dumps({"booking_id": str(booking["id"]),
                                                          "operation": what.operation, "reference": what.reference,
                                                          "error": what.detail}))
