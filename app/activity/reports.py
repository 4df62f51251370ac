"""The revenue team's reports, read from the rollups only (never the raw events): 90 days of one resort
is 90 ``daily`` documents. Each report is rows of flat fields, so JSON and CSV are the same data."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from typing import Any

from app.activity import check
from app.activity.domain import TYPES, rate
from app.activity.store import DEMAND_COUNTERS, PAIRS, collection
from app.errors import NotFound, ValidationFailed
from app.resources import Resources

REPORTS = ("funnel", "demand", "searches", "cancellations", "pairs")
FUNNEL_RATES = (("view_per_search", "view", "search"), ("hold_per_view", "hold", "view"),
                ("booking_per_hold", "booking", "hold"), ("booking_per_search", "booking", "search"))


def _db(resources: Resources) -> Any:
    return resources.mongo[resources.settings.mongo_db]


def check_range(start: dt.date, end: dt.date, max_days: int) -> list[str]:
    """The days from ``start`` to ``end`` included, or a 422 with a stable code."""
    if end < start:
        raise ValidationFailed("end must not be before start.", code="invalid_date_range")
    if (end - start).days + 1 > max_days:
        raise ValidationFailed(f"At most {max_days} days per report.", code="date_range_too_long")
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def with_rates(counts: dict[str, int]) -> dict[str, Any]:
    row: dict[str, Any] = {t: counts.get(t, 0) for t in (*TYPES, "zero_result")}
    for name, num, den in FUNNEL_RATES:
        row[name] = rate(row[num], row[den])
    return row


async def funnel(resources: Resources, property_id: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    days = check_range(start, end, resources.settings.activity_report_max_days)
    found = {d["day"]: d async for d in collection(_db(resources), "daily").find(
        {"property_id": property_id, "day": {"$gte": days[0], "$lte": days[-1]}})}
    rows = [{"day": day} | with_rates(found.get(day, {})) for day in days]
    totals: dict[str, int] = defaultdict(int)
    for doc in found.values():
        for key in (*TYPES, "zero_result"):
            totals[key] += doc.get(key, 0)
    return {"property_id": property_id, "start": days[0], "end": days[-1], "days": rows, "totals": with_rates(totals)}


async def demand(resources: Resources, property_id: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Interest, holds, bookings and cancellations per stay night (all products of the resort): one ``nights``
    rollup document per night."""
    nights = check_range(start, end, resources.settings.activity_report_max_days)
    found = {d["night"]: d async for d in collection(_db(resources), "nights").find(
        {"property_id": property_id, "night": {"$gte": nights[0], "$lte": nights[-1]}})}
    return {"property_id": property_id, "start": nights[0], "end": nights[-1],
            "nights": [{"night": n} | {f: int(found.get(n, {}).get(f) or 0) for f in DEMAND_COUNTERS} for n in nights]}


async def bookings_check(resources: Resources, property_id: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The rollups of the resort's bookings against the bookings table (demand over the nights start..end)."""
    check_range(start, end, resources.settings.activity_report_max_days)
    return check.as_json(await check.check(resources.db, _db(resources), property_id, start, end))


async def searches(resources: Resources, zero_only: bool, limit: int) -> dict[str, Any]:
    """The most frequent searches (or those that found nothing), by count."""
    field = "zero" if zero_only else "count"
    cursor = collection(_db(resources), "queries").find({field: {"$gt": 0}}).sort([(field, -1), ("_id", 1)]).limit(limit)
    return {"zero_only": zero_only, "items": [{"query": d["query"], "count": d.get("count", 0),
                                               "zero": d.get("zero", 0)} async for d in cursor]}


async def cancellations(resources: Resources, property_id: str) -> dict[str, Any]:
    items = []
    async for d in collection(_db(resources), "rates").find({"property_id": property_id}).sort("_id", 1):
        bookings, cancelled = d.get("bookings", 0), d.get("cancellations", 0)
        items.append({"product_id": d["product_id"], "rate_plan": d["rate_plan"], "bookings": bookings,
                      "cancellations": cancelled, "cancellation_rate": rate(cancelled, bookings)})
    return {"property_id": property_id, "items": items}


async def pairs(resources: Resources, limit: int, property_id: str | None = None) -> dict[str, Any]:
    """The pairs most often booked by the same guests (each pair once); of one resort's products if given."""
    items = []
    query: dict[str, Any] = {"count": {"$gt": 0}}
    if property_id:
        query["a"] = {"$in": await _products_of(resources, property_id)}
    cursor = _db(resources)[PAIRS].find(query).sort([("count", -1), ("_id", 1)]).limit(limit * 2)
    async for d in cursor:
        if d["a"] < d["b"]:
            items.append({"a": d["a"], "b": d["b"], "count": d["count"]})
    names = await _names(resources, {p for i in items for p in (i["a"], i["b"])})
    return {"items": [i | {"a_name": names.get(i["a"], ""), "b_name": names.get(i["b"], "")} for i in items[:limit]]}


async def _products_of(resources: Resources, property_id: str) -> list[str]:
    rows = await resources.db.fetch("SELECT id::text AS id FROM products WHERE property_id = $1", property_id)
    return [r["id"] for r in rows]


async def _names(resources: Resources, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await resources.db.fetch("SELECT id::text AS id, name FROM products WHERE id::text = ANY($1::text[])",
                                    sorted(ids))
    return {r["id"]: r["name"] for r in rows}


def rows_of(report: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    key = {"funnel": "days", "demand": "nights"}.get(report, "items")
    return list(body[key])


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return out.getvalue()


async def report(resources: Resources, report: str, property_id: str | None, start: dt.date | None,
                 end: dt.date | None, zero: bool, limit: int) -> dict[str, Any]:
    """Any report by name (the CSV export): its parameters checked, stable codes for what is missing."""
    if report not in REPORTS:
        raise NotFound("No such report.", code="report_not_found")
    if report in ("funnel", "demand", "cancellations") and not property_id:
        raise ValidationFailed("This report needs `property`.", code="property_required")
    if report in ("funnel", "demand") and (start is None or end is None):
        raise ValidationFailed("This report needs `start` and `end`.", code="date_range_required")
    if report == "funnel":
        return await funnel(resources, property_id or "", start, end)  # type: ignore[arg-type]
    if report == "demand":
        return await demand(resources, property_id or "", start, end)  # type: ignore[arg-type]
    if report == "cancellations":
        return await cancellations(resources, property_id or "")
    if report == "searches":
        return await searches(resources, zero, limit)
    return await pairs(resources, limit, property_id)
