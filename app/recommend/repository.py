"""PostgreSQL reads of recommendations: products available for a stay (live inventory), product facts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

_AVAILABLE = """
SELECT p.id::text AS id, p.kind::text AS kind, p.name, min(i.capacity - i.held - i.sold) AS free
FROM products p JOIN inventory i ON i.product_id = p.id
WHERE p.property_id = $1 AND p.active AND i.night >= $2 AND i.night < $3 AND ($5::text[] IS NULL OR p.id::text = ANY($5))
GROUP BY p.id, p.kind, p.name
HAVING count(*) = $4 AND min(i.capacity - i.held - i.sold) > 0
"""


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


async def property_exists(db: Any, property_id: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM properties WHERE id = $1", property_id))


async def available(db: Any, property_id: str, check_in: dt.date, check_out: dt.date,
                    only: list[str] | None = None) -> list[dict[str, Any]]:
    """Active products of the resort with at least one unit free on every night (live counts)."""
    rows = await db.fetch(_AVAILABLE, property_id, check_in, check_out, (check_out - check_in).days, only)
    return [dict(r) for r in rows]


async def product(db: Any, product_id: str) -> dict[str, Any] | None:
    if not is_uuid(product_id):
        return None
    row = await db.fetchrow("SELECT id::text AS id, property_id, kind::text AS kind, name, active FROM products"
                            " WHERE id = $1::uuid", product_id)
    return dict(row) if row else None


async def active_products(db: Any, ids: list[str]) -> list[dict[str, Any]]:
    ids = [i for i in ids if is_uuid(i)]
    if not ids:
        return []
    rows = await db.fetch("SELECT id::text AS id, kind::text AS kind, name FROM products"
                          " WHERE id = ANY($1::uuid[]) AND active", ids)
    return [dict(r) for r in rows]


async def same_property(db: Any, property_id: str, product_id: str, kind: str, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT id::text AS id, kind::text AS kind, name FROM products"
                          " WHERE property_id = $1 AND active AND id <> $2::uuid"
                          " ORDER BY (kind::text = $3) DESC, name, id LIMIT $4", property_id, product_id, kind, limit)
    return [dict(r) for r in rows]
