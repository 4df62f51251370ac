"""The gateway with the fixtures other features use: 401 vs 403, principal on public routes."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_me_requires_login(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "authentication_required"


async def test_me_with_fixture_headers(client: AsyncTestClient[Litestar], admin_headers: dict[str, str]) -> None:
    response = await client.get("/auth/me", headers=admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "user" and "admin" in body["roles"] and body["locale"] == "en-US"


async def test_public_route_with_valid_and_invalid_token(client: AsyncTestClient[Litestar],
                                                         guest_headers: dict[str, str]) -> None:
    assert (await client.get("/ping")).status_code == 200
    assert (await client.get("/ping", headers=guest_headers)).status_code == 200
    bad = await client.get("/ping", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_token"


async def test_jwks_is_public(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys and all("d" not in k for k in keys) and all(k["alg"] == "ES256" for k in keys)


async def _refusals(client: AsyncTestClient[Litestar], reason: str) -> float:
    """The count the api's /metrics exports for ``reason`` (0 before the first)."""
    prefix = f'resort_auth_refusals_total{{reason="{reason}"}} '
    lines = [line for line in (await client.get("/metrics")).text.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


async def test_refusals_are_counted_in_metrics(client: AsyncTestClient[Litestar]) -> None:
    before = await _refusals(client, "malformed")
    for _ in range(3):
        assert (await client.get("/ping", headers={"Authorization": "Bearer not.a.token"})).status_code == 401
    assert await _refusals(client, "malformed") == before + 3
