"""Partner systems with the IdP's client-credentials JWTs; a session revoked on one api instance is
refused by another instance sharing Redis as soon as the revocation is published."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.auth.sessions import session_key
from app.settings import Settings
from tests.integration.auth.conftest import bearer, login_json
from tests.support.auth import AuthKit
from tests.support.idp import client_credentials_token
from tests.support.wait import until


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
                                                          auth_kit: AuthKit) -> None:
    """A user's ID token is genuinely signed by the IdP, but for the backend client, not the API."""
    tokens = await login_json(auth_client, "guest2")
    assert (await auth_client.get("/auth/me", headers=bearer(tokens["access_token"]))).status_code == 200
    id_token = (await auth_kit.redis.hget(session_key(tokens["session_id"]), "id_token")).decode()
    claims = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "=="))
    assert claims["aud"] in ("resort-backend", ["resort-backend"]) and claims["iss"] == auth_kit.settings.oidc_issuer
    refused = await auth_client.get("/auth/me", headers=bearer(id_token))
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token", refused.text
    assert "bad_signature" not in refused.json()["detail"]


@pytest.fixture
async def second_instance(settings: Settings, stack: object) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Another api instance whose local session cache would keep a session for a minute: only the
    revocation published on Redis can make it let go sooner."""
    from app.main import create_app

    patient = msgspec.structs.replace(settings, auth_cache_ms=60_000)
    async with AsyncTestClient(create_app(patient), base_url="http://127.0.0.1:8000") as client:
        yield client


async def test_revocation_reaches_another_instance_through_pubsub(
    auth_client: AsyncTestClient[Litestar], second_instance: AsyncTestClient[Litestar], auth_kit: AuthKit
) -> None:
    tokens = await login_json(auth_client, "guest")
    headers = bearer(tokens["access_token"])
    assert (await second_instance.get("/auth/me", headers=headers)).status_code == 200  # now cached there
    # The cache is real: the session deleted behind its back (nothing published) is still accepted there.
    await auth_kit.redis.rename(session_key(tokens["session_id"]), f"hidden:{tokens['session_id']}")
    assert (await second_instance.get("/auth/me", headers=headers)).status_code == 200
    await auth_kit.redis.rename(f"hidden:{tokens['session_id']}", session_key(tokens["session_id"]))

    assert (await auth_client.delete(f"/auth/sessions/{tokens['session_id']}", headers=headers)).status_code == 204

    async def refused() -> object:
        answer = await second_instance.get("/auth/me", headers=headers)
        return answer if answer.status_code == 401 else None

    answer = await until(refused, timeout=5)  # far inside the cache's minute
    assert answer.json()["code"] == "session_ended"
