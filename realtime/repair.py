"""The publisher's repair of live channels whose events never came (a broker restart forgets messages).

It follows the outbox from a watermark (``app.watermarks``): every ``live_repair_interval_s``, a round reads
the ``inventory`` and ``bookings`` events committed since the last round (older than ``repair_settle_s``:
younger ones are normally on their way). For each changed (product, night) of a property whose availability
channel exists, the item PostgreSQL has newer than the channel goes out as one ordinary update (``cause:
repair``); each changed booking whose channel exists and tells another status than PostgreSQL's gets its
state published again. Subscribers see plain updates with consecutive seqs: their sequences stay gapless,
their values converge. A round with no new events reads nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

import msgspec
import structlog

from app.settings import Settings
from app.watermarks import OutboxCursor, Round, payload_of
from app.worker import sleep_or_stop
from realtime.channels import booking_key, meta_key, versions_key
from realtime.publisher import Publisher, booking_append
from realtime.queries import items_for
from realtime.store import Append

log = structlog.get_logger("realtime.repair")
_BOOKINGS = ("SELECT id::text AS booking_id, version, status, step, reason, property_id, owner_kind, owner_id,"
             " check_in::text, check_out::text, confirmation_code FROM bookings WHERE id = ANY($1::uuid[])"
             " AND ($2::text IS NULL OR property_id = $2)")


@dataclass
class Repaired:
    items: int = 0
    bookings: int = 0


def live_cursor(publisher: Publisher, settings: Settings, name: str = "live-repair") -> OutboxCursor:
    return OutboxCursor(publisher.db, name, ["inventory", "bookings"], settings.repair_batch_size,
                        settings.repair_settle_s)


async def repair_round(publisher: Publisher, cursor: OutboxCursor, property_id: str | None = None) -> Repaired:
    """Repair what the events since the watermark changed (of one property, or all); advance it."""
    repaired = Repaired()
    while True:
        done = await cursor.round()
        changed = _changed_nights(done, property_id)
        for prop, (products, nights) in changed.items():
            repaired.items += await repair_availability(publisher, prop, sorted(products), sorted(nights))
        bookings = [e["aggregate_id"] for e in done.events if e["topic"] == "bookings"]
        repaired.bookings += await repair_bookings(publisher, bookings, property_id)
        await cursor.advance(done)
        if not done.more:
            return repaired


def _changed_nights(done: Round, property_id: str | None) -> dict[str, tuple[set[uuid.UUID], set[dt.date]]]:
    """Per property: the products and nights the round's availability events changed."""
    changed: dict[str, tuple[set[uuid.UUID], set[dt.date]]] = defaultdict(lambda: (set(), set()))
    for event in done.events:
        if event["topic"] != "inventory":
            continue
        payload = payload_of(event)
        prop = payload.get("property_id")
        if "product_id" not in payload or not prop or (property_id and prop != property_id):
            continue
        products, nights = changed[prop]
        products.add(uuid.UUID(payload["product_id"]))
        nights.update(dt.date.fromisoformat(n["night"]) for n in payload.get("nights", []))
    return changed


async def repair_availability(publisher: Publisher, property_id: str, products: list[uuid.UUID],
                              nights: list[dt.date]) -> int:
    """Publish the items of ``products`` x ``nights`` (and their packages) PostgreSQL has newer than the
    property's channel, if the channel exists; how many."""
    if not nights or not await publisher.redis.exists(meta_key(f"availability:{property_id}")):
        return 0
    async with publisher.db.acquire() as conn:
        items = await items_for(conn, products, nights)
    fresh = await publisher.newer(property_id, items)
    if not fresh:
        return 0
    append = Append(f"repair:{uuid.uuid4()}", int(time.time() * 1000))
    append.entries.append((f"availability:{property_id}", msgspec.json.encode({"cause": "repair", "items": fresh})))
    append.fields += [(versions_key(property_id), f"{i['product_id']}:{i['night']}", str(i["version"]))
                      for i in fresh]
    await publisher.store.append(append)
    return len(fresh)


async def repair_bookings(publisher: Publisher, booking_ids: list[str], property_id: str | None = None) -> int:
    """Publish again the state of each of these bookings whose channel tells another status; how many."""
    if not booking_ids:
        return 0
    rows = await publisher.db.fetch(_BOOKINGS, list(dict.fromkeys(booking_ids)), property_id)
    if not rows:
        return 0
    async with publisher.redis.pipeline(transaction=False) as pipe:
        for row in rows:
            pipe.hget(booking_key(row["booking_id"]), "state")
            pipe.exists(meta_key(f"booking:{row['booking_id']}"))
        published = await pipe.execute()
    repaired = 0
    for row, state, channel in zip(rows, published[::2], published[1::2], strict=True):
        if not channel:  # no channel (or Redis lost it): a subscriber's snapshot comes from PostgreSQL
            continue
        if state is not None and msgspec.json.decode(state).get("status") == row["status"]:
            continue
        payload = {k: v for k, v in row.items() if k != "version"} | {"partner_client_id": row["owner_id"] if row["owner_kind"] == "partner" else None,
                               "at": dt.datetime.now(dt.UTC).isoformat()}
        await publisher.store.append(booking_append(f"repair:{uuid.uuid4()}", int(time.time() * 1000),
                                                    row["booking_id"], payload, f"booking.{row['status']}",
                                                    row["version"]))
        repaired += 1
    return repaired


async def repair_periodically(publisher: Publisher, settings: Settings, stop: asyncio.Event) -> None:
    interval = settings.live_repair_interval_s
    if interval <= 0:
        return
    cursor = live_cursor(publisher, settings)
    while not stop.is_set():
        await sleep_or_stop(stop, interval)
        try:
            done = await repair_round(publisher, cursor)
            if done.items or done.bookings:
                log.info("live_repaired", items=done.items, bookings=done.bookings)
        except Exception as exc:  # noqa: BLE001 - a store is down: next round
            log.warning("live_repair_failed", error=repr(exc))
