"""What recommendations read from the activity rollups (MongoDB): pairs, demand, weekly bookings, and the
guest's own booked products and recent views (bounded)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from cachetools import LRUCache

from app.activity.store import EVENTS, PAIRS, SUBJECTS, collection, rollup_version

RECENT_VIEWS = 20
WEEK_DAYS = 7
WEEKS_KEPT = 4  # databases whose week a process keeps (one in production; the tests use a few)
# database -> ((today, rollup version), counts), the least recently used database going first
_WEEKS: LRUCache[str, tuple[tuple[str, int], dict[str, int]]] = LRUCache(maxsize=WEEKS_KEPT)


async def pairs_of(db: Any, products: list[str], limit: int) -> list[tuple[str, int]]:
    """Products booked by guests who booked any of ``products``, by how many such guests."""
    if not products:
        return []
    totals: dict[str, int] = defaultdict(int)
    async for doc in db[PAIRS].find({"a": {"$in": products}, "count": {"$gt": 0}}).sort("count", -1).limit(limit):
        totals[doc["b"]] += doc["count"]
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


async def booked_by(db: Any, subject: str) -> list[str]:
    doc = await db[SUBJECTS].find_one({"_id": subject})
    return list(doc.get("products", ())) if doc else []


async def viewed_by(db: Any, subject: str) -> list[str]:
    cursor = db[EVENTS].find({"subject": subject, "type": "view"}, {"product_id": 1}).sort("at", -1).limit(RECENT_VIEWS)
    return [d["product_id"] async for d in cursor if d.get("product_id")]


async def demand_for(db: Any, property_id: str, nights: list[str]) -> dict[str, int]:
    """Holds + bookings per product for these nights."""
    totals: dict[str, int] = defaultdict(int)
    async for doc in collection(db, "demand").find({"property_id": property_id, "night": {"$in": nights}}):
        totals[doc["product_id"]] += doc.get("holds", 0) + doc.get("bookings", 0)
    return {k: v for k, v in totals.items() if v > 0}


async def booked_this_week(db: Any, products: list[str], today: dt.date) -> dict[str, int]:
    """Bookings of these products over the 7 days ending ``today`` (only those booked)."""
    if not products:
        return {}
    week = await _week(db, today)
    return {p: week[p] for p in products if week.get(p, 0) > 0}


async def _week(db: Any, today: dt.date) -> dict[str, int]:
    """Every product's bookings of the week, kept per database for the rollups' version (read first, so the
    counts kept are at least as new as the version they are kept for): recomputed only after a rollup
    round or a forgetting, never stale, and one query per change instead of one per answer."""
    key = (today.isoformat(), await rollup_version(db))
    kept = _WEEKS.get(db.name)
    if kept is not None and kept[0] == key:
        return kept[1]
    first = (today - dt.timedelta(days=WEEK_DAYS - 1)).isoformat()
    totals: dict[str, int] = defaultdict(int)
    async for doc in collection(db, "popular").find({"day": {"$gte": first, "$lte": key[0]}, "bookings": {"$gt": 0}},
                                                     {"_id": 0, "product_id": 1, "bookings": 1}):
        totals[doc["product_id"]] += doc["bookings"]
    counts = dict(totals)
    _WEEKS[db.name] = (key, counts)
    return counts
