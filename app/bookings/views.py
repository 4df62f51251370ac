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
from collections import defaultdict
from typing import Any

import msgspec
import structlog
from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError, PyMongoError

from app.bookings import repository as repo
from app.bookings.metrics import VIEW_DRIFT
from app.bookings.schemas import BookingOut, booking_out
from app.consumer import consume_batches
from app.outbox import EventEnvelope
from app.resources import Resources
from app.watermarks import OutboxCursor
from app.worker import sleep_or_stop

log = structlog.get_logger("app.bookings.views")
COLLECTION = "booking_views"
SEEN_TTL_S = 600
_OWNER = ("owner_kind", "owner_id")


def collection(resources: Resources) -> Any:
    return resources.mongo[resources.settings.mongo_db][COLLECTION]


async def load_many(db: Any, booking_ids: list[uuid.UUID]) -> dict[str, tuple[dict[str, Any], int]]:
    """Bookings as the API shows them (with their timelines), plus owner and version, from PostgreSQL: three
    queries for any number of bookings."""
    rows = await db.fetch(f"SELECT {repo.BOOKING_COLUMNS} FROM bookings WHERE id = ANY($1::uuid[])", booking_ids)
    holds: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for r in await db.fetch("SELECT booking_id, hold_id FROM booking_holds WHERE booking_id = ANY($1::uuid[])"
                            " ORDER BY booking_id, hold_id", booking_ids):
        holds[r["booking_id"]].append(r["hold_id"])
    steps: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for r in await db.fetch("SELECT booking_id, at, step, outcome, detail::text AS detail FROM booking_timeline"
                            " WHERE booking_id = ANY($1::uuid[]) ORDER BY id", booking_ids):
        steps[r["booking_id"]].append(r)
    return {str(row["id"]): (msgspec.to_builtins(booking_out(row, holds[row["id"]], steps[row["id"]]))
                             | {"owner_kind": row["owner_kind"], "owner_id": row["owner_id"]}, row["version"])
            for row in rows}


async def load(db: Any, booking_id: uuid.UUID) -> tuple[dict[str, Any], int] | None:
    """The booking as the API shows it (with its timeline), plus its owner and version, from PostgreSQL."""
    return (await load_many(db, [booking_id])).get(str(booking_id))


async def project(resources: Resources, envelopes: list[EventEnvelope]) -> None:
    """A batch of ``bookings`` events: each booking they name is refreshed once, whatever its event count."""
    await refresh_many(resources, list(dict.fromkeys(uuid.UUID(e.aggregate_id) for e in envelopes)))


async def refresh_many(resources: Resources, booking_ids: list[uuid.UUID]) -> None:
    """Write each booking's view if PostgreSQL holds a newer version than the stored one: one bulk write."""
    loaded = await load_many(resources.db, booking_ids)
    writes = [ReplaceOne({"_id": bid, "version": {"$lt": version}}, view | {"_id": bid, "version": version},
                         upsert=True) for bid, (view, version) in loaded.items()]
    if not writes:
        return
    try:
        await collection(resources).bulk_write(writes, ordered=False)
    except BulkWriteError as exc:  # a duplicate key: a newer version is stored already
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise


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
    drifted = await cursor.repair_aggregates(lambda ids: _refresh_stale(resources, ids))
    VIEW_DRIFT.inc(drifted)
    return drifted


async def _refresh_stale(resources: Resources, ids: list[str]) -> int:
    """The views among ``ids`` older than PostgreSQL, refreshed; how many."""
    rows = await resources.db.fetch("SELECT id::text AS id, version FROM bookings WHERE id = ANY($1::uuid[])", ids)
    stored = {d["_id"]: d["version"] async for d in collection(resources).find(
        {"_id": {"$in": [r["id"] for r in rows]}}, {"version": 1})}
    stale = [r["id"] for r in rows if stored.get(r["id"], 0) < r["version"]]
    await refresh_many(resources, [uuid.UUID(b) for b in stale])
    return len(stale)


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

    async def handle(envelopes: list[EventEnvelope]) -> None:
        await project(resources, envelopes)

    await asyncio.gather(
        consume_batches(resources.settings, repo.EVENTS_TOPIC, f"{resources.settings.saga_group}-views", handle,
                        stop),
        reconcile_periodically(resources, stop))
