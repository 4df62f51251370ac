"""Catalogue reads: the product view (PostgreSQL core + MongoDB details, in one language), product
lists, availability calendars and price quotes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import msgspec

from app import clock
from app.catalog import rates as rates_repo
from app.catalog import repository as repo
from app.catalog.details import get_details
from app.catalog.documents import ProductDetails
from app.catalog.domain import (
    PartyRequest,
    ProductKind,
    Quote,
    RangeError,
    availability,
    nights_of,
    package_free,
    price_nights_to_read,
    price_range,
    quote,
)
from app.catalog.headers import etag
from app.catalog.writes import product_not_found, property_not_found, range_error
from app.inventory import repository as inventory

_encoder = msgspec.json.Encoder()


def localized(row: Any, lang: str) -> str:
    return (row["name_ko"] or row["name"]) if lang == "ko" else row["name"]


def core_of(product: asyncpg.Record, lang: str) -> dict[str, Any]:
    """The PostgreSQL fields of a product, as lists and views show them."""
    return {
        "id": str(product["id"]),
        "property_id": product["property_id"],
        "kind": product["kind"],
        "code": product["code"],
        "name": localized(product, lang),
        "max_occupancy": product["max_occupancy"],
        "slot_start": product["slot_start"].isoformat() if product["slot_start"] else None,
        "slot_minutes": product["slot_minutes"],
        "currency": product["currency"].strip(),
        "active": product["active"],
        "version": product["version"],
    }


def details_of(details: ProductDetails | None, lang: str) -> dict[str, Any]:
    if details is None:
        return {"description": "", "attributes": {}, "amenities": [], "images": [], "policies": ""}
    return {
        "description": details.description.pick(lang),
        "attributes": details.attributes,
        "amenities": details.amenities,
        "policies": details.policies.pick(lang),
        "images": [{"url": i.url, "caption": i.caption.pick(lang)} for i in details.images],
    }


async def _core_parts(db: asyncpg.Pool, product_id: str, horizon_days: int,
                      now: dt.datetime) -> dict[str, Any] | None:
    pid = repo.as_uuid(product_id)
    if pid is None:
        return None
    async with db.acquire() as conn:
        row = await repo.view_row(conn, pid, *price_nights_to_read(now, horizon_days))
        if row is None or not row["active"]:
            return None
        components = await repo.components_of(conn, pid) if row["kind"] == "package" else []
    today = clock.today(row["time_zone"], now)
    return {
        "product": row,
        "components": components,
        "rate_plans": json.loads(row["rate_plans"]),
        "from_price": price_range(rates_repo.priced_nights(row["priced_nights"]), today, horizon_days).low,
    }


async def load_view(db: asyncpg.Pool, product_id: str, lang: str, horizon_days: int,
                    now: dt.datetime | None = None) -> bytes | None:
    """The cacheable view: ``ETag`` line, newline, JSON body. None if there is no such active product.
    Its ``from_price`` reads the ``horizon_days`` from today at the resort (``domain.price_range``).

    PostgreSQL and the two MongoDB reads run concurrently.
    """
    now = now or dt.datetime.now(dt.UTC)
    parts, details = await asyncio.gather(_core_parts(db, product_id, horizon_days, now), get_details(product_id))
    if parts is None:
        return None
    product = parts["product"]
    view = (
        core_of(product, lang)
        | details_of(details, lang)
        | {
            "lang": lang,
            "property": {
                "id": product["property_id"],
                "name": (product["property_name_ko"] or product["property_name"])
                if lang == "ko"
                else product["property_name"],
                "time_zone": product["time_zone"],
                "location": {"lat": product["latitude"], "lon": product["longitude"]},
            },
            "components": [
                {
                    "product_id": str(c["component_id"]),
                    "quantity": c["quantity"],
                    "kind": c["kind"],
                    "name": localized(c, lang),
                }
                for c in parts["components"]
            ],
            "rate_plans": parts["rate_plans"],
            "from_price": parts["from_price"],
            "rating": {
                "average": details.rating_avg if details else None,
                "count": details.rating_count if details else 0,
            },
        }
    )
    return etag(product["version"], lang).encode() + b"\n" + _encoder.encode(view)


def split_view(entry: bytes) -> tuple[str, bytes]:
    tag, _, body = entry.partition(b"\n")
    return tag.decode(), body


async def list_products(
    db: asyncpg.Pool, property_id: str, kind: ProductKind | None, page: int, per_page: int, lang: str
) -> dict[str, Any]:
    async with db.acquire() as conn:
        if await repo.get_property(conn, property_id) is None:
            raise property_not_found(property_id)
        rows, total = await repo.list_products(
            conn, property_id, kind.value if kind else None, per_page, (page - 1) * per_page
        )
    return {"items": [core_of(r, lang) for r in rows], "page": page, "per_page": per_page, "total": total}


def _nights(start: dt.date, end: dt.date) -> list[dt.date]:
    try:
        return nights_of(start, end)
    except RangeError as exc:
        raise range_error(exc) from None


async def _free(
    conn: asyncpg.Connection, product: asyncpg.Record, start: dt.date, end: dt.date
) -> dict[dt.date, int]:
    """Free units per night; a package's come from its components."""
    if product["kind"] != ProductKind.PACKAGE:
        return (await inventory.free_between(conn, [product["id"]], start, end))[product["id"]]
    components = await repo.components_of(conn, product["id"])
    quantities = {str(c["component_id"]): c["quantity"] for c in components}
    per_component = await inventory.free_between(conn, [c["component_id"] for c in components], start, end)
    return package_free(_nights(start, end), {str(k): v for k, v in per_component.items()}, quantities)


async def _active_product(conn: asyncpg.Connection, product_id: str) -> asyncpg.Record:
    product = await repo.get_product(conn, product_id)
    if product is None or not product["active"]:
        raise product_not_found(product_id)
    return product


async def availability_of(
    db: asyncpg.Pool, product_id: str, start: dt.date, end: dt.date, plan: str
) -> dict[str, Any]:
    nights = _nights(start, end)
    async with db.acquire() as conn:
        product = await _active_product(conn, product_id)
        rates = await rates_repo.rates_between(conn, product["id"], plan, start, end)
        free = await _free(conn, product, start, end)
    calendar = availability(nights, rates, free)
    return {
        "product_id": product_id,
        "rate_plan": plan,
        "currency": product["currency"].strip(),
        "nights": [
            {
                "night": n.night.isoformat(),
                "free": n.free,
                "amount": n.amount,
                "bookable": n.bookable,
                "closed": n.closed,
                "closed_to_arrival": n.closed_to_arrival,
                "closed_to_departure": n.closed_to_departure,
                "min_stay": n.min_stay,
            }
            for n in calendar
        ],
    }


async def quote_of(db: asyncpg.Pool, product_id: str, request: PartyRequest, plan: str) -> dict[str, Any]:
    _nights(request.start, request.end)
    async with db.acquire() as conn:
        product = await _active_product(conn, product_id)
        rates = await rates_repo.rates_between(conn, product["id"], plan, request.start, request.end)
        free = await _free(conn, product, request.start, request.end)
    result = quote(ProductKind(product["kind"]), product["max_occupancy"], request, rates, free)
    return _quote_body(product["id"], product["currency"].strip(), plan, request, result)


def _quote_body(
    product_id: uuid.UUID, currency: str, plan: str, request: PartyRequest, q: Quote
) -> dict[str, Any]:
    return {
        "product_id": str(product_id),
        "rate_plan": plan,
        "currency": currency,
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "guests": request.guests,
        "units": request.units,
        "available": q.available,
        "total": q.total,
        "nights": [{"night": n.night.isoformat(), "amount": n.amount, "free": n.free} for n in q.nights],
        "refusals": [{"code": r.code, "night": r.night.isoformat() if r.night else None} for r in q.refusals],
    }
