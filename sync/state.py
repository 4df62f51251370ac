"""Load the CURRENT state of a product from PostgreSQL (core, prices, inventory) and MongoDB
(details, reviews): the projector always rebuilds from here, never from the event's payload."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from pymongo.asynchronous.database import AsyncDatabase

from app import clock
from app.activity.popularity import popularity_of
from app.catalog.domain import price_nights_to_read, price_range
from app.catalog.rates import PRICED_NIGHTS, priced_nights
from sync.documents import ProductState

# One statement, so the product, its prices, inventory and components come from one snapshot.
_PRODUCT = """
SELECT p.id, p.property_id, p.kind::text AS kind, p.code, p.name, p.name_ko, p.max_occupancy,
       p.slot_start, p.slot_minutes, p.currency, p.active, p.version,
       pr.name AS property_name, pr.name_ko AS property_name_ko, pr.latitude, pr.longitude,
       pr.time_zone, pr.address, """ + PRICED_NIGHTS + """ AS priced_nights,
       (SELECT max(capacity) FROM inventory
        WHERE product_id = p.id AND night >= ($4::timestamptz AT TIME ZONE pr.time_zone)::date
          AND night < ($4::timestamptz AT TIME ZONE pr.time_zone)::date + $5::int) AS capacity,
       ARRAY(SELECT component_id::text FROM package_components
             WHERE package_id = p.id ORDER BY 1) AS components
FROM products p JOIN properties pr ON pr.id = p.property_id
WHERE p.id = $1
"""
_PROPERTY_FIELDS = ("property_name", "property_name_ko", "latitude", "longitude", "time_zone", "address")
_DERIVED_FIELDS = ("priced_nights", "capacity", "components")


async def load_core(conn: asyncpg.Connection | asyncpg.Pool, product_id: str,
                    horizon_days: int, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The PostgreSQL side of one product (None when it does not exist). Its prices are those of the
    ``horizon_days`` from today at the resort (``app.catalog.domain.price_range``, as the product page)."""
    try:
        uid = uuid.UUID(str(product_id))
    except ValueError:
        return None
    now = now or clock.now_at("UTC")  # the run's business date (RESORT_TODAY), at the real time of day
    row = await conn.fetchrow(_PRODUCT, uid, *price_nights_to_read(now, horizon_days), now, horizon_days)
    if row is None:
        return None
    record = dict(row)
    prices = price_range(priced_nights(record["priced_nights"]), clock.today(record["time_zone"], now),
                         horizon_days)
    prop = {"id": record["property_id"], "name": record["property_name"],
            "name_ko": record["property_name_ko"], "latitude": record["latitude"],
            "longitude": record["longitude"], "time_zone": record["time_zone"], "address": record["address"]}
    product = {k: v for k, v in record.items() if k not in _PROPERTY_FIELDS + _DERIVED_FIELDS}
    product["id"] = str(product["id"])
    return {"product": product, "property": prop, "price_min": prices.low,
            "price_max": prices.high, "capacity": record["capacity"],
            "components": list(record["components"])}


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
                     horizon_days: int, now: dt.datetime | None = None,
                     popularity_days: int | None = None) -> ProductState | None:
    """The whole current state of a product, or None when PostgreSQL does not know it (with its popularity
    over the last ``popularity_days`` days from the activity rollups when given)."""
    core = await load_core(db, product_id, horizon_days, now)
    if core is None:
        return None
    details, rating_avg, rating_count = await load_details(mongo, product_id)
    popularity = 0.0
    if popularity_days:
        today = dt.datetime.now(dt.UTC).date()  # the rollups' days are UTC days
        popularity = (await popularity_of(mongo, [product_id], today, popularity_days))[product_id]
    return ProductState(**core, details=details, rating_avg=rating_avg, rating_count=rating_count,
                        popularity=popularity)
