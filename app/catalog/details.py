"""MongoDB writes of the catalogue (details, reviews) and how they stay ordered with PostgreSQL.

Order of a details write, chosen so that no update is ever lost:

1. in a PostgreSQL transaction, lock the product row (``FOR NO KEY UPDATE``) and check the expected
   version (the controller's ``If-Match``);
2. while holding that lock, upsert the MongoDB details with ``version = product.version + 1``;
3. bump ``products.version`` and record the outbox event in the same transaction; commit.

Writers of one product are serialised by the row lock, so MongoDB never sees an older write after a
newer one. If step 3 fails after step 2, MongoDB holds details one version ahead of PostgreSQL and no
event announces them: the client got an error and retries (same or newer details win), and
reconciliation (``details.version > products.version``) re-announces the product. The opposite order
(PostgreSQL first) would lose the details outright when MongoDB failed after the commit.

A review is inserted first (its unique index on product, author and stay refuses a second review of the
same stay), the rating stored on the details document is recomputed, then the product's version is
bumped with a ``review`` event so the rating is re-projected; if that fails the review is deleted again
so the guest can retry. All of it runs under the product's row lock, so two reviews of one product
cannot store their ratings out of order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import msgspec
from pymongo.errors import DuplicateKeyError

from app import clock
from app.catalog.attributes import attribute_errors
from app.catalog.documents import ProductDetails, Review
from app.catalog.domain import ExpectedVersion, ProductKind
from app.catalog.repository import as_uuid, stay_of
from app.catalog.schemas import DetailsIn, ReviewIn
from app.catalog.writes import changed, check_version, invalid, locked_product
from app.errors import Conflict, ValidationFailed


def _details_fields(data: DetailsIn) -> dict[str, Any]:
    """The body as the details document stores it (plain dicts and lists, amenities sorted)."""
    return msgspec.to_builtins(data) | {"amenities": sorted(set(data.amenities))}


async def save_details(product: asyncpg.Record, fields: dict[str, Any], version: int) -> None:
    """Upsert the product's details at ``version`` (the caller holds the product's row lock)."""
    collection = ProductDetails.get_pymongo_collection()
    await collection.update_one(
        {"product_id": str(product["id"])},
        {
            "$set": {
                **fields,
                "version": version,
                "updated_at": dt.datetime.now(dt.UTC),
                "property_id": product["property_id"],
                "kind": product["kind"],
            }
        },
        upsert=True,
    )


async def put_details(db: asyncpg.Pool, product_id: str, data: DetailsIn, expected: ExpectedVersion | None) -> int:
    """Replace the product's details; returns the product's new version."""
    async with db.acquire() as conn, conn.transaction():
        product = await locked_product(conn, product_id)
        check_version(expected, product["version"])
        errors = attribute_errors(ProductKind(product["kind"]), data.attributes)
        if errors:
            raise ValidationFailed(errors[0]["message"], extra={"errors": errors})
        await save_details(product, _details_fields(data), product["version"] + 1)
        return await changed(conn, product, "details")


async def get_details(product_id: str) -> ProductDetails | None:
    return await ProductDetails.find_one(ProductDetails.product_id == product_id)


async def add_review(db: asyncpg.Pool, product_id: str, data: ReviewIn, author: tuple[str, str]) -> Review:
    """Post a guest's review of a stay (one per stay); bumps the product so its rating is re-projected."""
    async with db.acquire() as conn, conn.transaction():
        product = await locked_product(conn, product_id)
        await _check_stay(conn, product, data.stay_ref, author[0])
        review = await _insert_review(product, data, author)
        try:
            await refresh_rating(product)
            await changed(conn, product, "review")
        except BaseException:
            await review.delete()  # compensate: the guest may retry the same stay
            raise
    return review


async def _check_stay(conn: asyncpg.Connection, product: asyncpg.Record, stay_ref: str, subject: str) -> None:
    """A review names a real stay: a confirmed booking of this product by this guest, whose stay has ended
    (in the resort's time zone)."""
    booking_id = as_uuid(stay_ref)
    stay = await stay_of(conn, booking_id, subject, product["id"]) if booking_id else None
    if stay is None or stay["status"] not in ("confirmed", "checked_out"):
        raise invalid("stay_ref", "stay_ref must name a confirmed booking of this product by you", "stay_not_found")
    if stay["check_out"] > clock.today(stay["time_zone"]):
        raise invalid("stay_ref", f"the stay ends on {stay['check_out']}: review it after", "stay_not_ended")


async def _insert_review(product: asyncpg.Record, data: ReviewIn, author: tuple[str, str]) -> Review:
    review = Review(
        product_id=str(product["id"]),
        property_id=product["property_id"],
        author_subject=author[0],
        author_name=author[1],
        stay_ref=data.stay_ref,
        rating=data.rating,
        text=data.text,
        lang=data.lang,
    )
    try:
        await review.insert()
    except DuplicateKeyError:
        raise Conflict("this stay already has your review", code="review_exists") from None
    return review


async def refresh_rating(product: asyncpg.Record | dict[str, Any]) -> None:
    """Recompute the product's rating from its reviews and store it on its details document."""
    avg, count = await rating_of(str(product["id"]))
    await ProductDetails.get_pymongo_collection().update_one(
        {"product_id": str(product["id"])},
        {
            "$set": {"rating_avg": avg, "rating_count": count},
            "$setOnInsert": {"property_id": product["property_id"], "kind": product["kind"], "version": 0},
        },
        upsert=True,
    )


async def rating_of(product_id: str) -> tuple[float | None, int]:
    """Average rating (one decimal) and number of reviews."""
    pipeline = [
        {"$match": {"product_id": product_id}},
        {"$group": {"_id": None, "avg": {"$avg": "$rating"}, "count": {"$sum": 1}}},
    ]
    rows = await Review.get_pymongo_collection().aggregate(pipeline)
    async for row in rows:
        return round(row["avg"], 1), row["count"]
    return None, 0


async def list_reviews(product_id: str, limit: int, offset: int) -> tuple[list[Review], int]:
    query = Review.find(Review.product_id == product_id)
    total = await query.count()
    items = await query.sort(-Review.created_at).skip(offset).limit(limit).to_list()
    return items, total
