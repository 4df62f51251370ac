"""Live prices: a change of price or restrictions reaches the watchers of those nights as counts do."""

from __future__ import annotations

import datetime as dt
import uuid

from app.catalog import rates as rates_repo
from app.outbox import EventEnvelope
from app.resources import Resources
from realtime.publisher import Publisher
from tests.integration.realtime.client import Live


def _room(frame: dict, resort, night: dt.date) -> dict:
    key = (str(resort.room["id"]), night.isoformat())
    return next(i for i in frame["data"]["items"] if (i["product_id"], i["night"]) == key)


async def test_a_price_and_restriction_change_reaches_watchers(live_api: str, catalog_resort,
                                                               sync_resources: Resources, publisher: Publisher) -> None:
    resort, db = catalog_resort, sync_resources.db
    prop, night = resort.property["id"], resort.start
    live = await Live.open(live_api)
    snapshot = await live.subscribe(f"availability:{prop}", **{"from": night.isoformat(),
                                                               "to": (night + dt.timedelta(days=3)).isoformat()})
    before = _room(snapshot, resort, night)
    event = await _set_rates(db, resort, night, 4_321_000, min_stay=3, closed_to_arrival=True)
    assert await publisher.handle(event) == "published"
    update = await live.until(lambda f: f["type"] == "update")
    changed = _room(update, resort, night)
    assert (changed["price"], changed["min_stay"], changed["closed_to_arrival"]) == (4_321_000, 3, True)
    assert changed["free"] == before["free"] and changed["version"] > before["version"]
    assert await publisher.handle(event) == "duplicate"
    later = night + dt.timedelta(days=1)  # once published, a change publishes only the nights it changed
    assert await publisher.handle(await _set_rates(db, resort, later, 1_234_000)) == "published"
    update = await live.until(lambda f: f["type"] == "update")
    assert [(i["night"], i["price"]) for i in update["data"]["items"]] == [(later.isoformat(), 1_234_000)]
    await live.close()


async def _set_rates(db, resort, night: dt.date, amount: int, min_stay: int = 1,
                     closed_to_arrival: bool = False) -> EventEnvelope:
    """Set every plan's rate of the room for ``night`` (so the lowest open one is this); the catalog event."""
    async with db.acquire() as conn, conn.transaction():
        for plan in await conn.fetch("SELECT id FROM rate_plans WHERE product_id = $1", resort.room["id"]):
            await rates_repo.upsert_rates(conn, plan["id"], [night], {
                "amount": amount, "extra_guest_amount": 0, "included_guests": 2, "min_stay": min_stay,
                "closed": False, "closed_to_arrival": closed_to_arrival, "closed_to_departure": False})
    return EventEnvelope(event_id=uuid.uuid4(), topic="catalog", event_type="product.changed",
                         aggregate_type="product", aggregate_id=str(resort.room["id"]), version=2,
                         occurred_at=dt.datetime.now(dt.UTC),
                         payload={"product_id": str(resort.room["id"]), "property_id": resort.property["id"],
                                  "change": "prices"})
