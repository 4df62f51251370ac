"""Behind the load balancer each client has its own login budget and its own address in the audit log;
a caller that is not a trusted proxy cannot choose its address with X-Forwarded-For."""

from __future__ import annotations

import random
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.settings import Settings
from tests.integration.auth.test_rate_limits import _fresh_window
from tests.support.wait import until

PROXY = "10.9.8.7"


def _behind(app: Litestar, peer: str) -> Litestar:
    """Every request of the test client arrives from ``peer`` (the test client's own is 'testclient')."""
    inner = app.asgi_handler

    async def from_peer(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope["client"] = (peer, 40000)
        await inner(scope, receive, send)

    app.asgi_handler = from_peer
    return app


def _address() -> str:
    return f"198.51.{random.randint(0, 255)}.{random.randint(1, 254)}"


async def _starts(client: AsyncTestClient[Litestar], forwarded: str, n: int) -> list[int]:
    return [(await client.get("/auth/login", follow_redirects=False, headers={"X-Forwarded-For": forwarded}))
            .status_code for _ in range(n)]


async def test_each_client_behind_the_proxy_has_its_own_login_budget(settings: Settings, stack: object) -> None:
    from app.main import create_app

    limited = msgspec.structs.replace(settings, rate_limit_login_per_minute=2, trusted_proxies=[f"{PROXY}/32"])
    await _fresh_window()
    async with AsyncTestClient(_behind(create_app(limited), PROXY)) as client:
        first, second = _address(), _address()
        assert await _starts(client, first, 3) == [302, 302, 429]
        assert await _starts(client, f"{_address()}, {second}", 2) == [302, 302]  # the rightmost untrusted hop


async def test_an_untrusted_peer_cannot_pick_its_address(settings: Settings, stack: object) -> None:
    from app.main import create_app

    limited = msgspec.structs.replace(settings, rate_limit_login_per_minute=2, trusted_proxies=[f"{PROXY}/32"])
    peer = _address()
    await _fresh_window()
    async with AsyncTestClient(_behind(create_app(limited), peer)) as client:
        # Three different forged addresses, one real one: the budget of the real one runs out.
        statuses = [s for _ in range(3) for s in await _starts(client, _address(), 1)]
        assert statuses == [302, 302, 429]


async def test_the_audit_log_records_the_forwarded_client(settings: Settings, stack: object) -> None:
    from app.main import create_app

    app = _behind(create_app(msgspec.structs.replace(settings, trusted_proxies=[f"{PROXY}/32"])), PROXY)
    address = _address()
    async with AsyncTestClient(app) as client:
        refused = await client.get("/auth/me", headers={"Authorization": "Bearer nope",
                                                        "X-Forwarded-For": address, "User-Agent": address})
        assert refused.status_code == 401
    conn = await asyncpg.connect(settings.database_url)
    try:
        ip = await until(lambda: conn.fetchval("SELECT host(ip) FROM audit_log WHERE user_agent = $1", address))
    finally:
        await conn.close()
    assert ip == address
