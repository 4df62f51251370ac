"""The ``services`` role: the saga's participants. Each command is applied once, its effect and its reply
(through the outbox) in one transaction; a command for a step the booking has left is ignored, and a
command re-sent after a lost reply gets the same answer again (the state says it was done).

- inventory: ``inventory.convert`` (holds held -> sold, guarded), ``inventory.revert`` (a failed saga's
  nights back, sold or held), ``inventory.release`` (a cancelled booking's nights back);
- payment: ``payment.charge`` (authorize + capture, transient errors retried with backoff, a provider that
  does not answer in ``payment_timeout_s`` gets no reply: the step's deadline decides), ``payment.void``
  (refund a capture, void an authorization, or void blind when the provider never answered).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import structlog

from app.holds import repository as holds_repo
from app.holds.locks import HoldLocks, LocksUnavailable
from app.holds.service import end as end_hold
from app.inventory import repository as inventory
from app.outbox import EventEnvelope
from app.resources import Resources
from sagas import repository as repo
from sagas.consumer import consume
from sagas.payments import PaymentProvider, PaymentResult, SandboxProvider, TransientPaymentError

log = structlog.get_logger("sagas.participants")
ACTOR = "system:saga"
_CHARGE_ATTEMPTS = 4


class Participants:
    def __init__(self, resources: Resources, provider: PaymentProvider) -> None:
        self.db, self.settings, self.provider = resources.db, resources.settings, provider
        s = resources.settings
        self.locks = HoldLocks(resources.redis, s.hold_lock_ttl_ms, s.hold_lock_wait_ms, s.hold_soldout_mark_ms)
        self.handlers = {"inventory.convert": self.convert, "inventory.revert": self.revert,
                         "inventory.release": self.release, "payment.charge": self.charge,
                         "payment.void": self.void, "payment.refund": self.refund}

    async def handle(self, envelope: EventEnvelope) -> None:
        handler = self.handlers.get(envelope.event_type)
        if handler is None:
            return
        booking_id = uuid.UUID(envelope.payload["booking_id"])
        if not await self._current(booking_id, envelope.payload["step"], envelope.payload.get("attempt", 0)):
            return  # the saga left this step, or a newer copy of the command is on its way: nothing to do
        log.info("saga_command", command=envelope.event_type, booking_id=envelope.aggregate_id)
        await handler(booking_id, envelope.payload["step"])

    async def _current(self, booking_id: uuid.UUID, step: str, attempt: int) -> bool:
        """One cheap read before any work: replays of old commands (redelivery after a broker restart,
        duplicated deliveries) cost a single SELECT."""
        row = await self.db.fetchrow("SELECT step, attempt FROM bookings WHERE id = $1", booking_id)
        return row is not None and row["step"] == step and attempt >= row["attempt"]

    # -- inventory --------------------------------------------------------------------------------

    async def convert(self, booking_id: uuid.UUID, step: str) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            booking = await repo.get_booking(conn, booking_id, lock=True)
            if booking is None or booking["step"] != step or step != "convert":
                return
            holds = await repo.lock_holds(conn, await repo.hold_ids_of(conn, booking_id))
            if all(h["status"] == "converted" for h in holds):
                return await repo.reply(conn, str(booking_id), step, "converted")
            if any(h["status"] != "held" for h in holds):
                return await repo.reply(conn, str(booking_id), step, "convert_failed", "hold_expired")
            for hold in holds:
                rows = await inventory.sell_hold(conn, hold["id"])
                ended = await holds_repo.set_status(conn, hold["id"], "converted", "held")
                await holds_repo.record_changes(conn, ended, "converted", ACTOR, None, rows)
            await repo.reply(conn, str(booking_id), step, "converted")

    async def revert(self, booking_id: uuid.UUID, step: str) -> None:
        await self._give_back(booking_id, step, "revert", "reverted")

    async def release(self, booking_id: uuid.UUID, step: str) -> None:
        await self._give_back(booking_id, step, "release", "released")

    async def _give_back(self, booking_id: uuid.UUID, step: str, expected: str, answer: str) -> None:
        """Every night of the booking back to inventory: sold ones unsold, held ones released."""
        returned: list[asyncpg.Record] = []
        async with self.db.acquire() as conn, conn.transaction():
            booking = await repo.get_booking(conn, booking_id, lock=True)
            if booking is None or booking["step"] != step or step != expected:
                return
            for hold in await repo.lock_holds(conn, await repo.hold_ids_of(conn, booking_id)):
                if hold["status"] == "converted":
                    rows = await inventory.unsell_hold(conn, hold["id"])
                    ended = await holds_repo.set_status(conn, hold["id"], "released", "converted")
                    await holds_repo.record_changes(conn, ended, "released", ACTOR, None, rows)
                    returned += rows
                elif hold["status"] == "held":
                    returned += (await end_hold(conn, hold["id"], "released", ACTOR, None))[1]
            await repo.reply(conn, str(booking_id), step, answer)
        with contextlib.suppress(LocksUnavailable):  # the nights are free again: no sold-out mark may say otherwise
            await self.locks.clear_sold_out([f"{r['product_id']}:{r['night'].isoformat()}" for r in returned])

    # -- payment ----------------------------------------------------------------------------------

    async def charge(self, booking_id: uuid.UUID, step: str) -> None:
        booking = await repo.get_booking(self.db, booking_id)
        if booking is None or booking["step"] != "pay" or step != "pay":
            return  # late: the saga moved on; never take money for nights that are no longer ours
        async with self.db.acquire() as conn:
            authorized = await repo.payment(conn, booking_id, "authorize")
            captured = await repo.payment(conn, booking_id, "capture")
        if authorized is not None and authorized["status"] != "approved":
            return await self._answer(booking_id, step, "payment_failed", "payment_declined")
        if captured is not None and captured["status"] == "approved":
            return await self._answer(booking_id, step, "paid")  # done before; the reply was lost
        try:
            async with asyncio.timeout(self.settings.payment_timeout_s):
                result, attempts = await self._authorize(booking)
        except TimeoutError:
            log.warning("payment_no_answer", booking_id=str(booking_id))
            return
        await self._settle(booking, result, attempts)

    async def _authorize(self, booking: asyncpg.Record) -> tuple[PaymentResult, int]:
        delay = 0.05
        for attempt in range(1, _CHARGE_ATTEMPTS + 1):
            try:
                result = await self.provider.authorize(f"{booking['id']}:authorize", booking["card_token"],
                                                       booking["total_amount"], booking["currency"].strip())
                return result, attempt
            except TransientPaymentError as exc:
                log.warning("payment_retry", booking_id=str(booking["id"]), attempt=attempt, error=str(exc))
                if attempt == _CHARGE_ATTEMPTS:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def _settle(self, booking: asyncpg.Record, result: PaymentResult, attempts: int) -> None:
        """Record what the provider did; capture an approval; reply only if the saga still waits for it."""
        captured = None
        if result.approved:
            captured = await self.provider.capture(f"{booking['id']}:capture", result.reference or "",
                                                   booking["total_amount"])
        async with self.db.acquire() as conn, conn.transaction():
            current = await repo.get_booking(conn, booking["id"], lock=True)
            await repo.record_payment(conn, booking, "authorize", "approved" if result.approved else "declined",
                                      result.reference, attempts)
            if captured is not None:
                await repo.record_payment(conn, booking, "capture", "approved", captured.reference, 1)
            if current["step"] != "pay":
                return  # the saga compensates meanwhile: its void step refunds this capture
            if result.approved:
                await repo.reply(conn, str(booking["id"]), "pay", "paid")
            else:
                await repo.reply(conn, str(booking["id"]), "pay", "payment_failed", result.reason or "payment_declined")

    async def _answer(self, booking_id: uuid.UUID, step: str, answer: str, reason: str | None = None) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            await repo.reply(conn, str(booking_id), step, answer, reason)

    async def void(self, booking_id: uuid.UUID, step: str) -> None:
        """Give back whatever the provider may have taken: refund a capture, void an authorization, and
        void blind when the provider never answered (a late authorization is then cancelled)."""
        booking = await repo.get_booking(self.db, booking_id)
        if booking is None or booking["step"] != "void" or step != "void":
            return
        async with self.db.acquire() as conn:
            capture = await repo.payment(conn, booking_id, "capture")
            done = await repo.payment(conn, booking_id, "refund") or await repo.payment(conn, booking_id, "void")
        if done is None:
            if capture is not None and capture["status"] == "approved":
                result = await self.provider.refund(f"{booking_id}:refund", capture["provider_ref"], capture["amount"])
                operation = "refund"
            else:
                result = await self.provider.void(f"{booking_id}:void", f"{booking_id}:authorize")
                operation = "void"
        async with self.db.acquire() as conn, conn.transaction():
            if done is None:
                await repo.record_payment(conn, booking, operation, "approved" if result.approved else "failed",
                                          result.reference, 1)
            await repo.reply(conn, str(booking_id), step, "voided")

    async def refund(self, booking_id: uuid.UUID, step: str) -> None:
        """A cancellation's refund: the amount the policy allowed, once."""
        booking = await repo.get_booking(self.db, booking_id)
        if booking is None or booking["step"] != "refund" or step != "refund":
            return
        async with self.db.acquire() as conn:
            done = await repo.payment(conn, booking_id, "refund")
            capture = await repo.payment(conn, booking_id, "capture")
        reference = capture["provider_ref"] if capture else None
        if done is None and booking["refund_amount"] and reference:
            result = await self.provider.refund(f"{booking_id}:refund", reference, booking["refund_amount"])
            reference = result.reference
        async with self.db.acquire() as conn, conn.transaction():
            if done is None:
                await repo.record_payment(conn, booking, "refund", "approved", reference, 1,
                                          amount=booking["refund_amount"] or 0)
            await repo.reply(conn, str(booking_id), step, "refunded")


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``services`` role."""
    participants = Participants(resources, SandboxProvider())
    await consume(resources.settings, repo.COMMANDS_TOPIC, resources.settings.services_group,
                  participants.handle, stop)
