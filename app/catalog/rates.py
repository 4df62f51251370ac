"""PostgreSQL access to rate plans, nightly rates (with restrictions) and per-night inventory."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from app.catalog.domain import NightRate

DEFAULT_PLAN = "standard"
# A column of a statement over ``products p``: every rate plan's nights of ``[$2, $3)`` (amount, closed)
# as JSON, what the "from" price reads (``domain.price_range``; decode with ``priced_nights``).
PRICED_NIGHTS = """(SELECT coalesce(json_agg(json_build_array(r.night, r.amount, r.closed)), '[]')
                      FROM nightly_rates r JOIN rate_plans rp ON rp.id = r.rate_plan_id
                     WHERE rp.product_id = p.id AND r.night >= $2 AND r.night < $3)::text"""


def priced_nights(column: str) -> list[NightRate]:
    """The rates of a ``PRICED_NIGHTS`` column."""
    return [NightRate(dt.date.fromisoformat(night), amount, closed=closed) for night, amount, closed in json.loads(column)]


async def ensure_rate_plan(
    conn: asyncpg.Connection, product_id: uuid.UUID, code: str, name: str, refundable: bool = True
) -> tuple[asyncpg.Record, bool]:
    """The rate plan ``code`` of the product, created if missing; ``(row, created)``."""
    row = await conn.fetchrow(
        "INSERT INTO rate_plans (product_id, code, name, refundable) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (product_id, code) DO NOTHING RETURNING id, code, name, refundable, version",
        product_id,
        code,
        name,
        refundable,
    )
    if row is not None:
        return row, True
    return await get_rate_plan(conn, product_id, code), False  # type: ignore[return-value]


async def get_rate_plan(conn: asyncpg.Connection, product_id: uuid.UUID, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, code, name, refundable, version FROM rate_plans WHERE product_id = $1 AND code = $2",
        product_id,
        code,
    )


async def rate_plans_of(conn: asyncpg.Connection, product_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT code, name, refundable FROM rate_plans WHERE product_id = $1 ORDER BY code", product_id
    )


async def set_cancellation_policy(
    conn: asyncpg.Connection, rate_plan_id: uuid.UUID, free_cancel_hours: int, late_cancel_fee_pct: int
) -> None:
    await conn.execute(
        "UPDATE rate_plans SET free_cancel_hours = $2, late_cancel_fee_pct = $3 WHERE id = $1",
        rate_plan_id,
        free_cancel_hours,
        late_cancel_fee_pct,
    )


async def upsert_rates(
    conn: asyncpg.Connection, rate_plan_id: uuid.UUID, nights: list[dt.date], values: dict[str, Any]
) -> int:
    """Set price and restrictions of ``nights`` in one statement; each changed row's version is bumped."""
    status = await conn.execute(
        """
        INSERT INTO nightly_rates (rate_plan_id, night, amount, extra_guest_amount, included_guests,
                                   min_stay, closed, closed_to_arrival, closed_to_departure)
        SELECT $1, night, $3, $4, $5, $6, $7, $8, $9 FROM unnest($2::date[]) AS night
        ON CONFLICT (rate_plan_id, night) DO UPDATE SET
            amount = EXCLUDED.amount, extra_guest_amount = EXCLUDED.extra_guest_amount,
            included_guests = EXCLUDED.included_guests, min_stay = EXCLUDED.min_stay,
            closed = EXCLUDED.closed, closed_to_arrival = EXCLUDED.closed_to_arrival,
            closed_to_departure = EXCLUDED.closed_to_departure, version = nightly_rates.version + 1
        """,
        rate_plan_id,
        nights,
        values["amount"],
        values["extra_guest_amount"],
        values["included_guests"],
        values["min_stay"],
        values["closed"],
        values["closed_to_arrival"],
        values["closed_to_departure"],
    )
    return int(status.rsplit(" ", 1)[1])


async def rates_between(
    conn: asyncpg.Connection, product_id: uuid.UUID, plan: str, start: dt.date, end: dt.date
) -> dict[dt.date, NightRate]:
    """Rates of ``[start, end]`` (the end date too: its closed-to-departure flag matters)."""
    rows = await conn.fetch(
        "SELECT r.night, r.amount, r.extra_guest_amount, r.included_guests, r.min_stay, r.closed,"
        " r.closed_to_arrival, r.closed_to_departure FROM nightly_rates r"
        " JOIN rate_plans p ON p.id = r.rate_plan_id"
        " WHERE p.product_id = $1 AND p.code = $2 AND r.night BETWEEN $3 AND $4",
        product_id,
        plan,
        start,
        end,
    )
    return {r["night"]: NightRate(**dict(r)) for r in rows}









