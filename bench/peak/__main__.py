"""Peak season: ``python -m bench.peak [--attempts 1000] [--runs 3] [--attach DATA_DIR]``.

Starts its own ``resort up --api-workers 2`` (private ports and data; per-caller budgets lifted) unless
``--attach`` names the data folder of a running one (started with the budgets of ``stack.BUDGETS``).
Each run makes fresh products and measures, with the client of ``client.py``:

- spread: ``--attempts`` bookings over 100 products x 10 units (every attempt should win), at C = 32 and
  C = 256: confirmed/s, p50/p99 from the first ``POST /holds`` to the final status;
- contention: ``--attempts`` attempts on 10 units of one night at C = 256: attempts/s, p99 of a decision,
  exactly 10 winners;
- every request's status, busy retries, connection errors; CPU of every process of the system per
  confirmed booking (api, each role, each server), PostgreSQL transactions, Redis commands and outbox
  events per confirmed booking;
- ``GET /ping`` at the same concurrency (the bare endpoint), measured in the same run.

``--runs 3`` runs back to back on one stack: the last run's spread rate is compared with the first's.
It prints the figures, the ratios and the targets it missed (issue 21's targets).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from app.catalog.domain import DEFAULT_TIME_ZONE
from app.clock import today
from app.settings import Settings
from bench.booking import tokens as mint_tokens
from bench.peak.client import Tally, bare, percentile, run_attempts
from bench.peak.stack import cpu_seconds, own_stack, units

console = Console(width=140, emoji=False)  # an outcome such as "error:book:503" is text, not an emoji code
PROPERTY = "bench-peak"
GUESTS = 200  # guests' sessions per scenario, as bench.booking makes them
TARGETS = {"spread_rate": 130.0, "spread_p99_32": 1.0, "spread_p99_256": 2.0, "contention_rate": 500.0,
           "contention_p99": 0.5, "cpu_ms": 12.0, "busy_share": 0.01, "third_vs_first": 0.9}


async def _product(conn: asyncpg.Connection, code: str, capacity: int, night: dt.date) -> str:
    pid = await conn.fetchval("INSERT INTO products (property_id, kind, code, name, max_occupancy)"
                              " VALUES ($1, 'room_type', $2, $2, 4) RETURNING id", PROPERTY, code)
    plan = await conn.fetchval("INSERT INTO rate_plans (product_id, code, name) VALUES ($1, 'standard', 'Standard')"
                               " RETURNING id", pid)
    await conn.executemany("INSERT INTO nightly_rates (rate_plan_id, night, amount) VALUES ($1, $2, 100000)",
                           [(plan, night), (plan, night + dt.timedelta(days=1))])
    await conn.execute("INSERT INTO inventory (product_id, night, capacity) VALUES ($1, $2, $3)", pid, night, capacity)
    return str(pid)


async def prepare(settings: Settings, attempts: int) -> dict[str, Any]:
    """Fresh products: ``attempts / 10`` of 10 units for the spread, one of 10 units for the contention."""
    night = today(DEFAULT_TIME_ZONE) + dt.timedelta(days=20 + random.randrange(300))
    run = uuid.uuid4().hex[:6]
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("INSERT INTO properties (id, name, latitude, longitude) VALUES ($1, 'Peak', 33.2, 126.5)"
                           " ON CONFLICT DO NOTHING", PROPERTY)
        spread = [await _product(conn, f"s{run}-{i}", 10, night) for i in range(max(1, attempts // 10))]
        hot = await _product(conn, f"hot{run}", 10, night)
    finally:
        await conn.close()
    return {"spread": spread, "hot": hot, "night": night.isoformat(),
            "check_out": (night + dt.timedelta(days=1)).isoformat()}




async def counters(settings: Settings) -> dict[str, float]:
    """PostgreSQL transactions, Redis commands and outbox events so far."""
    conn = await asyncpg.connect(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    try:
        xacts = await conn.fetchval("SELECT xact_commit + xact_rollback FROM pg_stat_database"
                                    " WHERE datname = current_database()")
        events = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        commands = (await redis.info("stats"))["total_commands_processed"]
    finally:
        await conn.close()
        await redis.aclose()
    return {"pg_xacts": float(xacts), "redis_commands": float(commands), "outbox_events": float(events)}


async def scenario(name: str, env: dict[str, str], settings: Settings, data_dir: Path,
                   jobs: list[tuple[str, str, str]], concurrency: int) -> dict[str, Any]:
    # fresh guests' sessions per scenario, as clients that refresh their tokens: a 1,000 × 3 run outlasts one
    # access token's lifetime (minted before the clock and the CPU counters start)
    tokens = await mint_tokens(settings, GUESTS)
    groups = units(data_dir)
    cpu0, count0 = cpu_seconds(groups), await counters(settings)
    tally, seconds = await run_attempts(f"http://127.0.0.1:{env['RESORT_API_PORT']}", tokens, jobs, concurrency)
    cpu1, count1 = cpu_seconds(groups), await counters(settings)
    return summarise(name, concurrency, tally, seconds, {k: cpu1[k] - cpu0.get(k, 0) for k in cpu1},
                     {k: count1[k] - count0[k] for k in count1})


def summarise(name: str, concurrency: int, tally: Tally, seconds: float, cpu: dict[str, float],
              counts: dict[str, float]) -> dict[str, Any]:
    confirmed = tally.outcomes.get("confirmed", 0)
    per = max(confirmed, 1)
    return {"name": name, "concurrency": concurrency, "attempts": len(tally.latencies), "seconds": seconds,
            "outcomes": dict(tally.outcomes), "confirmed": confirmed, "rate": len(tally.latencies) / seconds,
            "confirmed_rate": confirmed / seconds, "p50": percentile(tally.latencies, 0.5),
            "p99": percentile(tally.latencies, 0.99), "requests": tally.requests,
            "statuses": {str(k): v for k, v in sorted(tally.statuses.items())}, "busy": tally.busy_retries,
            "server_errors": tally.server_errors, "connection_errors": tally.connection_errors,
            "cpu_ms_per_booking": {k: v * 1000 / per for k, v in sorted(cpu.items())},
            "cpu_ms_total_per_booking": sum(cpu.values()) * 1000 / per,
            "per_booking": {k: v / per for k, v in counts.items()}}


def spread_jobs(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    jobs = [(p, data["night"], data["check_out"]) for p in data["spread"] for _ in range(10)]
    random.shuffle(jobs)
    return jobs


async def one_run(env: dict[str, str], settings: Settings, data_dir: Path, attempts: int) -> list[dict[str, Any]]:
    results = []
    for concurrency in (32, 256):
        data = await prepare(settings, attempts)
        results.append(await scenario("spread", env, settings, data_dir, spread_jobs(data), concurrency))
    data = await prepare(settings, 10)
    hot = [(data["hot"], data["night"], data["check_out"])] * attempts
    results.append(await scenario("contention", env, settings, data_dir, hot, 256))
    return results


def table(runs: list[list[dict[str, Any]]], ping: dict[int, float]) -> Table:
    out = Table(title="bench.peak: every request counted; latency from the first POST /holds to the final status")
    for column in ("run", "scenario", "C", "outcomes", "rate /s", "vs /ping", "p50 / p99 s", "requests",
                   "busy", "5xx", "conn err", "CPU ms/booking", "PG xacts, Redis cmds, events /booking"):
        out.add_column(column)
    for index, results in enumerate(runs, start=1):
        for r in results:
            rate = r["confirmed_rate"] if r["name"] == "spread" else r["rate"]
            per = r["per_booking"]
            out.add_row(str(index), r["name"], str(r["concurrency"]), json.dumps(r["outcomes"]), f"{rate:.1f}",
                        f"{rate / ping[r['concurrency']]:.4f}x", f"{r['p50']:.2f} / {r['p99']:.2f}",
                        str(r["requests"]), str(r["busy"]), str(r["server_errors"]), str(r["connection_errors"]),
                        f"{r['cpu_ms_total_per_booking']:.0f}",
                        f"{per['pg_xacts']:.1f}, {per['redis_commands']:.1f}, {per['outbox_events']:.1f}")
    return out


def missed(runs: list[list[dict[str, Any]]]) -> list[str]:
    """Issue 21's targets this measurement did not reach."""
    first, last = runs[0], runs[-1]
    s32, s256, hot = last
    out = []
    for r in (s32, s256):
        if r["confirmed_rate"] < TARGETS["spread_rate"]:
            out.append(f"spread C={r['concurrency']}: {r['confirmed_rate']:.1f} confirmed/s < {TARGETS['spread_rate']}")
        if r["confirmed"] != r["attempts"]:
            out.append(f"spread C={r['concurrency']}: {r['confirmed']} of {r['attempts']} confirmed")
        if r["cpu_ms_total_per_booking"] > TARGETS["cpu_ms"]:
            out.append(f"spread C={r['concurrency']}: {r['cpu_ms_total_per_booking']:.0f} ms CPU per booking"
                       f" > {TARGETS['cpu_ms']}")
    for r, bound in ((s32, TARGETS["spread_p99_32"]), (s256, TARGETS["spread_p99_256"])):
        if r["p99"] > bound:
            out.append(f"spread C={r['concurrency']}: p99 {r['p99']:.2f} s > {bound} s")
    if hot["rate"] < TARGETS["contention_rate"]:
        out.append(f"contention: {hot['rate']:.0f} attempts/s < {TARGETS['contention_rate']}")
    if hot["p99"] > TARGETS["contention_p99"]:
        out.append(f"contention: p99 {hot['p99']:.2f} s > {TARGETS['contention_p99']} s")
    if hot["confirmed"] + hot["outcomes"].get("failed", 0) != 10:
        out.append(f"contention: {hot['confirmed']} winners, not exactly 10")
    for r in last:
        if r["server_errors"] or r["connection_errors"]:
            out.append(f"{r['name']} C={r['concurrency']}: {r['server_errors']} 5xx, {r['connection_errors']} conn errors")
        if r["busy"] > TARGETS["busy_share"] * r["requests"]:
            out.append(f"{r['name']} C={r['concurrency']}: {r['busy']} busy of {r['requests']} requests > 1 %")
    if len(runs) > 1 and last[0]["confirmed_rate"] < TARGETS["third_vs_first"] * first[0]["confirmed_rate"]:
        out.append(f"run {len(runs)} spread rate {last[0]['confirmed_rate']:.1f}/s below 90 % of run 1's "
                   f"{first[0]['confirmed_rate']:.1f}/s")
    return out


async def measure(env: dict[str, str], attempts: int, run_count: int) -> tuple[list[list[dict[str, Any]]], dict]:
    settings = Settings.from_env(env)
    data_dir = Path(env["RESORT_DATA_DIR"])
    base = f"http://127.0.0.1:{settings.api_port}"
    ping = {c: await bare(base, c, max(2000, attempts * 2)) for c in (32, 256)}
    runs = [await one_run(env, settings, data_dir, attempts) for _ in range(run_count)]
    return runs, ping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--attach", type=Path, help="data folder of a running `resort up` to measure instead")
    args = parser.parse_args()
    if args.attach:
        import os

        env = {**os.environ, "RESORT_DATA_DIR": str(args.attach)}
        env.setdefault("RESORT_API_PORT", str(Settings.from_env(env).api_port))  # the running stack's own
        runs, ping = asyncio.run(measure(env, args.attempts, args.runs))
    else:
        with own_stack(args.api_workers) as env:
            runs, ping = asyncio.run(measure(env, args.attempts, args.runs))
    console.print(table(runs, ping))
    last = runs[-1][1]
    console.print("CPU ms per confirmed booking by process (last run, spread C=256): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in sorted(last["cpu_ms_per_booking"].items(), key=lambda kv: -kv[1])))
    misses = missed(runs)
    console.print("[green]every target reached[/]" if not misses else "[red]missed:[/]\n- " + "\n- ".join(misses))
    print(json.dumps({"ping": ping, "runs": runs}))


if __name__ == "__main__":
    main()
