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
from app.catalog.responses import (
    AdminProduct,
    DetailsOut,
    DetailsWritten,
    InventoryNight,
    NightsWritten,
    PropertyOut,
    RatePlanOut,
)
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
from app.problem_docs import returns
from app.resources import Resources

IfMatch = Annotated[str | None, Parameter(header="If-Match", description='the ETag you read, e.g. "v3"')]
PRODUCT = {"problems": {404: ("product_not_found",)}}
PROPERTY = {"problems": {404: ("property_not_found",)}}
# What the next call needs from a product's answer: its id and its ETag (for If-Match).
PRODUCT_LINKS = {"product_id": "/id", "header.If-Match": "ETag"}
IF_MATCH_REQUIRED = {428: ("precondition_required",)}
RANGE_RULES = {422: "`end` must be after `start` (`empty_date_range`, `invalid_date_range`), at most 731 nights"
                    " apart (`date_range_too_long`)"}


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

    @post("/properties", summary="Create a resort", responses=returns(PropertyOut, 201, "The resort (ETag)"),
          opt={"problems": {409: ("property_exists",)}, "links": {"property_id": "/id"},
               "rules": {422: "`time_zone` must be an IANA time zone name"}})
    async def create_property(self, data: PropertyIn, resources: Resources) -> Response[dict[str, Any]]:
        row = await writes.create_property(resources.db, data)
        return _tagged(dict(row), row["version"], 201)

    @get("/properties/{property_id:str}", summary="A resort, with its ETag", opt=PROPERTY
         | {"links": {"property_id": "/id", "header.If-Match": "ETag"}}, responses=returns(PropertyOut))
    async def get_property(self, property_id: str, resources: Resources) -> Response[dict[str, Any]]:
        async with resources.db.acquire() as conn:
            row = await repo.get_property(conn, property_id)
        if row is None:
            raise writes.property_not_found(property_id)
        return _tagged(dict(row), row["version"])

    @patch("/properties/{property_id:str}", summary="Update a resort (If-Match); re-announces its products",
           opt={"problems": PROPERTY["problems"] | IF_MATCH_REQUIRED,
                "rules": {422: "`time_zone` must be an IANA time zone name"}},
           responses=returns(PropertyOut, description="The resort (ETag)"))
    async def update_property(
        self, property_id: str, data: PropertyPatch, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        row = await writes.update_property(resources.db, property_id, changes_of(data), if_match)
        async with resources.db.acquire() as conn:
            for product in await conn.fetch("SELECT id FROM products WHERE property_id = $1", property_id):
                await _forget(resources, product["id"])
        return _tagged(dict(row), row["version"])

    @post("/properties/{property_id:str}/products", summary="Create a product (with a 'standard' rate plan)",
          opt={"problems": {404: ("property_not_found",), 409: ("product_code_taken",)}, "links": PRODUCT_LINKS,
               "rules": {422: "a facility_slot needs `slot_start` and `slot_minutes`; only a package has (and"
                              " needs) `components`: distinct ids of active products of the same resort"}},
          responses=returns(AdminProduct, 201, "The product (ETag)"))
    async def create_product(
        self, property_id: str, data: ProductIn, resources: Resources
    ) -> Response[dict[str, Any]]:
        row = await writes.create_product(resources.db, property_id, data)
        return _tagged(await _product_body(resources, str(row["id"])), row["version"], 201)

    @get("/products/{product_id:str}", summary="A product's core, components and rate plans, with its ETag",
         opt=PRODUCT | {"links": PRODUCT_LINKS}, responses=returns(AdminProduct))
    async def get_product(self, product_id: str, resources: Resources) -> Response[dict[str, Any]]:
        body = await _product_body(resources, product_id)
        return _tagged(body, body["version"])

    @patch("/products/{product_id:str}", summary="Update a product (If-Match); active=false deactivates it",
           opt={"problems": PRODUCT["problems"] | IF_MATCH_REQUIRED, "links": PRODUCT_LINKS,
                "rules": {422: "a facility_slot keeps `slot_start` and `slot_minutes`; only a package has"
                               " `components`: distinct ids of active products of the same resort"}},
           responses=returns(AdminProduct, description="The product (ETag)"))
    async def update_product(
        self, product_id: str, data: ProductPatch, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        row = await writes.update_product(resources.db, product_id, changes_of(data), if_match)
        await _forget(resources, row["id"])
        return _tagged(await _product_body(resources, product_id), row["version"])

    @post("/products/{product_id:str}/rate-plans", summary="Add a rate plan",
          opt={"problems": PRODUCT["problems"] | {409: ("rate_plan_exists",)}},
          responses=returns(RatePlanOut, 201, "The rate plan (the product's new ETag)"))
    async def add_rate_plan(
        self, product_id: str, data: RatePlanIn, resources: Resources
    ) -> Response[dict[str, Any]]:
        plan, version = await writes.add_rate_plan(resources.db, product_id, data)
        await _forget(resources, product_id)
        return _tagged(dict(plan), version, 201)

    @put("/products/{product_id:str}/prices", summary="Set price and restrictions over [start, end)",
         opt=PRODUCT | {"rules": {422: RANGE_RULES[422] + "; `rate_plan` must be one of the product's"
                                              " (`unknown_rate_plan`)"}},
         responses=returns(NightsWritten, description="Nights written (ETag)"))
    async def set_prices(
        self, product_id: str, data: PricesIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        count, version = await writes.set_prices(resources.db, product_id, data, if_match)
        await _forget(resources, product_id)
        return _tagged({"nights": count, "version": version}, version)

    @put(
        "/products/{product_id:str}/inventory",
        summary="Set capacity over [start, end) (never below held+sold)",
        opt={"problems": PRODUCT["problems"] | {409: ("capacity_below_committed",)},
             "rules": {422: RANGE_RULES[422] + "; a package has no inventory (`package_has_no_inventory`)"}},
        responses=returns(NightsWritten, description="Nights written (ETag)"),
    )
    async def set_inventory(
        self, product_id: str, data: CapacityIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        count, version = await writes.set_capacity(resources.db, product_id, data, if_match)
        await _forget(resources, product_id)
        return _tagged({"nights": count, "version": version}, version)

    @get("/products/{product_id:str}/inventory", summary="Capacity, held and sold per night of [start, end)",
         opt=PRODUCT, responses=returns(list[InventoryNight]))
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

    @get("/products/{product_id:str}/details", summary="The product's details in both languages",
         opt=PRODUCT | {"problems": PRODUCT["problems"] | {503: ("details_unavailable",)}},
         responses=returns(DetailsOut, description="The details (the product's ETag)"))
    async def get_details(self, product_id: str, resources: Resources) -> Response[dict[str, Any]]:
        body = await _product_body(resources, product_id)
        details = await details_svc.get_details(product_id)
        payload = details.model_dump(mode="json", exclude={"id", "revision_id"}) if details else {}
        return _tagged(payload, body["version"])

    @put(
        "/products/{product_id:str}/details", summary="Replace the details (If-Match with the product's ETag)",
        opt={"problems": PRODUCT["problems"] | IF_MATCH_REQUIRED | {503: ("details_unavailable",)},
             "rules": {422: "`attributes` must fit the product kind's attribute schema"}},
        responses=returns(DetailsWritten, description="The new version (ETag)"),
    )
    async def put_details(
        self, product_id: str, data: DetailsIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        version = await details_svc.put_details(resources.db, product_id, data, if_match)
        await _forget(resources, product_id)
        return _tagged({"product_id": product_id, "version": version}, version)
