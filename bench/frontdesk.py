"""Room board benchmark: ``python -m bench.frontdesk [--seconds 6] [--connections 4] [--rooms 300] [--nights 30]``.

Makes a fresh property of ``--rooms`` rooms (three room types) with about three quarters of its room-nights
assigned to bookings (stays of 1-4 nights, some checked in, one room out of service), starts the api, and
measures ``GET /frontdesk/{property}/board`` over ``--nights`` nights next to ``GET /ping`` in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import time
import uuid

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from app.auth.keys import KeyRing, keys_path
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.db.migrate import migrate
from app.settings import Settings
from bench.booking import bench_env
from bench.loadgen import Result, load
from bench.server import api_server

console = Console(width=130)
DAY = dt.timedelta(days=1)


async def prepare(settings: Settings, rooms: int, nights: int) -> tuple[str, dt.date]:
    await migrate(settings.database_url)
    prop = f"board-{uuid.uuid4().hex[:8]}"
    rng = random.Random(14)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("INSERT INTO properties (id, name, latitude, longitude) VALUES ($1, 'Board', 33.2, 126.5)",
                           prop)
        today = await conn.fetchval("SELECT (now() AT TIME ZONE time_zone)::date FROM properties WHERE id = $1", prop)
        types = [await conn.fetchval("INSERT INTO products (property_id, kind, code, name) VALUES ($1, 'room_type',"
                                     " $2, $2) RETURNING id", prop, f"type-{t}") for t in range(3)]
        room_ids = [await conn.fetchval("INSERT INTO rooms (property_id, number, floor, room_type_id) VALUES"
                                        " ($1, $2, $3, $4) RETURNING id", prop, f"{2 + i % 3}{i:03d}", 2 + i % 3,
                                        types[i % 3]) for i in range(rooms)]
        stays = _stays(rng, room_ids, today, nights)
        await _insert(conn, prop, stays, today)
        await conn.execute("INSERT INTO room_assignments (room_id, kind, stay) VALUES ($1, 'out_of_service',"
                           " daterange($2, $3))", room_ids[-1], today + (nights + 5) * DAY, today + (nights + 9) * DAY)
        console.print(f"{prop}: {rooms} rooms, {len(stays)} assigned stays over {nights} nights")
    finally:
        await conn.close()
    return prop, today


def _stays(rng: random.Random, room_ids: list[uuid.UUID], today: dt.date, nights: int) -> list[tuple]:
    out = []
    for room in room_ids:
        day = today - rng.randint(0, 3) * DAY
        while day < today + nights * DAY:
            length = rng.randint(1, 4)
            if rng.random() < 0.75:
                out.append((room, day, day + length * DAY))
            day += length * DAY
    return out


async def _insert(conn: asyncpg.Connection, prop: str, stays: list[tuple], today: dt.date) -> None:
    guest = json.dumps({"name": "Bench Guest", "email": "bench@example.test"})
    ids = await conn.fetch(
        "INSERT INTO bookings (owner_kind, owner_id, property_id, status, step, guest, payment_ref, total_amount,"
        " currency, check_in, check_out, step_deadline, deadline)"
        " SELECT 'user', 'bench', $1, CASE WHEN ci <= $4 THEN 'checked_in' ELSE 'confirmed' END, 'done', $2::jsonb,"
        " NULL, 0, 'KRW', ci, co, now(), now() FROM unnest($3::date[], $5::date[]) WITH ORDINALITY"
        " AS s(ci, co, n) ORDER BY n RETURNING id", prop, guest, [s[1] for s in stays], today, [s[2] for s in stays])
    await conn.execute(
        "INSERT INTO room_assignments (room_id, kind, booking_id, stay)"
        " SELECT r, 'booking', b, daterange(ci, co) FROM unnest($1::uuid[], $2::uuid[], $3::date[], $4::date[])"
        " AS x(r, b, ci, co)", [s[0] for s in stays], [r["id"] for r in ids], [s[1] for s in stays],
        [s[2] for s in stays])


async def clerk_token(settings: Settings) -> str:
    """A front-desk session and its access token (what a clerk's sign-in gives)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    try:
        session = await SessionStore(redis, settings).create(
            subject="bench-clerk", roles=["front_desk"], locale="ko-KR", name="clerk", email="clerk@example.test",
            ip="127.0.0.1", user_agent="bench")
        return AccessTokens(settings, KeyRing(keys_path(settings))).mint(
            subject="bench-clerk", session_id=session.id, roles=["front_desk"])
    finally:
        await redis.aclose()


def single(base: str, path: str, headers: dict[str, str], count: int = 30) -> tuple[float, int]:
    """Median latency (ms) of ``count`` requests one after another, and the answer's size."""
    times, size = [], 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(count):
            began = time.perf_counter()
            answer = client.get(path, headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            answer.raise_for_status()
            size = len(answer.content)
    return sorted(times)[len(times) // 2], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rooms", type=int, default=300)
    parser.add_argument("--nights", type=int, default=30)
    args = parser.parse_args()
    env = bench_env()
    settings = Settings.from_env(env)
    prop, today = asyncio.run(prepare(settings, args.rooms, args.nights))
    token = asyncio.run(clerk_token(settings))
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/frontdesk/{prop}/board?from={today.isoformat()}&to={(today + args.nights * DAY).isoformat()}"
    with api_server(env) as base:
        alone, size = single(base, path, headers)
        ping = load("GET /ping", base, ["/ping"], args.seconds, args.connections)
        board: Result = load("GET board", base, [path], args.seconds, args.connections, headers)
    table = Table(title=f"room board: {args.rooms} rooms x {args.nights} nights ({size / 1024:.0f} KiB answer), "
                        f"one api process, {args.connections} connections")
    for column in ("measure", "board", "GET /ping (same run)", "ratio"):
        table.add_column(column)
    table.add_row("one request alone, median ms", f"{alone:.1f}", "-", "-")
    table.add_row("req/s", f"{board.rps:,.1f}", f"{ping.rps:,.0f}", f"{board.rps / ping.rps:.3f}x")
    table.add_row("p50 / p99 ms under load", f"{board.p50_ms:.1f} / {board.p99_ms:.1f}",
                  f"{ping.p50_ms:.2f} / {ping.p99_ms:.2f}", f"{board.p50_ms / ping.p50_ms:.0f}x (p50)")
    console.print(table)


if __name__ == "__main__":
    main()
