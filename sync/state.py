"""Load the CURRENT state of a product from PostgreSQL (core, prices, inventory) and MongoDB
(details, reviews): the projector always rebuilds from here, never from the event's payload."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from pymongo.asynchronous.database import AsyncDatabase

from sync.documents import ProductState

_PRODUCT = """
SELECT p.id, p.property_id, p.kind::text AS kind, p.code, p.name, p.name_ko, p.max_occupancy,
       p.slot_start, p.slot_minutes, p.currency, p.active, p.version,
       pr.name AS property_name, pr.name_ko AS property_name_ko, pr.latitude, pr.longitude,
       pr.time_zone, pr.address
FROM products p JOIN properties pr ON pr.id = p.property_id
WHERE p.id = $1
"""
_PRICES = """
SELECT min(r.amount) AS price_min, max(r.amount) AS price_max
FROM nightly_rates r JOIN rate_plans rp ON rp.id = r.rate_plan_id
WHERE rp.product_id = $1 AND r.night >= $2 AND r.night < $3 AND NOT r.closed
"""
_CAPACITY = "SELECT max(capacity) FROM inventory WHERE product_id = $1 AND night >= $2 AND night < $3"
_COMPONENTS = "SELECT component_id::text FROM package_components WHERE package_id = $1 ORDER BY 1"
_PROPERTY_FIELDS = ("property_name", "property_name_ko", "latitude", "longitude", "time_zone", "address")


async def load_core(conn: asyncpg.Connection | asyncpg.Pool, product_id: str,
                    horizon_days: int, today: dt.date | None = None) -> dict[str, Any] | None:
    """The PostgreSQL side of one product (None when it does not exist)."""
    try:
        uid = uuid.UUID(str(product_id))
    except ValueError:
        return None
    row = await conn.fetchrow(_PRODUCT, uid)
    if row is None:
        return None
    start = today or dt.date.today()
    end = start + dt.timedelta(days=horizon_days)
    prices = await conn.fetchrow(_PRICES, uid, start, end)
    capacity = await conn.fetchval(_CAPACITY, uid, start, end)
    components = [r[0] for r in await conn.fetch(_COMPONENTS, uid)]
    record = dict(row)
    prop = {"id": record["property_id"], "name": record["property_name"],
            "name_ko": record["property_name_ko"], "latitude": record["latitude"],
            "longitude": record["longitude"], "time_zone": record["time_zone"], "address": record["address"]}
    product = {k: v for k, v in record.items() if k not in _PROPERTY_FIELDS}
    product["id"] = str(product["id"])
    return {"product": product, "property": prop, "price_min": prices["price_min"],
            "price_max": prices["price_max"], "capacity": capacity, "components": components}


async def load_details(mongo: AsyncDatabase,
                       product_id: str) -> tuple[dict[str, Any] | None, float | None, int]:
    """The MongoDB side: ProductDetails (without ``_id``) and the average rating with its count."""
    details = await mongo["product_details"].find_one({"product_id": product_id},
                                                      {"_id": 0, "revision_id": 0})
    cursor = await mongo["reviews"].aggregate([
        {"$match": {"product_id": product_id}},
        {"$group": {"_id": None, "avg": {"$avg": "$rating"}, "count": {"$sum": 1}}},
    ])
    groups = await cursor.to_list(length=1)
    if not groups:
        return details, None, 0
    return details, groups[0]["avg"], int(groups[0]["count"])


async def load_state(db: asyncpg.Pool, mongo: AsyncDatabase, product_id: str,
                     horizon_days: int) -> ProductState | None:
    """The whole current state of a product, or None when PostgreSQL does not know it."""
    core = await load_core(db, product_id, horizon_days)
    if core is None:
        return None
    details, rating_avg, rating_count = await load_details(mongo, product_id)
    return ProductState(**core, details=details, rating_avg=rating_avg, rating_count=rating_count)
