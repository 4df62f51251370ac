"""A flood of invalid tokens from one address: answered 429 before any verification once the address's
budget is spent, and only a sample of it reaches the audit log."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from app.settings import Settings
from tests.integration.auth.test_rate_limits import _fresh_window
from tests.integration.auth.test_trusted_proxies import PROXY, _address, _behind
from tests.support.auth import AuthKit


async def test_a_flood_is_stopped_before_verification_and_sampled_in_the_audit(
        settings: Settings, stack: object, auth_kit: AuthKit) -> None:
    from app.main import create_app

    limited = msgspec.structs.replace(settings, rate_limit_bad_tokens_per_minute=3,
                                      trusted_proxies=[f"{PROXY}/32"])
    flooder, bystander, marker = _address(), _address(), f"flood-{uuid.uuid4().hex}"
    genuine, _ = await auth_kit.sign_in(["guest"])  # a valid token this instance has never verified
    cached, _ = await auth_kit.sign_in(["guest"])
    await _fresh_window()
    async with AsyncTestClient(_behind(create_app(limited), PROXY)) as client:
        def as_(address: str, headers: dict[str, str]) -> dict[str, str]:
            return {**headers, "X-Forwarded-For": address, "User-Agent": marker}

        assert (await client.get("/auth/me", headers=as_(flooder, cached))).status_code == 200
        statuses = [(await client.get("/auth/me", headers=as_(flooder, {"Authorization": f"Bearer bad{i}"})))
                    .status_code for i in range(40)]
        assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}, statuses
        # No verification for this address now: even a valid, unseen token is not checked ...
        refused = await client.get("/auth/me", headers=as_(flooder, genuine))
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # ... while a token verified before still works, and other addresses are not affected.
        assert (await client.get("/auth/me", headers=as_(flooder, cached))).status_code == 200
        assert (await client.get("/auth/me", headers=as_(bystander, genuine))).status_code == 200
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch("SELECT detail FROM audit_log WHERE user_agent = $1 AND action = 'access'", marker)
    finally:
        await conn.close()  # the app's shutdown flushed its audit queue
    assert len(rows) == 5, len(rows)  # 41 refusals (and 2 accepted): only the first five are rows


async def test_the_budget_is_a_shield_a_redis_out_of_reach_lets_tokens_be_verified() -> None:
    """Redis unreachable (or its pool exhausted in a burst): the flood check admits instead of failing the
    request; before, every unseen token was answered 500."""
    import socket
    from types import SimpleNamespace

    from redis.asyncio import Redis

    from app.auth.gateway import flooding
    from app.auth.ratelimit import RateLimiter

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    auth = SimpleNamespace(limiter=RateLimiter(gone), settings=SimpleNamespace(rate_limit_bad_tokens_per_minute=3))
    try:
        assert await flooding(auth, "192.0.2.7") is False  # type: ignore[arg-type]
    finally:
        await gone.aclose()
