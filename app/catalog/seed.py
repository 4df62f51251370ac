"""Demo data: ``resort seed`` (idempotent) and ``seed_if_empty`` (called by ``resort up``).

Rows are written with ``ON CONFLICT DO NOTHING`` on stable ids, so a second run changes nothing (and
never touches held/sold counts). MongoDB details are upserted with ``$setOnInsert`` before the
PostgreSQL transaction of their resort; that transaction ends by recording one ``product.created``
outbox event per product it created, so the projector (or reconciliation) builds search and the read
model from it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

import asyncpg
from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError
from rich.progress import Progress

from app import clock
from app.catalog.bulk import (
    INVENTORY_COLUMNS,
    PRODUCT_COLUMNS,
    RATE_COLUMNS,
    copy_new,
    ensure_standard_plans,
    year_of,
)
from app.catalog.details import refresh_rating
from app.catalog.documents import DOCUMENTS, ProductDetails, Review
from app.catalog.domain import DEFAULT_TIME_ZONE
from app.catalog.repository import insert_property
from app.catalog.seed_data import (
    RESORTS,
    REVIEW_TEXTS,
    SeedProduct,
    SeedResort,
    nightly_amount,
    product_uuid,
    restrictions,
)
from app.catalog.writes import announce
from app.frontdesk.repository import seed_rooms
from app.settings import Settings

DAYS = 365


@dataclass
class SeedReport:
    properties: int = 0
    products: int = 0
    rates: int = 0
    inventory: int = 0
    reviews: int = 0
    rooms: int = 0
    created_ids: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def _stores(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A small pool and beanie on the configured MongoDB database."""
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    mongo: AsyncMongoClient = AsyncMongoClient(
        settings.mongo_url, serverSelectionTimeoutMS=3000, tz_aware=True
    )
    try:
        await init_beanie(database=mongo[settings.mongo_db], document_models=DOCUMENTS)
        yield pool
    finally:
        await mongo.close()
        await pool.close()


async def seed_if_empty(settings: Settings, progress: bool = False) -> SeedReport | None:
    """Seed only a catalogue without any property (``resort up`` on a fresh database)."""
    async with _stores(settings) as pool:
        if await pool.fetchval("SELECT EXISTS (SELECT 1 FROM properties)"):
            return None
        return await seed(pool, progress=progress)


async def seed_command(settings: Settings, progress: bool = True) -> SeedReport:
    async with _stores(settings) as pool:
        return await seed(pool, progress=progress)


async def seed(
    pool: asyncpg.Pool,
    *,
    progress: bool = False,
    start: dt.date | None = None,
    days: int = DAYS,
    resorts: Sequence[SeedResort] = RESORTS,
) -> SeedReport:
    """Load every demo resort (``days`` of prices and inventory from ``start``); returns what was new."""
    start = start or clock.today(DEFAULT_TIME_ZONE)  # the demo resorts' zone
    report = SeedReport()
    with _progress(progress) as bar:
        task = bar.add_task("seeding the catalogue", total=len(resorts) * 3) if bar else None
        for resort in resorts:
            for step in _seed_resort(pool, resort, start, days, report):
                await step
                if bar:
                    bar.advance(task)  # type: ignore[arg-type]
    return report


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    with Progress() as bar:
        yield bar


def _seed_resort(
    pool: asyncpg.Pool, resort: SeedResort, start: dt.date, days: int, report: SeedReport
) -> list:
    return [_details(resort), _reviews(resort, report), _core(pool, resort, start, days, report)]


async def _details(resort: SeedResort) -> None:
    collection = ProductDetails.get_pymongo_collection()
    for p in resort.products:
        pid = str(product_uuid(resort.id, p.code))
        doc = ProductDetails(
            product_id=pid,
            property_id=resort.id,
            kind=p.kind,
            attributes=p.attributes,
            amenities=sorted(p.amenities),
            description={"ko": p.text_ko, "en": p.text_en},  # type: ignore[arg-type]
            policies={"ko": "체크인 15:00, 체크아웃 11:00", "en": "Check-in 15:00, check-out 11:00"},  # type: ignore[arg-type]
            images=[
                {
                    "url": f"https://img.gresort.example/{resort.id}/{p.code}.jpg",  # type: ignore[list-item]
                    "caption": {"ko": p.name_ko, "en": p.name},
                }
            ],
        )
        values = doc.model_dump(exclude={"id", "revision_id"})
        await collection.update_one({"product_id": pid}, {"$setOnInsert": values}, upsert=True)


async def _reviews(resort: SeedResort, report: SeedReport) -> None:
    docs = []
    for p in resort.products:
        if p.kind != "room_type":
            continue
        pid = str(product_uuid(resort.id, p.code))
        for n, (rating, lang, text) in enumerate(REVIEW_TEXTS):
            docs.append(
                Review(
                    product_id=pid,
                    property_id=resort.id,
                    author_subject=f"seed-guest-{n}",
                    author_name=f"Guest {n + 1}",
                    stay_ref=f"seed-{p.code}-{n}",
                    rating=rating,
                    text=text,
                    lang=lang,
                ).model_dump(exclude={"id", "revision_id"})
            )
    try:
        result = await Review.get_pymongo_collection().insert_many(docs, ordered=False)
        report.reviews += len(result.inserted_ids)
    except BulkWriteError as exc:  # duplicates of an earlier run: the unique index refuses them
        report.reviews += exc.details.get("nInserted", 0)
    for p in resort.products:  # the details run first: this only sets the denormalised rating
        await refresh_rating(
            {"id": product_uuid(resort.id, p.code), "property_id": resort.id, "kind": p.kind}
        )


def _product_record(resort: SeedResort, p: SeedProduct) -> tuple:
    slot = dt.time.fromisoformat(p.slot[0]) if p.slot else None
    return (
        product_uuid(resort.id, p.code),
        resort.id,
        p.kind,
        p.code,
        p.name,
        p.name_ko,
        p.max_occupancy,
        slot,
        p.slot[1] if p.slot else None,
    )


async def _core(
    pool: asyncpg.Pool, resort: SeedResort, start: dt.date, days: int, report: SeedReport
) -> None:
    """The resort's PostgreSQL rows and the outbox events of its new products, in one transaction."""
    nights = year_of(start, days)
    async with pool.acquire() as conn, conn.transaction():
        values = {
            "id": resort.id,
            "name": resort.name,
            "name_ko": resort.name_ko,
            "latitude": resort.lat,
            "longitude": resort.lon,
            "address": resort.address,
        }
        report.properties += int(await insert_property(conn, values) is not None)
        created = await copy_new(
            conn,
            "products",
            PRODUCT_COLUMNS,
            [_product_record(resort, p) for p in resort.products],
            returning="id, version",
        )
        ids = {p.code: product_uuid(resort.id, p.code) for p in resort.products}
        plans = await ensure_standard_plans(conn, list(ids.values()))
        await conn.executemany(
            "INSERT INTO package_components (package_id, component_id, quantity) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            [(ids[p.code], ids[c], q) for p in resort.products for c, q in p.components],
        )
        report.rates += len(
            await copy_new(
                conn, "nightly_rates", RATE_COLUMNS, _rates(resort, plans, ids, nights), returning="night"
            )
        )
        report.inventory += len(
            await copy_new(
                conn, "inventory", INVENTORY_COLUMNS, _inventory(resort, ids, nights), returning="night"
            )
        )
        report.rooms += await seed_rooms(conn, resort.id, list(_rooms(resort, ids)))
        for row in created:
            await announce(conn, row["id"], resort.id, row["version"], "created", "product.created")
            report.created_ids.append(str(row["id"]))
        report.products += len(created)


def _rates(resort: SeedResort, plans: dict, ids: dict, nights: list[dt.date]) -> Iterator[tuple]:
    for p in resort.products:
        plan = plans[ids[p.code]]
        extra = p.base_amount // 5 if p.kind in ("room_type", "package") else 0
        for night in nights:
            min_stay, closed, cta, ctd = restrictions(p.kind, night)
            yield (
                plan,
                night,
                nightly_amount(p.base_amount, night, resort.winter_peak),
                extra,
                2,
                min_stay,
                closed,
                cta,
                ctd,
            )


def _inventory(resort: SeedResort, ids: dict, nights: list[dt.date]) -> Iterator[tuple]:
    for p in resort.products:
        if p.kind == "package":
            continue
        for night in nights:
            yield (ids[p.code], night, p.capacity)


def _rooms(resort: SeedResort, ids: dict) -> Iterator[tuple]:
    """Physical rooms: one floor per room type (from the 2nd), as many rooms as its inventory, 201, 202, ..."""
    types = [p for p in resort.products if p.kind == "room_type"]
    for floor, p in enumerate(types, start=2):
        for i in range(1, p.capacity + 1):
            yield (f"{floor}{i:02d}" if p.capacity < 100 else f"{floor}{i:03d}", floor, ids[p.code])
