"""The full login through the real IdP's forms, then an authenticated call, refresh and logout."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.settings import Settings
from tests.integration.auth.conftest import bearer, idp_callback_url, local, login_json
from tests.support.wait import until


async def test_browser_login_call_refresh_logout(browser: AsyncTestClient[Litestar], settings: Settings) -> None:
    callback = await idp_callback_url(browser, "guest", mode="redirect")
    query = parse_qs(urlsplit(callback).query)
    assert query["code"] and query["state"] and query["iss"] == [settings.oidc_issuer]

    landed = await browser.get(local(callback), follow_redirects=False)
    assert landed.status_code == 303 and landed.headers["location"] == "/welcome"
    set_cookie = " ".join(landed.headers.get_list("set-cookie")).lower()
    assert "resort_access=" in set_cookie and "httponly" in set_cookie and "samesite=lax" in set_cookie
    assert "resort_refresh=" in set_cookie and "samesite=strict" in set_cookie

    me = await browser.get("/auth/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["subject"] == "u-guest-0001" and body["roles"] == ["guest"] and body["locale"] == "ko-KR"
    assert body["profile"]["email"] == "guest@example.com" and body["profile"]["groups"] == ["customers"]

    # Unsafe cookie-authenticated calls need the CSRF double submit.
    csrf = browser.cookies["resort_csrf"]
    refused = await browser.post("/auth/token/refresh")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    old_access = browser.cookies["resort_access"]
    refreshed = await browser.post("/auth/token/refresh", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 200, refreshed.text
    assert browser.cookies["resort_access"] != old_access

    assert (await browser.post("/auth/logout")).json()["code"] == "csrf_failed"
    out = await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200, out.text
    assert out.json()["end_session_url"].startswith(f"{settings.oidc_issuer}/session/end?")
    assert "resort_access" not in browser.cookies
    again = await browser.get("/auth/me", headers={"Cookie": f"resort_access={old_access}"})
    assert again.status_code == 401 and again.json()["code"] == "session_ended"


async def test_mobile_login_refresh_logout(auth_client: AsyncTestClient[Litestar], settings: Settings) -> None:
    tokens = await login_json(auth_client, "admin")
    me = await auth_client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and set(me.json()["roles"]) == {"admin", "front_desk", "guest"}
    assert me.json()["locale"] == "en-US"

    refreshed = await auth_client.post("/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"] and new["session_id"] == tokens["session_id"]
    assert (await auth_client.get("/auth/me", headers=bearer(new["access_token"]))).status_code == 200

    out = await auth_client.post("/auth/logout", headers=bearer(new["access_token"]))
    assert out.status_code == 200
    gone = await auth_client.get("/auth/me", headers=bearer(new["access_token"]))
    assert gone.status_code == 401 and gone.json()["code"] == "session_ended"
    again = await auth_client.post("/auth/token/refresh", json={"refresh_token": new["refresh_token"]})
    assert again.status_code == 401


async def test_login_mirrors_profile_and_audits(auth_client: AsyncTestClient[Litestar], auth_app: Litestar,
                                                settings: Settings) -> None:
    tokens = await login_json(auth_client, "frontdesk")
    conn = await asyncpg.connect(settings.database_url)
    try:
        user = await conn.fetchrow("SELECT * FROM users WHERE issuer = $1 AND subject = $2",
                                   settings.oidc_issuer, "u-frontdesk-0001")
        assert user["email"] == "frontdesk@gresort.example" and sorted(user["roles"]) == [
            "front_desk", "guest", "property:gangwon-ski", "property:jeju-ocean"]
        assert sorted(user["groups"]) == ["front-desk", "property:gangwon-ski", "property:jeju-ocean", "staff"]
        await auth_client.get("/auth/me", headers=bearer(tokens["access_token"]))
        row = await until(lambda: conn.fetchrow(
            "SELECT * FROM audit_log WHERE action = 'login' AND outcome = 'ok' AND actor = $1"
            " AND detail->>'session_id' = $2", "user:u-frontdesk-0001", tokens["session_id"]), timeout=5)
        assert row["detail"]
    finally:
        await conn.close()
