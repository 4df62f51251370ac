"""Bulk loading for demo data and benchmarks: ``COPY`` into a staging table, then one idempotent insert."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

RATE_COLUMNS = (
    "rate_plan_id",
    "night",
    "amount",
    "extra_guest_amount",
    "included_guests",
    "min_stay",
    "closed",
    "closed_to_arrival",
    "closed_to_departure",
)
INVENTORY_COLUMNS = ("product_id", "night", "capacity")
PRODUCT_COLUMNS = (
    "id",
    "property_id",
    "kind",
    "code",
    "name",
    "name_ko",
    "max_occupancy",
    "slot_start",
    "slot_minutes",
)


async def copy_new(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    records: Iterable[Sequence[Any]],
    returning: str | None = None,
) -> list[asyncpg.Record]:
    """COPY ``records`` into ``table``, skipping rows whose key exists; returns ``returning`` of new rows.

    Must run inside a transaction (the staging table is dropped on commit).
    """
    stage = f"_stage_{table}"
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    await conn.execute(f"TRUNCATE {stage}")
    await conn.copy_records_to_table(stage, records=list(records), columns=list(columns))
    cols = ", ".join(columns)
    tail = f" RETURNING {returning}" if returning else ""
    return await conn.fetch(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT DO NOTHING{tail}"
    )


async def ensure_standard_plans(
    conn: asyncpg.Connection, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The ``standard`` rate plan of each product (created where missing): product id -> plan id."""
    await conn.execute(
        "INSERT INTO rate_plans (product_id, code, name) SELECT pid, 'standard', 'Standard'"
        " FROM unnest($1::uuid[]) AS pid ON CONFLICT (product_id, code) DO NOTHING",
        product_ids,
    )
    rows = await conn.fetch(
        "SELECT product_id, id FROM rate_plans WHERE code = 'standard' AND product_id = ANY($1::uuid[])",
        product_ids,
    )
    return {r["product_id"]: r["id"] for r in rows}


def year_of(start: dt.date, days: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(days)]
