"""Under contention, through HTTP on two api processes: exactly capacity wins, nothing is partly applied.

The api processes are real uvicorn processes sharing the test databases; callers are real sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.holds.conftest import hold_body
from tests.support.auth import serve_api, subprocess_environment
from tests.support.servers import free_port

LIMITS = {"RESORT_HOLD_RATE_PER_MINUTE": "1000000", "RESORT_HOLD_MAX_ACTIVE_PER_USER": "1000",
          "RESORT_DATABASE_POOL_MAX": "20"}


@pytest.fixture(scope="module")
def two_apis(settings: Any, stack: object) -> Iterator[list[str]]:
    env = subprocess_environment(settings) | LIMITS
    with contextlib.ExitStack() as stack_:
        yield [stack_.enter_context(serve_api(env, free_port())) for _ in range(2)]


async def _callers(auth_kit: Any, count: int) -> list[dict[str, str]]:
    return [(await auth_kit.sign_in(["guest"]))[0] for _ in range(count)]


async def _fire(urls: list[str], jobs: list[tuple[dict[str, str], dict[str, Any]]]) -> list[tuple[int, str, float]]:
    """POST every job at once, alternating api processes; (status, code, seconds to decision) each."""
    clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=600, max_keepalive_connections=0))
               for url in urls]
    start = asyncio.Event()
    decisions: list[tuple[int, str, float]] = []

    async def one(n: int, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, str, float]:
        """One guest: asks, and asks again (same key) as long as the answer is "busy, retry after"."""
        await start.wait()
        key = uuid.uuid4().hex
        for attempt in range(20):
            began = time.monotonic()
            response = await clients[n % len(clients)].post(
                "/holds", json=body, headers=headers | {"Idempotency-Key": key})
            code = response.json().get("code", "") if response.status_code >= 400 else ""
            decisions.append((response.status_code, code, time.monotonic() - began))
            if response.status_code not in (429, 503):
                return response.status_code, code, time.monotonic() - began
            assert int(response.headers["retry-after"]) >= 1
            await asyncio.sleep(float(response.headers["retry-after"]) * (1 + attempt / 10))
        return response.status_code, code, time.monotonic() - began

    try:
        tasks = [asyncio.create_task(one(n, h, b)) for n, (h, b) in enumerate(jobs)]
        await asyncio.sleep(0)
        start.set()
        finals = await asyncio.gather(*tasks)
        busy = sum(1 for status, *_ in decisions if status in (429, 503))
        latencies = sorted(t for *_, t in decisions)
        print(f"\n{len(jobs)} guests, {len(decisions)} answers ({busy} busy, retried after Retry-After);"
              f" time to an answer p50 {latencies[len(latencies) // 2] * 1000:.0f} ms,"
              f" p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms")
        return finals
    finally:
        for client in clients:
            await client.aclose()


async def test_a_thousand_attempts_on_ten_units_exactly_ten_win(
    two_apis: list[str], auth_kit: Any, catalog_factory: Any, catalog_resort: Any
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 10)
    callers = await _callers(auth_kit, 100)
    jobs = [(callers[n % 100], hold_body(room, night)) for n in range(1000)]
    results = await _fire(two_apis, jobs)
    outcomes = Counter((status, code) for status, code, _ in results)
    print(f"final answers: {dict(outcomes)}")
    assert outcomes[(201, "")] == 10
    assert set(outcomes) == {(201, ""), (409, "sold_out")}
    row = (await catalog_factory.fetch("SELECT held, sold, capacity FROM inventory WHERE product_id = $1"
                                       " AND night = $2", room["id"], night))[0]
    assert (row["held"], row["sold"]) == (10, 0)
    assert await catalog_factory.fetchval("SELECT count(*) FROM holds WHERE product_id = $1 AND status = 'held'",
                                          room["id"]) == 10


async def test_multi_night_and_package_holds_race_single_nights_without_partial_or_excess(
    two_apis: list[str], auth_kit: Any, catalog_factory: Any, catalog_resort: Any
) -> None:
    r = catalog_resort
    first = r.start
    callers = await _callers(auth_kit, 30)
    jobs = []
    for n in range(90):
        if n % 3 == 0:
            jobs.append((callers[n % 30], hold_body(r.room, first + dt.timedelta(days=1))))
        elif n % 3 == 1:
            jobs.append((callers[n % 30], hold_body(r.room, first, nights=3)))
        else:
            jobs.append((callers[n % 30], hold_body(r.package, first, nights=2)))
    results = await _fire(two_apis, jobs)
    assert all(status in (201, 409) for status, _, _ in results), Counter(s for s, _, _ in results)
    products = [r.room["id"], r.ticket["id"]]
    rows = await catalog_factory.fetch(
        "SELECT i.product_id, i.night, i.capacity, i.held, coalesce(sum(l.units) FILTER (WHERE h.status = 'held'), 0)"
        " AS lines FROM inventory i LEFT JOIN hold_lines l ON l.product_id = i.product_id AND l.night = i.night"
        " LEFT JOIN holds h ON h.id = l.hold_id WHERE i.product_id = ANY($1::uuid[]) AND i.night < $2"
        " GROUP BY i.product_id, i.night, i.capacity, i.held", products, first + dt.timedelta(days=3))
    for row in rows:
        assert row["held"] <= row["capacity"]
        assert row["held"] == row["lines"], row  # every unit held belongs to a live hold's line
    room_nights = {row["night"]: row["held"] for row in rows if row["product_id"] == r.room["id"]}
    assert room_nights[first + dt.timedelta(days=1)] == 5  # the shared night sold out, not beyond
    partial = await catalog_factory.fetchval(
        "SELECT count(*) FROM holds h WHERE h.property_id = $1 AND (SELECT count(*) FROM hold_lines l"
        " WHERE l.hold_id = h.id) <> (h.check_out - h.check_in) * CASE WHEN h.product_id = $2 THEN 2 ELSE 1 END",
        r.property["id"], r.package["id"])
    assert partial == 0


@pytest.fixture(scope="module")
def two_apis_one_commit_connection(settings: Any, stack: object) -> Iterator[list[str]]:
    """Two api processes with ONE commit connection each: every hold queues for it."""
    env = subprocess_environment(settings) | LIMITS | {"RESORT_HOLD_COMMIT_POOL": "1"}
    with contextlib.ExitStack() as stack_:
        yield [stack_.enter_context(serve_api(env, free_port())) for _ in range(2)]


async def test_a_burst_on_free_rows_waits_its_turn_instead_of_busy(
    two_apis_one_commit_connection: list[str], auth_kit: Any, catalog_factory: Any, catalog_resort: Any
) -> None:
    """80 holds at once on 20 nights with room to spare, through 2 commit connections in all: each waits
    in the bounded queue (``hold_commit_queue``, ``hold_commit_wait_ms``) and wins; none is told busy."""
    room, first = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], first, first + dt.timedelta(days=20), 10)
    callers = await _callers(auth_kit, 40)
    jobs = [(callers[n % 40], hold_body(room, first + dt.timedelta(days=n % 20))) for n in range(80)]
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for url in two_apis_one_commit_connection]
    try:
        responses = await asyncio.gather(*(
            clients[n % 2].post("/holds", json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
            for n, (headers, body) in enumerate(jobs)))
    finally:
        for client in clients:
            await client.aclose()
    assert Counter(r.status_code for r in responses) == {201: 80}
    held = await catalog_factory.fetchval("SELECT sum(held) FROM inventory WHERE product_id = $1", room["id"])
    assert held == 80
