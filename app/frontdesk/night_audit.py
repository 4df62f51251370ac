"""The night audit: the daily close of a property's business day (``resort night-audit`` and a scheduled job
of the ``frontdesk-views`` role, once the property's clock has passed ``night_audit_hour``).

For the business day D (a day that is over at the property, ``app.clock``):
1. every arrival of D still only confirmed becomes a no-show (the booking row locked, the move guarded:
   marked once whoever runs the audit), keeping its rate plan's no-show fee of the prepaid stay;
2. each no-show is settled with the payment provider through the port: the balance of the stay goes back
   under the idempotency key ``<booking>:no_show`` (a run after a crash gets the provider's first answer
   again, never a second refund), its reference kept in ``payments`` (operation ``no_show``); a balance the
   provider declines stays owed on that row, asked again by the services role's owed round (``app.payments.owed``);
3. the guests in the house roll over to D + 1, and the day's report (occupancy, ADR, RevPAR, no-shows,
   cancellations) is stored with the audit row, ``done`` once every no-show is settled.

One run per (property, day) at a time (a PostgreSQL advisory lock); a day already done answers its report.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from app import clock
from app.frontdesk import audit_repository as repo
from app.frontdesk import repository as desk_repo
from app.frontdesk.audit_report import AuditReport, day_to_close, figures, may_close, no_show_fee
from app.frontdesk.domain import FrontDeskRefused
from app.frontdesk.room_cancel import cancelled_shares
from app.frontdesk.views import DeskViews
from app.payments import owed
from app.payments.port import PaymentPort
from app.resources import Resources
from app.unit_of_work import UnitOfWork
from app.worker import sleep_or_stop

log = structlog.get_logger("app.frontdesk.night_audit")
ACTOR = "system:night-audit"


async def _unlock(guard: Any, name: str) -> None:
    """Release the audit's session lock; if that fails, end the session (and the lock with it): a pooled
    connection goes back to the pool with its session as it is (``app.resources.keep_session``)."""
    try:
        await guard.execute("SELECT pg_advisory_unlock(hashtext($1))", name)
    except BaseException:
        guard.terminate()
        raise


class NightAudit:
    def __init__(self, db: asyncpg.Pool, provider: PaymentPort, views: DeskViews | None = None) -> None:
        self.db, self.provider, self.views = db, provider, views

    async def run(self, property_id: str, day: dt.date | None = None) -> AuditReport:
        """Close ``day`` (default: the property's yesterday); its report."""
        zone = await desk_repo.property_time_zone(self.db, property_id)
        if zone is None:
            raise FrontDeskRefused(404, "property_not_found", f"no property {property_id}")
        today = clock.today(zone)
        day = day or today - dt.timedelta(days=1)
        if not may_close(day, today):
            raise FrontDeskRefused(409, "business_day_not_over", f"{day.isoformat()} is not over at the property"
                                   f" (today is {today.isoformat()})", business_date=day.isoformat())
        name = f"night_audit:{property_id}:{day.isoformat()}"
        async with self.db.acquire() as guard:
            if not await guard.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", name):
                raise FrontDeskRefused(409, "audit_running", f"the audit of {day.isoformat()} is running elsewhere")
            try:
                return await self._close(property_id, day)
            finally:
                await _unlock(guard, name)

    async def _close(self, property_id: str, day: dt.date) -> AuditReport:
        async with self.db.acquire() as conn:
            state = await repo.begin(conn, property_id, day)
        if state == "done":
            done = await repo.report(self.db, property_id, day)
            assert done is not None
            return done
        marked = await self.mark_no_shows(property_id, day)
        settled = await self.settle_no_shows(property_id, day)
        report = figures(property_id, day, "done" if settled else "running",
                         await repo.day_counts(self.db, property_id, day))
        async with self.db.acquire() as conn:
            await repo.finish(conn, report)
        log.info("night_audit", property_id=property_id, business_date=day.isoformat(), state=report.state,
                 no_shows_marked=marked, occupancy=report.occupancy)
        return report

    async def mark_no_shows(self, property_id: str, day: dt.date) -> int:
        """Every arrival of ``day`` that never came becomes a no-show; how many this run marked."""
        marked = 0
        for booking_id in await repo.expected_arrivals(self.db, property_id, day):
            marked += await self._mark(booking_id, day)
        return marked

    async def _mark(self, booking_id: uuid.UUID, day: dt.date) -> bool:
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await desk_repo.lock_booking(conn, booking_id)
            if booking is None or booking["status"] != "confirmed" or booking["check_in"] != day:
                return False  # checked in, cancelled or marked meanwhile
            taken = await cancelled_shares(conn, booking_id)  # rooms of its party cancelled before: settled
            fee = no_show_fee(await repo.hold_policies(conn, booking_id, taken),
                              booking["total_amount"] - sum(taken.values()))
            await repo.keep_fee(conn, booking_id, fee.fee, fee.refund)
            await desk_repo.delete_assignment(conn, booking_id)
            moved = await desk_repo.set_status(conn, booking_id, "no_show", "confirmed", day + dt.timedelta(days=1))
            await desk_repo.record(conn, moved, ACTOR, "booking.no_show",
                                   {"business_date": day.isoformat(), "no_show_fee": fee.fee, "refund": fee.refund})
        if self.views is not None:
            await self.views.refresh_quietly(booking_id)
        return True

    async def settle_no_shows(self, property_id: str, day: dt.date) -> bool:
        """Settle every no-show of ``day`` not settled yet; whether all of them are now."""
        results = [await self._settle(b) for b in await repo.unsettled_no_shows(self.db, property_id, day)]
        return all(results)

    async def _settle(self, booking: asyncpg.Record) -> bool:
        """The no-show's balance back through the provider (once: its idempotency key), or nothing to move
        when the fee keeps all of it; what the provider answered is recorded."""
        refund, reference = booking["refund_amount"] or 0, booking["payment_ref"]
        status, detail = "approved", "fee_kept"
        if refund > 0 and reference:
            settled = await owed.settle(self.provider, owed.Item(booking["id"], None, refund, reference))
            status, reference, detail = settled.status, settled.reference, settled.detail
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            await repo.settled(conn, booking, status, reference, detail)
            await repo.audit_log(conn, ACTOR, "booking.no_show_settled", {
                "booking_id": str(booking["id"]), "fee": booking["cancel_fee"], "refund": refund,
                "reference": reference, "status": status, "error": detail})
        if status != "approved":
            log.warning("night_audit_settle_failed", booking_id=str(booking["id"]), error=detail)
        return status == "approved"

    async def due(self, audit_hour: int) -> int:
        """The scheduled round: each property whose last business day is over and not closed yet; how many
        days this round closed."""
        closed = 0
        for prop in await repo.properties(self.db):
            today = clock.today(prop["time_zone"])
            hour = clock.now_at(prop["time_zone"]).astimezone(ZoneInfo(prop["time_zone"])).hour
            day = day_to_close(today, hour, audit_hour)
            report = await repo.report(self.db, prop["id"], day)
            if report is not None and report.state == "done":
                continue
            try:
                closed += (await self.run(prop["id"], day)).state == "done"
            except FrontDeskRefused as exc:
                log.info("night_audit_skipped", property_id=prop["id"], reason=exc.code)
        return closed


async def scheduled(resources: Resources, stop: asyncio.Event) -> None:
    """The night audit as a job of the ``frontdesk-views`` role (``night_audit_hour`` < 0: off)."""
    from app.payments.stripe_provider import StripeProvider

    settings = resources.settings
    if settings.night_audit_hour < 0:
        return
    provider = StripeProvider(settings)
    audit = NightAudit(resources.db, provider, DeskViews(resources.db, resources.redis, settings))
    try:
        while not stop.is_set():
            try:
                await audit.due(settings.night_audit_hour)
            except Exception as exc:  # noqa: BLE001 - a store or the provider is down: next round
                log.warning("night_audit_round_failed", error=repr(exc))
            await sleep_or_stop(stop, settings.night_audit_interval_s)
    finally:
        await provider.close()


async def command(settings: Any, property_id: str | None, day: dt.date | None) -> list[AuditReport]:
    """``resort night-audit``: its own pool and provider client; every property unless one is named."""
    from app.payments.stripe_provider import StripeProvider

    db = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=3)
    provider = StripeProvider(settings)
    try:
        audit = NightAudit(db, provider)
        ids = [property_id] if property_id else [p["id"] for p in await repo.properties(db)]
        return [await audit.run(p, day) for p in ids]
    finally:
        await provider.close()
        await db.close()
