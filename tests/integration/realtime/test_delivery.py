"""Delivery across api processes and to slow clients (real uvicorn processes, real sockets)."""

from __future__ import annotations

import base64
import json
import os

import httpx

from app.resources import Resources
from realtime.channels import CLOSE_SLOW_CONSUMER
from realtime.publisher import Publisher
from realtime.store import Append, StreamStore
from tests.integration.realtime import events
from tests.integration.realtime.client import Live
from tests.support.catalog import ended_stay

# Big incompressible frames (permessage-deflate is on) fill the kernel's socket buffers after a few dozen.
_PAD = base64.b64encode(os.urandom(45_000)).decode()


async def test_two_api_processes_deliver_the_same_sequence(live_api: str, live_api2: str, catalog_resort,
                                                           sync_resources: Resources, publisher: Publisher) -> None:
    resort = catalog_resort
    channel = f"availability:{resort.property['id']}"
    clients = [await Live.open(url) for url in (live_api, live_api, live_api2, live_api2)]
    snapshots = [await c.subscribe(channel) for c in clients]
    assert len({(s["epoch"], s["seq"]) for s in snapshots}) == 1
    for product in (resort.room, resort.slot, resort.ticket, resort.room, resort.slot):
        await publisher.handle(await events.hold(sync_resources.db, resort.property["id"], product["id"],
                                                 resort.start, 2))
    seen = [[await c.frame() for _ in range(5)] for c in clients]
    assert all(s == seen[0] for s in seen)
    assert [f["seq"] for f in seen[0]] == [1, 2, 3, 4, 5]
    for c in clients:
        await c.close()


async def _append(store: StreamStore, channel: str, i: int, data: dict) -> None:
    append = Append(f"flood-{channel}-{i}", 0)
    append.entries.append((channel, json.dumps(data).encode()))
    await store.append(append)


async def test_slow_clients_are_conflated_or_closed_and_never_slow_others(
        live_api: str, catalog_resort, catalog_factory, auth_kit, store: StreamStore, unique: str) -> None:
    prop = catalog_resort.property["id"]
    # a booking's stream exists only for a real booking, and only its property's staff may follow it
    booked = await ended_stay(catalog_factory, catalog_resort.room, f"slow-{unique}")
    availability, booking = f"availability:{prop}", f"booking:{booked}"
    headers, _ = await auth_kit.sign_in(["front_desk", f"property:{prop}"])
    slow_av = await Live.open(live_api, rcvbuf=4096)
    slow_bk = await Live.open(live_api, headers=headers, rcvbuf=4096)
    fast = await Live.open(live_api, headers=headers, max_queue=None)
    await slow_av.subscribe(availability)
    await slow_bk.subscribe(booking)
    await fast.subscribe(availability)
    await fast.subscribe(booking)
    slow_av.stop_reading()
    slow_bk.stop_reading()
    count = 300
    product = str(catalog_resort.room["id"])

    def night(i: int) -> dict:
        return {"cause": "test", "pad": _PAD, "items": [
            {"product_id": product, "night": f"2030-01-0{1 + i % 3}", "free": i, "price": 1, "version": 1000 + i}]}

    closed_before = _value(httpx.get(f"{live_api}/metrics").text, 'resort_live_slow_closed_total{kind="booking"}')
    for i in range(count):  # paced by the fast client: it never lags, the slow ones fall ever further behind
        await _append(store, availability, i, night(i))
        await _append(store, booking, i, {"status": "pending", "pad": _PAD, "n": i})
        frames = [await fast.frame(), await fast.frame()]
        assert sorted((f["channel"], f["seq"]) for f in frames) == sorted([(availability, i + 1), (booking, i + 1)])
        if i % 10 == 0 and _value(httpx.get(f"{live_api}/metrics").text,
                                  'resort_live_slow_closed_total{kind="booking"}') > closed_before:
            slow_bk.resume_reading()  # closed by the server: read what it sent before the close frame
    slow_av.resume_reading()
    slow_bk.resume_reading()
    assert await slow_bk.closed() == CLOSE_SLOW_CONSUMER
    latest: dict[str, int] = {}
    while True:
        frame = await slow_av.frame()
        for item in frame["data"]["items"]:
            latest[item["night"]] = item["free"]
        if frame["seq"] == count:
            break
    assert frame["data"].get("conflated") is True  # it converged on the newest values through a merged frame
    assert latest == {f"2030-01-0{1 + i % 3}": i for i in range(count - 3, count)}
    await slow_av.pong()
    metrics = httpx.get(f"{live_api}/metrics").text
    assert _value(metrics, "resort_live_updates_conflated_total") > 0
    assert _value(metrics, 'resort_live_slow_closed_total{kind="booking"}') == closed_before + 1
    for live in (slow_av, fast):
        await live.close()


def _value(metrics: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(name))
