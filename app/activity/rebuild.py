"""The rollups computed from scratch by MongoDB aggregation over every stored event: the check of the
incremental rollup (they must be equal) and the repair tool if a rollup is ever lost
(``resort analytics-rebuild``, which then replaces the rollups and flags every event as counted)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from app.activity.domain import PAIRS_SUBJECT_MAX, pair_increments
from app.activity.store import EVENTS, PAIRS, SUBJECTS, collection, counters_only

Counters = dict[str, dict[str, dict[str, int]]]  # rollup -> key -> counter -> n
_DEMAND = {"view": "interest", "hold": "holds", "booking": "bookings", "cancellation": "cancellations"}
_POPULAR = {"view": "views", "hold": "holds", "booking": "bookings"}
_RATES = {"booking": "bookings", "cancellation": "cancellations"}


async def _group(db: Any, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return await (await db[EVENTS].aggregate(pipeline)).to_list()


async def from_scratch(db: Any, pairs_most: int = PAIRS_SUBJECT_MAX) -> Counters:
    """Every rollup's counters recomputed from the raw events."""
    out: Counters = defaultdict(lambda: defaultdict(dict))
    for row in await _group(db, [{"$group": {"_id": {"p": "$property_id", "d": "$day", "t": "$type"},
                                             "n": {"$sum": 1}}}]):
        out["daily"][f"{row['_id']['p']}|{row['_id']['d']}"][row["_id"]["t"]] = row["n"]
    for row in await _group(db, [{"$match": {"type": "search", "zero": True}},
                                 {"$group": {"_id": {"p": "$property_id", "d": "$day"}, "n": {"$sum": 1}}}]):
        out["daily"][f"{row['_id']['p']}|{row['_id']['d']}"]["zero_result"] = row["n"]
    await _unwound(db, out, "demand", _DEMAND, ["products", "nights"])
    await _unwound(db, out, "nights", _DEMAND, ["products", "nights"], by=["property_id", "nights"])
    await _unwound(db, out, "popular", _POPULAR, ["products"], day=True)
    await _unwound(db, out, "rates", _RATES, ["rate_plans"])
    for row in await _group(db, [{"$match": {"type": "search", "query_key": {"$gt": ""}}},
                                 {"$group": {"_id": "$query_key", "n": {"$sum": 1}}}]):
        out["queries"][row["_id"]]["count"] = row["n"]
    for row in await _group(db, [{"$match": {"type": "search", "zero": True, "query_key": {"$gt": ""}}},
                                 {"$group": {"_id": "$query_key", "n": {"$sum": 1}}}]):
        out["queries"][row["_id"]]["zero"] = row["n"]
    out["pairs"] = await _pairs(db, pairs_most)
    return {rollup: dict(keys) for rollup, keys in out.items()}


async def _unwound(db: Any, out: Counters, rollup: str, counters: dict[str, str], lists: list[str],
                   day: bool = False, by: list[str] | None = None) -> None:
    """Group events of ``counters``' types, ``lists`` unwound (each item counts), by the fields ``by`` (the
    unwound items if not given) and by type (and day)."""
    by = by or lists
    key: dict[str, Any] = {name: f"${name}" for name in by} | {"t": "$type"}
    if day:
        key["d"] = "$day"
    pipeline = [{"$match": {"type": {"$in": list(counters)}}}, *({"$unwind": f"${name}"} for name in lists),
                {"$group": {"_id": key, "n": {"$sum": 1}}}]
    for row in await _group(db, pipeline):
        parts = [row["_id"][name] for name in by] + ([row["_id"]["d"]] if day else [])
        out[rollup]["|".join(parts)][counters[row["_id"]["t"]]] = row["n"]


async def _pairs(db: Any, most: int) -> dict[str, dict[str, int]]:
    bookings = [{"subject": s, "products": p} for s, p in (await _booked(db)).items()]
    increments, _ = pair_increments({}, bookings, most)
    return {f"{a}|{b}": {"count": n} for (a, b), n in increments.items() if n}


async def incremental(db: Any) -> Counters:
    """The rollups as the incremental path keeps them (zero counters left out)."""
    names = {"daily": ("property_id", "day"), "demand": ("product_id", "night", "property_id"),
             "nights": ("property_id", "night"),
             "popular": ("product_id", "day", "property_id"), "rates": ("product_id", "rate_plan", "property_id"),
             "queries": ("query",)}
    out = {rollup: counters_only(await collection(db, rollup).find().to_list(), fields)
           for rollup, fields in names.items()}
    out["pairs"] = counters_only(await db[PAIRS].find().to_list(), ("a", "b"))
    return out


async def _booked(db: Any) -> dict[str, list[str]]:
    rows = await _group(db, [{"$match": {"type": "booking"}}, {"$unwind": "$products"},
                             {"$group": {"_id": "$subject", "products": {"$addToSet": "$products"}}}])
    return {row["_id"]: sorted(row["products"]) for row in rows}


async def subjects_from_scratch(db: Any, pairs_most: int = PAIRS_SUBJECT_MAX) -> dict[str, list[str]]:
    """Each subject's booked products, as the incremental path keeps them (past ``pairs_most``: heavy, none)."""
    return {s: products for s, products in (await _booked(db)).items() if len(products) <= pairs_most}


async def subjects_incremental(db: Any) -> dict[str, list[str]]:
    return {d["_id"]: sorted(d["products"]) async for d in db[SUBJECTS].find() if d.get("products")}
