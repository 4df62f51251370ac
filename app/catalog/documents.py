"""MongoDB documents of the catalogue (beanie): flexible details, reviews and the product read model.

Documents reference PostgreSQL rows by id (``product_id`` is the products table's uuid as a string);
no beanie ``Link`` fields (SecantusDB does not resolve ``fetch_links``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pymongo
from beanie import Document
from pydantic import BaseModel, Field


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LocalizedText(BaseModel):
    ko: str = ""
    en: str = ""

    def pick(self, lang: str) -> str:
        """The caller's language, falling back to the other one."""
        return (self.ko or self.en) if lang == "ko" else (self.en or self.ko)


class Image(BaseModel):
    url: str
    caption: LocalizedText = LocalizedText()


class ProductDetails(Document):
    """What PostgreSQL should not hold: long multilingual text, attributes that differ by kind."""

    product_id: str
    property_id: str
    kind: str
    description: LocalizedText = LocalizedText()
    attributes: dict[str, Any] = {}
    amenities: list[str] = []
    images: list[Image] = []
    policies: LocalizedText = LocalizedText()
    version: int = 1
    # Denormalised from the reviews when one is posted (writes of one product are serialised by its
    # PostgreSQL row lock), so a product view needs no aggregation.
    rating_avg: float | None = None
    rating_count: int = 0
    updated_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "product_details"
        indexes = [
            pymongo.IndexModel([("product_id", pymongo.ASCENDING)], unique=True),
            pymongo.IndexModel([("property_id", pymongo.ASCENDING), ("kind", pymongo.ASCENDING)]),
        ]


class Review(Document):
    """A guest's review: one per stay (``stay_ref``) and product."""

    product_id: str
    property_id: str
    author_subject: str
    author_name: str
    stay_ref: str
    rating: int = Field(ge=1, le=5)
    text: str = Field(max_length=5000)
    lang: str = "ko"
    created_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "reviews"
        indexes = [
            pymongo.IndexModel(
                [
                    ("product_id", pymongo.ASCENDING),
                    ("author_subject", pymongo.ASCENDING),
                    ("stay_ref", pymongo.ASCENDING),
                ],
                unique=True,
            ),
            pymongo.IndexModel([("product_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
        ]


class ProductReadModel(Document):
    """The query side: the denormalised product (core + details + rating), written by the projector."""

    product_id: str
    property_id: str
    version: int
    details_version: int = 0
    core: dict[str, Any] = {}
    details: dict[str, Any] = {}
    rating_avg: float | None = None
    rating_count: int = 0
    projected_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "product_read_models"
        indexes = [pymongo.IndexModel([("product_id", pymongo.ASCENDING)], unique=True)]


DOCUMENTS: list[type[Document]] = [ProductDetails, Review, ProductReadModel]
