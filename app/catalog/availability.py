"""Availability changes as their own events (topic ``inventory``, keyed by product): the nights and their
new counts, so the realtime and read sides follow inventory without re-projecting the whole product.
Written by holds (``app.holds``), bookings (``sagas``) and capacity changes (``writes.set_capacity``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from app.inventory.domain import free_of
from app.outbox import record_event

SOLD_OUT_PREFIX = "hold:soldout:"


def sold_out_mark(product_id: uuid.UUID | str, night: dt.date) -> str:
    """The Redis key marking a night known sold out. Holds set it to refuse further attempts before any
    database work; whoever gives units back (a release, a failed booking, a capacity raise) deletes it."""
    return f"{SOLD_OUT_PREFIX}{product_id}:{night.isoformat()}"


async def record_availability(conn: asyncpg.Connection, product_id: uuid.UUID, property_id: str, cause: str,
                              hold_id: uuid.UUID | None, rows: list[asyncpg.Record]) -> None:
    """One ``availability.changed`` event for the nights of one product (in the writing transaction)."""
    await record_event(conn, topic="inventory", aggregate_type="product", aggregate_id=str(product_id),
                       event_type="availability.changed", version=max(r["version"] for r in rows),
                       payload=availability_payload(product_id, property_id, cause, hold_id, rows))


def availability_payload(product_id: uuid.UUID, property_id: str, cause: str, hold_id: uuid.UUID | None,
                         rows: list[asyncpg.Record]) -> dict[str, Any]:
    return {
        "product_id": str(product_id), "property_id": property_id, "cause": cause,
        "hold_id": str(hold_id) if hold_id else None,
        "nights": [{"night": r["night"].isoformat(), "capacity": r["capacity"], "held": r["held"],
                    "sold": r["sold"], "out_of_service": r["out_of_service"], "free": free_of(r),
                    "version": r["version"]} for r in sorted(rows, key=lambda r: r["night"])],
    }
