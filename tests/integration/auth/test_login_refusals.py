"""Login callbacks that must not create a session: replayed state, wrong nonce, wrong PKCE verifier,
another issuer; and a reused refresh token, which revokes its whole family."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.auth.conftest import bearer, local, login_json
from tests.support.auth import AuthKit
from tests.support.idp import complete_idp_login


async def _start(client: AsyncTestClient[Litestar]) -> tuple[str, str]:
    started = await client.get("/auth/login", params={"response": "json"})
    assert started.status_code == 200, started.text
    return started.json()["authorization_url"], started.json()["state"]


async def _sessions_of(kit: AuthKit, subject: str) -> set[str]:
    return {s.id for s in await kit.sessions.list_for(subject)}


async def test_replayed_state(auth_client: AsyncTestClient[Litestar]) -> None:
    authorize, _ = await _start(auth_client)
    callback = await complete_idp_login(authorize, "guest2")
    assert (await auth_client.get(local(callback))).status_code == 200
    replay = await auth_client.get(local(callback))
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_state"


async def test_unknown_state(auth_client: AsyncTestClient[Litestar]) -> None:
    answer = await auth_client.get("/auth/callback", params={"state": "made-up", "code": "x"})
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_state"


async def _tamper_login_state(kit: AuthKit, state: str, **changes: str) -> None:
    key = f"auth:login:{state}"
    record = json.loads(await kit.redis.get(key))
    record.update(changes)
    await kit.redis.set(key, json.dumps(record), ex=60)


async def test_wrong_nonce(auth_client: AsyncTestClient[Litestar], auth_kit: AuthKit) -> None:
    before = await _sessions_of(auth_kit, "u-guest-0002")
    authorize, state = await _start(auth_client)
    await _tamper_login_state(auth_kit, state, nonce="not-the-nonce-the-idp-saw")
    answer = await auth_client.get(local(await complete_idp_login(authorize, "guest2")))
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_nonce"
    assert await _sessions_of(auth_kit, "u-guest-0002") == before


async def test_wrong_pkce_verifier(auth_client: AsyncTestClient[Litestar], auth_kit: AuthKit) -> None:
    before = await _sessions_of(auth_kit, "u-guest-0002")
    authorize, state = await _start(auth_client)
    assert parse_qs(urlsplit(authorize).query)["code_challenge_method"] == ["S256"]
    await _tamper_login_state(auth_kit, state, verifier="x" * 64)
    answer = await auth_client.get(local(await complete_idp_login(authorize, "guest2")))
    assert answer.status_code == 400 and answer.json()["code"] == "code_exchange_failed"
    assert await _sessions_of(auth_kit, "u-guest-0002") == before


async def test_issuer_parameter_mismatch(auth_client: AsyncTestClient[Litestar]) -> None:
    authorize, _ = await _start(auth_client)
    callback = await complete_idp_login(authorize, "guest2")
    forged = local(callback).replace("iss=", "iss=https%3A%2F%2Fattacker.example&was=")
    answer = await auth_client.get(forged)
    assert answer.status_code == 400 and answer.json()["code"] == "issuer_mismatch"


async def test_reused_refresh_token_revokes_the_family(auth_client: AsyncTestClient[Litestar]) -> None:
    tokens = await login_json(auth_client, "guest")
    first = await auth_client.post("/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    second = await auth_client.post("/auth/token/refresh", json={"refresh_token": first.json()["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()

    # The first token's successor was itself used since: presenting the first one again is a replay.
    reuse = await auth_client.post("/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json()["code"] == "refresh_token_reused"
    # The whole family is gone: the newest refresh token and the session's access tokens too.
    newest = await auth_client.post("/auth/token/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert newest.status_code == 401 and newest.json()["code"] == "invalid_refresh_token"
    me = await auth_client.get("/auth/me", headers=bearer(rotated["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "session_ended"


async def test_concurrent_use_of_one_refresh_token(auth_client: AsyncTestClient[Litestar], auth_kit: AuthKit) -> None:
    """Two tabs (here five) refreshing at once: one rotation, every one gets its successor, the session lives."""
    import asyncio

    from app.auth.refresh import RefreshTokens

    headers, sid = await auth_kit.sign_in(["guest"])
    subject = (await auth_kit.sessions.get(sid)).subject
    token = await RefreshTokens(auth_kit.redis, auth_kit.settings).issue(sid, subject)
    answers = await asyncio.gather(*(
        auth_client.post("/auth/token/refresh", json={"refresh_token": token}) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({a.json()["refresh_token"] for a in answers}) == 1
    assert await auth_kit.sessions.get(sid) is not None
    successor = answers[0].json()["refresh_token"]
    assert (await auth_client.post("/auth/token/refresh", json={"refresh_token": successor})).status_code == 200
    # Now the first token's rotation is no longer the current one: presenting it is reuse.
    late = await auth_client.post("/auth/token/refresh", json={"refresh_token": token})
    assert late.status_code == 401 and late.json()["code"] == "refresh_token_reused"
    assert await auth_kit.sessions.get(sid) is None


async def test_garbage_refresh_tokens(auth_client: AsyncTestClient[Litestar]) -> None:
    for body in ({"refresh_token": "rt_nope"}, {"refresh_token": "x" * 500}):
        answer = await auth_client.post("/auth/token/refresh", json=body)
        assert answer.status_code == 401 and answer.json()["code"] == "invalid_refresh_token"
    malformed = await auth_client.post("/auth/token/refresh", content=b"{not json",
                                       headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
