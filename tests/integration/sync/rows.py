"""Test data for the sync and search tests: catalogue rows written with plain SQL, event envelopes,
and a projector running in the test's event loop on its own pools."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
from pymongo.asynchronous.database import AsyncDatabase

from app.outbox import EventEnvelope, encode_envelope, record_event
from app.resources import Resources
from app.settings import Settings
from sync.projector import CatalogProjector, consume
from tests.support.dates import resort_today
from tests.support.wait import until  # noqa: F401 - re-exported: it used to live here


async def create_property(db: asyncpg.Pool, property_id: str, *, lat: float = 33.25, lon: float = 126.5,
                          name: str = "Sync Test Resort", name_ko: str = "싱크 테스트 리조트") -> str:
    await db.execute("INSERT INTO properties (id, name, name_ko, latitude, longitude) VALUES ($1,$2,$3,$4,$5)",
                     property_id, name, name_ko, lat, lon)
    return property_id


async def create_product(db: asyncpg.Pool, property_id: str, *, name: str = "Ocean Suite",
                         name_ko: str = "오션 스위트", kind: str = "room_type", amount: int | None = 150_000,
                         nights: int = 10, capacity: int = 5, outbox: bool = False) -> str:
    """A product with one rate plan priced ``amount`` for ``nights`` from today, and inventory."""
    today = resort_today()
    async with db.acquire() as conn, conn.transaction():
        pid = await conn.fetchval(
            "INSERT INTO products (property_id, kind, code, name, name_ko, max_occupancy)"
            " VALUES ($1, $2::product_kind, $3, $4, $5, 2) RETURNING id",
            property_id, kind, f"p-{uuid.uuid4().hex[:12]}", name, name_ko)
        if amount is not None:
            plan = await conn.fetchval("INSERT INTO rate_plans (product_id, code, name) VALUES ($1, 'bar', 'BAR')"
                                       " RETURNING id", pid)
            await conn.executemany("INSERT INTO nightly_rates (rate_plan_id, night, amount) VALUES ($1, $2, $3)",
                                   [(plan, today + dt.timedelta(days=i), amount + i * 1000) for i in range(nights)])
            await conn.executemany("INSERT INTO inventory (product_id, night, capacity) VALUES ($1, $2, $3)",
                                   [(pid, today + dt.timedelta(days=i), capacity) for i in range(nights)])
        if outbox:
            await _event(conn, pid, property_id, "product.created", 1, "created")
    return str(pid)


async def change_product(db: asyncpg.Pool, product_id: str, *, outbox: bool = False, **columns: Any) -> int:
    """Update columns of the product, bump its version (and record the event); returns the new version."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"UPDATE products SET {sets + ', ' if sets else ''}version = version + 1, updated_at = now()"
            " WHERE id = $1 RETURNING version, property_id, active", uuid.UUID(product_id), *columns.values())
        if outbox:
            kind = "product.changed" if row["active"] else "product.deactivated"
            await _event(conn, product_id, row["property_id"], kind, row["version"], "core")
    return int(row["version"])


async def reprice(db: asyncpg.Pool, product_id: str, amount: int, *, outbox: bool = True) -> int:
    """Set every night's price to ``amount``; bump the product's version and record the event."""
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE nightly_rates r SET amount = $2, version = r.version + 1 FROM rate_plans p"
                           " WHERE p.id = r.rate_plan_id AND p.product_id = $1", uuid.UUID(product_id), amount)
        row = await conn.fetchrow("UPDATE products SET version = version + 1 WHERE id = $1"
                                  " RETURNING version, property_id", uuid.UUID(product_id))
        if outbox:
            await _event(conn, product_id, row["property_id"], "product.changed", row["version"], "prices")
    return int(row["version"])


async def _event(conn: asyncpg.Connection, product_id: Any, property_id: str, event_type: str, version: int,
                 change: str) -> None:
    await record_event(conn, topic="catalog", aggregate_type="product", aggregate_id=str(product_id),
                       event_type=event_type, version=version,
                       payload={"product_id": str(product_id), "property_id": property_id, "change": change})


async def put_details(mongo: AsyncDatabase, product_id: str, property_id: str, *, amenities: list[str],
                      en: str = "", ko: str = "", ratings: tuple[int, ...] = ()) -> None:
    """Details and reviews straight into MongoDB (what part A's API would write)."""
    await mongo["product_details"].replace_one({"product_id": product_id}, {
        "product_id": product_id, "property_id": property_id, "kind": "room_type",
        "description": {"ko": ko, "en": en}, "attributes": {}, "amenities": amenities, "images": [],
        "policies": {"ko": "", "en": ""}, "version": 1}, upsert=True)
    for i, rating in enumerate(ratings):
        await mongo["reviews"].insert_one({
            "product_id": product_id, "property_id": property_id, "author_subject": f"guest-{i}",
            "author_name": "Guest", "stay_ref": f"stay-{uuid.uuid4().hex[:8]}", "rating": rating, "text": "ok",
            "lang": "en", "created_at": dt.datetime.now(dt.UTC)})


def envelope(product_id: str, version: int, *, event_type: str = "product.changed",
             property_id: str = "") -> EventEnvelope:
    return EventEnvelope(event_id=uuid.uuid4(), topic="catalog", event_type=event_type,
                         aggregate_type="product", aggregate_id=product_id, version=version,
                         occurred_at=dt.datetime.now(dt.UTC),
                         payload={"product_id": product_id, "property_id": property_id, "change": "test"})


async def send(resources: Resources, settings: Settings, *envelopes: EventEnvelope | bytes) -> None:
    """Produce envelopes (or raw bytes) to the catalogue topic of ``settings``, keyed by product."""
    for item in envelopes:
        raw = item if isinstance(item, bytes) else encode_envelope(item)
        key = msgspec.json.decode(raw).get("aggregate_id", "x") if raw.startswith(b"{") else "poison"
        await resources.kafka.send_and_wait(settings.topic("catalog"), raw, key=str(key).encode())


def private_settings(settings: Settings, unique: str) -> Settings:
    """The test settings with a topic prefix and a consumer group of this test alone."""
    return msgspec.structs.replace(settings, kafka_topic_prefix=f"test.{unique}.",
                                   projector_group=f"test-projector-{unique}", relay_poll_interval_s=0.5)


@contextlib.asynccontextmanager
async def running_projector(resources: Resources, settings: Settings, *, offset_reset: str = "earliest",
                            ) -> AsyncIterator[tuple[CatalogProjector, asyncio.Task[None]]]:
    """A projector consuming ``settings``' topic in a task; waits until it has its partitions."""
    projector = CatalogProjector(settings, resources.db, resources.mongo, resources.es, resources.redis)
    await projector.prepare()
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(consume(projector, stop, offset_reset=offset_reset, ready=ready))
    try:
        await asyncio.wait_for(_first(ready, task), 30)
        yield projector, task
    finally:
        stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def _first(ready: asyncio.Event, task: asyncio.Task[None]) -> None:
    waiter = asyncio.ensure_future(ready.wait())
    await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
        raise RuntimeError("the projector stopped before it was ready")
    waiter.cancel()
