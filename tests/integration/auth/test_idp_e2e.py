"""Against a PRIVATE IdP and the api served by uvicorn on a real port (the IdP must reach it):
OIDC back-channel logout, and the IdP stopped mid-test then started again."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwk, jwt

from app.auth.oidc_claims import BACKCHANNEL_EVENT
from app.settings import Settings
from app.stack import LocalServer, LocalStack
from tests.support.auth import serve_api, subprocess_environment
from tests.support.idp import complete_idp_login, complete_idp_logout
from tests.support.servers import free_port
from tests.support.wait import until


def _free_dev_port() -> int:
    """A free port among those the provider registers redirect URIs for (18000-18010)."""
    for port in range(18000, 18011):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 18000-18010 for an extra api instance")


class World:
    def __init__(self, idp: LocalStack, idp_name: str, issuer: str, api: str, data_dir: Path) -> None:
        self.idp, self.idp_name, self.issuer, self.api = idp, idp_name, issuer, api
        self.keys_file = data_dir / "idp-keys.json"  # the private IdP's signing keys: tests sign as the IdP
        self.groups_file = data_dir / "groups.json"  # users' groups changed while the IdP runs

    def logout_token(self, **changes: Any) -> str:
        """A back-channel logout token signed with the IdP's own RS256 key."""
        key = next(k for k in json.loads(self.keys_file.read_text())["keys"] if k["alg"] == "RS256")
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": "resort-backend", "iat": now, "exp": now + 120,
                  "jti": uuid.uuid4().hex, "sub": f"nobody-{uuid.uuid4().hex[:8]}", "sid": uuid.uuid4().hex,
                  "events": {BACKCHANNEL_EVENT: {}}}
        claims = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        header = {"alg": "RS256", "kid": key["kid"], "typ": "logout+jwt"}
        return jwt.encode(header, claims, jwk.RSAKey.import_key(key), algorithms=["RS256"])


@pytest.fixture(scope="module")
def world(settings: Settings, stack: object) -> Iterator[World]:
    api_port, idp_port = _free_dev_port(), free_port()
    issuer = f"http://127.0.0.1:{idp_port}"
    data_dir = settings.data_path / "private" / f"oidc-{idp_port}"
    server = LocalServer(
        f"oidc-{idp_port}", "127.0.0.1", idp_port, data_dir, "oidc",
        env={"OIDC_BACKEND_BACKCHANNEL_LOGOUT_URI": f"http://127.0.0.1:{api_port}/auth/backchannel-logout",
             "OIDC_KEYS_FILE": str(data_dir / "idp-keys.json"), "OIDC_GROUPS_FILE": str(data_dir / "groups.json")},
    )
    idp = LocalStack([server])
    idp.start_servers(timeout=30)
    env = {**subprocess_environment(settings), "RESORT_OIDC_ISSUER": issuer,
           "RESORT_PUBLIC_URL": f"http://127.0.0.1:{api_port}", "RESORT_IDP_RETRY_AFTER_S": "7",
           "RESORT_IDP_TIMEOUT_S": "1.5"}
    try:
        with serve_api(env, api_port) as api:
            yield World(idp, server.name, issuer, api, data_dir)
    finally:
        idp.stop()


async def _login(browser: httpx.AsyncClient, world: World, login: str) -> dict[str, Any]:
    started = await browser.get(f"{world.api}/auth/login", params={"response": "json"})
    assert started.status_code == 200, started.text
    callback = await complete_idp_login(started.json()["authorization_url"], login, client=browser)
    answer = await browser.get(callback)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_backchannel_logout_ends_the_session(world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as browser:
        tokens = await _login(browser, world, "guest")
        assert (await browser.get(f"{world.api}/auth/me", headers=_bearer(tokens))).status_code == 200
        end_session = f"{world.issuer}/session/end?" + urlencode({"client_id": "resort-backend"})
        await complete_idp_logout(end_session, client=browser)

        async def ended() -> bool:
            return (await browser.get(f"{world.api}/auth/me", headers=_bearer(tokens))).status_code == 401

        await until(ended, timeout=5)  # the IdP's back-channel call reached the api
        refresh = await browser.post(f"{world.api}/auth/token/refresh",
                                     json={"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401


async def test_backchannel_logout_refuses_bad_tokens(world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for token in ("", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
            answer = await client.post(f"{world.api}/auth/backchannel-logout", data={"logout_token": token})
            assert answer.status_code == 400 and answer.json()["code"] == "invalid_logout_token"
        partner = (await client.post(f"{world.issuer}/token", data={"grant_type": "client_credentials",
                                     "scope": "catalog:read"}, auth=("partner-acme", "partner-acme-secret"))).json()
        wrong_kind = await client.post(f"{world.api}/auth/backchannel-logout",
                                       data={"logout_token": partner["access_token"]})
        assert wrong_kind.status_code == 400  # signed by the IdP, but not a logout token for us


async def test_an_admin_demoted_at_the_idp_loses_the_role_at_the_next_refresh(world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as browser:
        tokens = await _login(browser, world, "admin")
        me = await browser.get(f"{world.api}/auth/me", headers=_bearer(tokens))
        assert "admin" in me.json()["roles"], me.text
        world.groups_file.write_text(json.dumps({"admin": ["customers"]}))  # demoted at the IdP
        try:
            refreshed = await browser.post(f"{world.api}/auth/token/refresh",
                                           json={"refresh_token": tokens["refresh_token"]})
            assert refreshed.status_code == 200, refreshed.text
            me = await browser.get(f"{world.api}/auth/me", headers=_bearer(refreshed.json()))
            assert me.json()["roles"] == ["guest"], me.text
        finally:
            world.groups_file.unlink()


async def test_front_desk_staff_moved_to_another_property_at_the_idp_act_there_after_the_next_refresh(
        world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as browser:
        tokens = await _login(browser, world, "frontdesk")
        rooms = f"{world.api}/frontdesk/jeju-ocean/rooms"
        assert (await browser.get(rooms, headers=_bearer(tokens))).status_code != 403
        world.groups_file.write_text(json.dumps({"frontdesk": ["staff", "front-desk", "property:busan-bay"]}))
        try:
            refreshed = await browser.post(f"{world.api}/auth/token/refresh",
                                           json={"refresh_token": tokens["refresh_token"]})
            assert refreshed.status_code == 200, refreshed.text
            me = await browser.get(f"{world.api}/auth/me", headers=_bearer(refreshed.json()))
            assert [r for r in me.json()["roles"] if r.startswith("property:")] == ["property:busan-bay"]
            answer = await browser.get(rooms, headers=_bearer(refreshed.json()))
            assert (answer.status_code, answer.json()["code"]) == (403, "property_forbidden")
        finally:
            world.groups_file.unlink()


async def test_a_logout_token_works_once_and_must_expire(world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        async def post(token: str) -> httpx.Response:
            return await client.post(f"{world.api}/auth/backchannel-logout", data={"logout_token": token})

        token = world.logout_token()
        first = await post(token)
        assert first.status_code == 200, first.text
        replay = await post(token)
        assert replay.status_code == 400 and replay.json()["code"] == "invalid_logout_token"
        assert "replayed_logout_token" in replay.json()["detail"]
        forever = await post(world.logout_token(exp=None))
        assert forever.status_code == 400 and forever.json()["code"] == "invalid_logout_token"
        assert "exp" in forever.json()["detail"]


async def test_idp_outage_keeps_sessions_and_refuses_logins(world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as browser:
        tokens = await _login(browser, world, "frontdesk")
        world.idp.stop_server(world.idp_name)
        try:
            me = await browser.get(f"{world.api}/auth/me", headers=_bearer(tokens))
            assert me.status_code == 200 and me.json()["subject"] == "u-frontdesk-0001"
            refreshed = await browser.post(f"{world.api}/auth/token/refresh",
                                           json={"refresh_token": tokens["refresh_token"]})
            assert refreshed.status_code == 200, refreshed.text
            assert (await browser.get(f"{world.api}/auth/me", headers=_bearer(refreshed.json()))).status_code == 200

            login = await browser.get(f"{world.api}/auth/login", params={"response": "json"})
            assert login.status_code == 503 and login.headers["retry-after"] == "7"
            assert login.headers["content-type"].startswith("application/problem+json")
            assert login.json()["code"] == "idp_unavailable"
            redirect_login = await browser.get(f"{world.api}/auth/login", follow_redirects=False)
            assert redirect_login.status_code == 503

            ready = await browser.get(f"{world.api}/health/detail")  # from this machine: the full report
            assert ready.json()["dependencies"]["idp"]["status"] == "degraded"
            assert "idp" not in ready.json()["failed"]
        finally:
            world.idp.restart_server(world.idp_name)
        again = await _login(browser, world, "frontdesk")  # no api restart needed
        assert (await browser.get(f"{world.api}/auth/me", headers=_bearer(again))).status_code == 200
