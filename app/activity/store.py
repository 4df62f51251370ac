"""The activity collections in MongoDB: raw events (TTL), the rollups, ingestion, the incremental rollup and
forgetting a subject.

Raw events are inserted with their event id as ``_id``: a redelivered message is refused by the unique
index and counts once. Each carries ``rolled: false`` until the rollup has counted it; the rollup takes
the next batch of not-yet-counted events (an index on the flag: only the new events are read, never a
rescan), adds their deltas to the rollups with ``$inc`` upserts and flags them, all in ONE transaction, so a
crash at any point counts each event exactly once. (A time watermark would skip events whose insert
commits after a later one's, which concurrent ingesters do; the flag is the watermark per event.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.errors import BulkWriteError

from app.activity.domain import (
    PAIRS_SUBJECT_MAX,
    Deltas,
    pair_decrements,
    pair_increments,
    popular_products,
    rollup_deltas,
)

EVENTS = "activity_events"
PAIRS, SUBJECTS, STATE, FORGOTTEN = "activity_pairs", "activity_subjects", "activity_state", "activity_forgotten"
ROLLUP_COLLECTIONS = {"daily": "activity_daily", "demand": "activity_demand", "nights": "activity_demand_nights",
                      "queries": "activity_queries", "rates": "activity_rates", "popular": "activity_popular"}
DEMAND_COUNTERS = ("interest", "holds", "bookings", "cancellations")
NIGHTS_KEPT = "nights_kept"  # the rollup state's flag: the ``nights`` rollup holds every counted event
POPULARITY_CHANGES = "activity_popularity_changes"  # products whose popularity changed (app.activity.popularity)
DUPLICATE_KEY = 11000


def collection(db: Any, rollup: str) -> Any:
    return db[ROLLUP_COLLECTIONS.get(rollup, rollup)]


async def ensure_indexes(db: Any, retention_days: int) -> None:
    """The events' TTL (retention) and lookup indexes, and the rollups' report indexes."""
    await db[EVENTS].create_indexes([
        IndexModel([("at", ASCENDING)], name="retention", expireAfterSeconds=retention_days * 86_400),
        IndexModel([("rolled", ASCENDING)], name="not_rolled"),
        IndexModel([("subject", ASCENDING), ("at", DESCENDING)], name="by_subject"),
    ])
    await collection(db, "daily").create_indexes([IndexModel([("property_id", ASCENDING), ("day", ASCENDING)])])
    await collection(db, "demand").create_indexes([IndexModel([("property_id", ASCENDING), ("night", ASCENDING)]),
                                                   IndexModel([("product_id", ASCENDING), ("night", ASCENDING)])])
    await collection(db, "nights").create_indexes([IndexModel([("property_id", ASCENDING), ("night", ASCENDING)])])
    await collection(db, "popular").create_indexes([IndexModel([("product_id", ASCENDING), ("day", ASCENDING)]),
                                                    IndexModel([("day", ASCENDING)])])  # popularity's window
    await collection(db, "queries").create_indexes([IndexModel([("count", DESCENDING)]),
                                                    IndexModel([("zero", DESCENDING)])])
    await collection(db, "rates").create_indexes([IndexModel([("property_id", ASCENDING)])])
    await db[PAIRS].create_indexes([IndexModel([("a", ASCENDING), ("count", DESCENDING)]),
                                    IndexModel([("count", DESCENDING)])])


async def ingest(db: Any, events: list[dict[str, Any]]) -> int:
    """Store new events (duplicates and events of subjects forgotten since are dropped); how many were new."""
    events = await _not_forgotten(db, events)
    if not events:
        return 0
    try:
        result = await db[EVENTS].insert_many(events, ordered=False)
        return len(result.inserted_ids)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return int(exc.details.get("nInserted", 0))


async def _not_forgotten(db: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    subjects = list({e["subject"] for e in events})
    forgotten = {d["_id"]: d["at"] async for d in db[FORGOTTEN].find({"_id": {"$in": subjects}})}
    if not forgotten:
        return events
    return [e for e in events if e["subject"] not in forgotten or e["at"] > forgotten[e["subject"]]]


async def apply_deltas(db: Any, deltas: Deltas, session: Any = None) -> None:
    for rollup, keys in deltas.items():
        ops = [UpdateOne({"_id": key}, {"$setOnInsert": d["set"], "$inc": d["inc"]}, upsert=True)
               for key, d in keys.items()]
        if ops:
            await collection(db, rollup).bulk_write(ops, ordered=False, session=session)


async def apply_pairs(db: Any, bookings: list[dict[str, Any]], session: Any = None,
                      most: int = PAIRS_SUBJECT_MAX) -> None:
    """Co-booking pairs: each subject's set of booked products, and the pairs a new product makes (a subject
    past ``most`` products is kept as ``heavy``, without products, and makes none: ``domain.pair_increments``)."""
    if not bookings:
        return
    subjects = list({e["subject"] for e in bookings})
    known = {d["_id"]: None if d.get("heavy") else set(d.get("products", ())) async for d in
             db[SUBJECTS].find({"_id": {"$in": subjects}}, session=session)}
    increments, sets = pair_increments(known, bookings, most)
    await _inc_pairs(db, increments, session)
    await db[SUBJECTS].bulk_write([UpdateOne({"_id": s}, {"$set": _subject(sets[s])}, upsert=True)
                                   for s in subjects], ordered=False, session=session)


def _subject(products: set[str] | None) -> dict[str, Any]:
    return {"products": [], "heavy": True} if products is None else {"products": sorted(products)}


async def _inc_pairs(db: Any, increments: dict[tuple[str, str], int], session: Any) -> None:
    ops = [UpdateOne({"_id": f"{a}|{b}"}, {"$setOnInsert": {"a": a, "b": b}, "$inc": {"count": n}}, upsert=True)
           for (a, b), n in increments.items() if n]
    if ops:
        await db[PAIRS].bulk_write(ops, ordered=False, session=session)


async def mark_popularity(db: Any, products: set[str], session: Any = None) -> None:
    """Note that these products' popularity changed (a counter each: see ``app.activity.popularity``)."""
    if products:
        await db[POPULARITY_CHANGES].bulk_write([UpdateOne({"_id": p}, {"$inc": {"n": 1}}, upsert=True)
                                                 for p in sorted(products)], ordered=False, session=session)


async def rollup_once(client: Any, db: Any, batch: int, pairs_most: int = PAIRS_SUBJECT_MAX) -> int:
    """Count the next batch of new events into the rollups (one transaction); how many were counted."""
    async with client.start_session() as session, await session.start_transaction():
        events = await db[EVENTS].find({"rolled": False}, session=session).limit(batch).to_list()
        if not events:
            return 0
        await _keep_nights(db, session)
        deltas = rollup_deltas(events)
        await apply_deltas(db, deltas, session)
        await mark_popularity(db, popular_products(deltas), session)
        await apply_pairs(db, [e for e in events if e["type"] == "booking"], session, pairs_most)
        # one update per id (each an _id index lookup): SecantusDB answers ``$in`` over ids by scanning
        await db[EVENTS].bulk_write([UpdateOne({"_id": e["_id"]}, {"$set": {"rolled": True}}) for e in events],
                                    ordered=False, session=session)
        await db[STATE].update_one({"_id": "rollup"}, {
            "$inc": {"events": len(events), "version": 1}, "$max": {"through": max(e["at"] for e in events)},
            "$set": {"updated_at": dt.datetime.now(dt.UTC), NIGHTS_KEPT: True}}, upsert=True, session=session)
        return len(events)


async def _keep_nights(db: Any, session: Any) -> None:
    """Once per store: events counted before the ``nights`` rollup existed are in it, summed from the
    ``demand`` rollup (in the round's transaction, so no round counts an event twice or misses one)."""
    state = await db[STATE].find_one({"_id": "rollup"}, {NIGHTS_KEPT: 1}, session=session)
    if state is not None and state.get(NIGHTS_KEPT):
        return
    sums = {counter: {"$sum": f"${counter}"} for counter in DEMAND_COUNTERS}
    rows = await (await collection(db, "demand").aggregate(
        [{"$group": {"_id": {"property_id": "$property_id", "night": "$night"}} | sums}], session=session)).to_list()
    nights = collection(db, "nights")
    await nights.delete_many({}, session=session)
    if rows:
        await nights.insert_many([{"_id": f"{r['_id']['property_id']}|{r['_id']['night']}"} | r["_id"]
                                  | {c: r[c] for c in DEMAND_COUNTERS if r.get(c)} for r in rows], session=session)


async def rollup_version(db: Any) -> int:
    """How many times the rollups changed (each round and each forgetting adds one, in its transaction): what
    is derived from the rollups and kept under this number is exact, never stale."""
    state = await db[STATE].find_one({"_id": "rollup"}, {"version": 1})
    return int(state.get("version", 0)) if state else 0


async def pending(db: Any) -> int:
    """Events stored but not yet counted (the rollup's backlog)."""
    return await db[EVENTS].count_documents({"rolled": False})


async def forget(client: Any, db: Any, subject: str) -> int:
    """Delete a subject's events and take what was counted of them out of the rollups (one transaction).

    A tombstone keeps events of this subject still on their way (on Kafka) from coming back.
    """
    async with client.start_session() as session, await session.start_transaction():
        counted = await db[EVENTS].find({"subject": subject, "rolled": True}, session=session).to_list()
        deltas = rollup_deltas(counted, sign=-1)
        await apply_deltas(db, deltas, session)
        await mark_popularity(db, popular_products(deltas), session)
        mine = await db[SUBJECTS].find_one({"_id": subject}, session=session)
        if mine is not None:
            await _inc_pairs(db, pair_decrements(mine.get("products", ())), session)
            await db[SUBJECTS].delete_one({"_id": subject}, session=session)
        deleted = await db[EVENTS].delete_many({"subject": subject}, session=session)
        await db[STATE].update_one({"_id": "rollup"}, {"$inc": {"version": 1}}, upsert=True, session=session)
        await db[FORGOTTEN].update_one({"_id": subject}, {"$set": {"at": dt.datetime.now(dt.UTC)}}, upsert=True,
                                       session=session)
        return deleted.deleted_count


def counters_only(docs: Iterable[dict[str, Any]], keys: Iterable[str]) -> dict[str, dict[str, int]]:
    """Rollup documents as ``{_id: {counter: n}}`` without zero counters or empty documents (comparisons)."""
    skip = set(keys)
    out = {}
    for doc in docs:
        counters = {k: v for k, v in doc.items() if k not in skip and k != "_id" and isinstance(v, int) and v}
        if counters:
            out[str(doc["_id"])] = counters
    return out
