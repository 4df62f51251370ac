"""Admin writes to the PostgreSQL core. Each runs in one transaction that also bumps the product's
version (the aggregate version the projector compares) and records its outbox event.

Events (topic ``catalog``, aggregate ``product``, id = product uuid, version = new products.version):
``product.created`` on creation, ``product.deactivated`` when ``active`` turns false, otherwise
``product.changed`` with ``payload.change`` naming what changed: ``core``, ``prices``, ``rate_plan``,
``inventory``, ``components``, ``details``, ``review``, ``property``, ``activated``.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import asyncpg
import msgspec

from app.catalog import rates as rates_repo
from app.catalog import repository as repo
from app.catalog.availability import record_availability
from app.catalog.domain import ExpectedVersion, ProductKind, RangeError, capacity_conflicts, nights_of
from app.catalog.headers import etag
from app.catalog.schemas import CapacityIn, ComponentIn, PricesIn, ProductIn, PropertyIn, RatePlanIn
from app.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired, ValidationFailed
from app.inventory import repository as inventory
from app.outbox import record_event


def invalid(field: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, extra={"errors": [{"field": field, "message": message}]})


def range_error(exc: RangeError) -> ValidationFailed:
    return invalid(exc.field, str(exc), exc.code)


def product_not_found(product_id: str) -> NotFound:
    return NotFound(f"no product {product_id}", code="product_not_found")


def property_not_found(property_id: str) -> NotFound:
    return NotFound(f"no property {property_id}", code="property_not_found")


def check_version(expected: ExpectedVersion | None, current: int, *, required: bool = True) -> None:
    """Refuse a write that does not expect the current version: 428 when it names none although it must,
    412 (with the current ``ETag``) when the version it read is stale."""
    if expected is None:
        if required:
            raise PreconditionRequired("send If-Match with the ETag you read")
        return
    if not expected.matches(current):
        raise PreconditionFailed(
            f"the resource is at version {current}; re-read it and retry",
            extra={"current_etag": etag(current)},
            headers={"ETag": etag(current)},
        )


async def announce(
    conn: asyncpg.Connection,
    product_id: uuid.UUID,
    property_id: str,
    version: int,
    change: str,
    event_type: str = "product.changed",
) -> None:
    """Record the product's outbox event (inside the writing transaction)."""
    await record_event(
        conn,
        topic="catalog",
        aggregate_type="product",
        aggregate_id=str(product_id),
        event_type=event_type,
        version=version,
        payload={"product_id": str(product_id), "property_id": property_id, "change": change},
    )


async def changed(conn: asyncpg.Connection, product: asyncpg.Record, change: str) -> int:
    """Bump the product's version for a change to one of its parts, and announce it."""
    version = await repo.bump_product(conn, product["id"])
    await announce(conn, product["id"], product["property_id"], version, change)
    return version


async def locked_product(conn: asyncpg.Connection, product_id: str) -> asyncpg.Record:
    product = await repo.get_product(conn, product_id, lock=True)
    if product is None:
        raise product_not_found(product_id)
    return product


def _require_changes(changes: dict[str, Any]) -> None:
    if not changes:
        raise invalid("body", "the body changes nothing", "nothing_to_change")


def _check_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise invalid("time_zone", f"unknown time zone {name!r}") from None


async def create_property(db: asyncpg.Pool, data: PropertyIn) -> asyncpg.Record:
    _check_time_zone(data.time_zone)
    async with db.acquire() as conn:
        row = await repo.insert_property(conn, msgspec.structs.asdict(data))
    if row is None:
        raise Conflict(f"property {data.id} exists", code="property_exists")
    return row


async def update_property(
    db: asyncpg.Pool, property_id: str, changes: dict[str, Any], expected: ExpectedVersion | None
) -> asyncpg.Record:
    """Update a property; every product of it changes look (location, name), so each gets an event."""
    _require_changes(changes)
    if "time_zone" in changes:
        _check_time_zone(changes["time_zone"])
    async with db.acquire() as conn, conn.transaction():
        current = await repo.get_property(conn, property_id, lock=True)
        if current is None:
            raise property_not_found(property_id)
        check_version(expected, current["version"])
        row = await repo.update_property(conn, property_id, changes)
        for product in await repo.lock_products_of_property(conn, property_id):
            version = await repo.bump_product(conn, product["id"])
            await announce(conn, product["id"], property_id, version, "property")
    return row


async def _components(
    conn: asyncpg.Connection, property_id: str, components: list[ComponentIn]
) -> list[tuple[uuid.UUID, int]]:
    """Validated package components: existing, of the same property, not packages, no duplicates."""
    if not components:
        raise invalid("components", "a package needs at least one component")
    ids = [repo.as_uuid(c.product_id) for c in components]
    if None in ids or len(set(ids)) != len(ids):
        raise invalid("components", "component ids must be distinct product uuids")
    found = {r["id"]: r for r in await repo.products_by_ids(conn, ids)}  # type: ignore[arg-type]
    for index, cid in enumerate(ids):
        row = found.get(cid)  # type: ignore[arg-type]
        if row is None or row["property_id"] != property_id or row["kind"] == ProductKind.PACKAGE:
            raise invalid(
                f"components[{index}].product_id", "must be a non-package product of the same property"
            )
    return [(cid, c.quantity) for cid, c in zip(ids, components, strict=True)]  # type: ignore[misc]


def _check_kind_fields(kind: ProductKind, slot_start: Any, slot_minutes: Any, has_components: bool) -> None:
    if kind is ProductKind.FACILITY_SLOT and (slot_start is None or slot_minutes is None):
        raise invalid("slot_start", "a facility slot needs slot_start and slot_minutes")
    if kind is not ProductKind.PACKAGE and has_components:
        raise invalid("components", "only a package has components")


async def create_product(db: asyncpg.Pool, property_id: str, data: ProductIn) -> asyncpg.Record:
    """Create a product (version 1) with its ``standard`` rate plan and, for a package, its components."""
    _check_kind_fields(data.kind, data.slot_start, data.slot_minutes, bool(data.components))
    async with db.acquire() as conn, conn.transaction():
        if await repo.get_property(conn, property_id) is None:
            raise property_not_found(property_id)
        components = (
            await _components(conn, property_id, data.components) if data.kind is ProductKind.PACKAGE else []
        )
        values = msgspec.structs.asdict(data) | {"kind": data.kind.value}
        row = await repo.insert_product(conn, property_id, values)
        if row is None:
            raise Conflict(
                f"property {property_id} already has a product {data.code}", code="product_code_taken"
            )
        await rates_repo.ensure_rate_plan(conn, row["id"], rates_repo.DEFAULT_PLAN, "Standard")
        if components:
            await repo.set_components(conn, row["id"], components)
        await announce(conn, row["id"], property_id, row["version"], "created", "product.created")
    return row


async def update_product(
    db: asyncpg.Pool, product_id: str, changes: dict[str, Any], expected: ExpectedVersion | None
) -> asyncpg.Record:
    _require_changes(changes)
    async with db.acquire() as conn, conn.transaction():
        current = await locked_product(conn, product_id)
        check_version(expected, current["version"])
        kind = ProductKind(current["kind"])
        components = changes.pop("components", None)
        merged = dict(current) | changes
        _check_kind_fields(kind, merged["slot_start"], merged["slot_minutes"], components is not None)
        if components is not None:
            await repo.set_components(
                conn, current["id"], await _components(conn, current["property_id"], components)
            )
        row = await repo.update_product(conn, current["id"], changes)
        event, change = _core_event(current["active"], row["active"], components is not None)
        await announce(conn, row["id"], row["property_id"], row["version"], change, event)
        await _reannounce_packages(conn, row)
    return row


async def _reannounce_packages(conn: asyncpg.Connection, component: asyncpg.Record) -> None:
    """Packages show their components' names: a component's core change changes them too."""
    for package_id in sorted(await repo.packages_containing(conn, component["id"])):
        version = await repo.bump_product(conn, package_id)
        await announce(conn, package_id, component["property_id"], version, "components")


def _core_event(was_active: bool, is_active: bool, components: bool) -> tuple[str, str]:
    if was_active and not is_active:
        return "product.deactivated", "deactivated"
    if is_active and not was_active:
        return "product.changed", "activated"
    return "product.changed", "components" if components else "core"


async def add_rate_plan(db: asyncpg.Pool, product_id: str, data: RatePlanIn) -> tuple[asyncpg.Record, int]:
    async with db.acquire() as conn, conn.transaction():
        product = await locked_product(conn, product_id)
        plan, created = await rates_repo.ensure_rate_plan(
            conn, product["id"], data.code, data.name, data.refundable
        )
        if not created:
            raise Conflict(f"rate plan {data.code} exists", code="rate_plan_exists")
        await rates_repo.set_cancellation_policy(conn, plan["id"], data.free_cancel_hours, data.late_cancel_fee_pct)
        return plan, await changed(conn, product, "rate_plan")


def _selected_nights(start: dt.date, end: dt.date, weekdays: list[int] | None) -> list[dt.date]:
    try:
        nights = nights_of(start, end, max_nights=731)
    except RangeError as exc:
        raise range_error(exc) from None
    return [n for n in nights if weekdays is None or n.weekday() in weekdays]


async def set_prices(
    db: asyncpg.Pool, product_id: str, data: PricesIn, expected: ExpectedVersion | None
) -> tuple[int, int]:
    """Bulk-set price and restrictions over a date range; returns ``(nights written, new version)``."""
    nights = _selected_nights(data.start, data.end, data.weekdays)
    async with db.acquire() as conn, conn.transaction():
        product = await locked_product(conn, product_id)
        check_version(expected, product["version"], required=False)
        plan = await rates_repo.get_rate_plan(conn, product["id"], data.rate_plan)
        if plan is None:
            raise invalid("rate_plan", f"the product has no rate plan {data.rate_plan}", "unknown_rate_plan")
        count = await rates_repo.upsert_rates(conn, plan["id"], nights, msgspec.structs.asdict(data))
        return count, await changed(conn, product, "prices")


async def set_capacity(
    db: asyncpg.Pool, product_id: str, data: CapacityIn, expected: ExpectedVersion | None
) -> tuple[int, int]:
    """Bulk-set capacity; refused whole (409) if any night already holds or sold more than it."""
    nights = _selected_nights(data.start, data.end, None)
    async with db.acquire() as conn, conn.transaction():
        product = await locked_product(conn, product_id)
        if product["kind"] == ProductKind.PACKAGE:
            raise invalid("capacity", "a package has no inventory of its own", "package_has_no_inventory")
        check_version(expected, product["version"], required=False)
        conflicts = capacity_conflicts(
            await inventory.lock_product_nights(conn, product["id"], nights), data.capacity
        )
        if conflicts:
            raise Conflict(
                f"capacity {data.capacity} is below held + sold + out of service on {len(conflicts)} night(s)",
                code="capacity_below_committed",
                extra={
                    "nights": [n.isoformat() for n in conflicts[:31]],
                    "errors": [{"field": "capacity", "message": "below held + sold"}],
                },
            )
        count = await inventory.upsert_capacity(conn, product["id"], nights, data.capacity)
        rows = await inventory.rows_of(conn, product["id"], nights)
        await record_availability(conn, product["id"], product["property_id"], "capacity", None, rows)
        return count, await changed(conn, product, "inventory")
