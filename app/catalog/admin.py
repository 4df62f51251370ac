"""The admin catalogue API (role ``admin``): properties, products, rate plans, prices, inventory, details.

Reads answer with an ``ETag`` (``"v<version>"``); updates of properties, products and details need
``If-Match`` (428 without it, 412 when stale); bulk price and inventory writes check it when sent.
Every write answers with the product's (or property's) new version as ``ETag``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post, put
from litestar.params import Parameter

from app.catalog import service
from app.catalog.access import ADMIN
from app.catalog.headers import etag, expected_version
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


class AdminCatalogController(Controller):
    path = "/admin"
    guards = ADMIN
    tags = ["catalogue admin"]

    @post("/properties", summary="Create a resort", responses=returns(PropertyOut, 201, "The resort (ETag)"),
          opt={"problems": {409: ("property_exists",)}, "links": {"property_id": "/id"},
               "rules": {422: "`time_zone` must be an IANA time zone name"}})
    async def create_property(self, data: PropertyIn, resources: Resources) -> Response[dict[str, Any]]:
        row = await service.create_property(resources, data)
        return _tagged(dict(row), row["version"], 201)

    @get("/properties/{property_id:str}", summary="A resort, with its ETag", opt=PROPERTY
         | {"links": {"property_id": "/id", "header.If-Match": "ETag"}}, responses=returns(PropertyOut))
    async def get_property(self, property_id: str, resources: Resources) -> Response[dict[str, Any]]:
        row = await service.get_property(resources, property_id)
        return _tagged(dict(row), row["version"])

    @patch("/properties/{property_id:str}", summary="Update a resort (If-Match); re-announces its products",
           opt={"problems": PROPERTY["problems"] | IF_MATCH_REQUIRED,
                "rules": {422: "`time_zone` must be an IANA time zone name"}},
           responses=returns(PropertyOut, description="The resort (ETag)"))
    async def update_property(
        self, property_id: str, data: PropertyPatch, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        row = await service.update_property(resources, property_id, changes_of(data), expected_version(if_match))
        return _tagged(dict(row), row["version"])

    @post("/properties/{property_id:str}/products", summary="Create a product (with a 'standard' rate plan)",
          opt={"problems": {404: ("property_not_found",), 409: ("product_code_taken",)}, "links": PRODUCT_LINKS,
               "rules": {422: "a facility_slot needs `slot_start` and `slot_minutes`; only a package has (and"
                              " needs) `components`: distinct ids of active products of the same resort"}},
          responses=returns(AdminProduct, 201, "The product (ETag)"))
    async def create_product(
        self, property_id: str, data: ProductIn, resources: Resources
    ) -> Response[dict[str, Any]]:
        body, version = await service.create_product(resources, property_id, data)
        return _tagged(body, version, 201)

    @get("/products/{product_id:str}", summary="A product's core, components and rate plans, with its ETag",
         opt=PRODUCT | {"links": PRODUCT_LINKS}, responses=returns(AdminProduct))
    async def get_product(self, product_id: str, resources: Resources) -> Response[dict[str, Any]]:
        body = await service.admin_product(resources, product_id)
        return _tagged(body, body["version"])

    @patch("/products/{product_id:str}", summary="Update a product (If-Match); active=false deactivates it",
           opt={"problems": PRODUCT["problems"] | IF_MATCH_REQUIRED, "links": PRODUCT_LINKS,
                "rules": {422: "a facility_slot keeps `slot_start` and `slot_minutes`; only a package has"
                               " `components`: distinct ids of active products of the same resort"}},
           responses=returns(AdminProduct, description="The product (ETag)"))
    async def update_product(
        self, product_id: str, data: ProductPatch, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        body, version = await service.update_product(resources, product_id, changes_of(data),
                                                     expected_version(if_match))
        return _tagged(body, version)

    @post("/products/{product_id:str}/rate-plans", summary="Add a rate plan",
          opt={"problems": PRODUCT["problems"] | {409: ("rate_plan_exists",)}},
          responses=returns(RatePlanOut, 201, "The rate plan (the product's new ETag)"))
    async def add_rate_plan(
        self, product_id: str, data: RatePlanIn, resources: Resources
    ) -> Response[dict[str, Any]]:
        plan, version = await service.add_rate_plan(resources, product_id, data)
        return _tagged(dict(plan), version, 201)

    @put("/products/{product_id:str}/prices", summary="Set price and restrictions over [start, end)",
         opt=PRODUCT | {"rules": {422: RANGE_RULES[422] + "; `rate_plan` must be one of the product's"
                                              " (`unknown_rate_plan`)"}},
         responses=returns(NightsWritten, description="Nights written (ETag)"))
    async def set_prices(
        self, product_id: str, data: PricesIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        count, version = await service.set_prices(resources, product_id, data, expected_version(if_match))
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
        count, version = await service.set_capacity(resources, product_id, data, expected_version(if_match))
        return _tagged({"nights": count, "version": version}, version)

    @get("/products/{product_id:str}/inventory", summary="Capacity, held and sold per night of [start, end)",
         opt=PRODUCT, responses=returns(list[InventoryNight]))
    async def get_inventory(
        self, product_id: str, start: dt.date, end: dt.date, resources: Resources
    ) -> list[dict[str, Any]]:
        return [dict(r) for r in await service.inventory(resources, product_id, start, end)]

    @get("/products/{product_id:str}/details", summary="The product's details in both languages",
         opt=PRODUCT | {"problems": PRODUCT["problems"] | {503: ("details_unavailable",)}},
         responses=returns(DetailsOut, description="The details (the product's ETag)"))
    async def get_details(self, product_id: str, resources: Resources) -> Response[dict[str, Any]]:
        details, version = await service.get_details(resources, product_id)
        payload = details.model_dump(mode="json", exclude={"id", "revision_id"}) if details else {}
        return _tagged(payload, version)

    @put(
        "/products/{product_id:str}/details", summary="Replace the details (If-Match with the product's ETag)",
        opt={"problems": PRODUCT["problems"] | IF_MATCH_REQUIRED | {503: ("details_unavailable",)},
             "rules": {422: "`attributes` must fit the product kind's attribute schema"}},
        responses=returns(DetailsWritten, description="The new version (ETag)"),
    )
    async def put_details(
        self, product_id: str, data: DetailsIn, resources: Resources, if_match: IfMatch = None
    ) -> Response[dict[str, Any]]:
        version = await service.put_details(resources, product_id, data, expected_version(if_match))
        return _tagged({"product_id": product_id, "version": version}, version)
