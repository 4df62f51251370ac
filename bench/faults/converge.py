"""After the faults stop: the stores fed by events (Elasticsearch, the live channels) converge on
PostgreSQL within a bound, and how long it took. Also the catalogue editor whose price changes make
the projector write the search documents while the faults run."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from elasticsearch import AsyncElasticsearch, NotFoundError
from pymongo import AsyncMongoClient

from app.settings import Settings
from bench.faults.live import Subscriber
from bench.faults.workload import History
from sync.documents import build_search_document
from sync.state import load_state

Probe = Callable[[], Awaitable[list[str]]]


async def until_converged(probe: Probe, bound_s: float) -> tuple[list[str], float]:
    """Run ``probe`` until it finds no drift or ``bound_s`` passed: (the drift left, seconds taken)."""
    began = time.monotonic()
    while True:
        try:
            drift = await probe()
        except (OSError, asyncpg.PostgresError, httpx.HTTPError) as exc:
            drift = [f"probe failed: {exc!r}"]
        if not drift or time.monotonic() - began > bound_s:
            more = [f"... {len(drift)} differences in all"] if len(drift) > 20 else []
            return drift[:20] + more, time.monotonic() - began
        await asyncio.sleep(0.5)


async def edit_prices(api: str, token: Callable[[], Awaitable[str]], products: list[str], nights: list[dt.date],
                      history: History, stop: asyncio.Event) -> None:
    """An administrator changing prices (each change bumps the product's version and is projected)."""
    async with httpx.AsyncClient(base_url=api, timeout=10) as client:
        bearer = await token()
        while not stop.is_set():
            product, first = random.choice(products), random.randrange(len(nights))
            body = {"start": nights[first].isoformat(), "amount": random.randrange(90, 131) * 1000,
                    "end": (nights[first] + dt.timedelta(days=random.randint(1, 3))).isoformat()}
            op = history.start("price", -1, "admin")
            op.ref = product
            try:
                response = await client.put(f"/admin/products/{product}/prices", json=body,
                                            headers={"Authorization": f"Bearer {bearer}"})
                op.status, op.outcome = response.status_code, "ok" if response.status_code == 200 else "fail"
                if response.status_code == 401:
                    bearer = await token()
            except httpx.HTTPError:
                op.outcome = "unknown"
            op.completed = time.monotonic() - history.began
            await asyncio.sleep(random.uniform(0.5, 1.5))


def search_probe(settings: Settings, products: list[str]) -> tuple[Probe, Callable[[], Awaitable[None]]]:
    """Each hot product's search document = the one PostgreSQL and MongoDB give now (version and content)."""
    es = AsyncElasticsearch(settings.elasticsearch_url)
    mongo: AsyncMongoClient = AsyncMongoClient(settings.mongo_url)
    pool: list[asyncpg.Pool] = []

    async def probe() -> list[str]:
        if not pool:
            pool.append(await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2))
        drift = []
        for product in products:
            state = await load_state(pool[0], mongo[settings.mongo_db], product, settings.search_price_horizon_days)
            want = build_search_document(state) if state is not None else None
            try:
                have = (await es.get(index=settings.search_index, id=product))["_source"]
            except NotFoundError:
                have = None
            if (want and want["fingerprint"], want and want["version"]) != (
                    have and have.get("fingerprint"), have and have.get("version")):
                drift.append(f"search document of {product}: version {have and have.get('version')},"
                             f" PostgreSQL {want and want['version']}")
        return drift

    async def close() -> None:
        await es.close()
        await mongo.close()
        if pool:
            await pool[0].close()

    return probe, close


def live_probe(database_url: str, products: list[str], subscribers: list[Subscriber]) -> Probe:
    """Every subscriber's latest free units per (product, night), and every watched booking's status,
    equal PostgreSQL's."""

    async def probe() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch("SELECT product_id::text AS p, night::text AS n, greatest(capacity - held - sold,"
                                    " 0) AS free FROM inventory WHERE product_id = ANY($1::uuid[])", products)
            watched = sorted({b for s in subscribers for b in s.statuses} | {
                c.split(":", 1)[1] for s in subscribers for c in s.channels})
            status = {str(r["id"]): r["status"] for r in await conn.fetch(
                "SELECT id, status FROM bookings WHERE id = ANY($1::uuid[])", watched)}
        finally:
            await conn.close()
        drift = []
        for s in subscribers:
            if s.availability:
                drift += [f"live subscriber {s.n}: {r['p']} {r['n']} free {s.values.get((r['p'], r['n']), ('-',))[0]},"
                          f" PostgreSQL {r['free']}" for r in rows if s.values.get((r["p"], r["n"]), (None,))[0]
                          != r["free"]]
            drift += [f"live watcher {s.n}: booking {c} {s.statuses.get(c.split(':', 1)[1])}, PostgreSQL"
                      f" {status.get(c.split(':', 1)[1])}" for c in s.channels
                      if s.statuses.get(c.split(":", 1)[1]) != status.get(c.split(":", 1)[1])]
        return drift

    return probe


def reconciliations(root: Path, after: float) -> dict[str, int]:
    """What the projectors' periodic reconciliation found and repaired (from their logs), in all and after
    the wall-clock time ``after``."""
    out = {"runs": 0, "drift": 0, "repaired": 0, "repaired_after_faults": 0}
    for log in root.glob("projector-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if '"reconcile_done"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            out["runs"] += 1
            out["drift"] += int(entry.get("drift", 0))
            out["repaired"] += int(entry.get("repaired", 0))
            when = dt.datetime.fromisoformat(entry.get("timestamp", "1970-01-01T00:00:00+00:00")).timestamp()
            if when >= after:
                out["repaired_after_faults"] += int(entry.get("repaired", 0))
    return out


def frames_file(path: Path, subscribers: list[Subscriber]) -> dict[str, Any]:
    """Write every recorded frame (JSON lines) and return the counts of the report."""
    frames = sorted((f for s in subscribers for f in s.frames), key=lambda f: f.at)
    with path.open("w") as out:
        for f in frames:
            out.write(json.dumps({"at": round(f.at, 3), "sub": f.subscriber, "type": f.type, "channel": f.channel,
                                  "epoch": f.epoch, "seq": f.seq, "conflated": f.conflated, "code": f.code}) + "\n")
    kinds: dict[str, int] = {}
    for f in frames:
        kinds[f.type] = kinds.get(f.type, 0) + 1
    return {"subscribers": len(subscribers), "frames": kinds, "reconnects": sum(s.reconnects for s in subscribers),
            "booking_channels": sum(len(s.channels) for s in subscribers)}
