"""Catalogue fixtures: a factory of properties, products, prices, inventory and details with unique ids.

Everything goes through the same write functions as the admin API, so each product also gets its
outbox events (``product.created`` then ``product.changed``) exactly as in production.

The app's pools (``resources``) live in the event loop of the test client's portal thread, not in the
test's loop: code that uses them (and beanie documents) must run there. ``app_call(fn, *args)`` does
that: ``await app_call(some_async_fn, arg)`` runs ``some_async_fn(arg)`` in the app's loop.

    async def test_x(catalog_factory):
        resort = await catalog_factory.resort(nights=14)
        resort.room["id"], resort.property["id"], resort.products  # ...
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from app.catalog import details as details_svc
from app.catalog import writes
from app.catalog.domain import ANY_VERSION
from app.catalog.repository import get_product
from app.catalog.schemas import CapacityIn, DetailsIn, PricesIn, ProductIn, PropertyIn
from tests.support.dates import resort_today


def _id() -> str:
    return uuid.uuid4().hex[:10]


@dataclass
class Resort:
    """A property with one product of each kind (priced and stocked from ``start`` for ``nights``)."""

    property: dict[str, Any]
    room: dict[str, Any]
    slot: dict[str, Any]
    ticket: dict[str, Any]
    package: dict[str, Any]
    start: dt.date
    nights: int
    products: list[dict[str, Any]] = field(default_factory=list)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.nights)


AppCall = Callable[..., Awaitable[Any]]


class CatalogFactory:
    def __init__(self, resources: Any, app_call: AppCall) -> None:
        self.resources = resources
        self.db = resources.db
        self.call = app_call

    async def property(self, **overrides: Any) -> dict[str, Any]:
        values = {
            "id": f"test-{_id()}",
            "name": "Test Resort",
            "name_ko": "테스트 리조트",
            "latitude": 33.25,
            "longitude": 126.41,
            "address": "Jeju",
        } | overrides
        return dict(await self.call(writes.create_property, self.db, msgspec.convert(values, PropertyIn)))

    async def product(self, property_id: str, kind: str = "room_type", **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "kind": kind,
            "code": f"{kind.replace('_', '-')}-{_id()}",
            "name": f"Test {kind}",
            "name_ko": f"테스트 {kind}",
            "max_occupancy": 4,
        }
        if kind == "facility_slot":
            values |= {"slot_start": "10:00:00", "slot_minutes": 60}
        values |= overrides
        return dict(
            await self.call(writes.create_product, self.db, property_id, msgspec.convert(values, ProductIn))
        )

    async def prices(
        self, product_id: Any, start: dt.date, end: dt.date, amount: int = 100_000, **extra: Any
    ) -> int:
        data = msgspec.convert({"start": start, "end": end, "amount": amount} | extra, PricesIn)
        _, version = await self.call(writes.set_prices, self.db, str(product_id), data, None)
        return version

    async def capacity(self, product_id: Any, start: dt.date, end: dt.date, capacity: int = 5) -> int:
        data = CapacityIn(start=start, end=end, capacity=capacity)
        _, version = await self.call(writes.set_capacity, self.db, str(product_id), data, None)
        return version

    async def details(self, product_id: Any, **overrides: Any) -> int:
        values = {
            "description": {"ko": "바다가 보이는 객실", "en": "A room with a sea view"},
            "amenities": ["wifi", "sea-view"],
            "attributes": {},
        } | overrides
        data = msgspec.convert(values, DetailsIn)
        return await self.call(details_svc.put_details, self.db, str(product_id), data, ANY_VERSION)

    async def resort(
        self, nights: int = 30, start: dt.date | None = None, **property_overrides: Any
    ) -> Resort:
        start = start or resort_today() + dt.timedelta(days=7)
        end = start + dt.timedelta(days=nights)
        prop = await self.property(**property_overrides)
        room = await self.product(prop["id"], "room_type")
        slot = await self.product(prop["id"], "facility_slot", max_occupancy=2)
        ticket = await self.product(prop["id"], "ticket", max_occupancy=10)
        package = await self.product(
            prop["id"],
            "package",
            components=[
                {"product_id": str(room["id"]), "quantity": 1},
                {"product_id": str(ticket["id"]), "quantity": 2},
            ],
        )
        for product, amount, capacity in (
            (room, 150_000, 5),
            (slot, 30_000, 3),
            (ticket, 20_000, 100),
            (package, 250_000, None),
        ):
            await self.prices(product["id"], start, end, amount, extra_guest_amount=20_000)
            if capacity is not None:
                await self.capacity(product["id"], start, end, capacity)
            await self.details(product["id"])
        products = [await self.reload(p["id"]) for p in (room, slot, ticket, package)]
        return Resort(prop, *products, start=start, nights=nights, products=products)

    async def reload(self, product_id: Any) -> dict[str, Any]:
        return dict(await self.call(self._fetch_product, str(product_id)))

    async def _fetch_product(self, product_id: str) -> Any:
        async with self.db.acquire() as conn:
            return await get_product(conn, product_id)

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        """Rows of a read-only SQL query, run on the app's pool."""
        return [dict(r) for r in await self.call(self.db.fetch, query, *args)]

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.call(self.db.fetchval, query, *args)


@pytest.fixture(scope="session")
def app_call(client: Any) -> AppCall:
    """``await app_call(fn, *args)``: run the coroutine function ``fn(*args)`` in the app's event loop."""

    async def call(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return await asyncio.to_thread(client.blocking_portal.call, fn, *args)

    return call


@pytest.fixture
def catalog_factory(resources: Any, app_call: AppCall) -> CatalogFactory:
    """Creates catalogue entities with unique ids in the test databases (PostgreSQL + MongoDB)."""
    return CatalogFactory(resources, app_call)


@pytest.fixture
async def catalog_resort(catalog_factory: CatalogFactory) -> Resort:
    """A fresh property with a room type, a facility slot, a ticket and a package, priced and stocked."""
    return await catalog_factory.resort()


async def ended_stay(factory: CatalogFactory, product: dict[str, Any], subject: str, *, days_ago: int = 3,
                     status: str = "confirmed") -> str:
    """A booking of ``product`` by the user ``subject`` whose stay ended ``days_ago`` days ago (written in
    SQL: the saga's own tests cover how a booking gets there); returns the booking id (a review's stay)."""
    check_out = resort_today() - dt.timedelta(days=days_ago)
    check_in = check_out - dt.timedelta(days=1)
    return str(await factory.fetchval(
        "WITH h AS (INSERT INTO holds (owner_kind, owner_id, product_id, property_id, check_in, check_out, quantity,"
        " guests, rate_plan, total_amount, currency, status, created_at, expires_at, ended_at)"
        " SELECT 'user', $2, p.id, p.property_id, $3, $4, 1, 2, 'standard', 100000, 'KRW', 'converted',"
        " now() - interval '10 days', now() - interval '9 days', now() - interval '9 days' FROM products p"
        " WHERE p.id = $1 RETURNING id, property_id),"
        " b AS (INSERT INTO bookings (owner_kind, owner_id, property_id, status, step, guest, payment_ref, total_amount,"
        " currency, check_in, check_out, step_deadline, deadline) SELECT 'user', $2, h.property_id, $5, 'done',"
        " '{}', NULL, 100000, 'KRW', $3, $4, now(), now() FROM h RETURNING id)"
        " INSERT INTO booking_holds (booking_id, hold_id) SELECT b.id, h.id FROM b, h RETURNING booking_id",
        product["id"], subject, check_in, check_out, status))
