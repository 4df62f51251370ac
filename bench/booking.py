"""Holds benchmark: ``python -m bench.booking [--seconds 6] [--connections 32] [--attempts 1000]``.

One run, one machine, ratios against baselines measured in the same run:

1. ``GET /ping`` of the same api process (the bare endpoint) vs ``POST /holds`` spread over 100 products x
   30 nights (wrk, authenticated, a fresh Idempotency-Key per request): goal >= 0.3x the bare throughput.
2. The hot night: ``--attempts`` concurrent ``POST /holds`` on 10 units of one night: exactly 10 must win;
   p50 and p99 time to a decision (goal p99 <= 0.5 s). Busy answers are counted, not retried.
3. The engine on one hot row (in-process, no HTTP, 32 concurrent writers) against a plain
   ``SELECT ... FOR UPDATE`` implementation of the same hold (same rules, same rows written): goal >= 2x.
4. The outbox under churn: concurrent writers recording events with the old per-row NOTIFY trigger and
   without it (today's outbox), on the same table in the same run.
5. The saga (``bench.saga``): hold -> confirmed through Kafka at light load (goal p50 <= 100 ms, p99 <=
   0.5 s) and bookings/s in a burst, each next to the same confirmation in one PostgreSQL transaction.

Data lives in its own databases (``resort_bench``, Redis db 3, Kafka prefix ``bench.``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import msgspec
from rich.console import Console
from rich.table import Table

from app.auth.keys import KeyRing, keys_path
from app.auth.principal import Principal
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.catalog.domain import DEFAULT_TIME_ZONE
from app.clock import today as _today
from app.db.migrate import migrate
from app.errors import ServiceUnavailable
from app.holds import repository as repo
from app.holds.domain import HoldRefused, HoldRequest
from app.holds.service import HoldService
from app.inventory import repository as inventory_repo
from app.inventory.domain import free_of
from app.outbox import record_event
from app.resources import open_resources
from app.settings import Settings
from bench.loadgen import Result, load, parse_wrk
from bench.saga import measure as measure_saga
from bench.saga import roles as saga_roles
from bench.server import api_server

console = Console(width=130)
BENCH_ENV = {
    "RESORT_DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/resort_bench",
    "RESORT_MONGO_DB": "resort_bench",
    "RESORT_REDIS_URL": "redis://127.0.0.1:56379/3",
    "RESORT_SEARCH_INDEX": "bench_products",
    "RESORT_KAFKA_TOPIC_PREFIX": "bench.",
    "RESORT_LOG_LEVEL": "WARNING",
    "RESORT_RATE_LIMIT_API_PER_MINUTE": "100000000",
    "RESORT_HOLD_RATE_PER_MINUTE": "100000000",
    "RESORT_HOLD_MAX_ACTIVE_PER_USER": "100000000",
    "RESORT_DATABASE_POOL_MAX": "20",
}
PROPERTY = "bench-holds"
START = _today(DEFAULT_TIME_ZONE) + dt.timedelta(days=10)
NIGHTS = 30
_POST_SCRIPT = """
local products = {%(products)s}
local tokens = {%(tokens)s}
local nights = {%(nights)s}
counter = 0
request = function()
  counter = counter + 1
  local n = math.random(#nights - 1)
  local body = string.format('{"product_id":"%%s","check_in":"%%s","check_out":"%%s","quantity":1,"guests":2}',
                             products[math.random(#products)], nights[n], nights[n + 1])
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                   ["Idempotency-Key"] = string.format("%(run)s-%%d-%%d", math.random(1000000000), counter)}
  return wrk.format("POST", "/holds", headers, body)
end
"""


def bench_env() -> dict[str, str]:
    return {**BENCH_ENV, **os.environ}


async def _product(conn: asyncpg.Connection, code: str, capacity: int, nights: list[dt.date]) -> str:
    pid = await conn.fetchval(
        "INSERT INTO products (property_id, kind, code, name, max_occupancy) VALUES ($1, 'room_type', $2, $2, 4)"
        " RETURNING id", PROPERTY, code)
    plan = await conn.fetchval("INSERT INTO rate_plans (product_id, code, name) VALUES ($1, 'standard', 'Standard')"
                               " RETURNING id", pid)
    await conn.executemany("INSERT INTO nightly_rates (rate_plan_id, night, amount) VALUES ($1, $2, 100000)",
                           [(plan, n) for n in nights + [nights[-1] + dt.timedelta(days=1)]])
    await conn.executemany("INSERT INTO inventory (product_id, night, capacity) VALUES ($1, $2, $3)",
                           [(pid, n, capacity) for n in nights])
    return str(pid)


async def prepare(settings: Settings) -> dict[str, object]:
    """Fresh products of this run: 100 roomy ones, one hot night of 10 units, one hot row of 10^6 units."""
    await migrate(settings.database_url)
    run = uuid.uuid4().hex[:6]
    nights = [START + dt.timedelta(days=i) for i in range(NIGHTS)]
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("INSERT INTO properties (id, name, latitude, longitude) VALUES ($1, 'Bench', 33.2, 126.5)"
                           " ON CONFLICT DO NOTHING", PROPERTY)
        spread = [await _product(conn, f"s{run}-{i}", 100_000, nights) for i in range(100)]
        hot_night = await _product(conn, f"hot{run}", 10, nights[:1])
        hot_row = await _product(conn, f"row{run}", 1_000_000, nights[:1])
    finally:
        await conn.close()
    return {"spread": spread, "hot_night": hot_night, "hot_row": hot_row, "nights": nights}


async def tokens(settings: Settings, count: int) -> list[str]:
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    store, minter = SessionStore(redis, settings), AccessTokens(settings, KeyRing(keys_path(settings)))
    try:
        out = []
        for i in range(count):
            session = await store.create(subject=f"bench-{i}", roles=["guest"], locale="ko-KR", name="b",
                                         email=f"b{i}@example.test", ip="127.0.0.1", user_agent="bench")
            out.append(minter.mint(subject=f"bench-{i}", session_id=session.id, roles=["guest"]))
        return out
    finally:
        await redis.aclose()


def spread_holds(base: str, data: dict, toks: list[str], seconds: int, connections: int) -> Result:
    quoted = lambda items: ", ".join(f'"{x}"' for x in items)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "holds.lua"
        script.write_text(_POST_SCRIPT % {"run": uuid.uuid4().hex, "products": quoted(data["spread"]),
                                          "tokens": quoted(toks),
                                          "nights": quoted(n.isoformat() for n in data["nights"])})
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
                "-s", str(script), base]
        output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return parse_wrk("POST /holds (spread)", output)


async def hot_night(base: str, data: dict, toks: list[str], attempts: int) -> dict[str, float]:
    night = data["nights"][0]
    body = {"product_id": data["hot_night"], "check_in": night.isoformat(),
            "check_out": (night + dt.timedelta(days=1)).isoformat(), "quantity": 1, "guests": 2}
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=attempts, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        async def one(n: int) -> tuple[int, float]:
            await go.wait()
            began = time.perf_counter()
            response = await client.post("/holds", json=body, headers={
                "Authorization": f"Bearer {toks[n % len(toks)]}", "Idempotency-Key": uuid.uuid4().hex})
            return response.status_code, time.perf_counter() - began

        tasks = [asyncio.create_task(one(n)) for n in range(attempts)]
        await asyncio.sleep(0.5)
        go.set()
        results = await asyncio.gather(*tasks)
    times = sorted(t for _, t in results)
    statuses = [s for s, _ in results]
    return {"won": statuses.count(201), "sold_out": statuses.count(409), "busy": statuses.count(503),
            "errors": sum(s >= 500 and s != 503 for s in statuses),
            "p50": times[len(times) // 2], "p99": times[int(len(times) * 0.99)]}


async def _nothing(conn: object, hold: object) -> None:
    return None


async def _naive(service: HoldService, principal: Principal, request: HoldRequest) -> None:
    """The same hold (same rules, same locks, same rows and events) with a plain row lock and no Redis."""
    plan = await service.plan(request)
    async with service.db.acquire() as conn, conn.transaction():
        await service._check_limit(conn, principal)
        line = plan.lines[0]
        row = await conn.fetchrow("SELECT capacity, held, sold, out_of_service FROM inventory WHERE product_id = $1"
                                  " AND night = $2 FOR UPDATE", uuid.UUID(line.product_id), line.night)
        if line.units > free_of(row):
            raise HoldRefused(409, "sold_out", "sold out")
        rows = await conn.fetch("UPDATE inventory SET held = held + $3, version = version + 1 WHERE product_id = $1"
                                f" AND night = $2 RETURNING {inventory_repo.COLUMNS}",
                                uuid.UUID(line.product_id), line.night, line.units)
        hold = await repo.insert_hold(conn, service._values(principal, plan), plan.lines)
        await repo.record_changes(conn, hold, "created", principal.actor, None, rows)


async def hot_row(settings: Settings, data: dict, seconds: float, writers: int) -> dict[str, float]:
    night = data["nights"][0]
    request = HoldRequest(data["hot_row"], night, night + dt.timedelta(days=1), 1, 2)
    # many guests on one hot night, as on an on-sale day: one guest's holds queue on the per-guest lock of the
    # active-hold count, which the baseline does not take
    guests = itertools.cycle([Principal(subject=f"bench-row-{n}", kind="user", roles=("guest",)) for n in range(writers)])
    async with open_resources(settings) as resources:
        service = HoldService(resources)

        async def engine() -> None:
            await service.create(next(guests), request, _nothing)

        async def naive() -> None:
            await _naive(service, next(guests), request)

        out = {}
        for name, fn in (("for_update", naive), ("engine", engine), ("for_update_2", naive), ("engine_2", engine)):
            out[name] = await _throughput(fn, seconds, writers)
    return {"engine": (out["engine"] + out["engine_2"]) / 2, "for_update": (out["for_update"] + out["for_update_2"]) / 2}


async def _throughput(fn, seconds: float, writers: int) -> float:  # type: ignore[no-untyped-def]
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            try:
                await fn()
                done += 1
            except ServiceUnavailable:
                pass

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(writers)))
    return done / (time.perf_counter() - began)


async def outbox_churn(settings: Settings, seconds: float, writers: int) -> dict[str, float]:
    """Events per second recorded by concurrent transactions, with and without a NOTIFY per row."""
    pool = await asyncpg.create_pool(settings.database_url, min_size=writers, max_size=writers)
    notify = ("CREATE OR REPLACE FUNCTION bench_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$"
              " BEGIN PERFORM pg_notify('outbox', NEW.id::text); RETURN NEW; END $$;"
              " CREATE TRIGGER bench_outbox_notify AFTER INSERT ON outbox FOR EACH ROW"
              " EXECUTE FUNCTION bench_outbox_notify()")

    async def write() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await record_event(conn, topic="bench", aggregate_type="bench", aggregate_id="a", event_type="x",
                               version=1, payload={"n": 1})

    out = {}
    try:
        for name in ("today", "notify_per_row", "today_2", "notify_per_row_2"):
            if name.startswith("notify"):
                await pool.execute(notify)
            try:
                out[name] = await _throughput(write, seconds, writers)
            finally:
                await pool.execute("DROP TRIGGER IF EXISTS bench_outbox_notify ON outbox")
        await pool.execute("UPDATE outbox SET published_at = now() WHERE topic = 'bench' AND published_at IS NULL")
    finally:
        await pool.close()
    return {"today": (out["today"] + out["today_2"]) / 2,
            "notify_per_row": (out["notify_per_row"] + out["notify_per_row_2"]) / 2}


def report(ping: Result, spread: Result, hot: dict, row: dict, churn: dict, saga: dict,
           args: argparse.Namespace) -> Table:
    table = Table(title=f"holds benchmark ({args.connections} connections, {args.seconds}s each, one api process)")
    for column in ("measure", "value", "baseline (same run)", "ratio", "goal"):
        table.add_column(column)
    table.add_row("POST /holds spread vs GET /ping, req/s", f"{spread.rps:,.0f} (p99 {spread.p99_ms:.0f} ms,"
                  f" {spread.errors} non-2xx)", f"{ping.rps:,.0f}", f"{spread.rps / ping.rps:.2f}x", ">= 0.3x")
    table.add_row(f"hot night: {args.attempts} attempts on 10 units", f"won {hot['won']:.0f}, sold_out "
                  f"{hot['sold_out']:.0f}, busy {hot['busy']:.0f}, 5xx {hot['errors']:.0f}", "-", "-", "exactly 10")
    table.add_row("hot night: time to decision", f"p50 {hot['p50'] * 1000:.0f} ms, p99 {hot['p99'] * 1000:.0f} ms",
                  "-", "-", "p99 <= 500 ms")
    table.add_row("hot row, holds/s (in-process, 32 writers)", f"{row['engine']:,.0f}", f"{row['for_update']:,.0f}"
                  " (SELECT FOR UPDATE)", f"{row['engine'] / row['for_update']:.2f}x", ">= 2x")
    table.add_row("outbox events/s under churn", f"{churn['today']:,.0f}", f"{churn['notify_per_row']:,.0f}"
                  " (NOTIFY per row)", f"{churn['today'] / churn['notify_per_row']:.2f}x", "higher is better")
    table.add_row("hold -> confirmed, light load (p50 / p99)",
                  f"{saga['saga_p50'] * 1000:.0f} / {saga['saga_p99'] * 1000:.0f} ms (saga over Kafka)",
                  f"{saga['direct_p50'] * 1000:.1f} / {saga['direct_p99'] * 1000:.1f} ms (one transaction)",
                  f"{saga['saga_p50'] / saga['direct_p50']:.0f}x", "p50 <= 100 ms, p99 <= 500 ms")
    table.add_row("bookings/s in a burst of 40", f"{saga['saga_rate']:,.1f}", f"{saga['direct_rate']:,.0f}",
                  f"{saga['saga_rate'] / saga['direct_rate']:.2f}x", "-")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--attempts", type=int, default=1000)
    args = parser.parse_args()
    env = bench_env()
    settings = Settings.from_env(env)
    data = asyncio.run(prepare(settings))
    toks = asyncio.run(tokens(settings, 50))
    with api_server(env) as base:
        ping = load("GET /ping", base, ["/ping"], args.seconds, args.connections)
        spread = spread_holds(base, data, toks, args.seconds, args.connections)
        hot = asyncio.run(hot_night(base, data, toks, args.attempts))
        with saga_roles(env):
            saga = asyncio.run(measure_saga(base, settings.database_url, toks[0], data["spread"][:20],
                                            data["nights"][5:]))
    row = asyncio.run(hot_row(settings, data, args.seconds / 2, 32))
    churn = asyncio.run(outbox_churn(settings, args.seconds / 2, 16))
    console.print(report(ping, spread, hot, row, churn, saga, args))
    console.print(msgspec.json.encode({"ping_rps": ping.rps, "holds_rps": spread.rps, "hot": hot, "hot_row": row,
                                       "outbox": churn, "saga": saga}).decode())


if __name__ == "__main__":
    main()
