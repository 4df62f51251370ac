"""Holds on one hot night, decided together: the round of ``app.holds.coalesce``'s writer for a key.

One unit of work for the whole round:
1. a night already marked sold out answers the round at once, with no write; otherwise the night's free
   units, read without a lock, say how many claims (in arrival order) are worth writing: the others are
   ``sold_out`` at once, as a claim alone is refused from the same read when it is planned;
2. before any lock, each claim writes its hold, its events, its audit row and its idempotency answer after a
   savepoint of its own: a claim refused there (``too_many_holds``, an error) is rolled back alone. Claims
   are written in their guests' order: the per-guest lock of the active-hold count is then taken in one
   global order, so two rounds (two api processes) never deadlock on it;
3. under the night's lease (Redis, fenced) and its row lock, the inventory aggregate (``Night.fit``) admits
   the written claims in the order they were written; the writes of those that do not fit are rolled back
   together (back to the savepoint of the first of them) and they are ``sold_out``; one guarded, fenced
   UPDATE moves ``held`` by the sum, each admitted hold gets its availability event, and the round commits.
The lock is held for one read, one update and the events, whatever the round's size. A claim left out while
units remain (a larger claim ahead of it did not fit) is written alone after the round. A stale fencing
token fails the round as a whole (``StaleFence``: each claim tries again, as a claim alone does). Only claims
of one line (one product, one night) come here.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import asyncpg

from app.holds import repository as repo
from app.holds.domain import sold_out as sold_out_refusal
from app.holds.locks import PG_LOCK_ERRORS, LocksUnavailable, StaleFence, busy, fences
from app.holds.metrics import ROUND_CLAIMS
from app.inventory import repository as inventory
from app.inventory.domain import Night, free_of
from app.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from app.auth.principal import Principal
    from app.holds.service import HoldService, Plan, Within

Placed = tuple[asyncpg.Record, list[asyncpg.Record]]  # the hold, the inventory rows after the move
Outcome = Placed | BaseException | None  # None: not decided yet


@dataclass(frozen=True, slots=True)
class Claim:
    principal: Principal
    plan: Plan
    within: Within

    @property
    def units(self) -> int:
        return self.plan.lines[0].units


@dataclass(frozen=True, slots=True)
class Written:
    index: int  # the claim's place in the round
    hold: asyncpg.Record
    savepoint: str


def night_of(row: Any) -> Night:
    return Night(row["night"], row["capacity"], row["held"], row["sold"], row["out_of_service"])


async def place_together(service: HoldService, claims: list[Claim]) -> list[Placed | BaseException]:
    """Every claim's hold, or why not, in the claims' order; one transaction for all of them."""
    ROUND_CLAIMS.observe(len(claims))
    await service.refuse_if_marked(claims[0].plan)
    line = claims[0].plan.lines[0]
    outcomes: list[Outcome] = [None] * len(claims)
    try:
        async with UnitOfWork(service.commit_db, service.queued_connection) as uow:
            hopeful, free = await _hopeful(uow.conn, line, claims, outcomes)
            written = await _write_each(service, uow.conn, claims, hopeful, outcomes)
            if written:
                free = await _take_together(service, uow.conn, claims, written, outcomes)
            await uow.commit()
    except PG_LOCK_ERRORS:  # PostgreSQL's lock timeout (Redis away) or a deadlock: as for a claim alone
        raise busy("pg_lock") from None
    if free == 0:
        with contextlib.suppress(LocksUnavailable):
            await service.locks.mark_sold_out([line.resource])
    for i, outcome in enumerate(outcomes):
        if outcome is None:  # written, then left out: sold out, unless units remain for it alone
            fits = claims[i].units <= free
            outcomes[i] = await _alone(service, claims[i]) if fits else sold_out_refusal([line.night])
    return [o for o in outcomes if o is not None]


async def _hopeful(conn: asyncpg.Connection, line: Any, claims: list[Claim],
                   outcomes: list[Outcome]) -> tuple[list[int], int]:
    """The claims worth writing: as many as the night's free units read now (no lock) can take, in arrival
    order; the others are ``sold_out`` at once, as ``HoldService.plan`` answers from the same read. Also
    returns the free units read."""
    rows = await inventory.rows_of(conn, uuid.UUID(line.product_id), [line.night])
    night = night_of(rows[0]) if rows else None
    fit = night.fit([c.units for c in claims]) if night else 0
    for i in range(fit, len(claims)):
        outcomes[i] = sold_out_refusal([line.night])
    return list(range(fit)), night.free if night else 0


async def _write_each(service: HoldService, conn: asyncpg.Connection, claims: list[Claim], hopeful: list[int],
                      outcomes: list[Outcome]) -> list[Written]:
    """Each claim's rows after a savepoint of its own; a claim that fails is rolled back alone."""
    written = []
    for i in sorted(hopeful, key=lambda i: claims[i].principal.actor):
        claim, savepoint = claims[i], f"claim_{i}"
        await conn.execute(f"SAVEPOINT {savepoint}")
        try:
            hold = await service.write_hold(conn, claim.principal, claim.plan, claim.within)
        except Exception as exc:  # noqa: BLE001 - this claim's answer; the round goes on
            await conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            outcomes[i] = busy("pg_lock") if isinstance(exc, PG_LOCK_ERRORS) else exc
            continue
        written.append(Written(i, hold, savepoint))
    return written


async def _take_together(service: HoldService, conn: asyncpg.Connection, claims: list[Claim],
                         written: list[Written], outcomes: list[Outcome]) -> int:
    """Under the night's lease: admit what fits, undo the rest's writes, one guarded update, the events.
    Returns the units still free after the round."""
    line = claims[0].plan.lines[0]
    lease = await service.lease_for(conn, claims[0].plan)
    try:
        locked = await inventory.lock(conn, [line])
        if not locked:
            await conn.execute(f"ROLLBACK TO SAVEPOINT {written[0].savepoint}")
            return 0
        night = night_of(locked[0])
        fit = night.fit([claims[w.index].units for w in written])
        admitted, dropped = written[:fit], written[fit:]
        if dropped:
            await conn.execute(f"ROLLBACK TO SAVEPOINT {dropped[0].savepoint}")
        if not admitted:
            return night.free
        moved = replace(line, units=sum(claims[w.index].units for w in admitted))
        rows = await inventory.take(conn, [moved], fences([moved], lease.tokens if lease else None))
        if not rows:
            raise StaleFence(f"fencing token refused for {line.resource}")
        for w in admitted:
            await repo.record_availability(conn, w.hold, "created", rows)
            outcomes[w.index] = (w.hold, rows)
        return free_of(rows[0])
    finally:
        await service.release_lease(lease)


async def _alone(service: HoldService, claim: Claim) -> Placed | BaseException:
    """A claim the round left out while units remain (a larger claim ahead of it did not fit)."""
    try:
        return await service.commit_alone(claim)
    except Exception as exc:  # noqa: BLE001 - its own answer
        return exc
