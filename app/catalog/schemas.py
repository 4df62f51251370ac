"""Request bodies of the catalogue API (msgspec validates them; a bad field is a 422 naming it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from app.catalog.domain import DEFAULT_TIME_ZONE, ProductKind

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="lower-case id, 2-63 chars")]
Code = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
# PostgreSQL text cannot hold a NUL character: refuse it here (a 422 naming the field), not in the database.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Text = Annotated[str, Meta(pattern=NO_NUL, description="any text without NUL characters")]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Occupancy = Annotated[int, Meta(ge=1, le=100)]
Minutes = Annotated[int, Meta(ge=1, le=24 * 60)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, Meta(ge=0, le=10**12)]
Capacity = Annotated[int, Meta(ge=0, le=100_000)]
Lang = Literal["ko", "en"]
# What the decoder takes for a time of day (RFC 3339 partial time, an offset allowed).
LocalTime = Annotated[dt.time, Meta(extra_json_schema={
    "pattern": r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?$",
    "description": "HH:MM:SS (local time of the resort)"})]


class Body(Struct, forbid_unknown_fields=True, kw_only=True):
    """Bodies refuse unknown fields: a typo is an error, not silently ignored."""


class PropertyIn(Body, kw_only=True):
    id: Slug
    name: Name
    name_ko: Text | None = None
    time_zone: Text = DEFAULT_TIME_ZONE
    latitude: Latitude
    longitude: Longitude
    address: Text | None = None


class PropertyPatch(Body, kw_only=True):
    name: Name | UnsetType = UNSET
    name_ko: Text | UnsetType | None = UNSET
    time_zone: Text | UnsetType = UNSET
    latitude: Latitude | UnsetType = UNSET
    longitude: Longitude | UnsetType = UNSET
    address: Text | UnsetType | None = UNSET


class ComponentIn(Body, kw_only=True):
    product_id: str
    quantity: Annotated[int, Meta(ge=1, le=100)] = 1


class ProductIn(Body, kw_only=True):
    kind: ProductKind
    code: Code
    name: Name
    name_ko: Text | None = None
    max_occupancy: Occupancy = 2
    slot_start: LocalTime | None = None
    slot_minutes: Minutes | None = None
    currency: Currency = "KRW"
    components: list[ComponentIn] = []


class ProductPatch(Body, kw_only=True):
    name: Name | UnsetType = UNSET
    name_ko: Text | UnsetType | None = UNSET
    max_occupancy: Occupancy | UnsetType = UNSET
    slot_start: LocalTime | UnsetType | None = UNSET
    slot_minutes: Minutes | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    components: list[ComponentIn] | UnsetType = UNSET


class RatePlanIn(Body, kw_only=True):
    code: Code
    name: Name
    refundable: bool = True
    free_cancel_hours: Annotated[int, Meta(ge=0, le=24 * 365)] = 72
    late_cancel_fee_pct: Annotated[int, Meta(ge=0, le=100)] = 50


class PricesIn(Body, kw_only=True):
    """Set the price and restrictions of every night in ``[start, end)`` (optionally some weekdays only)."""

    start: dt.date
    end: dt.date
    amount: Amount
    rate_plan: Code = "standard"
    extra_guest_amount: Amount = 0
    included_guests: Occupancy = 2
    min_stay: Annotated[int, Meta(ge=1, le=365)] = 1
    closed: bool = False
    closed_to_arrival: bool = False
    closed_to_departure: bool = False
    weekdays: list[Annotated[int, Meta(ge=0, le=6)]] | None = None


class CapacityIn(Body, kw_only=True):
    """Set the capacity of every night in ``[start, end)``."""

    start: dt.date
    end: dt.date
    capacity: Capacity


class TextIn(Body, kw_only=True):
    ko: Annotated[str, Meta(max_length=20_000, pattern=NO_NUL)] = ""
    en: Annotated[str, Meta(max_length=20_000, pattern=NO_NUL)] = ""


class ImageIn(Body, kw_only=True):
    url: Annotated[str, Meta(pattern=r"^https?://", max_length=2000)]
    caption: TextIn = msgspec.field(default_factory=TextIn)


class DetailsIn(Body, kw_only=True):
    description: TextIn = msgspec.field(default_factory=TextIn)
    attributes: dict[str, Any] = {}
    amenities: list[Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]] = []
    images: list[ImageIn] = []
    policies: TextIn = msgspec.field(default_factory=TextIn)


class ReviewIn(Body, kw_only=True):
    stay_ref: Annotated[str, Meta(min_length=1, max_length=100, pattern=NO_NUL,
                                  description="the id of your confirmed booking of this product; its stay has ended")]
    rating: Annotated[int, Meta(ge=1, le=5)]
    text: Annotated[str, Meta(min_length=1, max_length=5000, pattern=NO_NUL)]
    lang: Lang = "ko"


def changes_of(patch: Struct) -> dict[str, Any]:
    """The fields a PATCH body actually sets (UNSET ones left out)."""
    return {f: getattr(patch, f) for f in patch.__struct_fields__ if getattr(patch, f) is not UNSET}
