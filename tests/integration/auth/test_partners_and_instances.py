"""Partner systems with the IdP's client-credentials JWTs; a session revoked on one api instance is
refused by another instance sharing Redis within one second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.settings import Settings
from tests.integration.auth.conftest import bearer, login_json
from tests.support.idp import client_credentials_token


async def _partner_token(settings: Settings, client_id: str, scope: str) -> str:
    answer = await client_credentials_token(settings.oidc_issuer, client_id, f"{client_id}-secret", scope)
    assert "access_token" in answer, answer
    return answer["access_token"]


async def test_partner_with_scope(auth_client: AsyncTestClient[Litestar], settings: Settings) -> None:
    token = await _partner_token(settings, "partner-acme", "catalog:read bookings:write")
    answer = await auth_client.post("/test-auth/bookings", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"client_id": "partner-acme", "scopes": ["catalog:read", "bookings:write"],
                             "kind": "partner"}
    me = await auth_client.get("/auth/me", headers=bearer(token))
    assert me.json()["kind"] == "partner" and me.json()["roles"] == ["partner"]


async def test_a_partner_token_is_refused_from_the_cookie_even_once_cached(
    auth_client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    token = await _partner_token(settings, "partner-acme", "catalog:read")
    assert (await auth_client.get("/auth/me", headers=bearer(token))).status_code == 200  # now cached
    auth_client.cookies.clear()
    via_cookie = await auth_client.get("/auth/me", headers={"Cookie": f"resort_access={token}"})
    assert via_cookie.status_code == 401


async def test_partner_without_scope_is_forbidden(auth_client: AsyncTestClient[Litestar], settings: Settings) -> None:
    token = await _partner_token(settings, "partner-blocked", "catalog:read")
    answer = await auth_client.post("/test-auth/bookings", headers=bearer(token))
    assert answer.status_code == 403 and answer.json()["code"] == "insufficient_scope"
    admin = await auth_client.get("/test-auth/admin", headers=bearer(token))
    assert admin.status_code == 403 and admin.json()["code"] == "insufficient_role"


async def test_idp_tokens_for_other_audiences_are_refused(auth_client: AsyncTestClient[Litestar],
                                                          settings: Settings) -> None:
    # A user's ID token (audience: the backend client) is not an API access token.
    tokens = await login_json(auth_client, "guest2")
    session = await auth_client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert session.status_code == 200
    token = await _partner_token(settings, "partner-acme", "catalog:read")
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload[:-4]}AAAA.{signature}"
    refused = await auth_client.get("/auth/me", headers=bearer(tampered))
    assert refused.status_code == 401


@pytest.fixture
async def second_instance(settings: Settings, stack: object) -> AsyncIterator[AsyncTestClient[Litestar]]:
    from app.main import create_app

    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


async def test_revocation_reaches_another_instance_within_a_second(
    auth_client: AsyncTestClient[Litestar], second_instance: AsyncTestClient[Litestar]
) -> None:
    tokens = await login_json(auth_client, "guest")
    headers = bearer(tokens["access_token"])
    assert (await second_instance.get("/auth/me", headers=headers)).status_code == 200  # now cached there
    assert (await auth_client.delete(f"/auth/sessions/{tokens['session_id']}", headers=headers)).status_code == 204
    revoked_at = time.monotonic()
    while True:
        answer = await second_instance.get("/auth/me", headers=headers)
        if answer.status_code == 401:
            break
        assert time.monotonic() - revoked_at < 1.0, "the second instance still accepts a revoked session"
        await asyncio.sleep(0.05)
    assert answer.json()["code"] == "session_ended"
    assert time.monotonic() - revoked_at < 1.0
