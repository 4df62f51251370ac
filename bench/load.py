"""Bulk-load the benchmark catalogue: 10 properties x 1,000 products, two weeks of prices and inventory,
details in MongoDB. Idempotent: a catalogue already loaded is left as it is."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator

import asyncpg
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from app.catalog.bulk import (
    INVENTORY_COLUMNS,
    PRODUCT_COLUMNS,
    RATE_COLUMNS,
    copy_new,
    ensure_standard_plans,
    year_of,
)

NAMESPACE = uuid.UUID("0b6f7d1e-2a51-4c0e-9b7e-5d8f0f1c2e33")
PROPERTIES = 10
NIGHTS = 14
KINDS = ("room_type", "room_type", "room_type", "facility_slot", "ticket")
WORDS = ("ocean", "garden", "mountain", "family", "deluxe", "spa", "ski", "sunset", "harbor", "forest")


def property_ids() -> list[str]:
    return [f"bench-{n:02d}" for n in range(PROPERTIES)]


def product_ids(total: int) -> list[uuid.UUID]:
    return [uuid.uuid5(NAMESPACE, f"product-{n}") for n in range(total)]


def _product(n: int, pid: uuid.UUID) -> tuple:
    kind = KINDS[n % len(KINDS)]
    word = WORDS[n % len(WORDS)]
    slot = (dt.time(10, 0), 60) if kind == "facility_slot" else (None, None)
    return (
        pid,
        property_ids()[n % PROPERTIES],
        kind,
        f"p-{n:05d}",
        f"{word.title()} {kind.replace('_', ' ')} {n}",
        f"{word} 상품 {n}",
        2 + n % 3,
        *slot,
    )


async def load_products(pool: asyncpg.Pool, mongo: AsyncDatabase, total: int, start: dt.date) -> int:
    """Load ``total`` products (skipping those present); returns how many were new."""
    ids = product_ids(total)
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO properties (id, name, name_ko, latitude, longitude) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (id) DO NOTHING",
            [
                (p, f"Bench Resort {i}", f"벤치 리조트 {i}", 33 + i * 0.4, 126 + i * 0.3)
                for i, p in enumerate(property_ids())
            ],
        )
        created = await copy_new(
            conn, "products", PRODUCT_COLUMNS, (_product(n, pid) for n, pid in enumerate(ids)), returning="id"
        )
        if not created:
            return 0
        plans = await ensure_standard_plans(conn, ids)
        nights = year_of(start, NIGHTS)
        await copy_new(conn, "nightly_rates", RATE_COLUMNS, _rates(ids, plans, nights))
        await copy_new(
            conn, "inventory", INVENTORY_COLUMNS, ((pid, night, 10) for pid in ids for night in nights)
        )
    await _details(mongo, ids)
    return len(created)


def _rates(ids: list[uuid.UUID], plans: dict, nights: list[dt.date]) -> Iterator[tuple]:
    for n, pid in enumerate(ids):
        for night in nights:
            yield (plans[pid], night, 50_000 + (n % 50) * 5_000, 10_000, 2, 1, False, False, False)


async def _details(mongo: AsyncDatabase, ids: list[uuid.UUID]) -> None:
    collection = mongo["product_details"]
    batch = []
    for n, pid in enumerate(ids):
        word = WORDS[n % len(WORDS)]
        batch.append(
            {
                "product_id": str(pid),
                "property_id": property_ids()[n % PROPERTIES],
                "kind": KINDS[n % len(KINDS)],
                "version": 1,
                "description": {
                    "en": f"A {word} product number {n} with a long description.",
                    "ko": f"{word} 상품 {n}번의 긴 설명.",
                },
                "attributes": {"size_m2": 20 + n % 40},
                "amenities": ["wifi", word],
                "images": [],
                "policies": {"en": "No smoking.", "ko": "금연."},
                "updated_at": dt.datetime.now(dt.UTC),
            }
        )
        if len(batch) == 1000:
            await _insert(collection, batch)
            batch = []
    await _insert(collection, batch)


async def _insert(collection: object, batch: list[dict]) -> None:
    if not batch:
        return
    # BulkWriteError: details left by an interrupted earlier load (the unique index keeps one)
    with contextlib.suppress(BulkWriteError):
        await collection.insert_many(batch, ordered=False)  # type: ignore[attr-defined]
