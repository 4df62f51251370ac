"""``python -m bench.faults [--quick] [--seconds 300] [--guests 24]``: the fault-injection run.

Starts the whole system (two api processes, two orchestrators, participants, sweeper, relay, projector,
booking views, live publisher) on a private Redis and Kafka, drives simulated guests and two partners
over a small pool of hot nights (10 rooms x 10 nights = 100 room-nights), an administrator changing
prices, live subscribers (availability, and booking channels of acknowledged bookings) and the partners'
feed readers, while the nemesis kills, pauses, flushes, restarts and duplicates; then lets it settle and
checks every promise. Exit code 0 only with no violation. The report (JSON and a PNG plot) goes to
``bench/results/``; every live frame to ``live-frames.jsonl`` next to the processes' logs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis

from app.auth.keys import KeyRing, keys_path
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.catalog.domain import DEFAULT_TIME_ZONE
from app.catalog.writes import announce
from app.clock import today as _today
from app.db.migrate import migrate
from app.settings import PROJECT_ROOT, Settings
from bench.faults import checker
from bench.faults.converge import edit_prices, frames_file, live_probe, reconciliations, search_probe, until_converged
from bench.faults.live import Subscriber, Watchers, gaps
from bench.faults.nemesis import KINDS, Nemesis, describe, supervise
from bench.faults.partners import PARTNERS, FeedReader, feed_start, feed_violations, partner
from bench.faults.plot import plot
from bench.faults.stack import FaultStack
from bench.faults.workload import History, Workload

NIGHTS, ROOMS = 10, 10


async def seed(database_url: str) -> tuple[str, list[str], list[dt.date]]:
    """A fresh resort of this run: two room types of 5 rooms each over 10 nights, and their prices."""
    await migrate(database_url)
    run = uuid.uuid4().hex[:6]
    start = _today(DEFAULT_TIME_ZONE) + dt.timedelta(days=5)
    nights = [start + dt.timedelta(days=i) for i in range(NIGHTS)]
    conn = await asyncpg.connect(database_url)
    try:
        prop = f"faults-{run}"
        await conn.execute("INSERT INTO properties (id, name, latitude, longitude) VALUES ($1, 'Faults', 33.2, 126.5)",
                           prop)
        products = []
        for n in range(2):
            pid = await conn.fetchval("INSERT INTO products (property_id, kind, code, name) VALUES ($1, 'room_type',"
                                      " $2, $2) RETURNING id", prop, f"room-{n}")
            plan = await conn.fetchval("INSERT INTO rate_plans (product_id, code, name) VALUES ($1, 'standard', 'S')"
                                       " RETURNING id", pid)
            await conn.executemany("INSERT INTO nightly_rates (rate_plan_id, night, amount) VALUES ($1, $2, 100000)",
                                   [(plan, d) for d in [*nights, nights[-1] + dt.timedelta(days=1)]])
            await conn.executemany("INSERT INTO inventory (product_id, night, capacity) VALUES ($1, $2, $3)",
                                   [(pid, d, ROOMS // 2) for d in nights])
            version = await conn.fetchval("SELECT version FROM products WHERE id = $1", pid)
            async with conn.transaction():  # projected to the search index
                await announce(conn, pid, prop, version, "created", "product.created")
            products.append(str(pid))
    finally:
        await conn.close()
    return prop, products, nights


def signer(settings: Settings) -> Any:
    tokens = AccessTokens(settings, KeyRing(keys_path(settings)))

    async def sign_in(n: int, roles: tuple[str, ...] = ("guest",)) -> str:
        redis = Redis.from_url(settings.redis_url)
        try:
            for _ in range(50):  # Redis may be restarting right now
                try:
                    session = await SessionStore(redis, settings).create(
                        subject=f"faults-{roles[0]}-{n}", roles=list(roles), locale="ko-KR", name=f"G{n}",
                        email=f"g{n}@example.com", ip="127.0.0.1", user_agent="faults")
                    return tokens.mint(subject=f"faults-{roles[0]}-{n}", session_id=session.id, roles=list(roles),
                                       ttl=3600)
                except OSError:
                    await asyncio.sleep(0.2)
                except Exception:  # noqa: BLE001 - redis.exceptions while it restarts
                    await asyncio.sleep(0.2)
            raise RuntimeError("could not sign in: Redis stayed down")
        finally:
            await redis.aclose()

    return sign_in


async def sample(database_url: str, prop: str, stop: asyncio.Event, found: list[str]) -> None:
    """Capacity, sampled through the run (not only at the end)."""
    while not stop.is_set():
        try:
            conn = await asyncpg.connect(database_url)
            try:
                found += await checker.capacity_violations(conn, prop)
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError):
            pass
        await asyncio.sleep(0.5)


async def settle(database_url: str, prop: str, timeout: float) -> float:
    """Until no saga runs and no free hold is live (they expire within their TTL)."""
    began = time.monotonic()
    conn = await asyncpg.connect(database_url)
    try:
        while time.monotonic() - began < timeout:
            busy = await conn.fetchval(
                "SELECT (SELECT count(*) FROM bookings WHERE property_id = $1 AND status IN ('pending', 'cancelling'))"
                " + (SELECT count(*) FROM holds WHERE property_id = $1 AND status = 'held' AND booking_id IS NULL)",
                prop)
            if not busy:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return time.monotonic() - began


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = PROJECT_ROOT / ".data" / "faults" / time.strftime("%Y%m%d-%H%M%S")
    stack = FaultStack.build(root)
    settings = Settings.from_env(stack.env)
    prop, products, nights = await seed(settings.database_url)
    starts = {client_id: await feed_start(settings.database_url, client_id) for client_id in PARTNERS}
    stack.start()
    history, found, figures = History(), [], {}
    sign_in = signer(settings)
    live: list[asyncio.Task[None]] = []
    try:
        stop, load_stop = asyncio.Event(), asyncio.Event()
        nemesis = Nemesis(stack, settings.database_url, history.began)
        span = (nights[0].isoformat(), (nights[-1] + dt.timedelta(days=1)).isoformat())
        subscribers = [Subscriber(n, stack.apis, history.began, availability={f"availability:{prop}": span})
                       for n in range(args.subscribers)]
        subscribers += [Subscriber(100 + n, stack.apis, history.began,
                                   token=lambda n=n: sign_in(900 + n, ("front_desk", f"property:{prop}"))) for n in range(2)]
        partners = tuple(partner(1000 + n, client_id, settings.oidc_issuer) for n, client_id in enumerate(PARTNERS))
        readers = [FeedReader(p, stack.apis, starts[p.actor]) for p in partners]
        workload = Workload(stack.apis, products, nights, sign_in, history,
                            Watchers([s for s in subscribers if s.token is not None]).booked)
        live = [asyncio.create_task(s.run()) for s in subscribers]
        tasks = [asyncio.create_task(nemesis.run(args.fault_every, stop)),
                 asyncio.create_task(supervise(stack, load_stop)),
                 asyncio.create_task(sample(settings.database_url, prop, load_stop, found)),
                 asyncio.create_task(edit_prices(stack.apis[0], lambda: sign_in(999, ("admin",)), products, nights,
                                                 history, load_stop)),
                 *(asyncio.create_task(r.run(load_stop)) for r in readers)]
        load = asyncio.create_task(workload.run(args.guests, load_stop, partners))
        await asyncio.sleep(args.seconds)
        stop.set()
        await tasks[0]
        faults_over, faults_over_wall = time.monotonic(), time.time()
        load_stop.set()
        await load
        await asyncio.gather(*tasks[1:])
        await workload.close()
        await asyncio.to_thread(stack.revive)
        settled = await settle(settings.database_url, prop, 150)
        for reader in readers:
            await reader.finish(stack.apis)
        found += await checker.check(settings.database_url, history, prop, settings)
        drift, converged = await checker.views_converge(settings.database_url, settings.mongo_url,
                                                        settings.mongo_db, prop, 60)
        figures["views_converged_after_s"] = time.monotonic() - faults_over
        probe, close = search_probe(settings, products)
        try:
            drift += (await until_converged(probe, 60))[0]
        finally:
            await close()
        figures["search_converged_after_s"] = time.monotonic() - faults_over
        drift += (await until_converged(live_probe(settings.database_url, products, subscribers), 60))[0]
        figures["live_converged_after_s"] = time.monotonic() - faults_over
        found += drift + gaps([f for s in subscribers for f in s.frames])
        feed, figures["partner_feed_events"] = await feed_violations(settings.database_url, readers, history)
        found += feed
        figures["settled_after_s"] = settled
        figures["reconciliation"] = reconciliations(root, faults_over_wall)
        figures["live"] = frames_file(root / "live-frames.jsonl", subscribers)
    finally:
        for task in live:
            task.cancel()
        await asyncio.gather(*live, return_exceptions=True)
        stack.stop()
    return report(args, history, nemesis, found, figures, root)


def report(args: argparse.Namespace, history: History, nemesis: Nemesis, found: list[str], figures: dict[str, Any],
           root: Path) -> dict[str, Any]:
    ops = history.ops
    outcome = {k: {o: sum(1 for op in ops if op.kind == k and op.outcome == o) for o in ("ok", "fail", "unknown")}
               for k in ("hold", "book", "release", "cancel", "price")}
    actors = {a: sum(1 for op in ops if op.actor == a) for a in sorted({op.actor for op in ops})}
    out = {"seconds": args.seconds, "guests": args.guests, "operations": len(ops), "outcomes": outcome,
           "operations_by_actor": actors, "server_errors": history.server_errors,
           "faults": describe(nemesis.timeline),
           "faults_by_kind": {k: sum(1 for f in nemesis.timeline if f.kind == k) for k in KINDS},
           "fault_kinds": sorted({f.kind for f in nemesis.timeline}),
           **{k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()},
           "violations": found, "logs": str(root)}
    results = PROJECT_ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (results / f"faults-{stamp}.json").write_text(json.dumps(out, indent=2, default=str))
    out["plot"] = str(plot(history, nemesis.timeline, results / f"faults-{stamp}.png"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about a minute, for CI")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--guests", type=int, default=24)
    parser.add_argument("--fault-every", type=float, default=6.0)
    parser.add_argument("--subscribers", type=int, default=4, help="live subscribers of the availability channel")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.guests, args.fault_every, args.subscribers = 40, 12, 3.5, 3
    os.environ.setdefault("RESORT_LOG_LEVEL", "WARNING")
    result = asyncio.run(run(args))
    print(json.dumps({k: v for k, v in result.items() if k != "faults"}, indent=2, default=str))
    raise SystemExit(1 if result["violations"] else 0)


if __name__ == "__main__":
    main()
