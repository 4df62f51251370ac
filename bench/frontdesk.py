"""Front-desk benchmark: ``python -m bench.frontdesk [--seconds 6] [--connections 4] [--rooms 500] [--nights 30]
[--arrivals 300]``.

Makes a fresh property of ``--rooms`` rooms (three room types) with about three quarters of its room-nights
assigned to bookings (stays of 1-4 nights, some checked in, one room out of service) plus ``--arrivals``
more bookings arriving today, starts the api, and measures, next to ``GET /ping`` in the same run, the
desk's lists of today (``GET /frontdesk/{property}/stays``: one request alone, p50/p95 of 200 in a row, and
under load) and the room board over ``--nights`` nights. Only 2xx answers count as work: any other answer
is reported as a failure and the run exits 1.

The board is answered from each api process's copy while the property's board version holds
(app/frontdesk/board_cache.py), so the bench also measures it as it is after a change: "after a change" is
one request right after each of 30 changes (every one a rebuild), and under load ``--changes-per-s`` changes
a second (default 2, a very busy desk) are made while the board is read. Each change puts a room out of
service for nights past the board's range and takes it back: it moves the version (a rebuild of the whole
board, the worst case) without changing the cells, so every answer stays comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from app import clock
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


async def prepare(settings: Settings, rooms: int, nights: int, arrivals: int) -> tuple[str, dt.date]:
    await migrate(settings.database_url)
    prop = f"board-{uuid.uuid4().hex[:8]}"
    rng = random.Random(14)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("INSERT INTO properties (id, name, latitude, longitude) VALUES ($1, 'Board', 33.2, 126.5)",
                           prop)
        today = clock.today(await conn.fetchval("SELECT time_zone FROM properties WHERE id = $1", prop))
        types = [await conn.fetchval("INSERT INTO products (property_id, kind, code, name) VALUES ($1, 'room_type',"
                                     " $2, $2) RETURNING id", prop, f"type-{t}") for t in range(3)]
        room_ids = [await conn.fetchval("INSERT INTO rooms (property_id, number, floor, room_type_id) VALUES"
                                        " ($1, $2, $3, $4) RETURNING id", prop, f"{2 + i % 3}{i:03d}", 2 + i % 3,
                                        types[i % 3]) for i in range(rooms)]
        stays = _stays(rng, room_ids, today, nights)
        await _insert(conn, prop, stays, today)
        await conn.execute("INSERT INTO room_assignments (room_id, kind, stay) VALUES ($1, 'out_of_service',"
                           " daterange($2, $3))", room_ids[-1], today + (nights + 5) * DAY, today + (nights + 9) * DAY)
        await _arrivals(conn, prop, today, arrivals)
        console.print(f"{prop}: {rooms} rooms, {len(stays)} assigned stays over {nights} nights, {arrivals} more "
                      "arrivals today")
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


async def _arrivals(conn: asyncpg.Connection, prop: str, today: dt.date, count: int) -> None:
    """``count`` confirmed bookings arriving today (1-3 nights), no room assigned yet."""
    guest = json.dumps({"name": "Arriving Guest", "email": "arrive@example.test"})
    await conn.execute(
        "INSERT INTO bookings (owner_kind, owner_id, property_id, status, step, guest, payment_ref, total_amount,"
        " currency, check_in, check_out, confirmation_code, step_deadline, deadline)"
        " SELECT 'user', 'bench', $1, 'confirmed', 'done', $2::jsonb, NULL, 0, 'KRW', $3,"
        " $3::date + 1 + n % 3, 'GR-' || upper(substr(md5(random()::text), 1, 10)), now(), now()"
        " FROM generate_series(1, $4) AS n", prop, guest, today, count)


async def clerk_token(settings: Settings, prop: str) -> str:
    """A session of front-desk staff of ``prop`` and its access token (what a clerk's sign-in gives)."""
    from redis.asyncio import Redis

    roles = ["front_desk", f"property:{prop}"]
    redis = Redis.from_url(settings.redis_url)
    try:
        session = await SessionStore(redis, settings).create(
            subject="bench-clerk", roles=roles, locale="ko-KR", name="clerk", email="clerk@example.test",
            ip="127.0.0.1", user_agent="bench")
        return AccessTokens(settings, KeyRing(keys_path(settings))).mint(
            subject="bench-clerk", session_id=session.id, roles=roles)
    finally:
        await redis.aclose()


class BoardChanges:
    """Changes the board's version as a clerk's action would (a room out of service, then back), beyond the
    board's nights so its cells stay the same; counts them."""

    def __init__(self, database_url: str, prop: str, first_night: dt.date) -> None:
        self.url, self.prop, self.night, self.made = database_url, prop, first_night, 0

    def once(self) -> None:
        asyncio.run(self._toggle())

    @contextmanager
    def running(self, per_second: float) -> Iterator[None]:
        """``per_second`` changes a second in a thread of its own until the block ends."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(1 / per_second):
                self.once()
        thread = threading.Thread(target=loop, daemon=True)
        if per_second > 0:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread.is_alive():
                thread.join(timeout=10)

    async def _toggle(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            room = await conn.fetchval("SELECT id FROM rooms WHERE property_id = $1 ORDER BY number LIMIT 1", self.prop)
            await conn.execute(
                "WITH gone AS (DELETE FROM room_assignments WHERE room_id = $1 AND kind = 'out_of_service' AND stay ="
                " daterange($2::date, $2::date + 1) RETURNING 1) INSERT INTO room_assignments (room_id, kind, stay)"
                " SELECT $1, 'out_of_service', daterange($2::date, $2::date + 1) WHERE NOT EXISTS (SELECT 1 FROM gone)",
                room, self.night)
            self.made += 1
        finally:
            await conn.close()


def single(base: str, path: str, headers: dict[str, str], count: int = 30,
           before: Callable[[], None] | None = None) -> tuple[float, float, int]:
    """Median and p95 latency (ms) of ``count`` requests one after another (``before`` each, untimed), and the
    answer's size; any answer but 2xx stops the run."""
    times, size = [], 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(count):
            if before is not None:
                before()
            began = time.perf_counter()
            answer = client.get(path, headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            answer.raise_for_status()
            size = len(answer.content)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))], size


def _row(table: Table, name: str, alone: tuple[float, float, int], result: Result, ping: Result) -> None:
    failed = f" [red]{result.errors} failures[/red]" if result.errors else ""
    table.add_row(name, f"{alone[0]:.1f} / {alone[1]:.1f}", f"{alone[2] / 1024:.0f}",
                  f"{result.ok_rps:,.1f}{failed}", f"{result.ok_rps / ping.ok_rps:.3f}x",
                  f"{result.p50_ms:.1f} / {result.p99_ms:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--arrivals", type=int, default=300)
    parser.add_argument("--changes-per-s", type=float, default=2.0)
    args = parser.parse_args()
    env = bench_env()
    settings = Settings.from_env(env)
    prop, today = asyncio.run(prepare(settings, args.rooms, args.nights, args.arrivals))
    headers = {"Authorization": f"Bearer {asyncio.run(clerk_token(settings, prop))}"}
    board = f"/frontdesk/{prop}/board?from={today.isoformat()}&to={(today + args.nights * DAY).isoformat()}"
    stays = f"/frontdesk/{prop}/stays"
    changes = BoardChanges(settings.database_url, prop, today + (args.nights + 20) * DAY)
    with api_server(env) as base:
        lists_alone, board_alone = single(base, stays, headers, 200), single(base, board, headers, 200)
        board_changed = single(base, board, headers, 30, before=changes.once)
        ping = load("GET /ping", base, ["/ping"], args.seconds, args.connections)
        lists = load("GET stays", base, [stays], args.seconds, args.connections, headers)
        with changes.running(args.changes_per_s):
            rooms = load("GET board", base, [board], args.seconds, args.connections, headers)
    table = Table(title=f"front desk: {args.rooms} rooms, {args.arrivals}+ arrivals today, board of {args.nights} "
                        f"nights; one api process, {args.connections} connections; GET /ping {ping.ok_rps:,.0f} req/s "
                        f"(p50 {ping.p50_ms:.2f} ms)")
    for column in ("GET", "alone p50 / p95 ms", "KiB", "2xx req/s under load", "vs /ping", "p50 / p99 ms under load"):
        table.add_column(column)
    _row(table, "/stays (today's lists)", lists_alone, lists, ping)
    _row(table, "/board (rooms x nights)", board_alone, rooms, ping)
    table.add_row("/board after a change", f"{board_changed[0]:.1f} / {board_changed[1]:.1f}",
                  f"{board_changed[2] / 1024:.0f}", "", "", "")
    console.print(table)
    console.print(f"board under load: {args.changes_per_s:g} changes a second, {changes.made} in all (30 before "
                  "'after a change' included); every change makes the next read rebuild the board")
    if lists.errors or rooms.errors or ping.errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
