"""The ``sweeper`` role: every hold ends (``app.holds.sweeper``) and every saga step past its deadline is
re-sent or compensated (``sagas.orchestrator.deadlines``), whatever Redis, Kafka or a worker lost."""

from __future__ import annotations

import asyncio

import structlog

from app.holds import sweeper as holds_sweeper
from app.resources import Resources
from app.worker import sleep_or_stop
from sagas.metrics import BOOKINGS_BY_STATUS
from sagas.orchestrator import deadlines

log = structlog.get_logger("sagas.sweeper")


async def saga_deadlines(resources: Resources, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            while await deadlines(resources.db, resources.settings) > 0:
                pass
            for row in await resources.db.fetch("SELECT status, count(*) AS n FROM bookings GROUP BY status"):
                BOOKINGS_BY_STATUS.labels(row["status"]).set(row["n"])
        except Exception as exc:  # noqa: BLE001 - a lost connection, a store restarting: next round
            log.warning("saga_deadlines_failed", error=str(exc))
        await sleep_or_stop(stop, resources.settings.sweeper_interval_s)


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``sweeper`` role: holds and saga deadlines, side by side."""
    await asyncio.gather(holds_sweeper.run(resources, stop), saga_deadlines(resources, stop))
