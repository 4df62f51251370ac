"""Events of the contract (notes/EVENTS.md). ``hold`` makes them the way holds do: the inventory change and
its outbox row in one transaction (``held`` moves up or down on real rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from app.outbox import EventEnvelope, record_event
from sync.relay import envelope_of

_ROW = "SELECT * FROM outbox WHERE event_id = $1"


async def hold(db: asyncpg.Pool, property_id: str, product_id: Any, start: dt.date, nights: int,
               quantity: int = 1, cause: str = "hold.created") -> EventEnvelope:
    """Hold (quantity > 0) or release (< 0) units of ``nights`` nights; the ``availability.changed`` event."""
    days = [start + dt.timedelta(days=i) for i in range(nights)]
    async with db.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "UPDATE inventory SET held = held + $3, version = version + 1 WHERE product_id = $1"
            " AND night = ANY($2::date[]) RETURNING night, capacity, held, sold, version",
            uuid.UUID(str(product_id)), days, quantity)
        payload = {
            "product_id": str(product_id), "property_id": property_id, "cause": cause,
            "hold_id": str(uuid.uuid4()),
            "nights": [{"night": r["night"].isoformat(), "capacity": r["capacity"], "held": r["held"],
                        "sold": r["sold"], "free": r["capacity"] - r["held"] - r["sold"], "version": r["version"]}
                       for r in sorted(rows, key=lambda r: r["night"])],
        }
        event_id = await record_event(conn, topic="inventory", aggregate_type="product",
                                      aggregate_id=str(product_id), event_type="availability.changed",
                                      version=max(r["version"] for r in rows), payload=payload)
        return envelope_of(await conn.fetchrow(_ROW, event_id))


async def booking(db: asyncpg.Pool, property_id: str, booking_id: str, status: str, owner_id: str,
                  owner_kind: str = "user", partner_client_id: str | None = None, version: int = 1,
                  step: str | None = None) -> EventEnvelope:
    """A ``bookings`` event of the contract, in memory only: handed to the publisher directly, it never
    reaches the real topic, whose other consumers (booking views, partner feed) expect real bookings."""
    payload = {"booking_id": booking_id, "status": status, "step": step or status, "property_id": property_id,
               "owner_kind": owner_kind, "owner_id": owner_id, "partner_client_id": partner_client_id,
               "check_in": "2030-01-01", "check_out": "2030-01-02", "at": dt.datetime.now(dt.UTC).isoformat()}
    return EventEnvelope(event_id=uuid.uuid4(), topic="bookings", event_type=f"booking.{status}",
                         aggregate_type="booking", aggregate_id=booking_id, version=version,
                         occurred_at=dt.datetime.now(dt.UTC), payload=payload)
