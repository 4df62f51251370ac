"""PostgreSQL access for holds: guarded, fenced inventory moves, hold rows, their events and audit rows."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from app.catalog.availability import record_availability as record_availability_event
from app.holds.domain import Line
from app.outbox import record_event

HOLD_COLUMNS = (
    "id, owner_kind, owner_id, product_id, property_id, check_in, check_out, quantity, guests, rate_plan,"
    " total_amount, currency, status::text AS status, created_at, expires_at, ended_at, booking_id,"
    " nights::text AS nights, version"
)
_PRODUCT = """
SELECT p.id, p.property_id, p.kind::text AS kind, p.max_occupancy, p.currency, p.active, pr.time_zone,
       EXISTS (SELECT 1 FROM rate_plans rp WHERE rp.product_id = p.id AND rp.code = $2) AS has_plan,
       coalesce((SELECT jsonb_object_agg(c.component_id::text, c.quantity) FROM package_components c
                 WHERE c.package_id = p.id), '{}')::text AS components
FROM products p JOIN properties pr ON pr.id = p.property_id WHERE p.id = $1
"""


async def product_for_hold(conn: asyncpg.Connection, product_id: uuid.UUID, plan: str) -> asyncpg.Record | None:
    """A product with what a hold needs of it, in one round trip: its property's time zone, whether the
    rate plan exists, its components (a package) as ``{component id: quantity}`` JSON."""
    return await conn.fetchrow(_PRODUCT, product_id, plan)


def _columns(lines: list[Line]) -> tuple[list[uuid.UUID], list[dt.date], list[int]]:
    return ([uuid.UUID(x.product_id) for x in lines], [x.night for x in lines], [x.units for x in lines])


async def set_status(conn: asyncpg.Connection, hold_id: uuid.UUID, status: str, was: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"UPDATE holds SET status = $2::hold_status, ended_at = coalesce(ended_at, now()), version = version + 1"
        f" WHERE id = $1 AND status = $3::hold_status RETURNING {HOLD_COLUMNS}", hold_id, status, was)


async def active_count(conn: asyncpg.Connection, owner_kind: str, owner_id: str) -> int:
    """Active holds of one owner, counted under a per-owner transaction lock (no race past the limit)."""
    await conn.execute("SELECT pg_advisory_xact_lock(7250200, hashtext($1))", f"{owner_kind}:{owner_id}")
    return await conn.fetchval(
        "SELECT count(*) FROM holds WHERE owner_kind = $1 AND owner_id = $2 AND status = 'held'"
        " AND expires_at > now() AND booking_id IS NULL", owner_kind, owner_id)  # a hold being paid is not hoarded


async def insert_hold(conn: asyncpg.Connection, values: dict[str, Any], lines: list[Line]) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"INSERT INTO holds (owner_kind, owner_id, product_id, property_id, check_in, check_out, quantity,"
        f" guests, rate_plan, total_amount, currency, nights, expires_at)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13) RETURNING {HOLD_COLUMNS}",
        values["owner_kind"], values["owner_id"], values["product_id"], values["property_id"],
        values["check_in"], values["check_out"], values["quantity"], values["guests"], values["rate_plan"],
        values["total_amount"], values["currency"], json.dumps(values["nights"]), values["expires_at"],
    )
    products, nights, units = _columns(lines)
    await conn.execute(
        "INSERT INTO hold_lines (hold_id, product_id, night, units)"
        " SELECT $1, p, n, u FROM unnest($2::uuid[], $3::date[], $4::int[]) AS l(p, n, u)",
        row["id"], products, nights, units)
    return row


async def get_hold(conn: asyncpg.Connection | asyncpg.Pool, hold_id: uuid.UUID, *,
                   lock: bool = False) -> asyncpg.Record | None:
    suffix = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(f"SELECT {HOLD_COLUMNS} FROM holds WHERE id = $1{suffix}", hold_id)


async def end_hold(conn: asyncpg.Connection, hold_id: uuid.UUID, status: str) -> asyncpg.Record | None:
    """Move a live hold to ``status``; None if it had already ended."""
    return await conn.fetchrow(
        f"UPDATE holds SET status = $2::hold_status, ended_at = now(), version = version + 1"
        f" WHERE id = $1 AND status = 'held' RETURNING {HOLD_COLUMNS}", hold_id, status)


async def list_active(conn: asyncpg.Pool, owner_kind: str, owner_id: str, limit: int,
                      offset: int) -> tuple[list[asyncpg.Record], int]:
    rows = await conn.fetch(
        f"SELECT {HOLD_COLUMNS}, count(*) OVER () AS total FROM holds"
        " WHERE owner_kind = $1 AND owner_id = $2 AND status = 'held'"
        " ORDER BY created_at DESC, id LIMIT $3 OFFSET $4", owner_kind, owner_id, limit, offset)
    return rows, rows[0]["total"] if rows else 0


async def due_holds(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Live holds past their expiry, locked for this transaction; other sweepers skip them."""
    return await conn.fetch(
        f"SELECT {HOLD_COLUMNS} FROM holds WHERE status = 'held' AND expires_at <= now() AND booking_id IS NULL"
        " ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED", limit)


async def record_changes(conn: asyncpg.Connection, hold: asyncpg.Record, event: str, actor: str,
                         client_id: str | None, rows: list[asyncpg.Record]) -> None:
    """The hold's event and audit row, and one availability event per product whose nights moved."""
    await record_hold(conn, hold, event, actor, client_id)
    await record_availability(conn, hold, event, rows)


async def record_hold(conn: asyncpg.Connection, hold: asyncpg.Record, event: str, actor: str,
                      client_id: str | None) -> None:
    await record_event(conn, topic="holds", aggregate_type="hold", aggregate_id=str(hold["id"]),
                       event_type=f"hold.{event}", version=hold["version"], payload=hold_payload(hold))
    await conn.execute(
        "INSERT INTO audit_log (actor, client_id, action, outcome, detail) VALUES ($1, $2, $3, 'ok', $4::jsonb)",
        actor, client_id, f"hold.{event}", json.dumps({"hold_id": str(hold["id"]),
                                                       "product_id": str(hold["product_id"])}))


async def record_availability(conn: asyncpg.Connection, hold: asyncpg.Record, event: str,
                              rows: list[asyncpg.Record]) -> None:
    by_product: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for row in rows:
        by_product.setdefault(row["product_id"], []).append(row)
    for product_id, nights in sorted(by_product.items()):
        await record_availability_event(conn, product_id, hold["property_id"], f"hold.{event}", hold["id"], nights)


def hold_payload(hold: asyncpg.Record) -> dict[str, Any]:
    return {
        "hold_id": str(hold["id"]), "property_id": hold["property_id"], "product_id": str(hold["product_id"]),
        "check_in": hold["check_in"].isoformat(), "check_out": hold["check_out"].isoformat(),
        "quantity": hold["quantity"], "guests": hold["guests"], "status": hold["status"],
        "owner_kind": hold["owner_kind"], "owner_id": hold["owner_id"],
        "expires_at": hold["expires_at"].isoformat(), "total_amount": hold["total_amount"],
        "currency": hold["currency"].strip(),
    }
