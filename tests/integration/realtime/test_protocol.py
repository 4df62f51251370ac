"""/live against a real api process, Redis and PostgreSQL: snapshot, updates, resume, epochs, errors."""

from __future__ import annotations

import httpx

from app.resources import Resources
from realtime.channels import stream_key
from realtime.publisher import Publisher
from tests.integration.realtime import events
from tests.integration.realtime.client import Live


def _room(frame: dict, resort, night) -> dict:
    key = (str(resort.room["id"]), night.isoformat())
    return next(i for i in frame["data"]["items"] if (i["product_id"], i["night"]) == key)


def _range(resort) -> dict:
    return {"from": resort.start.isoformat(), "to": resort.end.isoformat()}


async def test_snapshot_then_updates_with_consecutive_seq(live_api: str, catalog_resort, sync_resources: Resources,
                                                          publisher: Publisher) -> None:
    resort, db = catalog_resort, sync_resources.db
    channel = f"availability:{resort.property['id']}"
    live = await Live.open(live_api)
    snapshot = await live.subscribe(channel, **_range(resort))
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 0
    assert _room(snapshot, resort, resort.start)["free"] == 5
    assert {p["kind"] for p in snapshot["data"]["products"]} == {"room_type", "facility_slot", "ticket", "package"}
    await publisher.handle(await events.hold(db, resort.property["id"], resort.room["id"], resort.start, 2))
    update = await live.frame()
    assert (update["type"], update["epoch"], update["seq"]) == ("update", snapshot["epoch"], 1)
    assert _room(update, resort, resort.start)["free"] == 4
    await publisher.handle(await events.hold(db, resort.property["id"], resort.room["id"], resort.start, 1))
    assert (await live.frame())["seq"] == 2
    await live.close()


async def test_resume_inside_retention_gets_exactly_the_missed_updates(
        live_api: str, catalog_resort, sync_resources: Resources, publisher: Publisher) -> None:
    resort, db = catalog_resort, sync_resources.db
    prop, channel = resort.property["id"], f"availability:{catalog_resort.property['id']}"
    live = await Live.open(live_api)
    snapshot = await live.subscribe(channel, **_range(resort))
    await publisher.handle(await events.hold(db, prop, resort.room["id"], resort.start, 1))
    seen = await live.frame()
    await live.close()
    for _ in range(3):
        await publisher.handle(await events.hold(db, prop, resort.room["id"], resort.start, 1))
    again = await Live.open(live_api)
    await again.send(op="subscribe", channel=channel, since={"epoch": seen["epoch"], "seq": seen["seq"]},
                     **_range(resort))
    missed = [await again.frame() for _ in range(3)]
    assert [(f["type"], f["seq"], f["epoch"]) for f in missed] == [("update", s, snapshot["epoch"]) for s in (2, 3, 4)]
    assert [_room(f, resort, resort.start)["free"] for f in missed] == [3, 2, 1]
    await again.send(op="ping")
    assert await again.frame() == {"type": "pong"}  # nothing else: no snapshot, no duplicate
    await again.close()


async def test_beyond_retention_or_lost_stream_gets_a_fresh_snapshot(
        live_api: str, catalog_resort, sync_resources: Resources, publisher: Publisher, lose_stream) -> None:
    resort, db, redis = catalog_resort, sync_resources.db, sync_resources.redis
    prop, channel = resort.property["id"], f"availability:{catalog_resort.property['id']}"
    live = await Live.open(live_api)
    first = await live.subscribe(channel, **_range(resort))
    for _ in range(2):
        await publisher.handle(await events.hold(db, prop, resort.room["id"], resort.start, 1))
    last = await live.until(lambda f: f.get("seq") == 2)
    await live.close()

    for _ in range(2):
        await publisher.handle(await events.hold(db, prop, resort.room["id"], resort.start, 1))
    await redis.xtrim(stream_key(channel), maxlen=1, approximate=False)  # retention passed: entry 3 is gone
    trimmed = await Live.open(live_api)
    fresh = await trimmed.subscribe(channel, since={"epoch": last["epoch"], "seq": last["seq"]}, **_range(resort))
    assert (fresh["type"], fresh["epoch"], fresh["seq"]) == ("snapshot", first["epoch"], 4)
    assert _room(fresh, resort, resort.start)["free"] == 5 - 4

    await lose_stream(channel)  # Redis lost the stream: a new epoch, for live and returning subscribers
    await publisher.handle(await events.hold(db, prop, resort.room["id"], resort.start, 1, -1, cause="hold.released"))
    resync = await trimmed.until(lambda f: f["type"] == "snapshot")
    assert resync["epoch"] != first["epoch"] and _room(resync, resort, resort.start)["free"] == 2
    back = await Live.open(live_api)
    renewed = await back.subscribe(channel, since={"epoch": first["epoch"], "seq": 4}, **_range(resort))
    assert renewed["type"] == "snapshot" and renewed["epoch"] == resync["epoch"]
    for client in (trimmed, back):
        await client.close()


async def test_bad_frames_get_an_error_and_keep_the_connection(live_api: str, catalog_resort) -> None:
    prop = catalog_resort.property["id"]
    live = await Live.open(live_api)
    cases = [
        ({"op": "subscribe", "channel": "weather:seoul"}, "unknown_channel"),
        ({"op": "subscribe", "channel": "availability:no-such-property"}, "unknown_channel"),
        ({"op": "subscribe", "channel": f"availability:{prop}", "from": "2030-02-30"}, "bad_range"),
        ({"op": "subscribe", "channel": f"availability:{prop}", "from": "2030-03-02", "to": "2030-03-01"},
         "bad_range"),
        ({"op": "subscribe", "channel": f"availability:{prop}", "since": {"epoch": 1, "seq": -1}}, "bad_since"),
        ({"op": "unsubscribe", "channel": f"availability:{prop}"}, "not_subscribed"),
        ({"op": "dance"}, "unknown_op"),
        ({"op": "auth", "token": "not-a-jwt"}, "invalid_token"),
        ({"op": "subscribe", "channel": "booking:bk-1"}, "auth_required"),
    ]
    for op, code in cases:
        await live.send(**op)
        frame = await live.frame()
        assert (frame["type"], frame["code"]) == ("error", code), op
    for raw in ("{not json", "[1, 2]"):
        await live.ws.send(raw)
        assert (await live.frame())["type"] == "error"
    await live.pong()
    await live.close()


async def test_the_protocol_is_documented_as_asyncapi(live_api: str) -> None:
    async with httpx.AsyncClient(base_url=live_api) as http:
        document = (await http.get("/asyncapi.json")).json()
        docs = (await http.get("/docs/openapi.json")).json()
    assert document["asyncapi"] == "3.0.0" and document["servers"]["api"]["pathname"] == "/live"
    messages = document["channels"]["live"]["messages"]
    assert set(messages) == {"auth", "subscribe", "unsubscribe", "ping", "snapshot", "update", "reauth", "error", "reconnect",
                             "pong"}
    for name in messages:
        assert any(m["$ref"].endswith(f"/{name}") for op in document["operations"].values() for m in op["messages"])
    assert "4008 slow_consumer" in document["info"]["description"]
    assert "/asyncapi.json" in docs["info"]["description"]
