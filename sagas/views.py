"""The read side of bookings (CQRS): a MongoDB view per booking, kept by the ``booking-views`` role from
the ``bookings`` events, and read with read-your-writes.

- The projector loads the booking's CURRENT state from PostgreSQL on each event and writes it only if its
  version is newer than the stored one: duplicates and reordering converge, nothing goes backwards.
- A caller who changed a booking (create, cancel) has the version they caused remembered in Redis
  (``booking:seen:<actor>``, a hash, 10 minutes); a read whose view is older than that is answered from
  PostgreSQL instead, so nobody reads an older state than the one they caused. MongoDB down: PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import msgspec
import structlog
from pymongo.errors import DuplicateKeyError, PyMongoError

from app.outbox import EventEnvelope
from app.resources import Resources
from app.watermarks import OutboxCursor
from app.worker import sleep_or_stop
from sagas import repository as repo
from sagas.consumer import consume
from sagas.metrics import VIEW_DRIFT
from sagas.schemas import BookingOut, booking_out

log = structlog.get_logger("sagas.views")
COLLECTION = "booking_views"
SEEN_TTL_S = 600
_OWNER = ("owner_kind", "owner_id")


def collection(resources: Resources) -> Any:
    return resources.mongo[resources.settings.mongo_db][COLLECTION]


async def load(db: Any, booking_id: uuid.UUID) -> tuple[dict[str, Any], int] | None:
    """The booking as the API shows it (with its timeline), plus its owner and version, from PostgreSQL."""
    row = await repo.get_booking(db, booking_id)
    if row is None:
        return None
    view = msgspec.to_builtins(booking_out(row, await repo.hold_ids_of(db, booking_id),
                                           await repo.timeline_of(db, booking_id)))
    return view | {"owner_kind": row["owner_kind"], "owner_id": row["owner_id"]}, row["version"]


async def project(resources: Resources, envelope: EventEnvelope) -> None:
    """One ``bookings`` event: refresh the view if PostgreSQL holds a newer version."""
    await refresh(resources, uuid.UUID(envelope.aggregate_id))


async def refresh(resources: Resources, booking_id: uuid.UUID) -> None:
    loaded = await load(resources.db, booking_id)
    if loaded is None:
        return
    view, version = loaded
    document = view | {"_id": view["id"], "version": version}
    with contextlib.suppress(DuplicateKeyError):  # a newer version is stored already
        await collection(resources).replace_one({"_id": view["id"], "version": {"$lt": version}}, document,
                                                upsert=True)


async def remember(resources: Resources, actor: str, booking_id: str, version: int) -> None:
    """The version a caller caused: their later reads never go below it."""
    key = f"booking:seen:{actor}"
    with contextlib.suppress(Exception):
        async with resources.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, booking_id, version)
            pipe.expire(key, SEEN_TTL_S)
            await pipe.execute()


async def _seen(resources: Resources, actor: str) -> dict[str, int]:
    try:
        raw = await resources.redis.hgetall(f"booking:seen:{actor}")
    except Exception:  # noqa: BLE001 - Redis down: no memory of writes, the view is served as is
        return {}
    return {k.decode(): int(v) for k, v in raw.items()}


async def read_one(resources: Resources, actor: str, booking_id: str) -> tuple[dict[str, Any] | None, str]:
    """The view of one booking (with owner fields) and where it came from: ``mongo`` or ``postgres``."""
    seen = (await _seen(resources, actor)).get(booking_id, 0)
    try:
        document = await collection(resources).find_one({"_id": booking_id})
    except PyMongoError:
        document = None
    if document is not None and document["version"] >= seen:
        return document, "mongo"
    loaded = await load(resources.db, uuid.UUID(booking_id))
    return (loaded[0] if loaded else None), "postgres"


async def read_mine(resources: Resources, actor: str, owner: tuple[str, str], page: int,
                    per_page: int) -> tuple[list[dict[str, Any]], int, str]:
    """A page of the owner's bookings from the views; bookings the caller just changed that the views do
    not show yet (or show older) come from PostgreSQL."""
    query = dict(zip(_OWNER, owner, strict=True))
    try:
        views = collection(resources)
        documents, total = await asyncio.gather(
            views.find(query).sort([("created_at", -1), ("_id", 1)]).skip((page - 1) * per_page).limit(per_page)
            .to_list(per_page), views.count_documents(query))
        source = "mongo"
    except PyMongoError:
        return [], 0, "unavailable"
    seen = await _seen(resources, actor)
    shown = {d["_id"]: d for d in documents}
    stale = [bid for bid, v in seen.items() if (bid in shown and shown[bid]["version"] < v)
             or (bid not in shown and page == 1)]
    for bid in stale:
        loaded = await load(resources.db, uuid.UUID(bid))
        if loaded is None or tuple(loaded[0][k] for k in _OWNER) != owner:
            continue
        total += bid not in shown
        shown[bid] = loaded[0]
        source = "mongo+postgres"
    items = sorted(shown.values(), key=lambda d: str(d["created_at"]), reverse=True)[:per_page]
    return items, total, source


def as_out(document: dict[str, Any]) -> BookingOut:
    fields = {k: v for k, v in document.items() if k not in ("_id", "version", *_OWNER)}
    return msgspec.convert(fields, BookingOut, strict=False)


def views_cursor(resources: Resources) -> OutboxCursor:
    """The views' repair follows the ``bookings`` events from its watermark (``app.watermarks``)."""
    settings = resources.settings
    return OutboxCursor(resources.db, "booking-views", [repo.EVENTS_TOPIC], settings.repair_batch_size,
                        settings.repair_settle_s)


async def reconcile(resources: Resources, cursor: OutboxCursor) -> int:
    """Views older than PostgreSQL (their event was lost: a broker restart forgets messages) are
    refreshed; returns how many drifted. A round looks only at the bookings whose events were committed
    since the last round (the cursor's watermark), so it reads nothing when nothing changed."""
    drifted = 0
    while True:
        done = await cursor.round()
        ids = done.aggregates()
        if ids:
            rows = await resources.db.fetch("SELECT id::text AS id, version FROM bookings WHERE id = ANY($1::uuid[])",
                                            ids)
            stored = {d["_id"]: d["version"] async for d in collection(resources).find(
                {"_id": {"$in": [r["id"] for r in rows]}}, {"version": 1})}
            stale = [r["id"] for r in rows if stored.get(r["id"], 0) < r["version"]]
            for booking_id in stale:
                await refresh(resources, uuid.UUID(booking_id))
            drifted += len(stale)
        await cursor.advance(done)
        if not done.more:
            break
    VIEW_DRIFT.inc(drifted)
    return drifted


async def reconcile_periodically(resources: Resources, stop: asyncio.Event) -> None:
    cursor = views_cursor(resources)
    while not stop.is_set():
        await sleep_or_stop(stop, resources.settings.views_reconcile_interval_s)
        try:
            if drifted := await reconcile(resources, cursor):
                log.info("booking_views_repaired", count=drifted)
        except Exception as exc:  # noqa: BLE001 - a store is down: next round
            log.warning("booking_views_reconcile_failed", error=repr(exc))


async def run(resources: Resources, stop: asyncio.Event) -> None:
    """The ``booking-views`` role: the views from events, and a reconciliation for events that were lost."""
    await collection(resources).create_index([("owner_kind", 1), ("owner_id", 1), ("created_at", -1)])

    async def handle(envelope: EventEnvelope) -> None:
        await project(resources, envelope)

    await asyncio.gather(
        consume(resources.settings, repo.EVENTS_TOPIC, f"{resources.settings.saga_group}-views", handle, stop),
        reconcile_periodically(resources, stop))
