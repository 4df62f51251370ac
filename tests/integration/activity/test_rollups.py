"""The incremental rollups equal a from-scratch aggregation over the same events, after a stream with
duplicates, rollup rounds cancelled mid-transaction and a restart (a new client); and forgetting a
subject removes its events while the rollups stay equal to a recomputation over what is left; a store counted
before the ``nights`` rollup existed gets it in the next round; the week's bookings that recommendations keep per
rollup version follow every round and every forgetting."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from app.activity import rebuild, store
from app.activity.domain import complete
from app.recommend.signals import booked_this_week
from app.settings import Settings

PRODUCTS = [str(uuid.UUID(int=i)) for i in range(1, 7)]


def stream(seed: int, count: int) -> list[dict[str, Any]]:
    rnd, now = random.Random(seed), dt.datetime.now(dt.UTC)
    events = []
    for _ in range(count):
        kind = rnd.choice(["search", "search", "view", "view", "hold", "booking", "cancellation"])
        event: dict[str, Any] = {"_id": uuid.uuid4().hex, "type": kind, "subject": f"user:{rnd.randint(1, 12)}",
                                 "property_id": rnd.choice(["p1", "p2"]), "rolled": False,
                                 "at": now - dt.timedelta(days=rnd.randint(0, 4), minutes=rnd.randint(0, 600))}
        if kind == "search":
            event |= {"query": rnd.choice(["Spa", "spa ", "pool", "ski pass"]), "results": rnd.randint(0, 3)}
            event["zero"] = event["results"] == 0
        else:
            start = dt.date(2027, 1, 1) + dt.timedelta(days=rnd.randint(0, 5))
            event |= {"check_in": start.isoformat(), "check_out": (start + dt.timedelta(days=rnd.randint(1, 3))).isoformat()}
            products = rnd.sample(PRODUCTS, rnd.randint(1, 2) if kind in ("booking", "cancellation") else 1)
            event |= {"product_id": products[0], "products": products}
            if kind in ("booking", "cancellation"):
                event["rate_plans"] = [f"{p}|{rnd.choice(['standard', 'flex'])}" for p in products]
        events.append(complete(event))
    return events


@pytest.fixture
async def mongo(settings: Settings, stack: object) -> AsyncIterator[tuple[AsyncMongoClient, str]]:
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    name = f"{settings.mongo_db}_rollup_{uuid.uuid4().hex[:8]}"
    await store.ensure_indexes(client[name], 30)
    yield client, name
    await client.drop_database(name)
    await client.close()


async def _cancelled_round(client: AsyncMongoClient, db: Any) -> bool:
    """A rollup round that dies mid-transaction (cancelled while it writes); True if it did die."""
    task = asyncio.create_task(store.rollup_once(client, db, 40))
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return task.cancelled()


async def test_incremental_rollups_equal_a_recomputation_after_duplicates_crashes_and_a_restart(
        mongo: tuple[AsyncMongoClient, str], settings: Settings) -> None:
    client, name = mongo
    db, events, crashes = client[name], stream(26, 360), 0
    for i in range(0, len(events), 60):
        await store.ingest(db, events[i:i + 60] + events[max(0, i - 10):i])  # each chunk redelivers some
        crashes += await _cancelled_round(client, db)
        await store.rollup_once(client, db, 50)
    restarted: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        while await store.rollup_once(restarted, restarted[name], 100):
            pass
        assert await store.pending(restarted[name]) == 0
        assert await rebuild.incremental(restarted[name]) == await rebuild.from_scratch(restarted[name])
    finally:
        await restarted.close()
    assert await db[store.EVENTS].count_documents({}) == len(events)
    assert crashes > 0


async def test_forgetting_a_subject_removes_its_events_and_keeps_the_rollups_consistent(
        mongo: tuple[AsyncMongoClient, str]) -> None:
    client, name = mongo
    db, events = client[name], stream(7, 240)
    await store.ingest(db, events[:200])
    while await store.rollup_once(client, db, 100):
        pass
    await store.ingest(db, events[200:])  # some of the subject's events not counted yet when forgotten
    subject = "user:3"
    mine = sum(1 for e in events if e["subject"] == subject)
    assert await store.forget(client, db, subject) == mine
    while await store.rollup_once(client, db, 100):
        pass
    assert await db[store.EVENTS].count_documents({"subject": subject}) == 0
    assert await rebuild.incremental(db) == await rebuild.from_scratch(db)
    assert await rebuild.subjects_incremental(db) == await rebuild.subjects_from_scratch(db)
    assert await store.ingest(db, [e for e in events if e["subject"] == subject][:3]) == 0  # a late redelivery


async def test_subjects_past_the_pairs_bound_add_no_pairs_and_the_rebuild_agrees(
        mongo: tuple[AsyncMongoClient, str]) -> None:
    """With at most 3 products per subject's pairs, guests who booked more (some crossing within a round, some
    across rounds) are kept heavy and pair nothing; the incremental pairs still equal the rebuilt ones, and
    forgetting a heavy subject keeps them equal."""
    client, name = mongo
    db, events = client[name], stream(5, 400)
    for half in (events[:200], events[200:]):
        await store.ingest(db, half)
        while await store.rollup_once(client, db, 60, pairs_most=3):
            pass
    heavy = [d["_id"] async for d in db[store.SUBJECTS].find({"heavy": True})]
    assert heavy and all(len(p) > 3 for s, p in (await rebuild.subjects_from_scratch(db, 10)).items() if s in heavy)
    assert await rebuild.incremental(db) == await rebuild.from_scratch(db, pairs_most=3)
    assert (await rebuild.incremental(db))["pairs"] != (await rebuild.from_scratch(db))["pairs"]  # the bound took some
    assert await rebuild.subjects_incremental(db) == await rebuild.subjects_from_scratch(db, 3)
    await store.forget(client, db, heavy[0])
    assert await rebuild.incremental(db) == await rebuild.from_scratch(db, pairs_most=3)


async def test_a_store_counted_before_the_nights_rollup_gets_it_in_the_next_round(
        mongo: tuple[AsyncMongoClient, str]) -> None:
    client, name = mongo
    db = client[name]
    events = [e | {"property_id": "p1"} for e in stream(11, 200)]  # a product belongs to one resort, as in life
    await store.ingest(db, events[:150])
    while await store.rollup_once(client, db, 100):
        pass
    await store.collection(db, "nights").drop()  # as a store counted by the code before the nights rollup
    await db[store.STATE].update_one({"_id": "rollup"}, {"$unset": {store.NIGHTS_KEPT: ""}})
    await store.ingest(db, events[150:])
    while await store.rollup_once(client, db, 100):
        pass
    assert (await rebuild.incremental(db))["nights"] == (await rebuild.from_scratch(db))["nights"]


def _booked(events: list[dict[str, Any]], today: dt.date) -> dict[str, int]:
    first = (today - dt.timedelta(days=6)).isoformat()
    counts: dict[str, int] = {}
    for event in events:
        if event["type"] == "booking" and first <= event["day"] <= today.isoformat():
            for product in event["products"]:
                counts[product] = counts.get(product, 0) + 1
    return counts


async def test_the_week_s_bookings_follow_each_rollup_round_and_each_forgetting(
        mongo: tuple[AsyncMongoClient, str]) -> None:
    client, name = mongo
    db, events, today = client[name], stream(5, 240), dt.datetime.now(dt.UTC).date()
    seen = []
    for part in (events[:120], events[120:]):
        await store.ingest(db, part)
        while await store.rollup_once(client, db, 100):
            pass
        seen.append(await booked_this_week(db, PRODUCTS, today))
    await store.forget(client, db, "user:4")
    seen.append(await booked_this_week(db, PRODUCTS, today))
    left = [e for e in events if e["subject"] != "user:4"]
    assert seen == [_booked(events[:120], today), _booked(events, today), _booked(left, today)]
