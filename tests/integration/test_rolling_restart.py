"""A rolling restart nobody notices (issue 27): ``resort up --scale api=2,saga=2,publisher=2`` on the test
databases, guests booking and live subscribers watching, while every instance of every role is sent SIGTERM:
each role's instances one after the other (the supervisor starts it again; the next goes once it serves), the
roles side by side, as in a rollout of every Deployment. Then: no failed request (a client retries a request
that got no answer at all, connection refused or reset, with the same Idempotency-Key: the documented retry),
every booking ends exactly once (one terminal event, sold = confirmed, one capture per confirmed booking),
every subscriber's sequence has no gap and no duplicate across its reconnections. The figures are printed."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from app.auth.keys import keys_path
from app.resources import Resources
from app.settings import Settings
from app.worker import available_roles
from realtime.channels import stream_key
from tests.integration.bookings.conftest import booking_body
from tests.integration.holds.conftest import hold_body
from tests.integration.realtime.client import Live
from tests.support.auth import subprocess_environment
from tests.support.servers import free_port
from tests.support.stack import UpProcess

SCALE = {"api": 2, "saga": 2, "publisher": 2}
GUESTS, FOLLOWERS, MAX_BOOKINGS = 2, 6, 400
GROUPS = ("SAGA", "SERVICES", "PROJECTOR", "LIVE_PUBLISHER")
RETRYABLE = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)


def listening(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a listening socket on ``port`` (/proc: inode of the LISTEN entry)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as file:
            for line in file.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}").removeprefix("socket:[").rstrip("]") in inodes:
                    return True
    return False


class Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.retries: Counter[str] = Counter()
        self.failures: list[str] = []
        self.bookings: list[str] = []


async def post(http: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str],
               stats: Stats) -> httpx.Response:
    key = uuid.uuid4().hex
    for _ in range(50):
        stats.requests += 1
        try:
            return await http.post(path, json=body, headers=headers | {"Idempotency-Key": key})
        except RETRYABLE as exc:  # no answer came: the same request again, same Idempotency-Key
            stats.retries[type(exc).__name__] += 1
            await asyncio.sleep(0.05)
    raise AssertionError(f"{path}: no answer after 50 attempts")


async def guest(url: str, headers: dict[str, str], resort: Any, stats: Stats, stop: asyncio.Event,
                index: int) -> None:
    """Books one night after another; the guests' nights never meet (no contention: not what is tested)."""
    async with httpx.AsyncClient(base_url=url, headers={"Connection": "close"}, timeout=30) as http:
        n = 0
        while not stop.is_set() and len(stats.bookings) < MAX_BOOKINGS:
            n += 1
            night = resort.start + dt.timedelta(days=(index + GUESTS * n) % resort.nights)
            hold = await post(http, "/holds", hold_body(resort.ticket, night, guests=1), headers, stats)
            if hold.status_code != 201:
                stats.failures.append(f"hold {hold.status_code} {hold.text[:120]}")
                continue
            booking = await post(http, "/bookings", booking_body([hold.json()["id"]]), headers, stats)
            if booking.status_code != 202:
                stats.failures.append(f"booking {booking.status_code} {booking.text[:120]}")
                continue
            stats.bookings.append(booking.json()["id"])
            await asyncio.sleep(1.0)


class Follower:
    """A live subscriber that reconnects (to whichever instance answers) and resumes by position."""

    def __init__(self, url: str, channel: str) -> None:
        self.url, self.channel = url, channel
        self.epoch, self.last = "", -1
        self.updates = self.gaps = self.duplicates = self.snapshots = self.reconnects = 0
        self.resume_mismatch = 0

    def take(self, frame: dict[str, Any]) -> None:
        if frame.get("channel") != self.channel:
            return
        if frame["type"] == "snapshot":
            self.snapshots += 1
            self.epoch, self.last = frame["epoch"], frame["seq"]
        elif frame["type"] == "update":
            self.updates += 1
            if frame["seq"] <= self.last:
                self.duplicates += 1
            elif frame["seq"] > self.last + 1:
                self.gaps += 1
            self.last = max(self.last, frame["seq"])

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                client = await Live.open(self.url)
            except (OSError, InvalidHandshake, TimeoutError):
                await asyncio.sleep(0.1)
                continue
            try:
                since = {"since": {"epoch": self.epoch, "seq": self.last}} if self.last >= 0 else {}
                await client.send(op="subscribe", channel=self.channel, **since)
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        frame = await client.frame(0.5)
                        if frame["type"] == "reconnect":
                            (resume,) = frame["resume"]
                            self.resume_mismatch += resume["since"] != {"epoch": self.epoch, "seq": self.last}
                            break
                        self.take(frame)
            except (ConnectionClosed, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    await client.close()
            if not stop.is_set():
                self.reconnects += 1


async def eventually(condition: Any, timeout: float, what: str) -> None:
    """Poll ``condition`` without blocking the loop (the load and the subscribers run meanwhile)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        await asyncio.sleep(0.1)


async def caught_up(redis: Any, channel: str, followers: list[Follower], timeout: float) -> None:
    """Every follower has updates and stands at the channel's newest entry in Redis."""
    deadline = time.monotonic() + timeout
    while True:
        newest = await redis.xrevrange(stream_key(channel), "+", "-", count=1)
        entry = newest[0][0] if newest else b"0-0"
        head = int((entry.decode() if isinstance(entry, bytes) else entry).split("-")[0])
        if head > 0 and all(f.updates > 0 and f.last == head for f in followers):
            return
        assert time.monotonic() < deadline, (
            f"subscribers not at the head ({head}) within {timeout:.0f}s: {[(f.updates, f.last) for f in followers]}")
        await asyncio.sleep(0.2)


def role_units(up: UpProcess) -> list[dict[str, Any]]:
    return [u for u in up.state()["units"] if u["kind"] == "role"]


async def serving(up: UpProcess, unit: dict[str, Any], redis: Any, port: int) -> bool:
    now = up.unit(unit["name"])
    if now["state"] != "running" or not now["pid"]:
        return False
    if unit["role"] == "api":
        return listening(now["pid"], port)
    return bool(await redis.exists(f"worker:{unit['role']}:{socket.gethostname()}:{now['pid']}"))


async def wait_serving(up: UpProcess, unit: dict[str, Any], redis: Any, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await serving(up, unit, redis, port):
        assert up.process.poll() is None, up.output[-3000:]
        assert time.monotonic() < deadline, f"{unit['name']} not serving again: {up.unit(unit['name'])}"
        await asyncio.sleep(0.1)


def waves(units: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Instance 1 of every role, then instance 2 of the roles that have one, ...: each role's instances go
    one at a time (as a Deployment rolls its pods), the roles side by side."""
    by_index: dict[int, list[dict[str, Any]]] = {}
    for unit in units:
        index = 1 if unit["name"] == unit["role"] else int(unit["name"][len(unit["role"]) + 1:])
        by_index.setdefault(index, []).append(unit)
    return [by_index[i] for i in sorted(by_index)]


async def back(up: UpProcess, unit: dict[str, Any], redis: Any, port: int) -> None:
    """``unit`` (sent SIGTERM) stopped, was started again by the supervisor, and serves."""
    await eventually(lambda: up.unit(unit["name"])["pid"] != unit["pid"], 90, unit["name"])
    await wait_serving(up, unit, redis, port, 90)


async def terminal(resources: Resources, ids: list[str], timeout: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await resources.db.fetch("SELECT id::text, status FROM bookings WHERE id = ANY($1::uuid[])",
                                        [uuid.UUID(i) for i in ids])
        statuses = {r["id"]: r["status"] for r in rows}
        if len(statuses) == len(ids) and all(s in ("confirmed", "failed") for s in statuses.values()):
            return statuses
        if time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.3)


@pytest.mark.timeout(600)  # ~2 min on an idle 2-core machine; several times that on a crowded one
async def test_rolling_restart_of_every_instance_under_load(
        settings: Settings, sync_resources: Resources, auth_kit: Any, catalog_resort: Any, tmp_path: Path) -> None:
    port, run = free_port(), uuid.uuid4().hex[:8]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **subprocess_environment(settings), "RESORT_DATA_DIR": str(tmp_path / "up"),
           "RESORT_API_HOST": "127.0.0.1", "RESORT_API_PORT": str(port), "RESORT_PUBLIC_URL": url,
           "RESORT_JWT_KEYS_FILE": str(keys_path(settings)), "RESORT_SEED_ON_UP": "false",
           "RESORT_SUPERVISE_BACKOFF_S": "0.2", "RESORT_LIVE_DRAIN_S": "1", "RESORT_API_SHUTDOWN_TIMEOUT_S": "5",
           "RESORT_WORKER_STOP_TIMEOUT_S": "5", "RESORT_RATE_LIMIT_API_PER_MINUTE": "100000",
           "RESORT_HOLD_RATE_PER_MINUTE": "100000", "RESORT_LOG_LEVEL": "INFO",
           # a step waits out a restart instead of compensating: the bookings should confirm
           "RESORT_SAGA_STEP_TIMEOUT_S": "30",
           # consumer groups of this run alone (group ids carry no topic prefix)
           **{f"RESORT_{name}_GROUP": f"rolling-{name.lower()}-{run}" for name in GROUPS}}
    scale = ",".join(f"{role}={n}" for role, n in SCALE.items())
    up = UpProcess.start(env, "--no-seed", "--scale", scale)
    stop, load_stop = asyncio.Event(), asyncio.Event()
    stats = Stats()
    channel = f"availability:{catalog_resort.property['id']}"
    followers = [Follower(url, channel) for _ in range(FOLLOWERS)]
    tasks: list[asyncio.Task[None]] = []
    began = time.monotonic()
    try:
        expected = 1 + len(available_roles()) + sum(n - 1 for n in SCALE.values())
        await eventually(lambda: up.process.poll() is not None or len(role_units(up)) == expected, 120, "instances")
        for unit in role_units(up):
            await wait_serving(up, unit, sync_resources.redis, port, 120)
        started = time.monotonic() - began
        print(f"\nevery instance serving after {started:.1f}s", flush=True)
        tasks = [asyncio.create_task(f.run(stop)) for f in followers]
        for index in range(GUESTS):
            headers, _ = await auth_kit.sign_in(["guest"])
            tasks.append(asyncio.create_task(guest(url, headers, catalog_resort, stats, load_stop, index)))
        with contextlib.suppress(AssertionError):
            await eventually(lambda: len(stats.bookings) >= 3 or len(stats.failures) > 5, 60, "bookings")
        assert len(stats.bookings) >= 3, (stats.failures[:3], stats.retries, stats.requests, up.output[-2000:])
        restarted: dict[str, float] = {}
        for wave in waves(role_units(up)):  # like `kubectl rollout restart` of every Deployment at once
            at = time.monotonic()
            for unit in wave:
                os.kill(unit["pid"], signal.SIGTERM)
            await asyncio.gather(*(back(up, unit, sync_resources.redis, port) for unit in wave))
            restarted.update({unit["name"]: round(time.monotonic() - at, 1) for unit in wave})
            print(f"restarted {[u['name'] for u in wave]} in {time.monotonic() - at:.1f}s; "
                  f"{len(stats.bookings)} bookings", flush=True)
        rolled = time.monotonic() - began - started
        load_stop.set()
        await asyncio.gather(*tasks[FOLLOWERS:])
        statuses = await terminal(sync_resources, stats.bookings)
        # the publishers (their group rebalanced by every restart) publish what the load changed, and every
        # subscriber reaches the channel's head
        await caught_up(sync_resources.redis, channel, followers, 120)
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        stop.set()
        load_stop.set()
        for task in tasks:
            task.cancel()
        up.interrupt(180)  # every instance stops gracefully, one after the other
    ids = [uuid.UUID(i) for i in stats.bookings]
    ends = await sync_resources.db.fetch(
        "SELECT aggregate_id, count(*) AS n FROM outbox WHERE topic = 'bookings' AND aggregate_id = ANY($1::text[])"
        " AND event_type IN ('booking.confirmed', 'booking.failed') GROUP BY aggregate_id", stats.bookings)
    captures = await sync_resources.db.fetchval(
        "SELECT count(*) FROM payments WHERE operation = 'capture' AND status = 'approved'"
        " AND booking_id = ANY($1::uuid[])", ids)
    sold = await sync_resources.db.fetchval(
        "SELECT coalesce(sum(sold), 0) FROM inventory WHERE product_id = $1", catalog_resort.ticket["id"])
    confirmed = sum(s == "confirmed" for s in statuses.values())
    figures = {
        "instances_restarted": restarted, "start_s": round(started, 1), "rolling_restart_s": round(rolled, 1),
        "requests": stats.requests, "retries": dict(stats.retries), "failed": len(stats.failures),
        "bookings": len(ids), "statuses": dict(Counter(statuses.values())),
        "subscribers": FOLLOWERS, "updates": sum(f.updates for f in followers),
        "reconnects": sum(f.reconnects for f in followers), "gaps": sum(f.gaps for f in followers),
        "duplicates": sum(f.duplicates for f in followers),
        "snapshots_after_the_first": sum(f.snapshots - 1 for f in followers),
        "resume_position_mismatches": sum(f.resume_mismatch for f in followers),
    }
    print("\nrolling restart: " + json.dumps(figures))
    assert len(restarted) == expected
    assert all(s in ("confirmed", "failed") for s in statuses.values()), "every booking ends"
    assert not stats.failures, stats.failures[:5]
    assert len(ends) == len(ids) and all(r["n"] == 1 for r in ends), "every booking ends exactly once"
    assert (sold, captures) == (confirmed, confirmed)
    assert figures["gaps"] == figures["duplicates"] == figures["resume_position_mismatches"] == 0, figures
    assert figures["snapshots_after_the_first"] == 0 and figures["updates"] > 0, figures
