"""What Redis, a paused writer or a killed sweeper can lose never sells a night twice, and every hold ends.

These tests use the service directly (pools opened in the test's loop) where they must own Redis: a
private redis-server they flush and restart, never the shared one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest

from app.auth.principal import Principal
from app.errors import ServiceUnavailable
from app.holds.domain import HoldRefused, HoldRequest, Line, lock_keys
from app.holds.locks import HoldLocks
from app.holds.metrics import HOLDS_BUSY, SWEEPER_LAG
from app.holds.service import HoldService, StaleFence, fences
from app.holds.sweeper import measure
from app.holds.sweeper import run as run_sweeper
from app.inventory import repository as inventory
from app.resources import Resources, open_resources
from app.settings import Settings
from tests.integration.holds.conftest import hold_body
from tests.support.auth import subprocess_environment
from tests.support.servers import private_server
from tests.support.wait import until


def _guest() -> Principal:
    return Principal(subject=f"fault-{uuid.uuid4().hex[:8]}", kind="user", roles=("guest",))


async def _nothing(conn: Any, hold: Any) -> None:
    return None


async def test_a_writer_paused_past_its_lock_is_refused_by_postgres(
    sync_resources: Resources, catalog_resort: Any, catalog_factory: Any
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    lines = [Line(str(room["id"]), night, 1)]
    keys = lock_keys(lines)
    locks = HoldLocks(sync_resources.redis, ttl_ms=100, wait_ms=2000, soldout_ms=1000)
    elsewhere = HoldLocks(sync_resources.redis, ttl_ms=2000, wait_ms=2000, soldout_ms=1000)  # another process
    paused = await locks.acquire(keys)  # writer A takes the lock ... and is paused past its TTL
    assert paused is not None
    await until(lambda: _gone(sync_resources, keys[0]), step=0.02)
    other = await elsewhere.acquire(keys)  # writer B takes the lock A believes it still holds
    assert other is not None and other.tokens[keys[0]] > paused.tokens[keys[0]]
    async with sync_resources.db.acquire() as conn:
        async with conn.transaction():
            assert len(await inventory.take(conn, lines, fences(lines, other.tokens))) == 1  # B writes
        async with conn.transaction():
            assert await inventory.take(conn, lines, fences(lines, paused.tokens)) == []  # A wakes up and is refused
    service = HoldService(sync_resources)
    async with sync_resources.db.acquire() as conn:  # capacity is there: the refusal is the stale token's
        with pytest.raises(StaleFence):
            await service._refused(conn, lines, paused.tokens)
    rows = await catalog_factory.fetch("SELECT held FROM inventory WHERE product_id = $1 AND night = $2",
                                       room["id"], night)
    assert rows[0]["held"] == 1


async def _gone(resources: Resources, key: str) -> bool:
    return not await resources.redis.exists(f"hold:lock:{key}")


async def _attempt(service: HoldService, request: HoldRequest) -> str:
    try:
        await service.create(_guest(), request, _nothing)
        return "held"
    except HoldRefused as exc:
        return exc.code
    except ServiceUnavailable as exc:
        return exc.code


@pytest.fixture
def private_redis(tmp_path: Path) -> Any:
    stack = private_server("redis", tmp_path)
    yield stack
    stack.stop()


async def test_redis_flushed_and_restarted_mid_run_never_oversells_and_holds_still_expire(
    settings: Settings, private_redis: Any, catalog_resort: Any, catalog_factory: Any
) -> None:
    server = private_redis.servers[0]
    private = msgspec.structs.replace(
        settings, redis_url=f"redis://127.0.0.1:{server.port}/0", hold_ttl_s=3, hold_rate_per_minute=0,
        hold_max_active_per_user=1000, sweeper_interval_s=0.2)
    room, night = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 10)
    request = HoldRequest(str(room["id"]), night, night + dt.timedelta(days=1), 1, 2)
    async with open_resources(private) as resources:
        service = HoldService(resources)
        first = [asyncio.create_task(_attempt(service, request)) for _ in range(60)]
        await asyncio.sleep(0)  # let them start before the flush
        await resources.redis.flushall()
        second = [asyncio.create_task(_attempt(service, request)) for _ in range(60)]
        await asyncio.to_thread(private_redis.restart_server, server.name)
        third = [asyncio.create_task(_attempt(service, request)) for _ in range(60)]
        outcomes = Counter(await asyncio.gather(*first, *second, *third))
        print(f"\nflush + restart mid-run: {dict(outcomes)}")
        assert set(outcomes) <= {"held", "sold_out", "busy"}
        live = await resources.db.fetchval("SELECT count(*) FROM holds WHERE product_id = $1 AND status = 'held'",
                                           room["id"])
        held = await resources.db.fetchval("SELECT held FROM inventory WHERE product_id = $1 AND night = $2",
                                           room["id"], night)
        assert outcomes["held"] == live == held <= 10
        stop = asyncio.Event()
        sweeper = asyncio.create_task(run_sweeper(resources, stop))
        try:
            await until(lambda: _all_ended(resources, room["id"]), timeout=15)
        finally:
            stop.set()
            await sweeper
        late = await resources.db.fetchval(
            "SELECT max(extract(epoch FROM ended_at - expires_at)) FROM holds WHERE product_id = $1", room["id"])
        assert late is not None and late <= 5.0
        assert await resources.db.fetchval("SELECT held FROM inventory WHERE product_id = $1 AND night = $2",
                                           room["id"], night) == 0
        await measure(resources.db)
        assert SWEEPER_LAG._value.get() < 5.0


async def _all_ended(resources: Resources, product_id: Any) -> bool:
    return not await resources.db.fetchval(
        "SELECT count(*) FROM holds WHERE product_id = $1 AND status = 'held'", product_id)


def _sweeper(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, **subprocess_environment(settings), "RESORT_SWEEPER_INTERVAL_S": "0.2"}
    return subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "run", "sweeper"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)


async def test_a_killed_sweeper_and_lost_leases_still_end_every_hold_in_time(
    settings: Settings, sync_resources: Resources, catalog_resort: Any, client: Any,
    guest_headers: dict[str, str]
) -> None:
    ids = []
    for i in range(3):
        body = hold_body(catalog_resort.slot, catalog_resort.start + dt.timedelta(days=i))
        response = await client.post("/holds", json=body, headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        ids.append(uuid.UUID(response.json()["id"]))
    sweeper = _sweeper(settings)
    try:
        await until(lambda: _heartbeat(sync_resources), timeout=30)
        os.kill(sweeper.pid, signal.SIGKILL)
        sweeper.wait(10)
        # Due in 2 s, and Redis lost every lease: only PostgreSQL knows these holds must end.
        await sync_resources.db.execute("UPDATE holds SET expires_at = now() + interval '2 seconds'"
                                        " WHERE id = ANY($1::uuid[])", ids)
        await sync_resources.redis.delete(*[f"hold:lease:{i}" for i in ids])
        sweeper = _sweeper(settings)
        await until(lambda: _ended(sync_resources, ids), timeout=15)
    finally:
        sweeper.kill()
        sweeper.wait(10)
    rows = await sync_resources.db.fetch(
        "SELECT status::text, extract(epoch FROM ended_at - expires_at) AS late FROM holds WHERE id = ANY($1::uuid[])",
        ids)
    assert {r["status"] for r in rows} == {"expired"} and max(r["late"] for r in rows) <= 5.0
    assert await sync_resources.db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'hold.expired' AND actor = 'system:sweeper'"
        " AND detail->>'hold_id' = ANY($1::text[])", [str(i) for i in ids]) == 3


async def _heartbeat(resources: Resources) -> bool:
    return bool(await resources.redis.keys("worker:sweeper:*"))


async def _ended(resources: Resources, ids: list[uuid.UUID]) -> bool:
    return not await resources.db.fetchval("SELECT count(*) FROM holds WHERE id = ANY($1::uuid[]) AND status = 'held'",
                                           ids)


async def test_a_slow_write_before_the_lock_does_not_spend_the_locks_budget(
    sync_resources: Resources, catalog_resort: Any, catalog_factory: Any
) -> None:
    """``busy`` is for nights contended past ``hold_lock_wait_ms`` (issue 21). A hold whose own rows took
    400 ms to write (a loaded machine) then finds its night locked by another process for 100 ms more: it
    waits that out and is held. Its budget used to start before those writes, so it was told busy."""
    room, night = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 10)
    request = HoldRequest(str(room["id"]), night, night + dt.timedelta(days=1), 1, 2)
    service = HoldService(sync_resources)
    assert service.settings.hold_lock_wait_ms == 300
    elsewhere = HoldLocks(sync_resources.redis, ttl_ms=5000, wait_ms=2000, soldout_ms=1000)  # another api process
    other = await elsewhere.acquire(lock_keys([Line(str(room["id"]), night, 1)]))
    assert other is not None
    written = asyncio.Event()

    async def slow_write(conn: Any, hold: Any) -> None:  # the idempotency record, written slowly
        await asyncio.sleep(0.4)
        written.set()

    async def release_soon() -> None:
        await written.wait()
        await asyncio.sleep(0.1)
        await elsewhere.release(other)

    releasing = asyncio.create_task(release_soon())
    hold = await service.create(_guest(), request, slow_write)
    await releasing
    assert hold["status"] == "held"


async def test_a_night_locked_past_the_budget_is_busy_and_counted_as_contention(
    sync_resources: Resources, catalog_resort: Any, catalog_factory: Any
) -> None:
    """The other side of the budget: a night another process keeps locked past ``hold_lock_wait_ms`` is
    answered ``503 busy`` with Retry-After, and operators see it counted as ``lock_wait`` (contention), apart
    from the commit queue's ``commit_wait`` (capacity)."""
    room, night = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 10)
    request = HoldRequest(str(room["id"]), night, night + dt.timedelta(days=1), 1, 2)
    elsewhere = HoldLocks(sync_resources.redis, ttl_ms=5000, wait_ms=2000, soldout_ms=1000)
    other = await elsewhere.acquire(lock_keys([Line(str(room["id"]), night, 1)]))
    assert other is not None
    before = {c: HOLDS_BUSY.labels(c)._value.get() for c in ("lock_wait", "commit_wait")}
    try:
        with pytest.raises(ServiceUnavailable) as refused:
            await HoldService(sync_resources).create(_guest(), request, _nothing)
    finally:
        await elsewhere.release(other)
    assert (refused.value.code, refused.value.headers) == ("busy", {"Retry-After": "1"})
    assert HOLDS_BUSY.labels("lock_wait")._value.get() == before["lock_wait"] + 1
    assert HOLDS_BUSY.labels("commit_wait")._value.get() == before["commit_wait"]
