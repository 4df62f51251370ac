"""The popularity window slides in proportion to change: when a day leaves it, exactly the products with
counts on that day are marked for an update of their search documents (and a forgotten guest's products)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from app.activity import popularity, store
from app.activity.domain import complete, rollup_deltas
from app.settings import Settings

TODAY = dt.date(2027, 3, 31)


def _view(product: str, day: dt.date, subject: str = "user:a") -> dict[str, Any]:
    return complete({"_id": uuid.uuid4().hex, "type": "view", "subject": subject, "property_id": "p",
                     "product_id": product, "at": dt.datetime.combine(day, dt.time(12), dt.UTC), "rolled": False})


@pytest.fixture
async def mongo(settings: Settings, stack: object) -> AsyncIterator[tuple[AsyncMongoClient, Any]]:
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    name = f"{settings.mongo_db}_popularity_{uuid.uuid4().hex[:8]}"
    await store.ensure_indexes(client[name], 30)
    yield client, client[name]
    await client.drop_database(name)
    await client.close()


async def _cleared(db: Any) -> None:
    await db[popularity.CHANGES].delete_many({})


async def test_a_day_leaving_the_window_marks_exactly_its_products(mongo: tuple[AsyncMongoClient, Any]) -> None:
    _, db = mongo
    first = dt.date.fromisoformat(popularity.first_day(TODAY, 30))
    await store.apply_deltas(db, rollup_deltas([_view("leaving", first), _view("staying", first + dt.timedelta(days=1)),
                                                _view("today", TODAY)]))
    await popularity.slide(db, TODAY, 30)  # the first call: the whole window (a backfill)
    await _cleared(db)
    await popularity.slide(db, TODAY + dt.timedelta(days=1), 30)
    assert set(await popularity.changed(db)) == {"leaving"}


async def test_forgetting_a_guest_marks_the_products_their_counted_events_touched(
        mongo: tuple[AsyncMongoClient, Any]) -> None:
    client, db = mongo
    await store.ingest(db, [_view("theirs", TODAY, "user:gone"), _view("others", TODAY, "user:stays")])
    while await store.rollup_once(client, db, 100):
        pass
    await _cleared(db)
    await store.forget(client, db, "user:gone")
    assert set(await popularity.changed(db)) == {"theirs"}
