"""PostgreSQL access for bookings: the booking row and its holds, its timeline, its cancellation policy, and
its status for the read side and partners (``bookings`` topic, partner feed, audit). The saga's own steps,
commands and replies are ``sagas.repository``."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from app.outbox import record_event
from app.tracing import current_traceparent

BOOKING_COLUMNS = (
    "id, owner_kind, owner_id, property_id, status, step, attempt, reason, guest::text AS guest, payment_ref,"
    " refund_state, total_amount, currency, check_in, check_out, confirmation_code, step_deadline, deadline, created_at,"
    " updated_at, version, refund_amount, cancel_fee"
)
EVENTS_TOPIC = "bookings"


async def insert_booking(conn: asyncpg.Connection, v: dict[str, Any]) -> asyncpg.Record:
    return await conn.fetchrow(
        f"INSERT INTO bookings (owner_kind, owner_id, property_id, step, guest, payment_ref, total_amount, currency,"
        f" check_in, check_out, step_deadline, deadline, traceparent, id) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7,"
        f" $8, $9, $10, now() + make_interval(secs => $11), now() + make_interval(secs => $12), $13, $14)"
        f" RETURNING {BOOKING_COLUMNS}",
        v["owner_kind"], v["owner_id"], v["property_id"], v["step"], json.dumps(v["guest"]), v["payment_ref"],
        v["total_amount"], v["currency"], v["check_in"], v["check_out"], v["step_timeout_s"], v["deadline_s"],
        current_traceparent(), v["id"])


async def lock_holds(conn: asyncpg.Connection | asyncpg.Pool, hold_ids: list[uuid.UUID], *,
                     lock: bool = True) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, owner_kind, owner_id, property_id, status::text AS status, expires_at, booking_id, total_amount,"
        " currency, check_in, check_out FROM holds WHERE id = ANY($1::uuid[]) ORDER BY id"
        + (" FOR UPDATE" if lock else ""), hold_ids)


async def attach_holds(conn: asyncpg.Connection, booking: asyncpg.Record, hold_ids: list[uuid.UUID]) -> None:
    """The holds now belong to the saga: no sweeper expires them while it runs (it ends them itself)."""
    await conn.execute("INSERT INTO booking_holds (booking_id, hold_id) SELECT $1, unnest($2::uuid[])",
                       booking["id"], hold_ids)
    await conn.execute("UPDATE holds SET booking_id = $1, expires_at = greatest(expires_at, $3)"
                       " WHERE id = ANY($2::uuid[])", booking["id"], hold_ids, booking["deadline"])


async def get_booking(db: asyncpg.Pool | asyncpg.Connection, booking_id: uuid.UUID, *,
                      lock: bool = False) -> asyncpg.Record | None:
    suffix = " FOR UPDATE" if lock else ""
    return await db.fetchrow(f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1{suffix}", booking_id)


async def list_for(db: asyncpg.Pool, owner_kind: str, owner_id: str, limit: int,
                   offset: int) -> tuple[list[asyncpg.Record], int]:
    rows = await db.fetch(f"SELECT {BOOKING_COLUMNS}, count(*) OVER () AS total FROM bookings"
                          " WHERE owner_kind = $1 AND owner_id = $2 ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
                          owner_kind, owner_id, limit, offset)
    return rows, rows[0]["total"] if rows else 0


async def hold_ids_of(db: asyncpg.Pool | asyncpg.Connection, booking_id: uuid.UUID) -> list[uuid.UUID]:
    return [r["hold_id"] for r in await db.fetch(
        "SELECT hold_id FROM booking_holds WHERE booking_id = $1 ORDER BY hold_id", booking_id)]


async def timeline(conn: asyncpg.Connection, booking_id: uuid.UUID, step: str, outcome: str,
                   detail: dict[str, Any] | None = None) -> None:
    await conn.execute("INSERT INTO booking_timeline (booking_id, step, outcome, detail) VALUES ($1, $2, $3, $4::jsonb)",
                       booking_id, step, outcome, json.dumps(detail or {}))


async def timeline_of(db: asyncpg.Pool, booking_id: uuid.UUID) -> list[asyncpg.Record]:
    return await db.fetch("SELECT at, step, outcome, detail::text AS detail FROM booking_timeline"
                          " WHERE booking_id = $1 ORDER BY id", booking_id)


async def cancel(conn: asyncpg.Connection, booking_id: uuid.UUID, refund: int, fee: int,
                 step_timeout_s: float) -> asyncpg.Record:
    return await conn.fetchrow(
        f"UPDATE bookings SET status = 'cancelling', step = 'refund', attempt = 0, refund_amount = $2,"
        f" cancel_fee = $3, step_deadline = now() + make_interval(secs => $4), updated_at = now(),"
        f" version = version + 1, traceparent = coalesce($5, traceparent) WHERE id = $1 RETURNING {BOOKING_COLUMNS}",
        booking_id, refund, fee, step_timeout_s, current_traceparent())


async def policies(conn: asyncpg.Connection, booking_id: uuid.UUID) -> list[asyncpg.Record]:
    """Each hold of a booking with its price, its rate plan's cancellation policy and its resort's zone."""
    return await conn.fetch(
        "SELECT h.id AS hold_id, h.total_amount, h.check_in, rp.refundable, rp.free_cancel_hours, rp.late_cancel_fee_pct,"
        " pr.time_zone FROM booking_holds bh JOIN holds h ON h.id = bh.hold_id"
        " JOIN rate_plans rp ON rp.product_id = h.product_id AND rp.code = h.rate_plan"
        " JOIN properties pr ON pr.id = h.property_id WHERE bh.booking_id = $1", booking_id)


# What a partner's feed (GET /partner/events) says of each status its bookings reach: the saga's outcomes and
# what the front desk does with the stay afterwards.
PARTNER_FEED = {"pending": "booking.created", "confirmed": "booking.confirmed", "failed": "booking.failed",
                "cancelled": "booking.cancelled", "checked_in": "booking.checked_in",
                "checked_out": "booking.checked_out", "no_show": "booking.no_show"}


async def announce(conn: asyncpg.Connection, booking: asyncpg.Record, actor: str | None = None) -> None:
    """The booking's status for the read side, realtime and partners (``bookings`` topic)."""
    await record_event(conn, topic=EVENTS_TOPIC, aggregate_type="booking", aggregate_id=str(booking["id"]),
                       event_type=f"booking.{booking['status']}", version=booking["version"],
                       payload=booking_payload(booking))
    feed = PARTNER_FEED.get(booking["status"])
    if feed and booking["owner_kind"] == "partner":
        await conn.execute("INSERT INTO partner_events (client_id, booking_id, event_type, payload)"
                           " VALUES ($1, $2, $3, $4::jsonb)", booking["owner_id"], booking["id"], feed,
                           json.dumps(booking_payload(booking)))
    if actor:
        await conn.execute("INSERT INTO audit_log (actor, client_id, action, outcome, detail)"
                           " VALUES ($1, $2, $3, 'ok', $4::jsonb)", actor,
                           booking["owner_id"] if booking["owner_kind"] == "partner" else None,
                           f"booking.{booking['status']}", json.dumps({"booking_id": str(booking["id"])}))


def booking_payload(b: asyncpg.Record) -> dict[str, Any]:
    return {"booking_id": str(b["id"]), "status": b["status"], "step": b["step"], "reason": b["reason"],
            "property_id": b["property_id"], "owner_kind": b["owner_kind"], "owner_id": b["owner_id"],
            "partner_client_id": b["owner_id"] if b["owner_kind"] == "partner" else None,
            "check_in": b["check_in"].isoformat(), "check_out": b["check_out"].isoformat(),
            "confirmation_code": b["confirmation_code"], "at": dt.datetime.now(dt.UTC).isoformat()}


async def partner_events(db: asyncpg.Pool, client_id: str, after: int, limit: int) -> list[asyncpg.Record]:
    """A partner's events after the cursor, only from transactions older than every running one."""
    return await db.fetch(
        "SELECT id, booking_id, event_type, payload::text AS payload, created_at FROM partner_events"
        " WHERE client_id = $1 AND id > $2 AND txid < pg_snapshot_xmin(pg_current_snapshot())"
        " ORDER BY id LIMIT $3", client_id, after, limit)
