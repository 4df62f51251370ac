"""The catalogue's use cases: the one module its controllers (``admin.py``, ``public.py``) call.

Behind it: ``writes.py`` (the PostgreSQL core, each write with its version bump and outbox event),
``details.py`` (MongoDB details and reviews) and ``views.py`` (the product view, lists, availability,
quotes). This module adds what a use case needs around them: the reads the controllers used to make
themselves, the admin's read-your-writes (cached views dropped at once after a write; the projector does
it too), and the settings the reads depend on. Writes take the version the caller read as a typed
:class:`~app.catalog.domain.ExpectedVersion` (the controllers parse ``If-Match``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import asyncpg

from app.catalog import details, views, writes
from app.catalog import rates as rates_repo
from app.catalog import repository as repo
from app.catalog.availability import sold_out_mark
from app.catalog.cache import cached_view, invalidate_product
from app.catalog.documents import ProductDetails, Review
from app.catalog.domain import ExpectedVersion, PartyRequest, ProductKind
from app.catalog.schemas import CapacityIn, DetailsIn, PricesIn, ProductIn, PropertyIn, RatePlanIn, ReviewIn
from app.inventory import repository as inventory_repo
from app.resources import Resources

Row = asyncpg.Record


async def _forget(resources: Resources, *product_ids: Any) -> None:
    """Read-your-writes for the admin: drop the cached views now (the projector does it too)."""
    for product_id in product_ids:
        with contextlib.suppress(Exception):
            await invalidate_product(resources.redis, str(product_id))


# -- resorts -------------------------------------------------------------------------------------------
async def list_properties(resources: Resources, page: int, per_page: int) -> tuple[list[Row], int]:
    async with resources.db.acquire() as conn:
        return await repo.list_properties(conn, per_page, (page - 1) * per_page)


async def get_property(resources: Resources, property_id: str) -> Row:
    async with resources.db.acquire() as conn:
        row = await repo.get_property(conn, property_id)
    if row is None:
        raise writes.property_not_found(property_id)
    return row


async def create_property(resources: Resources, data: PropertyIn) -> Row:
    return await writes.create_property(resources.db, data)


async def update_property(
    resources: Resources, property_id: str, changes: dict[str, Any], expected: ExpectedVersion | None
) -> Row:
    row = await writes.update_property(resources.db, property_id, changes, expected)
    async with resources.db.acquire() as conn:
        await _forget(resources, *await repo.product_ids_of_property(conn, property_id))
    return row


# -- products (admin) ------------------------------------------------------------------------------------
async def admin_product(resources: Resources, product_id: str) -> dict[str, Any]:
    """A product's core with its components and rate plans, as the admin reads it."""
    async with resources.db.acquire() as conn:
        product = await repo.get_product(conn, product_id)
        if product is None:
            raise writes.product_not_found(product_id)
        components = await repo.components_of(conn, product["id"])
        plans = await rates_repo.rate_plans_of(conn, product["id"])
    return dict(product) | {
        "components": [{"product_id": str(c["component_id"]), "quantity": c["quantity"]} for c in components],
        "rate_plans": [dict(p) for p in plans],
    }


async def create_product(resources: Resources, property_id: str, data: ProductIn) -> tuple[dict[str, Any], int]:
    row = await writes.create_product(resources.db, property_id, data)
    return await admin_product(resources, str(row["id"])), row["version"]


async def update_product(
    resources: Resources, product_id: str, changes: dict[str, Any], expected: ExpectedVersion | None
) -> tuple[dict[str, Any], int]:
    row = await writes.update_product(resources.db, product_id, changes, expected)
    await _forget(resources, row["id"])
    return await admin_product(resources, product_id), row["version"]


async def add_rate_plan(resources: Resources, product_id: str, data: RatePlanIn) -> tuple[Row, int]:
    plan, version = await writes.add_rate_plan(resources.db, product_id, data)
    await _forget(resources, product_id)
    return plan, version


async def set_prices(
    resources: Resources, product_id: str, data: PricesIn, expected: ExpectedVersion | None
) -> tuple[int, int]:
    count, version = await writes.set_prices(resources.db, product_id, data, expected)
    await _forget(resources, product_id)
    return count, version


async def set_capacity(
    resources: Resources, product_id: str, data: CapacityIn, expected: ExpectedVersion | None
) -> tuple[int, int]:
    count, version = await writes.set_capacity(resources.db, product_id, data, expected)
    await _forget(resources, product_id)
    await _unmark_sold_out(resources, product_id, data.start, data.end)
    return count, version


async def _unmark_sold_out(resources: Resources, product_id: str, start: dt.date, end: dt.date) -> None:
    """A raise frees units at once: holds must not go on refusing on a stale sold-out mark."""
    marks = [sold_out_mark(product_id, start + dt.timedelta(days=i)) for i in range((end - start).days)]
    with contextlib.suppress(Exception):  # the marks expire by themselves within seconds
        await resources.redis.delete(*marks)


async def inventory(resources: Resources, product_id: str, start: dt.date, end: dt.date) -> list[Row]:
    """Capacity, held and sold per night of ``[start, end)``."""
    pid = repo.as_uuid(product_id)
    if pid is None:
        raise writes.product_not_found(product_id)
    async with resources.db.acquire() as conn:
        return await inventory_repo.rows_between(conn, pid, start, end)


async def get_details(resources: Resources, product_id: str) -> tuple[ProductDetails | None, int]:
    """The product's details (None when it has none yet) and the product's version."""
    product = await admin_product(resources, product_id)
    return await details.get_details(product_id), product["version"]


async def put_details(
    resources: Resources, product_id: str, data: DetailsIn, expected: ExpectedVersion | None
) -> int:
    version = await details.put_details(resources.db, product_id, data, expected)
    await _forget(resources, product_id)
    return version


# -- products (public) -----------------------------------------------------------------------------------
async def list_products(resources: Resources, property_id: str, kind: ProductKind | None, page: int,
                        per_page: int, lang: str) -> dict[str, Any]:
    return await views.list_products(resources.db, property_id, kind, page, per_page, lang)


async def product_view(resources: Resources, product_id: str, lang: str, *, bypass: bool) -> tuple[str, bytes, bool]:
    """The product's view in ``lang`` through the cache: ``(etag, json body, served from the cache)``."""
    if repo.as_uuid(product_id) is None:
        raise writes.product_not_found(product_id)
    horizon = resources.settings.search_price_horizon_days
    entry, hit = await cached_view(
        resources.redis, product_id, lang, lambda: views.load_view(resources.db, product_id, lang, horizon),
        bypass=bypass,
    )
    if entry is None:
        raise writes.product_not_found(product_id)
    tag, body = views.split_view(entry)
    return tag, body, hit


async def reviews(resources: Resources, product_id: str, page: int, per_page: int) -> tuple[list[Review], int]:
    async with resources.db.acquire() as conn:
        if await repo.get_product(conn, product_id) is None:
            raise writes.product_not_found(product_id)
    return await details.list_reviews(product_id, per_page, (page - 1) * per_page)


async def add_review(resources: Resources, product_id: str, data: ReviewIn, author: tuple[str, str]) -> Review:
    return await details.add_review(resources.db, product_id, data, author)


async def availability(
    resources: Resources, product_id: str, start: dt.date, end: dt.date, plan: str
) -> dict[str, Any]:
    return await views.availability_of(resources.db, product_id, start, end, plan)


async def quote(resources: Resources, product_id: str, request: PartyRequest, plan: str) -> dict[str, Any]:
    return await views.quote_of(resources.db, product_id, request, plan)
