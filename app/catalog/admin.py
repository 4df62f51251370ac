"""The admin catalogue API (role ``admin``): properties, products, rate plans, prices, inventory, details.

Reads answer with an ``ETag`` (``"v<version>"``); updates of properties, products and details need
``If-Match`` (428 without it, 412 when stale); bulk price and inventory writes check it when sent.
Every write answers with the product's (or property's) new version as ``ETag``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post, put
from litestar.params import Parameter

from app.catalog import details as details_svc
from app.catalog import rates as rates_repo
from app.catalog import repository as repo
from app.catalog import writes
from app.catalog.access import ADMIN
from app.catalog.cache import invalidate_product
from app.catalog.headers import etag
from app.catalog.schemas import (
    CapacityIn,
    DetailsIn,
    PricesIn,
    ProductIn,
    ProductPatch,
    PropertyIn,
    PropertyPatch,
    RatePlanIn,
    changes_of,
)
from app.resources import Resources

IfMatch = Annotated[str | None, Parameter(header="If-Match", description='the ETag you read, e.g. "v3"')]


def _tagged(body: dict[str, Any], version: int, status: int = 200) -> Response[dict[str, Any]]:
    return Response(body, status_code=status, headers={"ETag": etag(version)})


async def _forget(resources: Resources, product_id: Any) -> None:
    """Read-your-writes for the admin: drop the cached views now (the projector does it too)."""
    with contextlib.suppress(Exception):
        await invalidate_product(resources.redis, str(product_id))


async def _product_body(resources: Resources, product_id: str) -> dict[str, Any]:
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


class AdminCatalogController(Controller):
    path = "/admin"
    guards = ADMIN
    tags = ["catalogue admin"]

    @post("/properties", summary="Create a resort")
    async def create_property(self, data: PropertyIn, resources: Resources) -> Response[dict[str, Any]]:
        row = await writes.create_property(resources.db, data)
        return _tagged(dict(row), row["version"], 201)

    @get("/properties/{property_id:str}", summary="A resort, with its ETag")
    async def get_property(self, property_id: str, resources: Resources) -> Response[dict[str, Any]]:
        async with resources.db.acquire() as conn:
            row = await repo.get_property(conn, property_id)
        if row is None:
            raise writes.property_not_found(property_id)
        return _tagged(dict(row), row["version"])

    @patch("/properties/{property_id:str}", summary="Update a resort (If-Match); re-announces its products")
    async def update_property(
        self, property_id: str, data: PropertyPatch, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        row = await writes.update_property(resources.db, property_id, changes_of(data), if_match)
        async with resources.db.acquire() as conn:
            for product in await conn.fetch("SELECT id FROM products WHERE property_id = $1", property_id):
                await _forget(resources, product["id"])
        return _tagged(dict(row), row["version"])

    @post("/properties/{property_id:str}/products", summary="Create a product (with a 'standard' rate plan)")
    async def create_product(
        self, property_id: str, data: ProductIn, resources: Resources
    ) -> Response[dict[str, Any]]:
        row = await writes.create_product(resources.db, property_id, data)
        return _tagged(await _product_body(resources, str(row["id"])), row["version"], 201)

    @get("/products/{product_id:str}", summary="A product's core, components and rate plans, with its ETag")
    async def get_product(self, product_id: str, resources: Resources) -> Response[dict[str, Any]]:
        body = await _product_body(resources, product_id)
        return _tagged(body, body["version"])

    @patch("/products/{product_id:str}", summary="Update a product (If-Match); active=false deactivates it")
    async def update_product(
        self, product_id: str, data: ProductPatch, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        row = await writes.update_product(resources.db, product_id, changes_of(data), if_match)
        await _forget(resources, row["id"])
        return _tagged(await _product_body(resources, product_id), row["version"])

    @post("/products/{product_id:str}/rate-plans", summary="Add a rate plan")
    async def add_rate_plan(
        self, product_id: str, data: RatePlanIn, resources: Resources
    ) -> Response[dict[str, Any]]:
        plan, version = await writes.add_rate_plan(resources.db, product_id, data)
        await _forget(resources, product_id)
        return _tagged(dict(plan), version, 201)

    @put("/products/{product_id:str}/prices", summary="Set price and restrictions over [start, end)")
    async def set_prices(
        self, product_id: str, data: PricesIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        count, version = await writes.set_prices(resources.db, product_id, data, if_match)
        await _forget(resources, product_id)
        return _tagged({"nights": count, "version": version}, version)

    @put(
        "/products/{product_id:str}/inventory",
        summary="Set capacity over [start, end) (never below held+sold)",
    )
    async def set_inventory(
        self, product_id: str, data: CapacityIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        count, version = await writes.set_capacity(resources.db, product_id, data, if_match)
        await _forget(resources, product_id)
        return _tagged({"nights": count, "version": version}, version)

    @get("/products/{product_id:str}/inventory", summary="Capacity, held and sold per night of [start, end)")
    async def get_inventory(
        self, product_id: str, start: dt.date, end: dt.date, resources: Resources
    ) -> list[dict[str, Any]]:
        pid = repo.as_uuid(product_id)
        if pid is None:
            raise writes.product_not_found(product_id)
        async with resources.db.acquire() as conn:
            rows = await conn.fetch(
                "SELECT night, capacity, held, sold, version FROM inventory"
                " WHERE product_id = $1 AND night >= $2 AND night < $3 ORDER BY night",
                pid,
                start,
                end,
            )
        return [dict(r) for r in rows]

    @get("/products/{product_id:str}/details", summary="The product's details in both languages")
    async def get_details(self, product_id: str, resources: Resources) -> Response[dict[str, Any]]:
        body = await _product_body(resources, product_id)
        details = await details_svc.get_details(product_id)
        payload = details.model_dump(mode="json", exclude={"id", "revision_id"}) if details else {}
        return _tagged(payload, body["version"])

    @put(
        "/products/{product_id:str}/details", summary="Replace the details (If-Match with the product's ETag)"
    )
    async def put_details(
        self, product_id: str, data: DetailsIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        version = await details_svc.put_details(resources.db, product_id, data, if_match)
        await _forget(resources, product_id)
        return _tagged({"product_id": product_id, "version": version}, version)
