"""PostgreSQL reads of live availability: units free and the lowest price per product and night.

A package has no inventory of its own: its free units are the scarcest component's (in whole packages,
as :func:`app.catalog.domain.package_free`) and its per-night version is the sum of its components'
versions, which grows whenever any of them changes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from app.catalog.domain import package_free
from app.inventory.domain import free_of

_LOWEST = """
SELECT p.product_id, r.night, min(r.amount) AS price FROM nightly_rates r
JOIN rate_plans p ON p.id = r.rate_plan_id
WHERE p.product_id = ANY($1::uuid[]) AND r.night = ANY($2::date[]) AND NOT r.closed
GROUP BY p.product_id, r.night
"""
_INVENTORY = """
SELECT product_id, night, capacity, held, sold, out_of_service, version FROM inventory
WHERE product_id = ANY($1::uuid[]) AND night = ANY($2::date[])
"""
_COMPONENTS = """
SELECT c.package_id, c.component_id, c.quantity FROM package_components c
JOIN products p ON p.id = c.package_id
WHERE p.active AND (c.package_id IN (
    SELECT package_id FROM package_components WHERE component_id = ANY($1::uuid[]))
   OR c.package_id = ANY($1::uuid[]))
"""
_PRODUCTS = """
SELECT id, kind::text AS kind, code, name, name_ko, currency FROM products
WHERE property_id = $1 AND active ORDER BY kind, code
"""


def item(product_id: Any, night: dt.date, free: int, version: int, price: int | None) -> dict[str, Any]:
    return {"product_id": str(product_id), "night": night.isoformat(), "free": free, "price": price,
            "version": version}


async def _lowest(conn: asyncpg.Connection, ids: list[uuid.UUID], nights: list[dt.date]) -> dict[tuple, int]:
    rows = await conn.fetch(_LOWEST, ids, nights)
    return {(r["product_id"], r["night"]): r["price"] for r in rows}


async def _packages(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """The active packages made of (or among) ``ids``: package -> {component: quantity}."""
    packages: dict[uuid.UUID, dict[str, int]] = {}
    for r in await conn.fetch(_COMPONENTS, ids):
        packages.setdefault(r["package_id"], {})[str(r["component_id"])] = r["quantity"]
    return packages


async def items_for(conn: asyncpg.Connection, product_ids: list[uuid.UUID], nights: list[dt.date],
                    inventory: dict[tuple[uuid.UUID, dt.date], tuple[int, int]] | None = None
                    ) -> list[dict[str, Any]]:
    """Availability items of ``product_ids`` (inventory-holding products) and of every package built on
    them, for ``nights``. ``inventory`` (product, night) -> (free, version) overrides what is read."""
    packages = await _packages(conn, product_ids)
    components = {uuid.UUID(c) for parts in packages.values() for c in parts}
    plain = [p for p in product_ids if p not in packages]
    rows = await conn.fetch(_INVENTORY, list({*plain, *components}), nights)
    stock = {(r["product_id"], r["night"]): (free_of(r), r["version"])
             for r in rows}
    stock.update(inventory or {})
    prices = await _lowest(conn, [*plain, *packages], nights)
    items = [item(p, n, *_pair(stock.get((p, n))), prices.get((p, n))) for p in plain for n in nights
             if (p, n) in stock]
    for package, parts in packages.items():
        component_free = {c: {n: stock.get((uuid.UUID(c), n), (0, 0))[0] for n in nights} for c in parts}
        free = package_free(nights, component_free, parts)
        for n in nights:
            version = sum(stock.get((uuid.UUID(c), n), (0, 0))[1] for c in parts)
            items.append(item(package, n, free[n], version, prices.get((package, n))))
    return items


def _pair(value: tuple[int, int] | None) -> tuple[int, int]:
    return value or (0, 0)


async def property_products(conn: asyncpg.Connection | asyncpg.Pool, property_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(_PRODUCTS, property_id)


def product_names(products: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [{"product_id": str(p["id"]), "kind": p["kind"], "code": p["code"], "name": p["name"],
             "name_ko": p["name_ko"], "currency": p["currency"].strip()} for p in products]


async def availability_snapshot(db: asyncpg.Pool, property_id: str, start: dt.date, end: dt.date
                                ) -> dict[str, Any] | None:
    """Every active product of the property with free units and lowest price per night of [start, end)."""
    nights = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    async with db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        products = await property_products(conn, property_id)
        if not products and await conn.fetchval("SELECT 1 FROM properties WHERE id = $1", property_id) is None:
            return None
        items = await items_for(conn, [p["id"] for p in products if p["kind"] != "package"]
                                + [p["id"] for p in products if p["kind"] == "package"], nights)
    return {
        "property_id": property_id, "from": start.isoformat(), "to": end.isoformat(),
        "products": product_names(products),
        "items": items,
    }


async def occupancy_rows(db: asyncpg.Pool, property_id: str, start: dt.date, days: int) -> list[dict[str, Any]]:
    """Inventory rows (capacity, held, sold, version) of the property's room types for ``days`` nights."""
    rows = await db.fetch(
        "SELECT i.product_id, i.night, i.capacity, i.held, i.sold, i.out_of_service, i.version FROM inventory i"
        " JOIN products p ON p.id = i.product_id WHERE p.property_id = $1 AND p.active AND p.kind = 'room_type'"
        " AND i.night >= $2 AND i.night < $3 ORDER BY i.night, i.product_id",
        property_id, start, start + dt.timedelta(days=days),
    )
    return [{"product_id": str(r["product_id"]), "night": r["night"].isoformat(), "capacity": r["capacity"],
             "held": r["held"], "sold": r["sold"], "out_of_service": r["out_of_service"], "version": r["version"]}
            for r in rows]
