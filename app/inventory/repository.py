"""The only SQL that moves inventory counts. Every statement is the guarded form of one rule of
``app.inventory.domain`` (named beside it), so concurrent writers keep the invariants without reading
first; rows come back only where the guard held. Rows are locked in one global order (product, night)
before a multi-row move, so two writers never deadlock. Callers own the transaction (their unit of work).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from app.inventory.domain import Night

# What every move returns: enough for availability events and for the callers' refusal reasons.
COLUMNS = "product_id, night, capacity, held, sold, out_of_service, version"
_I_COLUMNS = ", ".join(f"i.{c.strip()}" for c in COLUMNS.split(","))
FREE_SQL = "greatest(capacity - held - sold - out_of_service, 0)"  # domain.Night.free

# domain.Night.take, fenced: never with a lease token older than the last one accepted.
_TAKE = f"""
UPDATE inventory i SET held = i.held + l.units, version = i.version + 1,
       fence = greatest(i.fence, coalesce(l.fence, 0))
FROM unnest($1::uuid[], $2::date[], $3::int[], $4::bigint[]) AS l(product_id, night, units, fence)
WHERE i.product_id = l.product_id AND i.night = l.night
  AND i.held + i.sold + i.out_of_service + l.units <= i.capacity
  AND (l.fence IS NULL OR i.fence <= l.fence)
RETURNING {_I_COLUMNS}, i.fence
"""
_LOCK = f"""
SELECT {_I_COLUMNS}, i.fence FROM inventory i
JOIN unnest($1::uuid[], $2::date[]) AS l(product_id, night) ON i.product_id = l.product_id AND i.night = l.night
ORDER BY i.product_id, i.night FOR NO KEY UPDATE OF i
"""
_LOCK_HOLD = ("SELECT 1 FROM inventory i JOIN hold_lines l ON i.product_id = l.product_id AND i.night = l.night"
              " WHERE l.hold_id = $1 ORDER BY i.product_id, i.night FOR NO KEY UPDATE OF i")
# domain.Night.release
_RELEASE = f"""
UPDATE inventory i SET held = i.held - l.units, version = i.version + 1
FROM hold_lines l WHERE l.hold_id = $1 AND i.product_id = l.product_id AND i.night = l.night AND i.held >= l.units
RETURNING {_I_COLUMNS}
"""
# domain.Night.sell
_SELL = f"""
UPDATE inventory i SET held = i.held - l.units, sold = i.sold + l.units, version = i.version + 1
FROM hold_lines l WHERE l.hold_id = $1 AND i.product_id = l.product_id AND i.night = l.night AND i.held >= l.units
RETURNING {_I_COLUMNS}
"""
# domain.Night.unsell, for a hold's lines
_UNSELL = f"""
UPDATE inventory i SET sold = i.sold - l.units, version = i.version + 1
FROM hold_lines l WHERE l.hold_id = $1 AND i.product_id = l.product_id AND i.night = l.night AND i.sold >= l.units
RETURNING {_I_COLUMNS}
"""
# domain.Night.unsell, for explicit (product, night, units) lines
_UNSELL_LINES = f"""
UPDATE inventory i SET sold = i.sold - g.units, version = i.version + 1
FROM unnest($1::uuid[], $2::date[], $3::int[]) AS g(product_id, night, units)
WHERE i.product_id = g.product_id AND i.night = g.night AND i.sold >= g.units
RETURNING {_I_COLUMNS}
"""
# domain.Night.with_out_of_service
_OUT_OF_SERVICE = f"""
UPDATE inventory i SET out_of_service = i.out_of_service + g.delta, version = i.version + 1
FROM unnest($1::uuid[], $2::date[], $3::int[]) AS g(product_id, night, delta)
WHERE i.product_id = g.product_id AND i.night = g.night AND i.out_of_service + g.delta >= 0
  AND i.held + i.sold + i.out_of_service + g.delta <= i.capacity
RETURNING {_I_COLUMNS}
"""



def _columns(lines: Sequence[object]) -> tuple[list[uuid.UUID], list[dt.date], list[int]]:
    return ([uuid.UUID(str(x.product_id)) for x in lines], [x.night for x in lines],  # type: ignore[attr-defined]
            [x.units for x in lines])  # type: ignore[attr-defined]


async def lock(conn: asyncpg.Connection, lines: Sequence[object]) -> list[asyncpg.Record]:
    """Lock the lines' rows in the global order; returns them (counts and fence). ``FOR NO KEY UPDATE``, the
    lock the count updates take themselves: writers of counts wait for each other, but not for the
    foreign-key checks of ``hold_lines`` rows being inserted meanwhile (``FOR KEY SHARE``), which
    ``FOR UPDATE`` would wait for (a hold writes its lines before it takes its nights' locks)."""
    products, nights, _ = _columns(lines)
    return await conn.fetch(_LOCK, products, nights)


async def take(conn: asyncpg.Connection, lines: Sequence[object], fences: list[int | None]) -> list[asyncpg.Record]:
    """Hold every line's units; the rows that moved (fewer than the lines: refused, roll back)."""
    products, nights, units = _columns(lines)
    return await conn.fetch(_TAKE, products, nights, units, fences)


async def release_hold(conn: asyncpg.Connection, hold_id: uuid.UUID) -> list[asyncpg.Record]:
    """A hold's units are free again."""
    await conn.fetch(_LOCK_HOLD, hold_id)
    return await conn.fetch(_RELEASE, hold_id)


async def sell_hold(conn: asyncpg.Connection, hold_id: uuid.UUID) -> list[asyncpg.Record]:
    """A converted hold's units move from held to sold."""
    return await conn.fetch(_SELL, hold_id)


async def unsell_hold(conn: asyncpg.Connection, hold_id: uuid.UUID) -> list[asyncpg.Record]:
    """A converted hold's sold units come back (a failed saga's compensation, a cancellation)."""
    await conn.fetch(_LOCK_HOLD, hold_id)
    return await conn.fetch(_UNSELL, hold_id)


async def unsell_lines(conn: asyncpg.Connection, products: list[uuid.UUID], nights: list[dt.date],
                       units: list[int]) -> list[asyncpg.Record]:
    """Sold units of explicit lines come back (the caller locked the rows in order)."""
    return await conn.fetch(_UNSELL_LINES, products, nights, units)


async def change_out_of_service(conn: asyncpg.Connection, products: list[uuid.UUID], nights: list[dt.date],
                                deltas: list[int]) -> list[asyncpg.Record]:
    """Add ``deltas`` (negative: back in service) to the rows' out-of-service counts; the rows that moved."""
    return await conn.fetch(_OUT_OF_SERVICE, products, nights, deltas)


async def lock_product_nights(conn: asyncpg.Connection, product_id: uuid.UUID, nights: list[dt.date]) -> list[Night]:
    """The existing rows of one product's ``nights``, locked in night order."""
    rows = await conn.fetch(
        "SELECT night, capacity, held, sold, out_of_service FROM inventory WHERE product_id = $1"
        " AND night = ANY($2::date[]) ORDER BY night FOR UPDATE", product_id, nights)
    return [Night(**dict(r)) for r in rows]


async def upsert_capacity(conn: asyncpg.Connection, product_id: uuid.UUID, nights: list[dt.date], capacity: int) -> int:
    """Set capacity (the caller checked ``domain.capacity_conflicts`` under the rows' locks)."""
    status = await conn.execute(
        "INSERT INTO inventory (product_id, night, capacity) SELECT $1, night, $3 FROM unnest($2::date[]) night"
        " ON CONFLICT (product_id, night) DO UPDATE SET capacity = EXCLUDED.capacity, version = inventory.version + 1",
        product_id, nights, capacity)
    return int(status.rsplit(" ", 1)[1])


async def rows_between(conn: asyncpg.Connection, product_id: uuid.UUID, start: dt.date, end: dt.date) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT night, capacity, held, sold, out_of_service, version FROM inventory"
        " WHERE product_id = $1 AND night >= $2 AND night < $3 ORDER BY night", product_id, start, end)


async def rows_of(conn: asyncpg.Connection, product_id: uuid.UUID, nights: list[dt.date]) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {COLUMNS} FROM inventory WHERE product_id = $1 AND night = ANY($2::date[])"
                            " ORDER BY night", product_id, nights)


async def free_between(conn: asyncpg.Connection, product_ids: list[uuid.UUID], start: dt.date,
                       end: dt.date) -> dict[uuid.UUID, dict[dt.date, int]]:
    """Free units (``domain.Night.free``) per product and night of ``[start, end)``."""
    rows = await conn.fetch(f"SELECT product_id, night, {FREE_SQL} AS free FROM inventory"
                            " WHERE product_id = ANY($1::uuid[]) AND night >= $2 AND night < $3",
                            product_ids, start, end)
    result: dict[uuid.UUID, dict[dt.date, int]] = {pid: {} for pid in product_ids}
    for r in rows:
        result[r["product_id"]][r["night"]] = r["free"]
    return result
