"""The bookings use cases: reserve and start the saga, read a booking (with its timeline), list mine."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from app import clock
from app.auth.principal import Principal
from app.bookings import repository as booking_repo
from app.bookings import views
from app.bookings.policy import RatePolicy, Refund, combine, refund_for
from app.bookings.schemas import BookingIn
from app.catalog.repository import as_uuid
from app.frontdesk.domain import party_refusal
from app.frontdesk.repository import rooms_of_holds
from app.frontdesk.room_cancel import cancelled_shares
from app.holds.service import may_see, owner_of
from app.payments.port import Payment, PaymentPort, Refused, Unavailable, UnknownMethod
from app.resources import Resources
from app.unit_of_work import UnitOfWork
from sagas import repository as repo
from sagas.orchestrator import start

Within = Callable[[asyncpg.Connection, asyncpg.Record, list[uuid.UUID]], Awaitable[None]]


async def _cancellation_refund(conn: asyncpg.Connection, booking_id: uuid.UUID) -> Refund:
    """Each hold's policy on its share still booked: a room of the party cancelled on its own was settled by
    its own refund, under the policy of its own time, and is left out."""
    taken = await cancelled_shares(conn, booking_id)
    return combine([refund_for(p["total_amount"] - taken.get(p["hold_id"], 0), RatePolicy(
        p["refundable"], p["free_cancel_hours"], p["late_cancel_fee_pct"]), p["check_in"], p["time_zone"],
        clock.now_at(p["time_zone"])) for p in await booking_repo.policies(conn, booking_id)
        if p["total_amount"] > taken.get(p["hold_id"], 0) or p["hold_id"] not in taken])


class BookingRefused(ValueError):
    def __init__(self, status: int, code: str, message: str, *, retry_after_s: int | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.extra, self.retry_after_s = status, code, extra, retry_after_s


async def opened(provider: PaymentPort, values: dict[str, Any], card_token: str, retry_after_s: int) -> Payment:
    """The booking's payment, opened at the provider with the client's card token (which we never keep); a
    provider that does not answer refuses the booking for now (503, retry after ``retry_after_s``)."""
    try:
        return await provider.open(f"{values['id']}:open", card_token, values["total_amount"], values["currency"],
                                   str(values["id"]))
    except UnknownMethod:
        raise BookingRefused(422, "unknown_card_token", "the payment provider does not know this card token",
                             errors=[{"field": "payment.card_token", "message": "unknown token"}]) from None
    except Refused as exc:
        raise BookingRefused(422, "payment_refused", f"the payment provider refused the payment ({exc.code})",
                             errors=[{"field": "payment", "message": exc.code}]) from None
    except Unavailable:
        raise BookingRefused(503, "payment_provider_unavailable", "the payment provider does not answer; retry",
                             retry_after_s=retry_after_s) from None


async def abandon(provider: PaymentPort, payment: Payment) -> None:
    """A payment opened for a booking that was refused: cancel it (no money moved; best effort)."""
    with contextlib.suppress(Exception):
        await asyncio.shield(provider.void(f"{payment.booking_id}:abandon", payment.reference))


class BookingService:
    def __init__(self, resources: Resources, provider: PaymentPort) -> None:
        self.resources = resources
        self.db, self.settings, self.provider = resources.db, resources.settings, provider

    async def create(self, principal: Principal, data: BookingIn, within: Within) -> asyncpg.Record:
        """Reserve: the card token goes to the payment provider, which opens a payment (no money moves yet);
        then the booking (pending, with the payment's reference only) takes its holds, and the saga's first
        command leaves, atomically."""
        ids = self._hold_ids(data.hold_ids)
        holds = await booking_repo.lock_holds(self.db, ids, lock=False)  # a first look: refuse before the provider
        self._check(principal, ids, holds)
        if (too := party_refusal(await rooms_of_holds(self.db, ids), None, self.settings.party_max_rooms,
                                 self.settings.party_max_guests_per_room)) is not None:
            raise BookingRefused(422, *too)
        values = self._values(principal, data, holds)
        payment = await opened(self.provider, values, data.payment.card_token,
                               self.settings.payment_unavailable_retry_after_s)
        try:
            async with UnitOfWork(self.db) as uow:
                conn = uow.conn
                holds = await booking_repo.lock_holds(conn, ids)
                self._check(principal, ids, holds)
                booking = await booking_repo.insert_booking(conn, values | {"payment_ref": payment.reference})
                await booking_repo.attach_holds(conn, booking, ids)
                await start(conn, booking, principal.actor)
                await within(conn, booking, ids)
        except BaseException:
            await abandon(self.provider, payment)
            raise
        await views.remember(self.resources, principal.actor, str(booking["id"]), booking["version"])
        return booking

    @staticmethod
    def _hold_ids(raw: list[str]) -> list[uuid.UUID]:
        ids = [as_uuid(h) for h in raw]
        if None in ids or len(set(ids)) != len(ids):
            raise BookingRefused(422, "invalid_hold_ids", "hold_ids must be distinct hold ids",
                                 errors=[{"field": "hold_ids", "message": "distinct UUIDs"}])
        return ids  # type: ignore[return-value]

    def _check(self, principal: Principal, ids: list[uuid.UUID], holds: list[asyncpg.Record]) -> None:
        mine = {h["id"]: h for h in holds if (h["owner_kind"], h["owner_id"]) == owner_of(principal)}
        missing = [str(i) for i in ids if i not in mine]
        if missing:
            raise BookingRefused(422, "hold_not_found", "no such hold of yours", hold_ids=missing)
        now = dt.datetime.now(dt.UTC)
        for hold in holds:
            if hold["booking_id"] is not None:
                raise BookingRefused(409, "hold_in_booking", "a hold already belongs to a booking",
                                     hold_ids=[str(hold["id"])])
            if hold["status"] != "held" or hold["expires_at"] <= now:
                code = "hold_expired" if hold["status"] in ("held", "expired") else "hold_ended"
                raise BookingRefused(409, code, f"hold {hold['id']} is {hold['status']}", hold_ids=[str(hold["id"])])
        if len({h["currency"] for h in holds}) > 1:
            raise BookingRefused(422, "mixed_currencies", "every hold of a booking must be in one currency")

    def _values(self, principal: Principal, data: BookingIn, holds: list[asyncpg.Record]) -> dict[str, Any]:
        kind, owner = owner_of(principal)
        return {"owner_kind": kind, "owner_id": owner, "property_id": holds[0]["property_id"], "step": "convert",
                "id": uuid.uuid4(), "guest": msgspec.to_builtins(data.guest),
                "total_amount": sum(h["total_amount"] for h in holds), "currency": holds[0]["currency"].strip(),
                "check_in": min(h["check_in"] for h in holds), "check_out": max(h["check_out"] for h in holds),
                "step_timeout_s": self.settings.saga_step_timeout_s, "deadline_s": float(self.settings.saga_deadline_s)}

    async def cancel(self, principal: Principal, booking_id: str, within: Within) -> asyncpg.Record:
        """Start the cancellation saga of a confirmed booking: refund by policy, then the nights back."""
        bid = as_uuid(booking_id)
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            booking = await booking_repo.get_booking(conn, bid, lock=True) if bid else None
            if booking is None or not may_see(principal, booking):
                raise BookingRefused(404, "booking_not_found", f"no booking {booking_id} of yours")
            self._cancellable(booking)
            refund = await _cancellation_refund(conn, bid)
            moved = await booking_repo.cancel(conn, bid, refund.amount, refund.fee, self.settings.saga_step_timeout_s)
            await booking_repo.timeline(conn, bid, "cancel", "requested",
                                {"refund": refund.amount, "fee": refund.fee, "rule": refund.rule})
            await repo.send(conn, moved, "payment.refund")
            await booking_repo.announce(conn, moved, principal.actor)
            await within(conn, moved, await booking_repo.hold_ids_of(conn, bid))
        await views.remember(self.resources, principal.actor, str(moved["id"]), moved["version"])
        return moved

    @staticmethod
    def _cancellable(booking: asyncpg.Record) -> None:
        status = booking["status"]
        refusals = {
            "pending": (409, "booking_pending", "the booking is still being confirmed; cancel it once confirmed"),
            "cancelling": (409, "booking_cancelled", "this booking is already being cancelled"),
            "cancelled": (409, "booking_cancelled", "this booking is already cancelled"),
            "failed": (409, "booking_failed", "this booking failed; there is nothing to cancel"),
        }
        if status in refusals:
            raise BookingRefused(*refusals[status])
        if status != "confirmed":  # checked in, checked out, no-show: the front desk's business
            raise BookingRefused(409, "booking_checked_in", f"a {status.replace('_', ' ')} stay cannot be cancelled")

    async def get(self, principal: Principal, booking_id: str) -> tuple[dict[str, Any], str]:
        """The booking's view (MongoDB, or PostgreSQL when the view is older than the caller's own change)."""
        view, source = (None, "none") if as_uuid(booking_id) is None else \
            await views.read_one(self.resources, principal.actor, str(as_uuid(booking_id)))
        if view is None or not may_see(principal, view):
            raise BookingRefused(404, "booking_not_found", f"no booking {booking_id} of yours")
        return view, source

    async def mine(self, principal: Principal, page: int, per_page: int) -> tuple[list[dict[str, Any]], int, str]:
        items, total, source = await views.read_mine(self.resources, principal.actor, owner_of(principal), page,
                                                     per_page)
        if source == "unavailable":  # MongoDB down: the source of truth answers
            kind, owner = owner_of(principal)
            rows, total = await booking_repo.list_for(self.db, kind, owner, per_page, (page - 1) * per_page)
            loaded = await views.load_many(self.db, [r["id"] for r in rows])  # three queries for the page
            items = [loaded[str(r["id"])][0] for r in rows]
            source = "postgres"
        return items, total, source

    async def partner_events(self, principal: Principal, after: int, limit: int) -> list[asyncpg.Record]:
        """The partner's booking events after the cursor ``after``, oldest first."""
        return await booking_repo.partner_events(self.db, principal.client_id or principal.subject, after, limit)
