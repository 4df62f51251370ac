"""The use cases of holds: place one (where a hold is taken), read, list, release, expire.

Placing a hold: plan it from the catalogue's rules (no lock) → refuse at once if Redis marks a night sold
out → take the nights' fenced Redis locks (bounded wait: ``busy``) → one PostgreSQL transaction moves
``held`` with a guarded, fenced update, writes the hold, its lines, its events and its audit row, and the
idempotency answer (``within``) → after commit, the lease key mirrors the hold's expiry. Redis down: the
same transaction on PostgreSQL alone, with a lock timeout instead of the Redis wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog

from app import clock
from app.auth.principal import Principal
from app.auth.ratelimit import RateLimiter
from app.catalog import rates as rates_repo
from app.catalog import repository as catalog_repo
from app.catalog.domain import ProductKind, Quote, package_free, quote
from app.errors import ServiceUnavailable
from app.frontdesk.domain import party_refusal
from app.holds import repository as repo
from app.holds.coalesce import Coalescer
from app.holds.domain import (
    HoldRefused,
    HoldRequest,
    Line,
    expiry,
    gone,
    lines_for,
    lock_keys,
    over_limit,
    refusal_of,
    stay_nights,
)
from app.holds.domain import sold_out as sold_out_refusal
from app.holds.locks import PG_LOCK_ERRORS, HoldLocks, Lease, LocksUnavailable, StaleFence, busy, fences
from app.holds.metrics import DECISION, DEGRADED, HOLDS_CREATED, HOLDS_ENDED, HOLDS_REFUSED, LOCK_WAIT
from app.holds.together import Claim, Placed, place_together
from app.inventory import repository as inventory
from app.inventory.domain import free_of
from app.resources import Resources
from app.unit_of_work import UnitOfWork

log = structlog.get_logger("app.holds")
Within = Callable[[asyncpg.Connection, asyncpg.Record], Awaitable[None]]
STAFF = ("front_desk", "admin")


@dataclass(frozen=True, slots=True)
class Plan:
    product: asyncpg.Record
    request: HoldRequest
    lines: list[Line]
    quote: Quote

    @property
    def keys(self) -> list[str]:
        return lock_keys(self.lines)


def owner_of(principal: Principal) -> tuple[str, str]:
    return ("partner", principal.client_id or principal.subject) if principal.kind == "partner" \
        else ("user", principal.subject)


def may_see(principal: Principal, hold: asyncpg.Record) -> bool:
    if (hold["owner_kind"], hold["owner_id"]) == owner_of(principal):
        return True
    return principal.kind == "user" and principal.has_any_role(*STAFF)


class HoldService:
    def __init__(self, resources: Resources, commit_db: asyncpg.Pool | None = None) -> None:
        self.db = resources.db
        # Lock holders commit on a pool of their own: never queued behind the reads of a burst.
        self.commit_db = commit_db or resources.db
        self.waiting = 0  # requests queued for a commit connection
        self.settings = s = resources.settings
        self.locks = HoldLocks(resources.redis, s.hold_lock_ttl_ms, s.hold_lock_wait_ms, s.hold_soldout_mark_ms)
        self.limiter = RateLimiter(resources.redis)
        # one writer per hot night in this process: claims that queue behind it are decided together
        self.writers: Coalescer[Claim, Placed] = Coalescer(
            self.commit_alone, functools.partial(place_together, self), s.hold_coalesce_max, s.hold_coalesce_waiting,
            lambda why: busy(f"coalesce_{why}"))

    # -- placing a hold ---------------------------------------------------------------------------

    async def create(self, principal: Principal, request: HoldRequest, within: Within) -> asyncpg.Record:
        began = time.monotonic()
        try:
            await self._rate_limit(principal)
            await self._refuse_if_known_sold_out(request)
            plan = await self.plan(request)
            hold = await self._place(principal, plan, within)
        except HoldRefused as exc:
            HOLDS_REFUSED.labels(exc.code).inc()
            raise
        except ServiceUnavailable as exc:
            HOLDS_REFUSED.labels(exc.code).inc()
            raise
        finally:
            DECISION.observe(time.monotonic() - began)
        HOLDS_CREATED.inc()
        return hold

    async def _rate_limit(self, principal: Principal) -> None:
        with contextlib.suppress(OSError, ConnectionError):  # Redis down: no rate limit, holds still work
            await self.limiter.hit("holds", principal.actor, self.settings.hold_rate_per_minute)

    async def plan(self, request: HoldRequest) -> Plan:
        """Check the request against the catalogue's rules and price it; no lock, no write."""
        pid = catalog_repo.as_uuid(request.product_id)
        async with self.db.acquire() as conn:
            product = await repo.product_for_hold(conn, pid, request.rate_plan) if pid else None
            if product is None or not product["active"]:
                raise HoldRefused(422, "unknown_product", f"no active product {request.product_id}",
                                  field="product_id")
            nights = stay_nights(request, clock.today(product["time_zone"]),
                                 self.settings.sale_horizon_days)
            if not product["has_plan"]:
                raise HoldRefused(422, "unknown_rate_plan", f"no rate plan {request.rate_plan!r}", field="rate_plan")
            kind, components = ProductKind(product["kind"]), json.loads(product["components"])
            rates = await rates_repo.rates_between(conn, product["id"], request.rate_plan, request.check_in,
                                                   request.check_out)
            free = await self._free(conn, product["id"], nights, components)
        q = quote(kind, product["max_occupancy"], request.party, rates, free)
        if (refusal := refusal_of(q)) is not None:
            raise refusal
        if kind is ProductKind.ROOM_TYPE and (too := party_refusal(
                request.quantity, request.guests, self.settings.party_max_rooms,
                self.settings.party_max_guests_per_room)) is not None:
            raise HoldRefused(422, *too, field="quantity" if too[0] == "party_too_large" else "guests")
        return Plan(product, request, lines_for(kind, str(product["id"]), request, nights, components), q)

    async def _free(self, conn: asyncpg.Connection, product_id: uuid.UUID, nights: list[dt.date],
                    components: dict[str, int]) -> dict[dt.date, int]:
        ids = [uuid.UUID(c) for c in components] or [product_id]
        free = await inventory.free_between(conn, ids, nights[0], nights[-1] + dt.timedelta(days=1))
        if not components:
            return free[product_id]
        return package_free(nights, {str(k): v for k, v in free.items()}, components)

    async def _place(self, principal: Principal, plan: Plan, within: Within) -> asyncpg.Record:
        for _attempt in range(2):
            try:
                if len(plan.lines) == 1:  # one night of one product: a hot night's claims are decided together
                    hold, rows = await self.writers.submit(plan.keys[0], Claim(principal, plan, within))
                else:
                    hold, rows = await self._commit(principal, plan, within)
                break
            except StaleFence:
                log.warning("hold_lock_lost", keys=plan.keys)
        else:
            raise busy("stale_fence")
        await self._after_commit(hold, rows)
        return hold

    async def commit_alone(self, claim: Claim) -> Placed:
        return await self._commit(claim.principal, claim.plan, claim.within)

    async def _refuse_if_known_sold_out(self, request: HoldRequest) -> None:
        """A night already marked sold out is refused before any database work (the hot-night path)."""
        pid = catalog_repo.as_uuid(request.product_id)
        if pid is None or not request.check_in < request.check_out <= request.check_in + dt.timedelta(days=31):
            return
        nights = [request.check_in + dt.timedelta(days=i) for i in range((request.check_out - request.check_in).days)]
        with contextlib.suppress(LocksUnavailable):
            if marked := await self.locks.marked_sold_out([f"{pid}:{n.isoformat()}" for n in nights]):
                raise sold_out_refusal(sorted({dt.date.fromisoformat(k.rsplit(":", 1)[1]) for k in marked}))

    async def refuse_if_marked(self, plan: Plan) -> None:
        try:
            marked = await self.locks.marked_sold_out(plan.keys)
        except LocksUnavailable:
            return
        if marked:
            raise sold_out_refusal(sorted({dt.date.fromisoformat(k.rsplit(":", 1)[1]) for k in marked}))

    async def _commit(self, principal: Principal, plan: Plan,
                      within: Within) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
        """One transaction. Everything that does not touch inventory is written first; the nights' locks are
        held only around the guarded update, its availability events and the commit."""
        try:
            async with UnitOfWork(self.commit_db, self.queued_connection) as uow:
                hold = await self.write_hold(uow.conn, principal, plan, within)
                rows = await self._take_locked(uow, plan, hold)
            return hold, rows
        except PG_LOCK_ERRORS:
            raise busy("pg_lock") from None

    async def queued_connection(self) -> asyncpg.Connection:
        """A commit connection, waiting in a bounded queue (``hold_commit_queue`` waiters, each at most
        ``hold_commit_wait_ms``): a burst waits its turn instead of becoming a storm of retries."""
        if self.waiting >= self.settings.hold_commit_queue:
            raise busy("commit_queue_full")
        self.waiting += 1
        try:
            async with asyncio.timeout(self.settings.hold_commit_wait_ms / 1000):
                return await self.commit_db.acquire()
        except TimeoutError:
            raise busy("commit_wait") from None
        finally:
            self.waiting -= 1

    async def write_hold(self, conn: asyncpg.Connection, principal: Principal, plan: Plan,
                         within: Within) -> asyncpg.Record:
        await self._check_limit(conn, principal)
        hold = await repo.insert_hold(conn, self._values(principal, plan), plan.lines)
        await repo.record_hold(conn, hold, "created", principal.actor, principal.client_id)
        await within(conn, hold)
        return hold

    async def _take_locked(self, uow: UnitOfWork, plan: Plan, hold: asyncpg.Record) -> list[asyncpg.Record]:
        """Under the nights' Redis locks (or PostgreSQL's lock timeout when Redis is gone): the guarded,
        fenced update, its events, the commit (while the locks are still held). The wait for the locks has
        ``hold_lock_wait_ms`` from when they are asked for: the writes before it, slow on a loaded machine,
        never spend a budget that is for contention (``busy`` means the nights were contended that long)."""
        conn = uow.conn
        lease = await self.lease_for(conn, plan)
        try:
            if len(plan.lines) > 1:
                await inventory.lock(conn, plan.lines)
            rows = await inventory.take(conn, plan.lines, fences(plan.lines, lease.tokens if lease else None))
            if len(rows) < len(plan.lines):
                await self._refused(conn, plan.lines, lease.tokens if lease else None)
            await repo.record_availability(conn, hold, "created", rows)
            await uow.commit()
            return rows
        finally:
            await self.release_lease(lease)

    async def lease_for(self, conn: asyncpg.Connection, plan: Plan) -> Lease | None:
        """The nights' fenced Redis locks within ``hold_lock_wait_ms``; None when Redis is gone (then
        PostgreSQL's lock timeout bounds the wait instead). A night marked sold out meanwhile: ``sold_out``;
        still locked at the deadline: ``busy``."""
        try:
            lease = await self.locks.acquire(plan.keys, sold_out=plan.keys)
            DEGRADED.set(0)
        except LocksUnavailable as exc:
            DEGRADED.set(1)
            log.warning("holds_without_redis", error=str(exc))
            await conn.execute(f"SET LOCAL lock_timeout = '{self.settings.hold_lock_wait_ms}ms'")
            return None
        if lease is None:
            await self.refuse_if_marked(plan)
            raise busy("lock_wait")
        LOCK_WAIT.observe(lease.waited_s)
        return lease

    async def release_lease(self, lease: Lease | None) -> None:
        if lease is not None:
            with contextlib.suppress(LocksUnavailable):
                await self.locks.release(lease)

    async def _check_limit(self, conn: asyncpg.Connection, principal: Principal) -> None:
        kind, owner = owner_of(principal)
        limit = self.settings.hold_max_active_per_partner if kind == "partner" \
            else self.settings.hold_max_active_per_user
        if over_limit(await repo.active_count(conn, kind, owner), limit):
            raise HoldRefused(409, "too_many_holds", f"at most {limit} active holds; release one or book")

    async def _refused(self, conn: asyncpg.Connection, lines: list[Line], tokens: dict[str, int] | None) -> None:
        """Why the guarded update left some lines: capacity (sold out), or a stale fencing token."""
        rows = {(str(r["product_id"]), r["night"]): r for r in await inventory.lock(conn, lines)}
        short = [x for x in lines if (r := rows.get((x.product_id, x.night))) is None or x.units > free_of(r)]
        if short:
            exhausted = [x.resource for x in short
                         if (r := rows.get((x.product_id, x.night))) is None or free_of(r) == 0]
            with contextlib.suppress(LocksUnavailable):
                await self.locks.mark_sold_out(exhausted)
            raise sold_out_refusal(sorted({x.night for x in short}))
        raise StaleFence(f"fencing token refused for {[x.resource for x in lines]} (tokens {tokens})")

    def _values(self, principal: Principal, plan: Plan) -> dict[str, object]:
        kind, owner = owner_of(principal)
        request, product = plan.request, plan.product
        return {
            "owner_kind": kind, "owner_id": owner, "product_id": product["id"],
            "property_id": product["property_id"], "check_in": request.check_in, "check_out": request.check_out,
            "quantity": request.quantity, "guests": request.guests, "rate_plan": request.rate_plan,
            "total_amount": plan.quote.total, "currency": product["currency"].strip(),
            "nights": [{"night": n.night.isoformat(), "amount": n.amount} for n in plan.quote.nights],
            "expires_at": expiry(dt.datetime.now(dt.UTC), self.settings.hold_ttl_s, self.settings.hold_max_lifetime_s),
        }

    async def _after_commit(self, hold: asyncpg.Record, rows: list[asyncpg.Record]) -> None:
        ttl_ms = int((hold["expires_at"] - dt.datetime.now(dt.UTC)).total_seconds() * 1000)
        full = [f"{r['product_id']}:{r['night'].isoformat()}" for r in rows if free_of(r) == 0]
        with contextlib.suppress(LocksUnavailable):
            await self.locks.set_lease(str(hold["id"]), ttl_ms)
            await self.locks.mark_sold_out(full)

    # -- reading ----------------------------------------------------------------------------------

    async def get(self, principal: Principal, hold_id: str) -> asyncpg.Record:
        hold = await self._visible(self.db, principal, hold_id)
        if (refusal := gone(hold["status"])) is not None:
            raise refusal
        return hold

    async def _visible(self, conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, hold_id: str,
                       lock: bool = False) -> asyncpg.Record:
        hid = catalog_repo.as_uuid(hold_id)
        hold = await repo.get_hold(conn, hid, lock=lock) if hid else None
        if hold is None or not may_see(principal, hold):
            raise HoldRefused(404, "hold_not_found", f"no hold {hold_id} of yours")
        return hold

    async def list_active(self, principal: Principal, page: int, per_page: int) -> tuple[list[asyncpg.Record], int]:
        kind, owner = owner_of(principal)
        return await repo.list_active(self.db, kind, owner, per_page, (page - 1) * per_page)

    # -- ending -----------------------------------------------------------------------------------

    async def release(self, principal: Principal, hold_id: str) -> None:
        """End a live hold now and give its nights back; releasing an ended hold again changes nothing."""
        async with UnitOfWork(self.db) as uow:
            conn = uow.conn
            hold = await self._visible(conn, principal, hold_id, lock=True)
            if hold["status"] == "converted":
                raise HoldRefused(409, "hold_converted", "this hold became a booking; cancel the booking instead")
            if hold["status"] == "held" and hold["booking_id"] is not None:
                raise HoldRefused(409, "hold_in_booking", "a booking is converting this hold; wait for it to end")
            if hold["status"] != "held":
                return
            ended, rows = await end(conn, hold["id"], "released", principal.actor, principal.client_id)
        await self.forget(str(hold["id"]), rows)

    async def forget(self, hold_id: str, rows: list[asyncpg.Record]) -> None:
        """After an end committed: drop the lease, clear the sold-out marks of the nights that came back."""
        with contextlib.suppress(LocksUnavailable):
            await self.locks.drop_lease(hold_id)
            await self.locks.clear_sold_out([f"{r['product_id']}:{r['night'].isoformat()}" for r in rows])


async def end(conn: asyncpg.Connection, hold_id: uuid.UUID, status: str, actor: str,
              client_id: str | None) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """End a live hold (inside the caller's transaction): status, nights back, events, audit."""
    ended = await repo.end_hold(conn, hold_id, status)
    if ended is None:
        raise RuntimeError(f"hold {hold_id} is not live")
    rows = await inventory.release_hold(conn, hold_id)
    await repo.record_changes(conn, ended, status, actor, client_id, rows)
    HOLDS_ENDED.labels(status).inc()
    return ended, rows
