"""Hostile and careless clients against an api process with small bounds (settings), while well-behaved
subscribers keep receiving every update: each hostile client is closed or refused per its bound, with
its documented close code or answer, and nobody else notices.

Kept fast for CI: 200 well-behaved subscribers (``RESORT_TEST_HOSTILE_SUBSCRIBERS=1000`` for the full
run of the issue), bounds a few frames wide, an auth deadline of 5 s. The well-behaved subscribers run in two
client processes of their own (``bench.realtime_clients``), so what they measure is the server, not this
process, which runs every hostile client; they come from many loopback addresses (127.1.x.y), so the
per-address bound can be small and tested from an address of its own. The test prints their p50 and p99.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from app.resources import Resources
from app.settings import PROJECT_ROOT
from realtime.channels import CLOSE_AUTH_TIMEOUT, CLOSE_FRAME_TOO_LARGE, CLOSE_RATE_LIMITED, CLOSE_SLOW_CONSUMER
from realtime.publisher import Publisher
from realtime.store import Append, StreamStore
from tests.integration.realtime import events
from tests.integration.realtime.conftest import _api

SUBSCRIBERS = int(os.environ.get("RESORT_TEST_HOSTILE_SUBSCRIBERS", "200"))
PER_IP = 5
UPDATES = 30
BOUNDS = {"RESORT_LIVE_BUFFER_FRAMES": "16", "RESORT_LIVE_BUFFER_BYTES": "65536", "RESORT_LIVE_SEND_TIMEOUT_S": "2",
          "RESORT_LIVE_AUTH_TIMEOUT_S": "5", "RESORT_LIVE_MAX_CHANNELS": "4", "RESORT_LIVE_SUBSCRIBES_PER_S": "2",
          "RESORT_LIVE_SUBSCRIBES_BURST": "8", "RESORT_LIVE_FRAMES_PER_S": "5", "RESORT_LIVE_FRAMES_BURST": "20",
          "RESORT_LIVE_MAX_FRAME_BYTES": "1024", "RESORT_LIVE_CONNECTIONS_PER_IP": str(PER_IP),
          "RESORT_LIVE_CONNECTIONS_PER_SUBJECT": "3", "RESORT_LIVE_STREAM_MAXLEN": "1000"}
_PAD = "x" * 60_000


@pytest.fixture(scope="module")
def bounded_api(live_env: dict[str, str], stack: object) -> Iterator[str]:
    with _api(live_env | BOUNDS) as url:
        yield url


async def _open(url: str, address: str = "127.0.0.1", headers: dict[str, str] | None = None,
                rcvbuf: int | None = None) -> ClientConnection:
    kwargs: dict[str, Any] = {"additional_headers": headers or {}, "max_queue": None, "open_timeout": 20,
                              "close_timeout": 2, "ping_interval": None, "compression": None}
    if rcvbuf:  # a small kernel buffer: the server's writes block soon after the client stops reading
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((address, 0))
        sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        kwargs["sock"] = sock
    else:
        kwargs["local_addr"] = (address, 0)
    ws = await connect(url.replace("http://", "ws://") + "/live", **kwargs)
    if rcvbuf:
        ws.transport.pause_reading()  # reads nothing at all
    return ws


async def _closed(ws: ClientConnection, timeout: float = 15) -> int | None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(timeout):
            async for _ in ws:
                pass
    return ws.close_code


async def _subscribe(ws: ClientConnection, channel: str, **extra: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"op": "subscribe", "channel": channel, **extra}))
    async with asyncio.timeout(20):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("channel") == channel or frame["type"] == "error":
                return frame


def _update(product: str, night: str, i: int, n: int = -1) -> bytes:
    """An availability change; ``n`` numbers the paced updates (the client processes stop at the last)."""
    return json.dumps({"cause": "test", "items": [{"product_id": product, "night": night, "free": i, "price": 1,
                                                   "version": 2_000_000 + i, "sent": time.time() * 1000,
                                                   "n": n}]}).encode()


async def _append(store: StreamStore, channel: str, data: bytes) -> None:
    append = Append(f"hostile-{uuid.uuid4()}", int(time.time() * 1000))
    append.entries.append((channel, data))
    assert await store.append(append)


async def _hostiles(url: str, store: StreamStore, availability: str, booking: str, guest: dict[str, str],
                    desk: dict[str, str], bookings: list[str]) -> dict[str, Any]:
    """Every hostile client at once; what each one got."""
    never_reads = await _open(url, "127.0.0.2", guest, rcvbuf=4096)
    await never_reads.send(json.dumps({"op": "subscribe", "channel": booking}))
    many = await _open(url, "127.0.0.3")
    flood = await _open(url, "127.0.0.4")
    oversized = await _open(url, "127.0.0.5")
    malformed = await _open(url, "127.0.0.6")
    silent = await _open(url, "127.0.0.7")
    channels = await _open(url, "127.0.0.8", desk)

    async def ten_thousand() -> int | None:
        with contextlib.suppress(Exception):
            for i in range(10_000):
                await many.send(json.dumps({"op": "subscribe", "channel": f"availability:nope-{i}"}))
        return await _closed(many)

    async def sub_unsub() -> int | None:
        with contextlib.suppress(Exception):
            for _ in range(1000):
                await flood.send(json.dumps({"op": "subscribe", "channel": availability}))
                await flood.send(json.dumps({"op": "unsubscribe", "channel": availability}))
        return await _closed(flood)

    async def too_large() -> int | None:
        await oversized.send(json.dumps({"op": "ping", "pad": "x" * 2000}))
        return await _closed(oversized)

    async def garbage() -> tuple[int | None, int]:
        with contextlib.suppress(Exception):
            for _ in range(200):
                await malformed.send("{not json")
        errors = 0
        with contextlib.suppress(Exception):
            async for raw in malformed:
                errors += json.loads(raw)["type"] == "error"
        return malformed.close_code, errors

    async def too_many_channels() -> list[str]:
        return [(await _subscribe(channels, f"booking:{b}")).get("code", "ok") for b in bookings]

    async def stop_reading() -> int | None:
        """Padded updates on its booking channel until the server gives up on it (the kernel's buffers
        hold megabytes first), then read again: what is left is the close frame after what was sent."""
        padded = StreamStore(store.redis, 20)
        for i in range(400):
            await _append(padded, booking, json.dumps({"status": "pending", "pad": _PAD, "n": i}).encode())
            if i % 10 == 9 and await _slow_closed(url) > slow_before:
                break
        never_reads.transport.resume_reading()
        return await _closed(never_reads)

    slow_before = await _slow_closed(url)
    results = await asyncio.gather(ten_thousand(), sub_unsub(), too_large(), garbage(), _closed(silent),
                                   too_many_channels(), stop_reading())
    return {"many": results[0], "flood": results[1], "oversized": results[2], "malformed": results[3],
            "silent": results[4], "channels": results[5], "never_reads": results[6]}


async def _slow_closed(url: str) -> float:
    async with httpx.AsyncClient() as http:  # not a blocking call: the subscribers share this loop
        metrics = (await http.get(f"{url}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith('resort_live_closed_total{reason="slow_consumer"}'))


async def test_hostile_clients_are_closed_per_their_bounds_while_subscribers_get_everything(
        bounded_api: str, catalog_resort, auth_kit, sync_resources: Resources, publisher: Publisher,
        store: StreamStore, unique: str) -> None:
    prop, product = catalog_resort.property["id"], str(catalog_resort.room["id"])
    night, availability = catalog_resort.start.isoformat(), f"availability:{catalog_resort.property['id']}"
    guest, _ = await auth_kit.sign_in(["guest"], f"guest-{unique}")
    desk, _ = await auth_kit.sign_in(["front_desk", f"property:{prop}"])  # staff of this property
    bookings = [f"bk-{unique}-{i}" for i in range(6)]
    for booking_id in bookings:
        assert await publisher.handle(await events.booking(sync_resources.db, prop, booking_id, "pending",
                                                           owner_id=f"guest-{unique}")) == "published"
    for i in range(40):  # a history longer than the buffer, for the resume from far in the past
        await _append(store, availability, _update(product, night, i))
    before = await _snapshot_of(bounded_api, availability)

    crowd = await _crowd(bounded_api, availability)
    try:
        hostiles = asyncio.create_task(_hostiles(bounded_api, store, availability, f"booking:{bookings[0]}", guest,
                                                 desk, bookings[1:]))
        for i in range(UPDATES):
            await _append(store, availability, _update(product, night, 100 + i, n=i))
            await asyncio.sleep(0.05)  # paced updates, as on the day: ~20 a second
        results = await _crowd_results(crowd)
    finally:
        for proc in crowd:
            if proc.returncode is None:
                proc.kill()
    seen = await hostiles

    assert seen["many"] == CLOSE_RATE_LIMITED  # 10,000 channels: closed at its subscribe rate
    assert seen["flood"] == CLOSE_RATE_LIMITED  # subscribe/unsubscribe flood
    assert seen["oversized"] == CLOSE_FRAME_TOO_LARGE
    code, errors = seen["malformed"]
    assert code == CLOSE_RATE_LIMITED and 0 < errors <= 25  # answered while within its frame rate, then closed
    assert seen["silent"] == CLOSE_AUTH_TIMEOUT
    assert seen["channels"] == ["ok", "ok", "ok", "ok", "too_many_subscriptions"]
    assert seen["never_reads"] == CLOSE_SLOW_CONSUMER

    last = before["seq"] + UPDATES
    back = await _open(bounded_api, "127.0.0.9")  # resumes from far in the past: a snapshot, not the history
    resumed = await _subscribe(back, availability, since={"epoch": before["epoch"], "seq": 1})
    assert (resumed["type"], resumed["seq"]) == ("snapshot", last)
    await back.close()

    # every well-behaved subscriber stayed, got the last update, in order (a conflated frame may skip, never lose)
    assert sum(r["closed"] for r in results) == 0 and sum(r["silent"] for r in results) == 0
    assert sum(r["gaps"] for r in results) == 0 and {q for r in results for q in r["last_seqs"]} == {last}
    latencies = [x for r in results for x in r["latencies"]]
    assert len(latencies) >= SUBSCRIBERS * UPDATES * 0.9
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"hostile suite: {SUBSCRIBERS} subscribers in {len(results)} client processes, {len(latencies)} frames,"
          f" p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms")
    # Clients, hostiles and the server share this machine's two cores (and, here, other test runs): a
    # collapse (seconds) fails; the 150 ms target is held by the benchmark and the full run (module docstring).
    assert p99 < 2000, f"p99 {p99:.0f} ms"


async def _crowd(url: str, channel: str, workers: int = 2) -> list[asyncio.subprocess.Process]:
    """The well-behaved subscribers, in client processes of their own (``bench.realtime_clients``, a light
    RFC 6455 client), PER_IP to an address: their latency is the server's, not this process's, which runs
    every hostile client. Each process prints ``ready`` once its sockets have their snapshots."""
    shares = [SUBSCRIBERS // workers + (1 if i < SUBSCRIBERS % workers else 0) for i in range(workers)]
    procs, seat = [], 0
    for share in shares:
        procs.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.realtime_clients", url.replace("http://", "ws://") + "/live", str(share),
            channel, str(UPDATES), "0", "0", str(PER_IP), str(seat), cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**26))
        seat += -(-share // PER_IP)
    for proc in procs:
        assert proc.stdout is not None
        async with asyncio.timeout(120):
            assert (await proc.stdout.readline()).strip() == b"ready"
    return procs


async def _crowd_results(procs: list[asyncio.subprocess.Process]) -> list[dict[str, Any]]:
    """What each client process received, once each has the last update (bounded: 60 s)."""
    results = []
    for proc in procs:
        assert proc.stdout is not None and proc.stdin is not None
        async with asyncio.timeout(60):
            results.append(json.loads(await proc.stdout.readline()))
        proc.stdin.close()
        await proc.wait()
    return results


async def _snapshot_of(url: str, channel: str) -> dict[str, Any]:
    ws = await _open(url, "127.0.0.10")
    try:
        return await _subscribe(ws, channel)
    finally:
        await ws.close()


async def test_connections_are_bounded_per_address_and_per_caller(bounded_api: str, auth_kit) -> None:
    mine = [await _open(bounded_api, "127.0.0.200") for _ in range(PER_IP)]
    with pytest.raises(InvalidStatus) as refused:
        await _open(bounded_api, "127.0.0.200")
    assert refused.value.response.status_code == 429
    assert json.loads(refused.value.response.body)["code"] == "too_many_connections"
    await mine[0].close()
    await _closed(mine[0])
    async with asyncio.timeout(10):
        while True:  # its seat is given back once the server has ended that connection
            try:
                mine[0] = await _open(bounded_api, "127.0.0.200")
                break
            except InvalidStatus:
                await asyncio.sleep(0.05)
    headers, _ = await auth_kit.sign_in(["guest"])
    callers = [await _open(bounded_api, f"127.0.0.{201 + i}", headers) for i in range(3)]
    with pytest.raises(InvalidStatus) as refused:
        await _open(bounded_api, "127.0.0.210", headers)
    assert refused.value.response.status_code == 429
    for ws in (*mine, *callers):
        await ws.close()
