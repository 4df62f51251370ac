"""PostgreSQL access for the booking saga: its steps on the booking row, the deadlines due, its commands and
replies (outbox), and what the payment provider answered. The booking itself is ``app.bookings.repository``."""

from __future__ import annotations

import uuid

import asyncpg

from app.bookings.repository import BOOKING_COLUMNS
from app.outbox import record_event

COMMANDS_TOPIC, REPLIES_TOPIC = "saga.commands", "saga.replies"


async def move(conn: asyncpg.Connection, booking_id: uuid.UUID, *, step: str, status: str, reason: str | None,
               attempt: int, step_timeout_s: float, code: str | None = None) -> asyncpg.Record:
    return await conn.fetchrow(
        f"UPDATE bookings SET step = $2, status = $3, reason = $4, attempt = $5,"
        f" step_deadline = now() + make_interval(secs => $6), confirmation_code = coalesce($7, confirmation_code),"
        f" updated_at = now(), version = version + 1 WHERE id = $1 RETURNING {BOOKING_COLUMNS}",
        booking_id, step, status, reason, attempt, step_timeout_s, code)


async def due(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {BOOKING_COLUMNS}, traceparent FROM bookings WHERE status IN ('pending', 'cancelling')"
        " AND step_deadline <= now()"
        " ORDER BY step_deadline LIMIT $1 FOR UPDATE SKIP LOCKED", limit)


async def send(conn: asyncpg.Connection, booking: asyncpg.Record, command: str) -> None:
    """The step's command to the participants, in the transaction that moved the saga."""
    await record_event(conn, topic=COMMANDS_TOPIC, aggregate_type="booking", aggregate_id=str(booking["id"]),
                       event_type=command, version=booking["version"],
                       payload={"booking_id": str(booking["id"]), "step": booking["step"], "attempt": booking["attempt"]})


async def reply(conn: asyncpg.Connection, booking_id: str, step: str, answer: str, reason: str | None = None) -> None:
    """A participant's answer to the orchestrator, in the transaction of its effect."""
    await record_event(conn, topic=REPLIES_TOPIC, aggregate_type="booking", aggregate_id=booking_id,
                       event_type=answer, version=0, payload={"booking_id": booking_id, "step": step, "reason": reason})


async def payment(conn: asyncpg.Pool | asyncpg.Connection, booking_id: uuid.UUID,
                  operation: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT status, provider_ref, amount, attempts FROM payments WHERE booking_id = $1"
                               " AND operation = $2 AND slot IS NULL", booking_id, operation)


async def record_payment(conn: asyncpg.Connection, booking: asyncpg.Record, operation: str, status: str,
                         reference: str | None, attempts: int, amount: int | None = None,
                         detail: str | None = None) -> None:
    """What the provider answered to one operation, with its reference. A failed one is replaced by what a
    later try got (its tries added up); an approved one is final."""
    await conn.execute(
        "INSERT INTO payments (booking_id, operation, status, amount, currency, provider_ref, attempts, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (booking_id, operation) WHERE slot IS NULL DO UPDATE SET"
        " status = EXCLUDED.status, amount = EXCLUDED.amount, provider_ref = EXCLUDED.provider_ref,"
        " attempts = payments.attempts + EXCLUDED.attempts, detail = EXCLUDED.detail, updated_at = now()"
        " WHERE payments.status = 'failed'",
        booking["id"], operation, status, booking["total_amount"] if amount is None else amount,
        booking["currency"], reference, attempts, detail)
