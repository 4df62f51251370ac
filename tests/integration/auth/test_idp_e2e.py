"""Against a PRIVATE IdP and the api served by uvicorn on a real port (the IdP must reach it):
OIDC back-channel logout, and the IdP stopped mid-test then started again."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from app.settings import Settings
from app.stack import LocalServer, LocalStack
from tests.support.auth import serve_api, subprocess_environment
from tests.support.idp import complete_idp_login, complete_idp_logout
from tests.support.servers import free_port


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
    def __init__(self, idp: LocalStack, idp_name: str, issuer: str, api: str) -> None:
        self.idp, self.idp_name, self.issuer, self.api = idp, idp_name, issuer, api


@pytest.fixture(scope="module")
def world(settings: Settings, stack: object) -> Iterator[World]:
    api_port, idp_port = _free_dev_port(), free_port()
    issuer = f"http://127.0.0.1:{idp_port}"
    server = LocalServer(
        f"oidc-{idp_port}", "127.0.0.1", idp_port, settings.data_path / "private" / f"oidc-{idp_port}", "oidc",
        env={"OIDC_BACKEND_BACKCHANNEL_LOGOUT_URI": f"http://127.0.0.1:{api_port}/auth/backchannel-logout"},
    )
    idp = LocalStack([server])
    idp.start_servers(timeout=30)
    env = {**subprocess_environment(settings), "RESORT_OIDC_ISSUER": issuer,
           "RESORT_PUBLIC_URL": f"http://127.0.0.1:{api_port}", "RESORT_IDP_RETRY_AFTER_S": "7",
           "RESORT_IDP_TIMEOUT_S": "1.5"}
    try:
        with serve_api(env, api_port) as api:
            yield World(idp, server.name, issuer, api)
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
        deadline = time.monotonic() + 5
        while (status := (await browser.get(f"{world.api}/auth/me", headers=_bearer(tokens))).status_code) == 200:
            assert time.monotonic() < deadline, "the back-channel logout did not end the session"
            await asyncio.sleep(0.1)
        assert status == 401
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

            ready = await browser.get(f"{world.api}/health/ready")
            assert ready.json()["dependencies"]["idp"]["status"] == "degraded"
            assert "idp" not in ready.json()["failed"]
        finally:
            world.idp.restart_server(world.idp_name)
        again = await _login(browser, world, "frontdesk")  # no api restart needed
        assert (await browser.get(f"{world.api}/auth/me", headers=_bearer(again))).status_code == 200
