"""The whole path on the real servers: a PostgreSQL commit with its outbox event -> relay -> Kafka ->
projector -> Elasticsearch / MongoDB / Redis -> ``GET /search`` (and the product view).

The relay here publishes every unpublished ``catalog`` outbox row of the test database (as the real
relay would, to the real test topic); the projector has a consumer group of its own, starting at the
end of the topic, so it sees only what is published while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.resources import Resources
from app.settings import Settings
from sync.relay import OutboxRelay
from tests.integration.sync.rows import create_product, create_property, reprice, running_projector
from tests.support.dates import resort_today
from tests.support.wait import until

BOUND_S = 15.0  # a change must be searchable within this


@pytest.fixture(scope="module")
async def pipeline(sync_resources: Resources, settings: Settings) -> AsyncIterator[None]:
    mine = msgspec.structs.replace(settings, projector_group=f"test-e2e-{uuid.uuid4().hex[:8]}")
    relay = OutboxRelay(mine, sync_resources.db, sync_resources.kafka, topics=["catalog"])
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    async with running_projector(sync_resources, mine, offset_reset="latest"):
        yield
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(relay_task, 10)


async def _found(client: AsyncTestClient, **params: Any) -> dict[str, Any] | None:
    body = (await client.get("/search", params=params)).json()
    return body["items"][0] if body["items"] else None


async def test_sql_write_with_outbox_event_becomes_searchable(pipeline: None, sync_resources: Resources,
                                                              client: AsyncTestClient, unique: str) -> None:
    prop = await create_property(sync_resources.db, f"e2e-{unique}")
    began = time.monotonic()
    pid = await create_product(sync_resources.db, prop, name=f"Lantern Suite {unique}", amount=210_000,
                               outbox=True)
    item = await until(lambda: _found(client, q=f"lantern {unique}", lang="en", property=prop), timeout=BOUND_S)
    created_s = time.monotonic() - began
    assert item["product_id"] == pid and item["price_min"] == 210_000 and item["version"] == 1

    began = time.monotonic()
    version = await reprice(sync_resources.db, pid, 99_000)
    item = await until(lambda: _repriced(client, prop, 99_000), timeout=BOUND_S)
    repriced_s = time.monotonic() - began
    assert item["version"] == version
    print(f"\ncommit -> searchable: created {created_s * 1000:.0f} ms, repriced {repriced_s * 1000:.0f} ms")


async def _repriced(client: AsyncTestClient, prop: str, amount: int) -> dict[str, Any] | None:
    item = await _found(client, property=prop, lang="en")
    return item if item and item["price_min"] == amount else None


async def test_admin_api_create_and_reprice_reach_search_and_view(
        pipeline: None, client: AsyncTestClient, admin_headers: dict[str, str], unique: str) -> None:
    prop = f"e2e-admin-{unique}"
    response = await client.post("/admin/properties", headers=admin_headers, json={
        "id": prop, "name": "Admin Bay Resort", "name_ko": "관리자 베이 리조트", "latitude": 35.1, "longitude": 129.1})
    assert response.status_code == 201, response.text
    response = await client.post(f"/admin/properties/{prop}/products", headers=admin_headers, json={
        "kind": "room_type", "code": f"harbor-{unique}", "name": f"Harbor Loft {unique}", "name_ko": "하버 로프트"})
    assert response.status_code == 201, response.text
    pid = response.json()["id"]
    today = resort_today()
    prices = {"start": today.isoformat(), "end": (today + dt.timedelta(days=30)).isoformat(), "amount": 180_000}
    response = await client.put(f"/admin/products/{pid}/prices", headers=admin_headers, json=prices)
    assert response.status_code == 200, response.text

    item = await until(lambda: _repriced(client, prop, 180_000), timeout=BOUND_S)
    assert item["product_id"] == pid and item["name"] == f"Harbor Loft {unique}"
    before = (await client.get(f"/products/{pid}", params={"lang": "en"})).json()

    response = await client.put(f"/admin/products/{pid}/prices", headers=admin_headers,
                                json=prices | {"amount": 120_000})
    assert response.status_code == 200, response.text
    item = await until(lambda: _repriced(client, prop, 120_000), timeout=BOUND_S)
    assert item["product_id"] == pid
    after = (await client.get(f"/products/{pid}", params={"lang": "en"})).json()
    assert after != before and "120000" in msgspec.json.encode(after).decode()
