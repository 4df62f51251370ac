"""Benchmark: requests/second of the same endpoint with and without token verification.

    python -m bench.auth [--seconds 5] [--connections 32] [--rounds 2]

Serves the app with uvicorn (one worker, a free port) against the running servers (the test databases:
PostgreSQL ``resort_test``, Redis db 1), creates a real session and access token, then loads ``GET /ping``
with wrk (Debian ``wrk``; an httpx loop if wrk is missing) alternately without and with
``Authorization: Bearer``. With the header the gateway verifies the token and checks the session in Redis.
Both variants also pay the per-caller rate-limit counter in Redis. Two configurations are measured:
``cached`` (the defaults: verified-token cache, 500 ms session cache invalidated by pub/sub) and
``uncached`` (ES256 verification and a Redis session touch on every request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.auth.keys import KeyRing, keys_path
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.settings import Settings

ENV = {
    "RESORT_DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/resort_test",
    "RESORT_REDIS_URL": "redis://127.0.0.1:56379/1",
    "RESORT_MONGO_DB": "resort_test",
    "RESORT_KAFKA_TOPIC_PREFIX": "test.",
    "RESORT_SEARCH_INDEX": "test_products",
    "RESORT_LOG_LEVEL": "WARNING",
    "RESORT_RATE_LIMIT_API_PER_MINUTE": "100000000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "app.main:asgi", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning", "--loop", "uvloop", "--http", "httptools"],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the api did not start")


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{non_2xx.group(1)} requests failed: is the token valid?\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


async def _httpx_load(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    done = 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=connections)) as client:
        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                response = await client.get(url)
                assert response.status_code == 200, response.text
                done += 1
        await asyncio.gather(*(worker() for _ in range(connections)))
    return done / seconds


def load(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    if shutil.which("wrk"):
        return wrk(url, seconds, connections, headers)
    return asyncio.run(_httpx_load(url, seconds, connections, headers))


async def sign_in(settings: Settings) -> tuple[str, str]:
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    try:
        session = await SessionStore(redis, settings).create(subject="bench-user", roles=["guest"], locale="ko-KR")
    finally:
        await redis.aclose()
    return AccessTokens(settings, KeyRing(keys_path(settings))).mint(
        subject="bench-user", session_id=session.id, roles=["guest"], ttl=3600), session.id


def measure(name: str, extra_env: dict[str, str], args: argparse.Namespace) -> tuple[float, float]:
    env = {**ENV, **extra_env}
    settings = Settings.from_env({**os.environ, **env})
    token, _ = asyncio.run(sign_in(settings))
    port = free_port()
    process = serve(env, port)
    url = f"http://127.0.0.1:{port}/ping"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        load(url, 1, args.connections, {})    # warm up both paths
        load(url, 1, args.connections, auth)
        plain, verified = [], []
        for round_ in range(args.rounds):  # ABBA order: drift in the machine's load hits both alike
            order = [(plain, {}), (verified, auth)]
            for results, headers in order if round_ % 2 == 0 else order[::-1]:
                results.append(load(url, args.seconds, args.connections, headers))
    finally:
        process.terminate()
        process.wait(10)
    a, b = statistics.median(plain), statistics.median(verified)
    print(f"{name:9s} without token: {a:8.0f} req/s   with token: {b:8.0f} req/s   "
          f"overhead: {(1 - b / a) * 100:5.1f} %   (rounds: {[round(x) for x in plain]} vs {[round(x) for x in verified]})")
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--only-cached", action="store_true")
    args = parser.parse_args()
    print(f"GET /ping, uvicorn 1 worker, {args.connections} connections, {args.seconds} s x {args.rounds} rounds, "
          f"load by {'wrk' if shutil.which('wrk') else 'httpx'}")
    measure("cached", {}, args)
    if not args.only_cached:
        measure("uncached", {"RESORT_AUTH_CACHE_MS": "0", "RESORT_AUTH_TOKEN_CACHE_SIZE": "0"}, args)


if __name__ == "__main__":
    main()
