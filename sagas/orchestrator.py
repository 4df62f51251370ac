"""The ``saga`` role: the booking saga's orchestrator. Where the saga's steps are decided and applied.

It consumes participants' replies (Kafka ``saga.replies``, consumer group shared by every instance: one
dying hands its partitions to the others). Each reply is applied once (inbox, in the same transaction),
moves the booking by :mod:`sagas.domain`, records the timeline, and sends the next command or the
booking's event through the outbox - state and message in one transaction.

Deadlines (``deadlines``) run in the ``sweeper`` role: a step past its deadline has its command re-sent
(the broker may have lost it), a bounded number of times, then the saga compensates; compensations are
re-sent until they finish.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import asyncpg
import structlog

from app.bookings import repository as booking_repo
from app.consumer import consume
from app.outbox import EventEnvelope
from app.resources import Resources
from app.settings import Settings
from app.tracing import span
from app.unit_of_work import UnitOfWork
from sagas import repository as repo
from sagas.domain import COMMANDS, Transition, confirmation_code, on_deadline, on_reply
from sagas.metrics import SAGA_RESENDS, SAGA_STEP_SECONDS, SAGA_TRANSITIONS

log = structlog.get_logger("sagas.orchestrator")
ACTOR = "system:saga"
RESERVE = 0.25
CONSUMER = "saga-orchestrator"


async def start(conn: asyncpg.Connection, booking: asyncpg.Record, actor: str) -> None:
    """The saga's first step (inside the transaction that reserved the booking): send ``convert``."""
    await booking_repo.timeline(conn, booking["id"], "reserve", "reserved")
    await repo.send(conn, booking, "inventory.convert")
    await booking_repo.announce(conn, booking, actor)
    SAGA_TRANSITIONS.labels("reserve", "pending").inc()


async def apply(conn: asyncpg.Connection, settings: Settings, booking: asyncpg.Record, move: Transition,
                outcome: str) -> asyncpg.Record:
    """Move the saga (in the caller's transaction): state, timeline, next command, the booking's event."""
    code = confirmation_code() if move.status == "confirmed" else None
    moved = await repo.move(conn, booking["id"], step=move.step, status=move.status, reason=move.reason,
                            attempt=0, step_timeout_s=settings.saga_step_timeout_s, code=code)
    await booking_repo.timeline(conn, booking["id"], booking["step"], outcome, {"reason": move.reason} if move.reason else {})
    if move.command:
        await repo.send(conn, moved, move.command)
    if moved["status"] != booking["status"]:
        await booking_repo.announce(conn, moved, ACTOR)
    SAGA_TRANSITIONS.labels(booking["step"], outcome).inc()
    SAGA_STEP_SECONDS.labels(booking["step"]).observe(max(0.0, time.time() - booking["updated_at"].timestamp()))
    log.info("saga_step", booking_id=str(booking["id"]), step=booking["step"], outcome=outcome,
             next=move.step, status=moved["status"])
    return moved


async def on_message(db: asyncpg.Pool, settings: Settings, envelope: EventEnvelope) -> None:
    """One participant reply, applied once."""
    booking_id = uuid.UUID(envelope.payload["booking_id"])
    async with UnitOfWork(db) as uow:
        conn = uow.conn
        fresh = await conn.fetchval("INSERT INTO inbox (consumer, message_id) VALUES ($1, $2)"
                                    " ON CONFLICT DO NOTHING RETURNING true", CONSUMER, envelope.event_id)
        booking = await booking_repo.get_booking(conn, booking_id, lock=True) if fresh else None
        if booking is None or envelope.payload.get("step") != booking["step"]:
            return  # a duplicate, or an answer to a step the saga has left
        move = on_reply(booking["step"], booking["status"], envelope.event_type, envelope.payload.get("reason"),
                        booking["reason"])
        if move is not None:
            await apply(conn, settings, booking, move, envelope.event_type)


async def deadlines(db: asyncpg.Pool, settings: Settings, batch: int = 50) -> int:
    """Steps past their deadline: re-send, or compensate; several sweepers share (SKIP LOCKED)."""
    async with UnitOfWork(db) as uow:
        conn = uow.conn
        due = await repo.due(conn, batch)
        now = await conn.fetchval("SELECT now()")
        for booking in due:
            # the booking's own trace: what the step sends on (a command, a compensation) continues it
            with span(f"deadline {booking['step']}", booking["traceparent"],
                      attributes={"resort.booking_id": str(booking["id"])}):
                await _on_deadline(conn, settings, booking, now)
    return len(due)


async def _on_deadline(conn: asyncpg.Connection, settings: Settings, booking: asyncpg.Record,
                       now: dt.datetime) -> None:
    # the last quarter of the saga's time is kept for its compensations, so it ends in time
    overdue = booking["deadline"] - dt.timedelta(seconds=settings.saga_deadline_s * RESERVE) <= now
    attempt = settings.saga_max_resends if overdue else booking["attempt"]
    move = on_deadline(booking["step"], booking["status"], attempt, settings.saga_max_resends)
    if move is None:
        await _resend(conn, settings, booking)
    else:
        await apply(conn, settings, booking, move, "deadline")


async def _resend(conn: asyncpg.Connection, settings: Settings, booking: asyncpg.Record) -> None:
    moved = await repo.move(conn, booking["id"], step=booking["step"], status=booking["status"],
                            reason=booking["reason"], attempt=booking["attempt"] + 1,
                            step_timeout_s=settings.saga_step_timeout_s)
    await booking_repo.timeline(conn, booking["id"], booking["step"], "resent", {"attempt": moved["attempt"]})
    await repo.send(conn, moved, COMMANDS[booking["step"]])
    SAGA_RESENDS.labels(booking["step"]).inc()


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``saga`` role."""
    settings = resources.settings

    async def handle(envelope: EventEnvelope) -> None:
        await on_message(resources.db, settings, envelope)

    await consume(settings, repo.REPLIES_TOPIC, settings.saga_group, handle, stop)
