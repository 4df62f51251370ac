"""Idempotency takeover is fenced: a first request that was only slow, and its retry that took the key
over once the record looked stale, never both commit their effect."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.integration.bookings.conftest import booking_body
from tests.integration.bookings.test_saga import _hold
from tests.support.auth import serve_api, subprocess_environment
from tests.support.servers import free_port


async def _until(check: Any, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_slow_request_and_its_retry_after_the_takeover_make_one_booking(
    client: Any, settings: Any, catalog_resort: Any, sync_resources: Any, guest_headers: dict[str, str]
) -> None:
    with serve_api(subprocess_environment(settings), free_port()) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as api:
            await _race(api, client, catalog_resort, sync_resources, guest_headers)


async def _race(api: Any, client: Any, catalog_resort: Any, sync_resources: Any,
                guest_headers: dict[str, str]) -> None:
    db = sync_resources.db
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    key = uuid.uuid4().hex
    headers = guest_headers | {"Idempotency-Key": key}
    body = booking_body([hold_id])

    async def fence() -> int | None:
        return await db.fetchval("SELECT fence FROM idempotency_keys WHERE key = $1 AND status = 'running'", key)

    async with db.acquire() as blocker, blocker.transaction():
        # the hold row locked: both requests stop inside their booking's transaction, before the effect
        await blocker.execute("SELECT 1 FROM holds WHERE id = $1 FOR UPDATE", uuid.UUID(hold_id))
        slow = asyncio.create_task(api.post("/bookings", json=body, headers=headers))
        await _until(lambda: _is(fence, 1))
        # the first request looks dead (its lock ran out: idempotency_lock_s later): a retry takes over
        await db.execute("UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE key = $1", key)
        retry = asyncio.create_task(api.post("/bookings", json=body, headers=headers))
        await _until(lambda: _is(fence, 2))
    first, second = await slow, await retry
    assert (first.status_code, first.json()["code"]) == (409, "idempotency_taken_over")
    assert second.status_code == 202, second.text
    bookings = await db.fetch("SELECT booking_id FROM booking_holds WHERE hold_id = $1", uuid.UUID(hold_id))
    assert [str(b["booking_id"]) for b in bookings] == [second.json()["id"]]
    replay = await api.post("/bookings", json=body, headers=headers)
    assert (replay.status_code, replay.json()["id"]) == (202, second.json()["id"])


async def _is(read: Any, value: int) -> bool:
    return await read() == value
