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


class RankedItem(Struct, kw_only=True):
    rank: int
    product_id: str
    property_id: str
    name: str
    score: float
    relevance: float  # the same query's score without popularity
    popularity: float  # bookings + views/10 over RESORT_SEARCH_POPULARITY_DAYS, as the document holds it
    popularity_boost: float  # score - relevance


class RankingExplanation(Struct, kw_only=True):
    q: str
    lang: str
    popularity_weight: float
    popularity_days: int
    items: list[RankedItem]
