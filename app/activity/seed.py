"""Demo activity (``resort seed``): a realistic history over the seeded catalogue, so the report page and
the suggestions have something to show on a fresh machine. Guests' visits over the last 60 days: a search
(some for things the resorts do not offer: zero results), a few product views, sometimes a hold for a stay
in the next weeks, often a booking of the room with a facility or a ticket, sometimes cancelled.

Idempotent: event ids derive from their rank (``uuid5``), so a second run inserts nothing new.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
from pymongo import AsyncMongoClient

from app.activity import store
from app.activity.domain import complete
from app.activity.ingest import Batch, drain
from app.settings import Settings

DEMO_VISITS = 1_500
NAMESPACE = uuid.UUID("6f1c2d1e-26a0-4c8e-9d0b-2a6e1f00c0de")
FOUND = ["ocean view", "오션뷰", "family room", "spa", "스파", "breakfast", "pool", "수영장", "suite", "ticket"]
NOT_FOUND = ["ski", "casino", "pet friendly", "반려견", "golf", "helipad", "카지노"]


def _stay(rnd: random.Random, today: dt.date) -> dict[str, str]:
    check_in = today + dt.timedelta(days=rnd.randint(1, 75))
    return {"check_in": check_in.isoformat(), "check_out": (check_in + dt.timedelta(days=rnd.randint(1, 4))).isoformat()}


def visits(catalogue: dict[str, list[dict[str, Any]]], plans: dict[str, list[str]], today: dt.date, count: int,
           seed: int = 2026) -> Iterator[dict[str, Any]]:
    """``count`` guest visits over the catalogue (property -> products), as activity events in time order."""
    rnd, rank = random.Random(seed), 0
    properties = sorted(catalogue)
    now = dt.datetime.combine(today, dt.time(12), dt.UTC)
    for visit in range(count):
        prop = rnd.choice(properties)
        products = catalogue[prop]
        rooms = [p for p in products if p["kind"] == "room_type"] or products
        extras = [p for p in products if p["kind"] in ("facility_slot", "ticket")]
        subject = f"user:demo-guest-{rnd.randint(1, 40)}" if rnd.random() < 0.5 else f"anon:demo-{visit:08d}"
        at = now - dt.timedelta(days=rnd.randint(0, 59), minutes=rnd.randint(0, 1_400))
        journey: list[dict[str, Any]] = []
        query, zero = (rnd.choice(NOT_FOUND), True) if rnd.random() < 0.15 else (rnd.choice(FOUND), False)
        journey.append({"type": "search", "query": query, "results": 0 if zero else rnd.randint(1, 12), "zero": zero,
                        "property_id": prop if rnd.random() < 0.6 else None})
        stay = _stay(rnd, today)
        room = rnd.choice(rooms)
        for product in [room, *rnd.sample(products, min(len(products), rnd.randint(0, 2)))]:
            journey.append({"type": "view", "product_id": product["id"], "property_id": prop}
                           | (stay if rnd.random() < 0.4 else {}))
        if not zero and rnd.random() < 0.35:
            journey.append({"type": "hold", "product_id": room["id"], "property_id": prop} | stay)
            if rnd.random() < 0.6:
                bought = [room] + ([rnd.choice(extras)] if extras and rnd.random() < 0.5 else [])
                booking = {"products": sorted(p["id"] for p in bought), "product_id": room["id"], "property_id": prop,
                           "rate_plans": sorted(f"{p['id']}|{rnd.choice(plans.get(p['id']) or ['standard'])}"
                                                for p in bought)} | stay
                journey.append({"type": "booking"} | booking)
                if rnd.random() < 0.12:
                    journey.append({"type": "cancellation"} | booking)
        for step, event in enumerate(journey):
            rank += 1
            yield complete(event | {"_id": str(uuid.uuid5(NAMESPACE, f"{seed}:{rank}")), "subject": subject,
                                    "at": at + dt.timedelta(minutes=2 * step), "rolled": False})


async def load_catalogue(db: Any) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    rows = await db.fetch("SELECT id::text AS id, property_id, kind::text AS kind FROM products WHERE active"
                          " ORDER BY property_id, id")
    catalogue: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        catalogue.setdefault(row["property_id"], []).append(dict(row))
    plans: dict[str, list[str]] = {}
    for row in await db.fetch("SELECT product_id::text AS product_id, code FROM rate_plans ORDER BY code"):
        plans.setdefault(row["product_id"], []).append(row["code"])
    return catalogue, plans


async def seed_activity(settings: Settings, count: int = DEMO_VISITS, chunk: int = 2_000) -> tuple[int, int]:
    """Insert the demo history and roll it up; returns (events new, events counted)."""
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=3000, tz_aware=True)
    try:
        catalogue, plans = await load_catalogue(pool)
        if not catalogue:
            return 0, 0
        db = client[settings.mongo_db]
        await store.ensure_indexes(db, settings.activity_retention_days)
        new, batch = 0, []
        for event in visits(catalogue, plans, dt.datetime.now(dt.UTC).date(), count):
            batch.append(event)
            if len(batch) >= chunk:
                new, batch = new + await store.ingest(db, batch), []
        new += await store.ingest(db, batch)
        return new, await drain(client, db, Batch.of(settings))
    finally:
        await client.close()
        await pool.close()
