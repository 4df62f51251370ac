"""Catalogue benchmark: ``python -m bench.catalog [--seconds 8] [--connections 32] [--products 10000]``.

1. migrates a dedicated bench database (``resort_bench``, Mongo ``resort_bench``, Redis db 3, index
   ``bench_products``; override with ``RESORT_*`` variables) and bulk-loads the products (COPY);
2. fills search through reconciliation (part B's ``sync.reconcile``) when it is present;
3. starts the api with uvicorn in a subprocess on a free port;
4. measures, in one run, requests/s and p50/p99 of ``GET /ping`` (the baseline), a cached product view,
   an uncached product view (a random product of the 10,000 per request, with ``Cache-Control:
   no-cache``, which skips the cache read) and ``GET /search``, each as a ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time

import asyncpg
import httpx
from pymongo import AsyncMongoClient
from rich.console import Console
from rich.table import Table

from app.catalog.domain import DEFAULT_TIME_ZONE
from app.clock import today as _today
from app.db.migrate import migrate
from app.settings import Settings
from bench.load import load_products, product_ids
from bench.loadgen import Result, load, wrk_available
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
    "RESORT_DATABASE_POOL_MAX": "20",
}


def bench_env() -> dict[str, str]:
    """The process environment with the bench defaults for whatever ``RESORT_*`` is not set."""
    return {**BENCH_ENV, **os.environ}


async def prepare(settings: Settings, total: int) -> None:
    await migrate(settings.database_url)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    mongo: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        await mongo[settings.mongo_db]["product_details"].create_index("product_id", unique=True)
        began = time.perf_counter()
        created = await load_products(
            pool, mongo[settings.mongo_db], total, _today(DEFAULT_TIME_ZONE) + dt.timedelta(days=1)
        )
        console.print(
            f"products: {created} loaded in {time.perf_counter() - began:.1f}s "
            f"({total - created} already there)"
        )
    finally:
        await mongo.close()
        await pool.close()
    await fill_search(settings)


async def fill_search(settings: Settings) -> bool:
    """Project every product into search via reconciliation (only the drift: fast when already done)."""
    try:
        from sync.reconcile import reconcile
    except ImportError:
        console.print("[yellow]search: sync.reconcile not present; search documents not built[/]")
        return False
    from app.resources import open_resources

    began = time.perf_counter()
    async with open_resources(settings) as resources:
        report = await reconcile(resources)
    console.print(
        f"search: reconciliation repaired {report.repaired} of {report.products} products "
        f"in {time.perf_counter() - began:.1f}s"
    )
    return True


def _check(base: str, path: str, headers: dict[str, str] | None = None) -> int:
    return httpx.get(base + path, headers=headers, timeout=10).status_code


async def measure(base: str, total: int, seconds: int, connections: int) -> list[Result]:
    ids = [str(pid) for pid in product_ids(total)]
    hot = f"/products/{ids[0]}?lang=en"
    runner = _runner()
    results = [await runner("GET /ping (baseline)", base, ["/ping"], seconds, connections, None)]
    _check(base, hot)  # warm the cache
    results.append(await runner("product view, cached", base, [hot], seconds, connections, None))
    uncached = [f"/products/{pid}?lang=en" for pid in ids]
    results.append(
        await runner(
            "product view, uncached", base, uncached, seconds, connections, {"Cache-Control": "no-cache"}
        )
    )
    if _check(base, "/search?q=ocean") == 200:
        results.append(
            await runner("GET /search?q=ocean", base, ["/search?q=ocean"], seconds, connections, None)
        )
        # Uncached searches are slow on the Elasticsearch stand-in: few connections, so that the shared
        # server is not left with a queue of work after the run.
        varied = [
            f"/search?q={w}&page={p}"
            for w in ("ocean", "garden", "spa", "ski", "sunset", "deluxe")
            for p in range(1, 40)
        ]
        results.append(
            await runner(
                "GET /search, 234 distinct queries (4 conns)",
                base,
                varied,
                seconds,
                min(4, connections),
                None,
            )
        )
    else:
        console.print("[yellow]GET /search is not available in this build: skipped[/]")
    return results


def _runner():
    if not wrk_available():
        console.print("[yellow]wrk not installed: using the (slower) httpx load generator[/]")

    async def run(*args: object) -> Result:
        return await asyncio.to_thread(load, *args)  # type: ignore[arg-type]

    return run


def report(results: list[Result], connections: int, seconds: int) -> Table:
    base = results[0]
    table = Table(title=f"catalogue benchmark ({connections} connections, {seconds}s each, one api process)")
    for column in ("endpoint", "req/s", "p50 ms", "p99 ms", "errors", "req/s vs /ping", "p50 vs /ping"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for r in results:
        table.add_row(
            r.name,
            f"{r.rps:,.0f}" if r.rps >= 10 else f"{r.rps:.1f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            str(r.errors),
            f"{r.rps / base.rps:.2f}",
            f"{r.p50_ms / base.p50_ms:.1f}x",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    env = bench_env()
    settings = Settings.from_env(env)
    asyncio.run(prepare(settings, args.products))
    with api_server(env) as base:
        results = asyncio.run(measure(base, args.products, args.seconds, args.connections))
    console.print(report(results, args.connections, args.seconds))


if __name__ == "__main__":
    main()
