"""End to end through the real pipe: outbox row -> relay -> Kafka -> publisher role -> Redis -> /live."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx

from app.outbox import record_event
from app.resources import Resources
from tests.integration.realtime import events
from tests.integration.realtime.client import Live


async def test_an_outbox_event_reaches_subscribers_through_kafka(live_api: str, event_flow: None, catalog_resort,
                                                                 auth_kit, sync_resources: Resources) -> None:
    resort = catalog_resort
    prop = resort.property["id"]
    headers, _ = await auth_kit.sign_in(["front_desk", f"property:{prop}"])
    guest, desk = await Live.open(live_api), await Live.open(live_api, headers=headers)
    snapshot = await guest.subscribe(f"availability:{prop}", **{"from": resort.start.isoformat(),
                                                                "to": resort.end.isoformat()})
    await desk.subscribe(f"frontdesk:{prop}")
    await events.hold(sync_resources.db, prop, resort.room["id"], resort.start, 3)
    hold_id = str(uuid.uuid4())
    async with sync_resources.db.acquire() as conn, conn.transaction():
        await record_event(conn, topic="holds", aggregate_type="hold", aggregate_id=hold_id,
                           event_type="hold.created", version=1, payload={
                               "hold_id": hold_id, "property_id": prop, "product_id": str(resort.room["id"]),
                               "product_kind": "room_type", "check_in": resort.start.isoformat(),
                               "check_out": (resort.start + dt.timedelta(days=3)).isoformat(), "quantity": 1,
                               "guests": 2, "status": "held", "owner_kind": "user", "owner_id": "someone",
                               "expires_at": "2030-01-01T00:00:00Z", "total_amount": 450000, "currency": "KRW"})
    # (the resort's capacity events may come first: they travel through the same pipe)
    update = await guest.until(lambda f: f["type"] == "update" and f["data"]["cause"] == "hold.created", timeout=30)
    assert update["seq"] > snapshot["seq"]
    assert {i["free"] for i in update["data"]["items"] if i["product_id"] == str(resort.room["id"])} == {4}
    seen: set[str] = set()
    while seen != {"hold", "inventory:hold.created"}:  # two topics: no order between them
        data = (await desk.until(lambda f: f["type"] == "update", timeout=30))["data"]
        seen.add(data["kind"] if data["kind"] == "hold" else f"{data['kind']}:{data['cause']}")
        seen.discard("inventory:capacity")
    for live in (guest, desk):
        await live.close()


async def test_a_hold_made_through_the_api_reaches_live_subscribers(live_api: str, event_flow: None, catalog_resort,
                                                                    auth_kit, unique: str) -> None:
    resort = catalog_resort
    prop, room = resort.property["id"], str(resort.room["id"])
    guest_headers, _ = await auth_kit.sign_in(["guest"])
    desk_headers, _ = await auth_kit.sign_in(["front_desk", f"property:{prop}"])
    watcher, desk = await Live.open(live_api), await Live.open(live_api, headers=desk_headers)
    snapshot = await watcher.subscribe(f"availability:{prop}", **{"from": resort.start.isoformat(),
                                                                  "to": resort.end.isoformat()})
    await desk.subscribe(f"frontdesk:{prop}")
    body = {"product_id": room, "check_in": resort.start.isoformat(),
            "check_out": (resort.start + dt.timedelta(days=2)).isoformat(), "quantity": 2, "guests": 2}
    async with httpx.AsyncClient(base_url=live_api) as http:
        made = await http.post("/holds", json=body, headers=guest_headers | {"Idempotency-Key": f"rt-{unique}"})
    assert made.status_code == 201, made.text
    update = await watcher.until(lambda f: f["type"] == "update" and f["data"]["cause"] == "hold.created",
                                 timeout=30)
    assert update["seq"] > snapshot["seq"]
    nights = {i["night"]: i["free"] for i in update["data"]["items"] if i["product_id"] == room}
    assert nights == {resort.start.isoformat(): 3, (resort.start + dt.timedelta(days=1)).isoformat(): 3}
    feed = await desk.until(lambda f: f["type"] == "update" and f["data"]["kind"] == "hold", timeout=30)
    assert (feed["data"]["event_type"], feed["data"]["hold_id"]) == ("hold.created", made.json()["id"])
    for live in (watcher, desk):
        await live.close()
