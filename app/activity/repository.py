"""What the ingesting role reads from PostgreSQL: a booking's lines and the resort of products (events
that do not carry them)."""

from __future__ import annotations

import re
from typing import Any

_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")


async def booking_lines(db: Any, booking_id: str) -> list[tuple[str, str]]:
    """(product id, rate plan code) of each hold the booking bought."""
    if not _UUID.match(booking_id):
        return []
    rows = await db.fetch("SELECT h.product_id::text AS product_id, h.rate_plan FROM booking_holds bh"
                          " JOIN holds h ON h.id = bh.hold_id WHERE bh.booking_id = $1::uuid", booking_id)
    return [(r["product_id"], r["rate_plan"]) for r in rows]


async def properties_of(db: Any, product_ids: list[str]) -> dict[str, str]:
    ids = [p for p in set(product_ids) if _UUID.match(p)]
    if not ids:
        return {}
    rows = await db.fetch("SELECT id::text AS id, property_id FROM products WHERE id = ANY($1::uuid[])", ids)
    return {r["id"]: r["property_id"] for r in rows}
