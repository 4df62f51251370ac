"""Activity and recommendation benchmark: ``python -m bench.recommend [--events 20000] [--seconds 5]``.

On a dedicated bench database (``resort_bench_reco`` in PostgreSQL and MongoDB, Redis db 6, topics
``bench_reco.``; override with ``RESORT_*`` variables), in one run:

1. the demo catalogue (``resort seed``'s) and a demo activity history scaled to ``--events`` events
   (the issue asks for 1,000,000; on the SecantusDB stand-in the inserts would take ~20 min, ~850-1,200
   events/s, but the rollup counts ~80-250 events/s, slower as the store grows: 100,000 events left 18 min of
   rollup lag, so 1,000,000 would be hours and the default is smaller: pass ``--events 1000000`` on a real
   MongoDB);
2. **ingestion**: events/s stored into MongoDB in bulk, and events/s through the whole capture path
   (Kafka topic ``activity`` -> the ``activity`` role's consumer -> MongoDB);
3. **rollup**: events/s counted, and the lag: how long after the last event was stored until every event
   was counted, with the rollup running beside the ingestion as in production;
4. **latency** against the api (uvicorn, one process), with ``GET /ping`` measured in the same run as the
   bare baseline: the 90-day funnel and demand reports (from rollups), recommendations cached and uncached
   (``Cache-Control: no-cache``), related products cached and uncached; rps, p50, p95, p99.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from app.activity import ingest, store
from app.activity.capture import envelope
from app.activity.seed import load_catalogue, visits
from app.auth.keys import KeyRing, keys_path
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.db.migrate import migrate
from app.outbox import encode_envelope
from app.resources import open_resources
from app.settings import Settings
from bench.server import api_server

console = Console(width=140)
BENCH_ENV = {
    "RESORT_DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/resort_bench_reco",
    "RESORT_MONGO_DB": "resort_bench_reco",
    "RESORT_REDIS_URL": "redis://127.0.0.1:56379/6",
    "RESORT_SEARCH_INDEX": "bench_reco_products",
    "RESORT_KAFKA_TOPIC_PREFIX": "bench_reco.",
    "RESORT_LOG_LEVEL": "WARNING",
    "RESORT_RATE_LIMIT_API_PER_MINUTE": "100000000",
}
CHUNK = 5_000


@dataclass(frozen=True)
class Latency:
    name: str
    rps: float
    p50: float
    p95: float
    p99: float
    errors: int


async def prepare(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Migrations and the demo catalogue (seeded once)."""
    from app.catalog.seed import seed_command

    await migrate(settings.database_url)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        if not await pool.fetchval("SELECT EXISTS (SELECT 1 FROM properties)"):
            began = time.perf_counter()
            await seed_command(settings, progress=False)
            console.print(f"catalogue seeded in {time.perf_counter() - began:.1f}s")
        catalogue, _ = await load_catalogue(pool)
        return catalogue
    finally:
        await pool.close()


async def load_history(settings: Settings, events: int) -> dict[str, float]:
    """Bulk ingestion with the rollup running beside it; figures of both and the rollup's lag."""
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        db = client[settings.mongo_db]
        for name in (store.EVENTS, store.PAIRS, store.SUBJECTS, store.STATE, store.FORGOTTEN,
                     *store.ROLLUP_COLLECTIONS.values()):
            await db[name].drop()
        await store.ensure_indexes(db, settings.activity_retention_days)
        catalogue, plans = await load_catalogue(pool)
        history = list(_scaled(catalogue, plans, events))
        done = asyncio.Event()
        counted: list[int] = []
        rolling = asyncio.create_task(_roll_until(client, db, settings, done, counted))
        began = time.perf_counter()
        for i in range(0, len(history), CHUNK):
            await store.ingest(db, history[i:i + CHUNK])
            await asyncio.sleep(0)  # let the rollup round in
        stored_at = time.perf_counter()
        done.set()
        await rolling
        drained_at = time.perf_counter()
        return {"events": len(history), "ingest_s": stored_at - began, "ingest_eps": len(history) / (stored_at - began),
                "rollup_eps": sum(counted) / (drained_at - began), "rollup_lag_s": drained_at - stored_at}
    finally:
        await pool.close()
        await client.close()


def _scaled(catalogue: dict[str, list[dict[str, Any]]], plans: dict[str, list[str]], events: int) -> Any:
    today = dt.datetime.now(dt.UTC).date()
    for n, event in enumerate(visits(catalogue, plans, today, events, seed=7)):
        if n >= events:
            return
        yield event


async def _roll_until(client: AsyncMongoClient, db: Any, settings: Settings, done: asyncio.Event,
                      counted: list[int]) -> None:
    """The ``activity`` role's rollup (``ingest.drain``) until ingestion is over and nothing is left."""
    batch = ingest.Batch(settings.activity_rollup_batch)
    while True:
        counted.append(await ingest.drain(client, db, batch))
        if done.is_set() and await store.pending(db) == 0:
            return
        await asyncio.sleep(0.05)


async def kafka_path(settings: Settings, catalogue: dict[str, list[dict[str, Any]]], count: int) -> float:
    """Events/s from Kafka (as the api sends them) to MongoDB through the ``activity`` role's consumer."""
    run = uuid.uuid4().hex[:6]
    settings = _replace(settings, kafka_topic_prefix=f"{settings.kafka_topic_prefix}{run}.",
                        activity_group=f"bench-{run}", activity_rollup_interval_s=3600.0)
    products = [p for items in catalogue.values() for p in items]
    rnd = random.Random(3)
    async with open_resources(settings) as resources:
        db = resources.mongo[settings.mongo_db]
        before = await db[store.EVENTS].count_documents({})
        topic = settings.topic("activity")
        for i in range(count):
            product = rnd.choice(products)
            payload = {"subject": f"anon:bench-{i % 500:05d}x", "product_id": product["id"],
                       "property_id": product["property_id"]}
            await resources.kafka.send(topic, encode_envelope(envelope("view", payload)), key=payload["subject"].encode())
        await resources.kafka.flush()
        stop = asyncio.Event()
        began = time.perf_counter()
        task = asyncio.create_task(ingest.consume(resources, stop))
        while await db[store.EVENTS].count_documents({}) < before + count:
            if time.perf_counter() - began > 600:
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - began
        stop.set()
        await task
        return count / elapsed


def _replace(settings: Settings, **changes: Any) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, **changes)


async def admin_token(settings: Settings) -> str:
    redis = Redis.from_url(settings.redis_url)
    try:
        session = await SessionStore(redis, settings).create(subject="bench-admin", roles=["admin", "guest"], locale="en",
                                                             name="bench", email="bench@example.test", ip="127.0.0.1",
                                                             user_agent="bench")
        return AccessTokens(settings, KeyRing(keys_path(settings))).mint(subject="bench-admin", session_id=session.id,
                                                                          roles=["admin", "guest"])
    finally:
        await redis.aclose()


async def timed(name: str, base: str, paths: list[str], seconds: float, concurrency: int,
                headers: dict[str, str] | None = None) -> Latency:
    samples: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            answer = await client.get(paths[i % len(paths)])
            samples.append((time.perf_counter() - began) * 1000)
            errors += answer.status_code >= 400
            i += concurrency

    async with httpx.AsyncClient(base_url=base, headers=headers or {}, timeout=30) as client:
        await client.get(paths[0])  # connection and cache warm-up
        began = time.perf_counter()
        await asyncio.gather(*(worker(client, k) for k in range(concurrency)))
        elapsed = time.perf_counter() - began
    q = statistics.quantiles(samples, n=100)
    return Latency(name, len(samples) / elapsed, q[49], q[94], q[98], errors)


async def latencies(base: str, settings: Settings, catalogue: dict[str, list[dict[str, Any]]], seconds: float,
                    concurrency: int) -> list[Latency]:
    token = await admin_token(settings)
    admin = {"Authorization": f"Bearer {token}"}
    today = dt.datetime.now(dt.UTC).date()
    prop = sorted(catalogue)[0]
    product = next(p["id"] for p in catalogue[prop] if p["kind"] == "room_type")
    span = {"property": prop, "start": (today - dt.timedelta(days=60)).isoformat(),
            "end": (today + dt.timedelta(days=29)).isoformat()}
    query = "&".join(f"{k}={v}" for k, v in span.items())
    stays = [f"/recommendations?property={p}&check_in={today + dt.timedelta(days=d)}"
             f"&check_out={today + dt.timedelta(days=d + n)}" for p in sorted(catalogue) for d in range(1, 60)
             for n in (1, 2, 3)]
    nocache = {"Cache-Control": "no-cache"}
    return [
        await timed("GET /ping (bare baseline)", base, ["/ping"], seconds, concurrency),
        await timed("funnel, 90 days of one resort (rollups)", base, [f"/admin/analytics/funnel?{query}"], seconds,
                    concurrency, admin),
        await timed("demand, 90 nights of one resort (rollups)", base, [f"/admin/analytics/demand?{query}"], seconds,
                    concurrency, admin),
        await timed("recommendations, cached", base, stays[:1], seconds, concurrency),
        await timed("recommendations, uncached (no-cache)", base, stays, seconds, concurrency, nocache),
        await timed("related, cached", base, [f"/products/{product}/related"], seconds, concurrency),
        await timed("related, uncached (no-cache)", base, [f"/products/{product}/related"], seconds, concurrency,
                    nocache),
    ]


def table(results: list[Latency], concurrency: int, seconds: float) -> Table:
    base = results[0]
    out = Table(title=f"recommendations and reports ({concurrency} concurrent requests, {seconds:g}s each, one api process)")
    for column in ("endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "p95 vs /ping"):
        out.add_column(column, justify="left" if column == "endpoint" else "right")
    for r in results:
        out.add_row(r.name, f"{r.rps:,.0f}", f"{r.p50:.1f}", f"{r.p95:.1f}", f"{r.p99:.1f}", str(r.errors),
                    f"{r.p95 / base.p95:.1f}x")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--kafka-events", type=int, default=3_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    env = {**BENCH_ENV, **os.environ}
    settings = Settings.from_env(env)
    catalogue = asyncio.run(prepare(settings))
    history = asyncio.run(load_history(settings, args.events))
    console.print(f"history: {history['events']:,} events stored in {history['ingest_s']:.1f}s = "
                  f"{history['ingest_eps']:,.0f} events/s (bulk into MongoDB); rollup {history['rollup_eps']:,.0f} "
                  f"events/s beside it; rollup lag after the last event: {history['rollup_lag_s']:.1f}s")
    eps = asyncio.run(kafka_path(settings, catalogue, args.kafka_events))
    console.print(f"capture path: {args.kafka_events:,} events Kafka -> activity role -> MongoDB at {eps:,.0f} events/s")
    with api_server(env) as base:
        results = asyncio.run(latencies(base, settings, catalogue, args.seconds, args.concurrency))
    console.print(table(results, args.concurrency, args.seconds))


if __name__ == "__main__":
    main()
