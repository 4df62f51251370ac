"""The saga's part of ``python -m bench.booking``: hold -> confirmed through Kafka (relay, orchestrator,
participants as real role processes) against the same confirmation done directly in one PostgreSQL
transaction, in the same run: latency at light load (one booking at a time) and sustained bookings/s."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx

from app.holds import repository as holds_repo
from app.inventory import repository as inventory
from app.settings import PROJECT_ROOT

ROLES = ("relay", "saga", "services")


@contextlib.contextmanager
def roles(env: dict[str, str]) -> Iterator[None]:
    logs = PROJECT_ROOT / ".data" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:6]
    env = {**os.environ, **env, "RESORT_LOG_LEVEL": "INFO", "RESORT_SAGA_GROUP": f"bench-saga-{run}",
           "RESORT_SERVICES_GROUP": f"bench-services-{run}"}
    processes = []
    for role in ROLES:
        with (logs / f"bench-{role}.log").open("w") as out:
            processes.append(subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "run", role],
                                              env=env, stdout=out, stderr=out, cwd=PROJECT_ROOT))
    try:
        _wait_ready(logs)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)


def _wait_ready(logs: object) -> None:
    deadline = time.monotonic() + 90
    for role in ("saga", "services"):
        path = logs / f"bench-{role}.log"  # type: ignore[operator]
        while b"saga_consumer_ready" not in path.read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{role} did not join its consumer group; see {path}")
            time.sleep(0.1)


async def _hold(client: httpx.AsyncClient, token: str, product: str, night: dt.date) -> str:
    body = {"product_id": product, "check_in": night.isoformat(),
            "check_out": (night + dt.timedelta(days=1)).isoformat(), "quantity": 1, "guests": 2}
    response = await client.post("/holds", json=body, headers={"Authorization": f"Bearer {token}",
                                                               "Idempotency-Key": uuid.uuid4().hex})
    response.raise_for_status()
    return response.json()["id"]


async def _through_saga(client: httpx.AsyncClient, db: asyncpg.Pool, token: str, hold_id: str) -> float:
    began = time.perf_counter()
    response = await client.post("/bookings", headers={"Authorization": f"Bearer {token}",
                                                       "Idempotency-Key": uuid.uuid4().hex},
                                 json={"hold_ids": [hold_id], "guest": {"name": "B", "email": "b@example.com"},
                                       "payment": {"card_token": "tok_approve"}})
    response.raise_for_status()
    booking = uuid.UUID(response.json()["id"])
    while (await db.fetchval("SELECT status FROM bookings WHERE id = $1", booking)) == "pending":
        await asyncio.sleep(0.002)
    return time.perf_counter() - began


async def _directly(db: asyncpg.Pool, hold_id: str) -> float:
    """The same confirmation in one transaction: holds to sold, booking confirmed, payment rows, event."""
    began = time.perf_counter()
    async with db.acquire() as conn, conn.transaction():
        hold = await conn.fetchrow("SELECT * FROM holds WHERE id = $1 FOR UPDATE", uuid.UUID(hold_id))
        rows = await inventory.sell_hold(conn, hold["id"])
        ended = await holds_repo.set_status(conn, hold["id"], "converted", "held")
        await holds_repo.record_changes(conn, ended, "converted", "bench", None, rows)
        booking = await conn.fetchval(
            "INSERT INTO bookings (owner_kind, owner_id, property_id, status, step, guest, payment_ref, total_amount,"
            " currency, check_in, check_out, step_deadline, deadline) VALUES ('user', $1, $2, 'confirmed', 'done',"
            " $3::jsonb, NULL, $4, $5, $6, $7, now(), now()) RETURNING id", hold["owner_id"],
            hold["property_id"], json.dumps({"name": "B"}), hold["total_amount"], hold["currency"], hold["check_in"],
            hold["check_out"])
        await conn.execute("INSERT INTO booking_holds (booking_id, hold_id) VALUES ($1, $2)", booking, hold["id"])
        for operation in ("authorize", "capture"):
            await conn.execute("INSERT INTO payments (booking_id, operation, status, amount, currency)"
                               " VALUES ($1, $2, 'approved', $3, $4)", booking, operation, hold["total_amount"],
                               hold["currency"])
        await conn.execute("INSERT INTO outbox (topic, aggregate_type, aggregate_id, event_type, payload)"
                           " VALUES ('bookings', 'booking', $1, 'booking.confirmed', '{}')", str(booking))
    return time.perf_counter() - began


def _quantiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


async def measure(base: str, database_url: str, token: str, products: list[str], nights: list[dt.date],
                  count: int = 40, burst: int = 40) -> dict[str, float]:
    """Light load (one at a time) and a burst (``burst`` at once) through the saga and directly."""
    db = await asyncpg.create_pool(database_url, min_size=2, max_size=10)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            slots = iter([(p, n) for n in nights for p in products])
            holds = [await _hold(client, token, *next(slots)) for _ in range(4 * count + 2 * burst)]
            saga = [await _through_saga(client, db, token, holds.pop()) for _ in range(count)]
            direct = [await _directly(db, holds.pop()) for _ in range(count)]
            began = time.perf_counter()
            await asyncio.gather(*(_through_saga(client, db, token, holds.pop()) for _ in range(burst)))
            saga_rate = burst / (time.perf_counter() - began)
            began = time.perf_counter()
            await asyncio.gather(*(_directly(db, holds.pop()) for _ in range(burst)))
            direct_rate = burst / (time.perf_counter() - began)
    finally:
        await db.close()
    (saga_p50, saga_p99), (direct_p50, direct_p99) = _quantiles(saga), _quantiles(direct)
    return {"saga_p50": saga_p50, "saga_p99": saga_p99, "direct_p50": direct_p50, "direct_p99": direct_p99,
            "saga_rate": saga_rate, "direct_rate": direct_rate}
