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
import statistics

from app.auth.keys import KeyRing, keys_path
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.settings import Settings
from bench.loadgen import load, wrk_available
from bench.server import api_server

ENV = {
    "RESORT_DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/resort_test",
    "RESORT_REDIS_URL": "redis://127.0.0.1:56379/1",
    "RESORT_MONGO_DB": "resort_test",
    "RESORT_KAFKA_TOPIC_PREFIX": "test.",
    "RESORT_SEARCH_INDEX": "test_products",
    "RESORT_LOG_LEVEL": "WARNING",
    "RESORT_RATE_LIMIT_API_PER_MINUTE": "100000000",
}


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
    env = {**os.environ, **ENV, **extra_env}
    token, _ = asyncio.run(sign_in(Settings.from_env(env)))
    auth = {"Authorization": f"Bearer {token}"}
    plain: list[float] = []
    verified: list[float] = []
    with api_server(env) as base:

        def rps(headers: dict[str, str], seconds: int) -> float:
            result = load(name, base, ["/ping"], seconds, args.connections, headers)
            if result.errors:
                raise SystemExit(f"{result.errors} requests failed: is the token valid?")
            return result.rps

        rps({}, 1), rps(auth, 1)  # warm up both paths
        for round_ in range(args.rounds):  # ABBA order: drift in the machine's load hits both alike
            order = [(plain, {}), (verified, auth)]
            for results, headers in order if round_ % 2 == 0 else order[::-1]:
                results.append(rps(headers, args.seconds))
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
          f"load by {'wrk' if wrk_available() else 'httpx'}")
    measure("cached", {}, args)
    if not args.only_cached:
        measure("uncached", {"RESORT_AUTH_CACHE_MS": "0", "RESORT_AUTH_TOKEN_CACHE_SIZE": "0"}, args)


if __name__ == "__main__":
    main()
