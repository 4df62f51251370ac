"""The ``sweeper`` role: every hold ends within its TTL plus a few seconds, whatever Redis, Kafka or the
process that placed it lost. PostgreSQL's ``expires_at`` is the truth; several sweepers share the work
(``FOR UPDATE SKIP LOCKED`` batches). It also deletes idempotency records past their retention and keeps
the active-holds and sweeper-lag gauges.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import structlog

from app.holds import repository as repo
from app.holds.metrics import HOLDS_ACTIVE, SWEEPER_LAG
from app.holds.service import HoldService, end
from app.idempotency.store import purge_expired
from app.resources import Resources
from app.unit_of_work import UnitOfWork
from app.worker import sleep_or_stop

log = structlog.get_logger("app.holds.sweeper")
ACTOR = "system:sweeper"
_HOUSEKEEPING_S = 30.0


async def expire_due(db: asyncpg.Pool, service: HoldService, batch: int) -> int:
    """Expire one batch of due holds in one transaction; return how many ended."""
    async with UnitOfWork(db) as uow:
        conn = uow.conn
        due = await repo.due_holds(conn, batch)
        ended = [(str(hold["id"]), (await end(conn, hold["id"], "expired", ACTOR, None))[1]) for hold in due]
    for hold_id, rows in ended:
        await service.forget(hold_id, rows)
    return len(ended)


async def sweep(db: asyncpg.Pool, service: HoldService, batch: int) -> int:
    """Expire every due hold, batch after batch."""
    total = 0
    while (count := await expire_due(db, service, batch)) > 0:
        total += count
        if count < batch:
            break
    return total


async def measure(db: asyncpg.Pool) -> None:
    row = await db.fetchrow(
        "SELECT count(*) AS active, coalesce(extract(epoch FROM now() - min(expires_at)"
        " FILTER (WHERE expires_at <= now())), 0)::float8 AS lag FROM holds WHERE status = 'held'")
    HOLDS_ACTIVE.set(row["active"])
    SWEEPER_LAG.set(row["lag"])


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``sweeper`` role."""
    settings = resources.settings
    service = HoldService(resources)
    housekeeping = 0.0
    while not stop.is_set():
        try:
            if expired := await sweep(resources.db, service, settings.sweeper_batch_size):
                log.info("holds_expired", count=expired)
            await measure(resources.db)
            if time.monotonic() - housekeeping > _HOUSEKEEPING_S:
                housekeeping = time.monotonic()
                await purge_expired(resources.db, 10_000)
        except Exception as exc:  # noqa: BLE001 - a lost connection, a store restarting: next round
            log.warning("sweeper_round_failed", error=str(exc))
        await sleep_or_stop(stop, settings.sweeper_interval_s)


__all__ = ["expire_due", "run", "sweep"]
