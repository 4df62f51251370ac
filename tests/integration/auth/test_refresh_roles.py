"""Roles follow the IdP (or the user record) at every refresh; two tabs refreshing at once keep the session;
without the grace a second use of a spent token is reuse."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.auth.refresh import RefreshTokens
from app.auth.sessions import session_key
from app.settings import Settings
from tests.integration.auth.conftest import bearer, login_json
from tests.support.auth import AuthKit


async def _refresh(client: AsyncTestClient[Litestar], token: str) -> dict:
    answer = await client.post("/auth/token/refresh", json={"refresh_token": token})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _roles(client: AsyncTestClient[Litestar], access: str) -> list[str]:
    me = await client.get("/auth/me", headers=bearer(access))
    assert me.status_code == 200, me.text
    return me.json()["roles"]


async def test_a_demotion_in_the_user_record_takes_effect_at_the_next_refresh(
        auth_client: AsyncTestClient[Litestar], auth_kit: AuthKit, settings: Settings, unique: str) -> None:
    subject = f"demoted-{unique}"
    _, sid = await auth_kit.sign_in(["admin", "guest"], subject=subject)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("INSERT INTO users (issuer, subject, groups, roles) VALUES ($1, $2, $3, $4)",
                           settings.oidc_issuer, subject, ["staff", "resort-admins"], ["admin", "front_desk", "guest"])
        token = await RefreshTokens(auth_kit.redis, settings).issue(sid, subject)
        first = await _refresh(auth_client, token)
        assert await _roles(auth_client, first["access_token"]) == ["admin", "front_desk", "guest"]
        await conn.execute("UPDATE users SET groups = $3 WHERE issuer = $1 AND subject = $2",
                           settings.oidc_issuer, subject, ["customers"])
    finally:
        await conn.close()
    second = await _refresh(auth_client, first["refresh_token"])
    assert await _roles(auth_client, second["access_token"]) == ["guest"]
    assert await auth_kit.redis.hget(session_key(sid), "roles") == b"guest"


async def test_roles_come_from_the_idp_at_refresh(auth_client: AsyncTestClient[Litestar], auth_kit: AuthKit) -> None:
    tokens = await login_json(auth_client, "guest2")
    sid = tokens["session_id"]
    idp_refresh = await auth_kit.redis.hget(session_key(sid), "idp_rt")
    assert idp_refresh, "the IdP's refresh token is kept with the session"
    # Roles captured at login that the IdP no longer gives (as after a demotion there).
    await auth_kit.redis.hset(session_key(sid), "roles", "admin guest")
    fresh = await _refresh(auth_client, tokens["refresh_token"])
    assert await _roles(auth_client, fresh["access_token"]) == ["guest"]
    assert await auth_kit.redis.hget(session_key(sid), "idp_rt") not in (b"", idp_refresh)  # rotated at the IdP


async def test_a_grant_the_idp_refuses_ends_the_session(auth_client: AsyncTestClient[Litestar],
                                                        auth_kit: AuthKit) -> None:
    tokens = await login_json(auth_client, "guest2")
    await auth_kit.redis.hset(session_key(tokens["session_id"]), "idp_rt", "revoked-at-the-idp")
    answer = await auth_client.post("/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert answer.status_code == 401 and answer.json()["code"] == "session_ended"
    assert await auth_kit.sessions.get(tokens["session_id"]) is None


async def test_without_grace_a_second_use_is_reuse(settings: Settings, stack: object, auth_kit: AuthKit) -> None:
    from app.main import create_app

    strict = msgspec.structs.replace(settings, refresh_reuse_grace_s=0)
    _, sid = await auth_kit.sign_in(["guest"])
    token = await RefreshTokens(auth_kit.redis, strict).issue(sid, (await auth_kit.sessions.get(sid)).subject)
    async with AsyncTestClient(create_app(strict)) as client:
        await _refresh(client, token)
        again = await client.post("/auth/token/refresh", json={"refresh_token": token})
    assert again.status_code == 401 and again.json()["code"] == "refresh_token_reused"
    assert await auth_kit.sessions.get(sid) is None
