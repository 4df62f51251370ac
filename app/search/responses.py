"""The body of ``GET /search`` as the OpenAPI document describes it (built by ``query.shape_response``)."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, Struct, UnsetType

from app.catalog.responses import Location


class SearchItem(Struct, kw_only=True):
    product_id: str
    property_id: str
    property_name: str
    kind: str
    name: str
    description: str
    amenities: list[str]
    price_min: int | None
    price_max: int | None
    currency: str | None
    rating_avg: float | None
    rating_count: int
    location: Location | None
    version: int | None
    distance_km: float | UnsetType = UNSET  # only with sort=distance


class Bucket(Struct, kw_only=True):
    value: str
    count: int


class PriceBucket(Struct, kw_only=True):
    value: str
    low: float | None = msgspec.field(name="from")
    high: float | None = msgspec.field(name="to")
    count: int


class Facets(Struct, kw_only=True):
    kind: list[Bucket]
    property: list[Bucket]
    amenities: list[Bucket]
    price: list[PriceBucket]


class SearchResult(Struct, kw_only=True):
    items: list[SearchItem]
    total: int
    total_exact: bool
    page: int
    size: int
    facets: Facets
