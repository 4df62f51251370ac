"""Live updates benchmark: ``python -m bench.realtime [--subscribers 1000,5000] [--updates 40]
[--frames-per-second 20000] [--workers 2] [--servers 2] [--slow-every 100] [--slow-delay-s 0.3]``.

As deployed: ``--servers 2`` api processes by default (``resort up --api-workers 2``; subscribers spread
over them), and the reference likewise with 2 processes; ``--servers 1`` puts every subscriber on one
process (one fan-out of 5,000 sockets in one process: ~5,000 socket writes of ~10-15 µs each on this
machine's loopback). The run prints the process count of every case.
20,000 connections: ``--subscribers 20000 --servers 2 --workers 4`` (a process may hold at most ``ulimit -Hn``
files, 20,000 here: two api processes of 10,000 sockets each, as two pods would; four client processes).

For each subscriber count, in one run: the api (uvicorn, uvloop, as ``resort run api``) serving ``/live``,
then a reference server built on ``websockets.broadcast()`` (``bench.realtime_ref``, pinging its sockets
every 20 s as uvicorn pings the api's), each started fresh, ``--servers`` processes of each (clients spread
over them), fed by the same Redis stream entries (written as the publisher writes them), read by the same
clients (``bench.realtime_clients``: a bare asyncio RFC 6455 client, ~20 µs of CPU per frame, mostly the kernel's
receive, in ``--workers`` processes; their CPU per frame is reported too). Updates are paced so that both see the same frames per
second (20,000/s: 4 updates a second to 5,000 subscribers, 20 to 1,000). Every ``--slow-every``-th client
is slow: it stops reading its socket for ``--slow-delay-s`` after each frame, so it falls behind (what it
has not read waits in the kernel's socket buffers; a server conflates (api) or drops (broadcast()) only
once its own write to that socket blocks, which 40 frames of ~250 bytes do not reach).

Every update frame every client receives is in the sample, slow clients' included: a conflated frame's
latency is from the newest change it carries. Reported: event -> client p50 and p99 (and p99 without the
slow clients), server CPU per delivered frame, server memory per idle connection (RSS growth once every
client is connected and subscribed / connections), frames delivered, clients closed, the api's ratios to
the reference, the clients' CPU per frame, the load average. The run exits 1 if any /live subscriber got
nothing, or nothing was measured. File-descriptor limits are raised to the hard limit (``ulimit -Hn``) in
every process. Uses the bench database and Redis db of ``bench.catalog`` (override with ``RESORT_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from app.db.migrate import migrate
from app.settings import PROJECT_ROOT, Settings
from bench.catalog import bench_env
from bench.realtime_clients import raise_fd_limit
from bench.server import _wait_ready, free_port
from realtime.channels import meta_key, stream_key
from realtime.store import Append, StreamStore

console = Console(width=190)
PROPERTY = "bench-live"
CHANNEL = f"availability:{PROPERTY}"
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Case:
    server: str
    subscribers: int
    p50: float
    p99: float
    cpu_us: float
    mem_kb: float
    frames: int
    closed: int
    silent: int = 0
    slow: int = 0
    growth_kb: float = 0.0  # RSS growth per connection while the updates flowed (flat memory: about 0)
    p99_keeping_up: float = 0.0  # p99 of the clients that read at once (slow clients left out: for reference)
    client_cpu_us: float = 0.0  # the load clients' CPU per frame they received (they must not be the bottleneck)


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextlib.contextmanager
def _process(argv: list[str], env: dict[str, str], name: str) -> Iterator[subprocess.Popen]:
    log = PROJECT_ROOT / ".data" / "logs" / f"bench-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE if name.startswith("ref") else out, stderr=out,
                                   cwd=PROJECT_ROOT, text=True)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def _one_api(env: dict[str, str], i: int) -> Iterator[tuple[int, str]]:
    port, name = free_port(), f"live-api-{i}"
    argv = [sys.executable, "-m", "uvicorn", "--factory", "app.main:asgi", "--host", "127.0.0.1", "--port",
            str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    with _process(argv, env | {"RESORT_API_PORT": str(port)}, name) as process:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process, PROJECT_ROOT / ".data" / "logs" / f"bench-{name}.log", timeout=300)
        yield process.pid, f"ws://127.0.0.1:{port}/live"


@contextlib.contextmanager
def _one_reference(env: dict[str, str], redis_url: str, i: int) -> Iterator[tuple[int, str]]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.realtime_ref", str(port), redis_url, CHANNEL]
    with _process(argv, env, f"ref-{i}") as process:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"the reference server did not start; see .data/logs/bench-ref-{i}.log")
        yield process.pid, f"ws://127.0.0.1:{port}"


@contextlib.contextmanager
def servers(kind: str, env: dict[str, str], redis_url: str, count: int) -> Iterator[tuple[list[int], list[str]]]:
    """``count`` server processes of one kind (each its own port, each fed by Redis): their pids and urls."""
    with contextlib.ExitStack() as stack:
        started = [stack.enter_context(_one_api(env, i) if kind == "api" else _one_reference(env, redis_url, i))
                   for i in range(count)]
        yield [pid for pid, _ in started], [url for _, url in started]


async def _workers(urls: list[str], subscribers: int, args: argparse.Namespace) -> list[asyncio.subprocess.Process]:
    """The client processes, each with its share of the sockets, spread over the servers round-robin."""
    workers = args.workers
    shares = [subscribers // workers + (1 if i < subscribers % workers else 0) for i in range(workers)]
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.realtime_clients", urls[i % len(urls)], str(n), CHANNEL, str(args.updates),
        str(args.slow_every), str(args.slow_delay_s), cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**28) for i, n in enumerate(shares)]
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 300)
        if line.strip() != b"ready":
            raise SystemExit("a client worker failed to connect its sockets")
    return procs


def _update(i: int) -> bytes:
    """One change of one (product, night), versioned (ever higher, across runs) and stamped."""
    item = {"product_id": "bench", "night": "2030-01-01", "free": i, "price": 1, "version": time.time_ns() // 1000,
            "sent": time.time() * 1000, "n": i}
    return json.dumps({"cause": "bench", "items": [item]}).encode()


async def run_case(name: str, pids: list[int], urls: list[str], store: StreamStore, subscribers: int,
                   args: argparse.Namespace) -> Case:
    """One server kind, its processes' CPU and memory summed."""
    before = sum(map(rss_kb, pids))
    procs = await _workers(urls, subscribers, args)
    connected = sum(map(rss_kb, pids))
    memory = (connected - before) / subscribers
    cpu, client_cpu = sum(map(cpu_seconds, pids)), sum(cpu_seconds(p.pid) for p in procs)
    pause = subscribers / args.frames_per_second
    for i in range(args.updates):
        append = Append(f"bench-{name}-{subscribers}-{time.time_ns()}-{i}", int(time.time() * 1000))
        append.entries.append((CHANNEL, _update(i)))
        await store.append(append)
        await asyncio.sleep(pause)
    latencies: list[float] = []
    keeping_up: list[float] = []
    frames = closed = silent = slow = 0
    for proc in procs:
        assert proc.stdout is not None and proc.stdin is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
        except TimeoutError:
            proc.stdin.close()
            line = await proc.stdout.readline()
        client_cpu -= cpu_seconds(proc.pid)
        result = json.loads(line)
        latencies += result["latencies"] + result["slow_latencies"]
        keeping_up += result["latencies"]
        frames, closed = frames + result["frames"], closed + result["closed"]
        silent, slow = silent + result["silent"], slow + result["slow"]
        proc.stdin.close()
        await proc.wait()
    used = sum(map(cpu_seconds, pids)) - cpu
    growth = (sum(map(rss_kb, pids)) - connected) / subscribers
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    fast = statistics.quantiles(keeping_up, n=100)[98] if len(keeping_up) > 1 else float("nan")
    return Case(name, subscribers, cuts[49], cuts[98], used / frames * 1e6 if frames else float("nan"), memory,
                frames, closed, silent, slow, growth, fast, -client_cpu / frames * 1e6 if frames else float("nan"))


async def prepare(settings: Settings) -> None:
    await migrate(settings.database_url)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("INSERT INTO properties (id, name, latitude, longitude) VALUES ($1, 'Bench', 33.2, 126.5)"
                           " ON CONFLICT (id) DO NOTHING", PROPERTY)
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> list[Case]:
    console.print(f"open files per process: {raise_fd_limit()}; {args.servers} server process(es) of each kind, "
                  f"{args.workers} client processes, {args.frames_per_second} frames/s, {args.updates} updates")
    # One address opens every connection here: its bound is lifted (the hostile suite tests it).
    env = bench_env() | {"RESORT_LIVE_CONNECTIONS_PER_IP": "1000000", "RESORT_LIVE_AUTH_TIMEOUT_S": "60"}
    settings = Settings.from_env(env)
    await prepare(settings)
    redis = Redis.from_url(settings.redis_url)
    await redis.delete(stream_key(CHANNEL), meta_key(CHANNEL))  # only the bench's own channel
    store = StreamStore(redis, settings.live_stream_maxlen)
    cases = []
    for subscribers in args.subscribers:
        for name, kind in (("api /live", "api"), ("websockets.broadcast()", "ref")):
            with servers(kind, env, settings.redis_url, args.servers) as (pids, urls):
                console.print(f"{name}: {subscribers} subscribers over {len(pids)} process(es) ... "
                              f"(load average {os.getloadavg()[0]:.1f})")
                cases.append(await run_case(name, pids, urls, store, subscribers, args))
    await redis.aclose()
    return cases


def report(cases: list[Case]) -> None:
    table = Table(title="Live updates: event -> client, same server processes, clients and frames for both")
    for column in ("server", "subscribers", "p50 ms", "p99 ms", "p99 w/o slow", "CPU/frame µs", "memory/conn KB",
                   "growth/conn KB", "frames", "closed", "silent", "CPU ratio", "p99 ratio", "client CPU/frame µs"):
        table.add_column(column, justify="left" if column == "server" else "right")
    refs = {c.subscribers: c for c in cases if c.server != "api /live"}
    for c in cases:
        ref = refs.get(c.subscribers)
        ratio = f"{c.cpu_us / ref.cpu_us:.2f}×" if ref and ref.cpu_us else "-"
        p99 = f"{c.p99 / ref.p99:.2f}×" if ref and ref.p99 else "-"
        table.add_row(c.server, str(c.subscribers), f"{c.p50:.1f}", f"{c.p99:.1f}", f"{c.p99_keeping_up:.1f}",
                      f"{c.cpu_us:.1f}",
                      f"{c.mem_kb:.1f}", f"{c.growth_kb:.1f}", str(c.frames), str(c.closed), str(c.silent), ratio,
                      p99, f"{c.client_cpu_us:.1f}")
    console.print(table)
    console.print("Goals: p99 ≤ 150 ms at 5,000 subscribers, CPU per frame ≤ 1.5× the reference, ≤ 40 KB per "
                  "connection. Every frame of every client is in the sample, slow clients' included (silent: "
                  "clients that got no update at all). Client and servers share the machine's cores.")
    console.print(f"Load average (1, 5, 15 min) at the end: {os.getloadavg()} on {os.cpu_count()} cores.")
    console.print_json(json.dumps([c.__dict__ for c in cases]))


def failures(cases: list[Case]) -> list[str]:
    """Why the run fails: a /live subscriber that got nothing, or a case that measured nothing."""
    found = [f"{c.server} {c.subscribers}: {c.silent} subscribers got nothing" for c in cases
             if c.server == "api /live" and c.silent]
    found += [f"{c.server} {c.subscribers}: no frame measured" for c in cases if not c.frames]
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 5000])
    parser.add_argument("--updates", type=int, default=40)
    parser.add_argument("--frames-per-second", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--servers", type=int, default=2, help="server processes of each kind, clients spread over"
                        " them (2: as deployed, `resort up --api-workers 2`; 20,000 sockets need 2, since a process"
                        " may open at most `ulimit -Hn` files)")
    parser.add_argument("--slow-every", type=int, default=100, help="every Nth client is slow (0: none)")
    parser.add_argument("--slow-delay-s", type=float, default=0.3, help="a slow client's pause after each frame")
    results = asyncio.run(main(parser.parse_args()))
    report(results)
    if problems := failures(results):
        console.print("[red]FAILED: " + "; ".join(problems))
        sys.exit(1)
