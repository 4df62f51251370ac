"""The holds API end to end on the real servers: place, read, list, release; packages; limits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.integration.holds.conftest import hold_body, inventory


async def test_a_hold_takes_the_nights_and_release_gives_them_back(
    client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    room, start = catalog_resort.room, catalog_resort.start
    response = await hold(guest_headers, hold_body(room, start, nights=2))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/holds/{body['id']}"
    assert body["status"] == "held" and body["quantity"] == 1 and body["currency"] == "KRW"
    assert [n["night"] for n in body["nights"]] == [start.isoformat(), (start + dt.timedelta(days=1)).isoformat()]
    assert body["total_amount"] == sum(n["amount"] for n in body["nights"]) == 300_000
    assert (await inventory(catalog_factory, room, start))["held"] == 1

    mine = (await client.get("/holds", headers=guest_headers)).json()
    assert [h["id"] for h in mine["items"]] == [body["id"]] and mine["total"] == 1
    assert (await client.get(f"/holds/{body['id']}", headers=guest_headers)).json() == body

    assert (await client.delete(f"/holds/{body['id']}", headers=guest_headers)).status_code == 204
    assert (await inventory(catalog_factory, room, start))["held"] == 0
    assert (await client.delete(f"/holds/{body['id']}", headers=guest_headers)).status_code == 204  # idempotent
    assert (await inventory(catalog_factory, room, start))["held"] == 0
    gone = await client.get(f"/holds/{body['id']}", headers=guest_headers)  # released on purpose: gone
    assert (gone.status_code, gone.json()["code"]) == (410, "hold_released")
    assert gone.headers["content-type"] == "application/problem+json"
    ended = await catalog_factory.fetch("SELECT status, ended_at FROM holds WHERE id = $1", uuid.UUID(body["id"]))
    assert ended[0]["status"] == "released" and ended[0]["ended_at"]
    assert (await client.get("/holds", headers=guest_headers)).json()["items"] == []


async def test_a_capacity_raise_ends_the_sold_out_refusals_at_once(
    client: Any, catalog_resort: Any, guest_headers: dict[str, str], admin_headers: dict[str, str], hold: Any,
    sync_resources: Any,
) -> None:
    room, night = catalog_resort.room, catalog_resort.start + dt.timedelta(days=20)
    await client.put(f"/admin/products/{room['id']}/inventory", headers=admin_headers,
                     json={"start": night.isoformat(), "end": (night + dt.timedelta(days=1)).isoformat(), "capacity": 1})
    assert (await hold(guest_headers, hold_body(room, night))).status_code == 201
    refused = await hold(guest_headers, hold_body(room, night))
    assert (refused.status_code, refused.json()["code"]) == (409, "sold_out")
    mark = f"hold:soldout:{room['id']}:{night.isoformat()}"
    assert await sync_resources.redis.exists(mark)  # further attempts are refused before any database work
    raised = await client.put(f"/admin/products/{room['id']}/inventory", headers=admin_headers,
                              json={"start": night.isoformat(), "end": (night + dt.timedelta(days=1)).isoformat(),
                                    "capacity": 2})
    assert raised.status_code == 200, raised.text
    assert not await sync_resources.redis.exists(mark)
    assert (await hold(guest_headers, hold_body(room, night))).status_code == 201
