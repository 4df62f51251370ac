"""``GET /search``: public product search (free text ko/en with typos, filters, facets, sorting)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import Parameter

from app.auth.guards import requires_roles
from app.http_semantics.caching import CACHED_READ
from app.problem_docs import returns
from app.resources import Resources
from app.search.explain import explained
from app.search.query import LANGS, MAX_QUERY_LENGTH, MAX_RESULT_WINDOW, SORTS, make_params
from app.search.responses import RankingExplanation, SearchResult
from app.search.service import search
from app.settings import Settings

MAX_PAGE_SIZE = next(f.default for f in msgspec.structs.fields(Settings) if f.name == "search_max_page_size")
# The constraints are documented (schema_extra) and checked by make_params, which answers stable codes.
AT_LEAST_0 = {"minimum": 0}
# The parameters GET /search and its explanation for staff share, declared once.
Text = Annotated[str | None, Parameter(schema_extra={"maxLength": MAX_QUERY_LENGTH},
                                       description="Free text, Korean or English; typos tolerated (spaces collapsed)")]
Lang = Annotated[str | None, Parameter(schema_extra={"enum": list(LANGS)}, description="ko (default) or en")]
Properties = Annotated[list[str] | None, Parameter(description="Property ids (any of)")]
Kinds = Annotated[list[str] | None, Parameter(description="room_type, facility_slot, ticket, package")]
Size = Annotated[int, Parameter(default=20, schema_extra={"minimum": 1, "maximum": MAX_PAGE_SIZE},
                                description=f"at most RESORT_SEARCH_MAX_PAGE_SIZE (default {MAX_PAGE_SIZE})")]


@get("/search", opt=CACHED_READ | {"public": True, "links": {"product_id": "/items/0/product_id"},
                    "rules": {422: "`price_min` <= `price_max` (`invalid_price_range`); `lat` and `lon` go together"
                                   " (`invalid_point`); `radius_km` and `sort=distance` need them (`invalid_radius`,"
                                   " `invalid_sort`); `page` * `size` <= 10000 (`invalid_page`); at most 100 values"
                                   " per filter (`too_many_values`)"}},
     summary="Search products", tags=["search"], responses=returns(SearchResult, description="Hits and facets"))
async def search_products(
    resources: Resources,
    settings: Settings,
    q: Text = None,
    lang: Lang = None,
    property: Properties = None,
    kind: Kinds = None,
    amenities: list[str] | None = Parameter(default=None, description="Amenities (all of)"),
    price_min: int | None = Parameter(default=None, schema_extra=AT_LEAST_0, description="Lowest 'from' price"),
    price_max: int | None = Parameter(default=None, schema_extra=AT_LEAST_0, description="Highest 'from' price"),
    min_rating: float | None = Parameter(default=None, schema_extra={"minimum": 0, "maximum": 5},
                                         description="Minimum average rating"),
    lat: float | None = Parameter(default=None, schema_extra={"minimum": -90, "maximum": 90}),
    lon: float | None = Parameter(default=None, schema_extra={"minimum": -180, "maximum": 180}),
    radius_km: float | None = Parameter(default=None, schema_extra={"exclusiveMinimum": 0, "maximum": 20_000},
                                        description="Only within this distance of lat/lon"),
    sort: str | None = Parameter(default=None, schema_extra={"enum": list(SORTS)},
                                            description="relevance (default), price_asc, price_desc, rating, distance"),
    page: int = Parameter(default=1, schema_extra={"minimum": 1, "maximum": MAX_RESULT_WINDOW}),
    size: Size = 20,
) -> Response[bytes]:
    params = make_params(
        q=q, lang=lang, property=property, kind=kind, amenities=amenities, price_min=price_min,
        price_max=price_max, min_rating=min_rating, lat=lat, lon=lon, radius_km=radius_km, sort=sort,
        page=page, size=size, max_size=settings.search_max_page_size,
        popularity_weight=settings.search_popularity_weight,
    )
    body, hit = await search(resources, params)
    return Response(body, media_type="application/json", headers={"X-Cache": "hit" if hit else "miss"})


@get("/admin/search/explain", guards=[requires_roles("admin")], tags=["search"],
     summary="Why a search ranks its results so: each result's relevance, popularity and the boost it gave (staff)",
     responses=returns(RankingExplanation, description="The first page of the ranking, explained"))
async def explain_ranking(
    resources: Resources,
    settings: Settings,
    q: Text = None,
    lang: Lang = None,
    property: Properties = None,
    kind: Kinds = None,
    size: Size = 20,
) -> dict[str, Any]:
    params = make_params(q=q, lang=lang, property=property, kind=kind, size=size,
                         max_size=settings.search_max_page_size, popularity_weight=settings.search_popularity_weight)
    return await explained(resources, params)
