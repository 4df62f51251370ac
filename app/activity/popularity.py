"""Popularity for search ranking: bookings and views of the last ``search_popularity_days`` days, read from the
``popular`` rollup (product, day), written into the products' search documents in proportion to change.

What changes a product's popularity, and how the change is noticed (each marks the product in
``activity_popularity_changes``, a counter per product):

- a rollup round that counted views or bookings of it (marked in the round's transaction, ``store.mark_popularity``);
- forgetting a guest whose events were counted for it (marked in that transaction too);
- a day leaving the window (``slide``: the products with counts on the days that just left it).

``publish`` takes a batch of marked products, recomputes their popularity from the rollup, updates only
those documents (a partial update of one field) and removes each mark only if it was not counted again
meanwhile: a crash or Elasticsearch being down leaves the marks, the next round does the work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from pymongo import DeleteOne

from app.activity.store import POPULARITY_CHANGES, STATE, collection, mark_popularity
from app.search.popularity import set_popularity

CHANGES = POPULARITY_CHANGES
WINDOW_STATE = "popularity_window"
VIEW_WEIGHT = 0.1  # ten views count as much as one booking
PUBLISH_BATCH = 500
PUBLISH_ROUNDS = 20
_CONCURRENT = 50


def score(bookings: int, views: int) -> float:
    """A product's popularity from its counts in the window (pure; never negative)."""
    return round(max(0.0, bookings + VIEW_WEIGHT * views), 3)


def first_day(today: dt.date, days: int) -> str:
    """The first day (ISO) of the window of ``days`` days ending with ``today``."""
    return (today - dt.timedelta(days=days - 1)).isoformat()


async def slide(db: Any, today: dt.date, days: int) -> int:
    """Mark the products with counts on the days that left (or, the window grown, entered) the window since
    the last call (the whole window on the first call: a backfill); how many were marked."""
    first = first_day(today, days)
    state = await db[STATE].find_one({"_id": WINDOW_STATE})
    previous = state.get("first") if state else None
    if previous == first:
        return 0
    span: dict[str, Any] = {"$gte": first} if previous is None else {"$gte": min(previous, first),
                                                                       "$lt": max(previous, first)}
    products = {d["product_id"] async for d in collection(db, "popular").find({"day": span}, {"product_id": 1})}
    await mark_popularity(db, products)
    await db[STATE].update_one({"_id": WINDOW_STATE}, {"$set": {"first": first}}, upsert=True)
    return len(products)


async def popularity_of(db: Any, products: list[str], today: dt.date, days: int) -> dict[str, float]:
    """Each product's popularity over the window (0 for a product without counts)."""
    first = first_day(today, days)
    values: dict[str, float] = {}
    for start in range(0, len(products), _CONCURRENT):
        chunk = products[start:start + _CONCURRENT]
        for product, value in zip(chunk, await asyncio.gather(*(_one(db, p, first) for p in chunk)), strict=True):
            values[product] = value
    return values


async def _one(db: Any, product: str, first: str) -> float:
    # one product per query: SecantusDB answers ``$in`` by scanning the collection, equality by its index
    bookings = views = 0
    async for doc in collection(db, "popular").find({"product_id": product, "day": {"$gte": first}}):
        bookings, views = bookings + doc.get("bookings", 0), views + doc.get("views", 0)
    return score(bookings, views)


async def changed(db: Any, limit: int = PUBLISH_BATCH) -> dict[str, int]:
    """A batch of marked products with their mark counters."""
    return {d["_id"]: d["n"] async for d in db[CHANGES].find().sort("_id", 1).limit(limit)}


async def unmark(db: Any, marks: dict[str, int]) -> None:
    """Remove the marks that were not counted again since they were read."""
    if marks:
        await db[CHANGES].bulk_write([DeleteOne({"_id": p, "n": n}) for p, n in marks.items()], ordered=False)


async def publish(db: Any, es: Any, index: str, today: dt.date, days: int) -> int:
    """One round: the window slid, then the marked products' documents updated, batch after batch (at most
    ``PUBLISH_ROUNDS`` batches: the rest waits for the next round); how many products were updated."""
    await slide(db, today, days)
    total = 0
    for _ in range(PUBLISH_ROUNDS):
        marks = await changed(db)
        if marks:
            await set_popularity(es, index, await popularity_of(db, sorted(marks), today, days))
            await unmark(db, marks)
        total += len(marks)
        if len(marks) < PUBLISH_BATCH:
            break
    return total
