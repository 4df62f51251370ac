"""``GET /search``: public product search (free text ko/en with typos, filters, facets, sorting)."""

from __future__ import annotations

from litestar import Response, get
from litestar.params import Parameter

from app.resources import Resources
from app.search.query import make_params
from app.search.service import cached_search
from app.settings import Settings


@get("/search", opt={"public": True}, summary="Search products", tags=["search"])
async def search_products(
    resources: Resources,
    settings: Settings,
    q: str | None = Parameter(default=None, description="Free text, Korean or English; typos tolerated"),
    lang: str | None = Parameter(default=None, description="ko (default) or en"),
    property: list[str] | None = Parameter(default=None, description="Property ids (any of)"),
    kind: list[str] | None = Parameter(default=None, description="room_type, facility_slot, ticket, package"),
    amenities: list[str] | None = Parameter(default=None, description="Amenities (all of)"),
    price_min: int | None = Parameter(default=None, description="Lowest 'from' price"),
    price_max: int | None = Parameter(default=None, description="Highest 'from' price"),
    min_rating: float | None = Parameter(default=None, description="Minimum average rating"),
    lat: float | None = Parameter(default=None),
    lon: float | None = Parameter(default=None),
    radius_km: float | None = Parameter(default=None, description="Only within this distance of lat/lon"),
    sort: str | None = Parameter(default=None,
                                 description="relevance, price_asc, price_desc, rating, distance"),
    page: int = Parameter(default=1),
    size: int = Parameter(default=20),
) -> Response[bytes]:
    params = make_params(
        q=q, lang=lang, property=property, kind=kind, amenities=amenities, price_min=price_min,
        price_max=price_max, min_rating=min_rating, lat=lat, lon=lon, radius_km=radius_km, sort=sort,
        page=page, size=size, max_size=settings.search_max_page_size,
    )
    body, hit = await cached_search(resources.redis, resources.es, settings.search_index, params,
                                    settings.search_cache_ttl_s)
    return Response(body, media_type="application/json", headers={"X-Cache": "hit" if hit else "miss"})
