"""PostgreSQL access to properties, products and package components (asyncpg, plain SQL).

Writers lock a product (or property) row ``FOR NO KEY UPDATE``: it serialises writers of that row but,
unlike ``FOR UPDATE``, does not block the foreign-key checks of rows referencing it (inventory, package
components), so a package update and a component update cannot deadlock each other.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from app.catalog.domain import DEFAULT_TIME_ZONE
from app.catalog.rates import PRICED_NIGHTS

PROPERTY_COLUMNS = "id, name, name_ko, time_zone, latitude, longitude, address, version, updated_at"
PRODUCT_COLUMNS = (
    "id, property_id, kind::text AS kind, code, name, name_ko, max_occupancy, slot_start, slot_minutes,"
    " currency, active, version, updated_at"
)
_QUALIFIED = ", ".join(
    f"p.{c.strip()}" for c in PRODUCT_COLUMNS.replace("kind::text AS kind", "kind").split(",")
).replace("p.kind", "p.kind::text AS kind")
_PROPERTY_FIELDS = {"name", "name_ko", "time_zone", "latitude", "longitude", "address"}
_PRODUCT_FIELDS = {"name", "name_ko", "max_occupancy", "slot_start", "slot_minutes", "active"}


def as_uuid(value: str) -> uuid.UUID | None:
    """A product id from a path or body, or None if it is not a uuid (then it cannot exist)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def insert_property(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record | None:
    """Insert a property; None if its id is taken."""
    return await conn.fetchrow(
        f"INSERT INTO properties (id, name, name_ko, time_zone, latitude, longitude, address)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING {PROPERTY_COLUMNS}",
        values["id"],
        values["name"],
        values.get("name_ko"),
        values.get("time_zone", DEFAULT_TIME_ZONE),
        values["latitude"],
        values["longitude"],
        values.get("address"),
    )


async def get_property(
    conn: asyncpg.Connection, property_id: str, *, lock: bool = False
) -> asyncpg.Record | None:
    suffix = " FOR NO KEY UPDATE" if lock else ""
    return await conn.fetchrow(
        f"SELECT {PROPERTY_COLUMNS} FROM properties WHERE id = $1{suffix}", property_id
    )


async def update_property(
    conn: asyncpg.Connection, property_id: str, changes: dict[str, Any]
) -> asyncpg.Record:
    """Apply ``changes`` and bump the property's version."""
    return await _update_versioned(conn, "properties", PROPERTY_COLUMNS, _PROPERTY_FIELDS, property_id, changes)


async def list_properties(
    conn: asyncpg.Connection, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    rows = await conn.fetch(
        f"SELECT {PROPERTY_COLUMNS} FROM properties ORDER BY id LIMIT $1 OFFSET $2", limit, offset
    )
    return rows, await conn.fetchval("SELECT count(*) FROM properties")


async def insert_product(
    conn: asyncpg.Connection, property_id: str, values: dict[str, Any]
) -> asyncpg.Record | None:
    """Insert a product at version 1; None if the property already has its code."""
    return await conn.fetchrow(
        f"INSERT INTO products (id, property_id, kind, code, name, name_ko, max_occupancy, slot_start,"
        f" slot_minutes, currency) VALUES (coalesce($1, gen_random_uuid()), $2, $3::product_kind, $4, $5,"
        f" $6, $7, $8, $9, $10) ON CONFLICT (property_id, code) DO NOTHING RETURNING {PRODUCT_COLUMNS}",
        values.get("id"),
        property_id,
        values["kind"],
        values["code"],
        values["name"],
        values.get("name_ko"),
        values.get("max_occupancy", 2),
        values.get("slot_start"),
        values.get("slot_minutes"),
        values.get("currency", "KRW"),
    )


async def get_product(
    conn: asyncpg.Connection, product_id: str, *, lock: bool = False
) -> asyncpg.Record | None:
    pid = as_uuid(product_id)
    if pid is None:
        return None
    suffix = " FOR NO KEY UPDATE" if lock else ""
    return await conn.fetchrow(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1{suffix}", pid)


async def update_product(
    conn: asyncpg.Connection, product_id: uuid.UUID, changes: dict[str, Any]
) -> asyncpg.Record:
    """Apply ``changes`` and bump the product's version (the aggregate version)."""
    return await _update_versioned(conn, "products", PRODUCT_COLUMNS, _PRODUCT_FIELDS, product_id, changes)


async def _update_versioned(
    conn: asyncpg.Connection,
    table: str,
    returning: str,
    allowed: set[str],
    row_id: Any,
    changes: dict[str, Any],
) -> asyncpg.Record:
    """``UPDATE`` the ``allowed`` fields named in ``changes``, bump ``version`` and ``updated_at``."""
    fields = [f for f in changes if f in allowed]
    sets = "".join(f", {f} = ${i + 2}" for i, f in enumerate(fields))
    return await conn.fetchrow(
        f"UPDATE {table} SET version = version + 1, updated_at = now(){sets}"
        f" WHERE id = $1 RETURNING {returning}",
        row_id,
        *(changes[f] for f in fields),
    )


async def bump_product(conn: asyncpg.Connection, product_id: uuid.UUID) -> int:
    """Bump the product's version after a change to one of its parts; returns the new version."""
    return await conn.fetchval(
        "UPDATE products SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version",
        product_id,
    )


async def lock_products_of_property(conn: asyncpg.Connection, property_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, version FROM products WHERE property_id = $1 ORDER BY id FOR NO KEY UPDATE", property_id
    )


async def product_ids_of_property(conn: asyncpg.Connection, property_id: str) -> list[uuid.UUID]:
    rows = await conn.fetch("SELECT id FROM products WHERE property_id = $1", property_id)
    return [r["id"] for r in rows]


async def list_products(
    conn: asyncpg.Connection, property_id: str, kind: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """Active products of a property (optionally of one kind), by kind then code, and their total."""
    where = "property_id = $1 AND active AND ($2::product_kind IS NULL OR kind = $2::product_kind)"
    total = await conn.fetchval(f"SELECT count(*) FROM products WHERE {where}", property_id, kind)
    rows = await conn.fetch(
        f"SELECT {PRODUCT_COLUMNS} FROM products WHERE {where} ORDER BY kind, code LIMIT $3 OFFSET $4",
        property_id,
        kind,
        limit,
        offset,
    )
    return rows, total


async def set_components(
    conn: asyncpg.Connection, package_id: uuid.UUID, components: list[tuple[uuid.UUID, int]]
) -> None:
    await conn.execute("DELETE FROM package_components WHERE package_id = $1", package_id)
    await conn.executemany(
        "INSERT INTO package_components (package_id, component_id, quantity) VALUES ($1, $2, $3)",
        [(package_id, cid, qty) for cid, qty in components],
    )


async def components_of(conn: asyncpg.Connection, package_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT c.component_id, c.quantity, p.code, p.name, p.name_ko, p.kind::text AS kind"
        " FROM package_components c JOIN products p ON p.id = c.component_id"
        " WHERE c.package_id = $1 ORDER BY p.code",
        package_id,
    )


async def packages_containing(conn: asyncpg.Connection, component_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.fetch("SELECT package_id FROM package_components WHERE component_id = $1", component_id)
    return [r["package_id"] for r in rows]


async def view_row(
    conn: asyncpg.Connection, product_id: uuid.UUID, price_from: dt.date, price_to: dt.date
) -> asyncpg.Record | None:
    """One round trip for a product view: the product, its property, rate plans and the nights of
    ``[price_from, price_to)`` its "from" price reads."""
    return await conn.fetchrow(
        f"""
        SELECT {_QUALIFIED},
               pr.name AS property_name, pr.name_ko AS property_name_ko, pr.time_zone,
               pr.latitude, pr.longitude,
               {PRICED_NIGHTS} AS priced_nights,
               (SELECT coalesce(json_agg(json_build_object('code', code, 'name', name,
                                                           'refundable', refundable) ORDER BY code), '[]')
                  FROM rate_plans WHERE product_id = p.id)::text AS rate_plans
          FROM products p JOIN properties pr ON pr.id = p.property_id
         WHERE p.id = $1
        """,
        product_id,
        price_from,
        price_to,
    )


async def products_by_ids(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ANY($1::uuid[])", ids)


async def stay_of(
    conn: asyncpg.Connection, booking_id: uuid.UUID, subject: str, product_id: uuid.UUID
) -> asyncpg.Record | None:
    """A guest's booking that took a hold of the product: its status, check-out and its resort's time zone."""
    return await conn.fetchrow(
        """
        SELECT b.status, b.check_out, p.time_zone FROM bookings b
        JOIN properties p ON p.id = b.property_id
        WHERE b.id = $1 AND b.owner_kind = 'user' AND b.owner_id = $2
          AND EXISTS (SELECT 1 FROM booking_holds bh JOIN holds h ON h.id = bh.hold_id
                      WHERE bh.booking_id = b.id AND h.product_id = $3)
        """,
        booking_id,
        subject,
        product_id,
    )
