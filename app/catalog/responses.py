"""Response bodies of the catalogue API, as the OpenAPI document describes them (see app.problem_docs).

The handlers build plain dicts (cached bytes for the product view); these Structs are the contract
those dicts keep, and the contract test checks every answer against them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from app.catalog.domain import ProductKind

Time = Annotated[str, Meta(pattern=r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", description="HH:MM:SS, local time")]


class Out(Struct, kw_only=True):
    """Every field is always present (nullable ones are null)."""


class PropertyOut(Out, kw_only=True):
    id: str
    name: str
    name_ko: str | None
    time_zone: str
    latitude: float
    longitude: float
    address: str | None
    version: int
    updated_at: dt.datetime


class PropertyPage(Out, kw_only=True):
    items: list[PropertyOut]
    page: int
    per_page: int
    total: int


class ProductCore(Out, kw_only=True):
    id: str
    property_id: str
    kind: ProductKind
    code: str
    name: str
    max_occupancy: int
    slot_start: Time | None
    slot_minutes: int | None
    currency: str
    active: bool
    version: int


class ProductPage(Out, kw_only=True):
    items: list[ProductCore]
    page: int
    per_page: int
    total: int


class RatePlanOut(Out, kw_only=True):
    code: str
    name: str
    refundable: bool


class Location(Out, kw_only=True):
    lat: float
    lon: float


class PropertyRef(Out, kw_only=True):
    id: str
    name: str
    time_zone: str
    location: Location


class ImageOut(Out, kw_only=True):
    url: str
    caption: str


class ComponentOut(Out, kw_only=True):
    product_id: str
    quantity: int
    kind: ProductKind
    name: str


class Rating(Out, kw_only=True):
    average: float | None
    count: int


class ProductView(ProductCore, kw_only=True):
    """A product in one language: PostgreSQL core, MongoDB details, rating."""

    description: str
    attributes: dict[str, Any]
    amenities: list[str]
    images: list[ImageOut]
    policies: str
    lang: str
    property: PropertyRef
    components: list[ComponentOut]
    rate_plans: list[RatePlanOut]
    from_price: int | None
    rating: Rating


class ReviewOut(Out, kw_only=True):
    id: str
    product_id: str
    author_name: str
    stay_ref: str
    rating: int
    text: str
    lang: str
    created_at: dt.datetime


class ReviewPage(Out, kw_only=True):
    items: list[ReviewOut]
    page: int
    per_page: int
    total: int


class NightOut(Out, kw_only=True):
    """One night of a product's availability."""

    __contract_name__ = "AvailabilityNight"  # the holds' NightOut is another schema (app.contract.names)
    night: dt.date
    free: int
    amount: int | None
    bookable: bool
    closed: bool
    closed_to_arrival: bool
    closed_to_departure: bool
    min_stay: int


class Availability(Out, kw_only=True):
    product_id: str
    rate_plan: str
    currency: str
    nights: list[NightOut]


class QuoteNightOut(Out, kw_only=True):
    night: dt.date
    amount: int
    free: int


class Refusal(Out, kw_only=True):
    code: str
    night: dt.date | None


class QuoteOut(Out, kw_only=True):
    product_id: str
    rate_plan: str
    currency: str
    start: dt.date
    end: dt.date
    guests: int
    units: int
    available: bool
    total: int
    nights: list[QuoteNightOut]
    refusals: list[Refusal]


class ComponentRef(Out, kw_only=True):
    product_id: str
    quantity: int


class AdminProduct(Out, kw_only=True):
    id: str
    property_id: str
    kind: ProductKind
    code: str
    name: str
    name_ko: str | None
    max_occupancy: int
    slot_start: Time | None
    slot_minutes: int | None
    currency: str
    active: bool
    version: int
    updated_at: dt.datetime
    components: list[ComponentRef]
    rate_plans: list[RatePlanOut]


class NightsWritten(Out, kw_only=True):
    nights: int
    version: int


class InventoryNight(Out, kw_only=True):
    night: dt.date
    capacity: int
    held: int
    sold: int
    version: int


class LocalizedOut(Out, kw_only=True):
    ko: str
    en: str


class StoredImage(Out, kw_only=True):
    url: str
    caption: LocalizedOut


class DetailsOut(Struct, kw_only=True):
    """Both languages; an empty object when the product has no details yet."""

    product_id: str | UnsetType = UNSET
    property_id: str | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    description: LocalizedOut | UnsetType = UNSET
    attributes: dict[str, Any] | UnsetType = UNSET
    amenities: list[str] | UnsetType = UNSET
    images: list[StoredImage] | UnsetType = UNSET
    policies: LocalizedOut | UnsetType = UNSET
    version: int | UnsetType = UNSET
    rating_avg: float | None | UnsetType = UNSET
    rating_count: int | UnsetType = UNSET
    updated_at: dt.datetime | UnsetType = UNSET


class DetailsWritten(Out, kw_only=True):
    product_id: str
    version: int
