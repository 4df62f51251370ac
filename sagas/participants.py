"""The ``services`` role: the saga's participants. Each command is applied once, its effect and its reply
(through the outbox) in one transaction; a command for a step the booking has left is ignored, and a
command re-sent after a lost reply gets the same answer again (the state says it was done).

- inventory: ``inventory.convert`` (holds held -> sold, guarded), ``inventory.revert`` (a failed saga's
  nights back, sold or held), ``inventory.release`` (a cancelled booking's nights back);
- payment (``sagas.payments``): ``payment.charge`` (authorize + capture, checked), ``payment.void`` (cancel an
  authorization or refund a capture) and ``payment.refund`` (a cancellation's refund), each true to what
  the provider answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import structlog

from app.bookings import repository as booking_repo
from app.consumer import consume
from app.holds import repository as holds_repo
from app.holds.locks import HoldLocks, LocksUnavailable
from app.holds.service import end as end_hold
from app.inventory import repository as inventory
from app.outbox import EventEnvelope
from app.payments.port import PaymentPort
from app.payments.reconcile import reconcile, since_hours
from app.payments.stripe_provider import StripeProvider
from app.resources import Resources
from app.settings import Settings
from app.unit_of_work import UnitOfWork
from app.worker import sleep_or_stop
from sagas import repository as repo
from sagas.payments import PaymentSteps

log = structlog.get_logger("sagas.participants")
ACTOR = "system:saga"


class Participants:
    def __init__(self, resources: Resources, provider: PaymentPort) -> None:
        self.db, self.settings, self.payments = resources.db, resources.settings, PaymentSteps(resources, provider)
        s = resources.settings
        self.locks = HoldLocks(resources.redis, s.hold_lock_ttl_ms, s.hold_lock_wait_ms, s.hold_soldout_mark_ms)
        self.handlers = {"inventory.convert": self.convert, "inventory.revert": self.revert,
                         "inventory.release": self.release, "payment.charge": self.payments.charge,
                         "payment.void": self.payments.void, "payment.refund": self.payments.refund}

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
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await booking_repo.get_booking(conn, booking_id, lock=True)
            if booking is None or booking["step"] != step or step != "convert":
                return
            holds = await booking_repo.lock_holds(conn, await booking_repo.hold_ids_of(conn, booking_id))
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
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await booking_repo.get_booking(conn, booking_id, lock=True)
            if booking is None or booking["step"] != step or step != expected:
                return
            for hold in await booking_repo.lock_holds(conn, await booking_repo.hold_ids_of(conn, booking_id)):
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

async def owed(payments: PaymentSteps, settings: Settings, stop: asyncio.Event) -> None:
    """Money still owed back is tried again every ``payment_owed_retry_interval_s``."""
    while not stop.is_set():
        try:
            await payments.owed_round()
        except Exception as exc:  # noqa: BLE001 - a store or the provider is down: next round
            log.warning("payment_owed_round_failed", error=repr(exc))
        await sleep_or_stop(stop, settings.payment_owed_retry_interval_s)


async def reconciling(resources: Resources, provider: PaymentPort, stop: asyncio.Event) -> None:
    """The provider's ledger against the bookings every ``payments_reconcile_interval_s`` (one services
    process at a time); mismatches go to the metric ``resort_payments_mismatches`` and the log."""
    settings = resources.settings
    while not stop.is_set():
        await sleep_or_stop(stop, settings.payments_reconcile_interval_s)
        try:
            async with resources.db.acquire() as conn, conn.transaction():
                if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(7250022)"):
                    continue
                report = await reconcile(resources.db, provider, since_hours(settings.payments_reconcile_window_h))
            (log.error if report.mismatches else log.info)(
                "payments_reconciled", payments=report.payments,
                mismatches=[f"{m.kind}:{m.booking_id}" for m in report.mismatches][:20])
        except Exception as exc:  # noqa: BLE001 - the provider or a store is down: next round
            log.warning("payments_reconcile_failed", error=repr(exc))


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``services`` role: the participants, and the retries of money owed back."""
    provider = StripeProvider(resources.settings)
    participants = Participants(resources, provider)
    try:
        await asyncio.gather(
            consume(resources.settings, repo.COMMANDS_TOPIC, resources.settings.services_group,
                    participants.handle, stop),
            owed(participants.payments, resources.settings, stop), reconciling(resources, provider, stop))
    finally:
        await provider.close()
