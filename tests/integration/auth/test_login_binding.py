"""Login CSRF (RFC 9700 §4.7): a callback only completes in the browser or app that started the login."""

from __future__ import annotations

from http.cookies import SimpleCookie

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.auth.flow import binding_cookie
from tests.integration.auth.conftest import idp_callback_url, local
from tests.support.auth import AuthKit
from tests.support.idp import complete_idp_login


async def test_an_attackers_callback_url_does_not_sign_the_victim_in(
        browser: AsyncTestClient[Litestar], auth_kit: AuthKit) -> None:
    before = {s.id for s in await auth_kit.sessions.list_for("u-guest-0002")}
    # The attacker starts a login, signs in at the IdP as themselves and stops at the callback URL ...
    callback = await idp_callback_url(browser, "guest2", mode="redirect")
    # ... which the victim's browser (no cookie of that login) then opens.
    browser.cookies.clear()
    landed = await browser.get(local(callback), follow_redirects=False)
    assert landed.status_code == 400 and landed.json()["code"] == "login_not_bound", landed.text
    assert "resort_access" not in browser.cookies
    assert {s.id for s in await auth_kit.sessions.list_for("u-guest-0002")} == before


async def test_the_binding_cookie_is_short_lived_host_only_and_scoped_to_the_callback(
        browser: AsyncTestClient[Litestar]) -> None:
    started = await browser.get("/auth/login", follow_redirects=False)
    assert started.status_code == 302
    state = dict(p.split("=", 1) for p in started.headers["location"].split("?", 1)[1].split("&"))["state"]
    jar = SimpleCookie()
    for line in started.headers.get_list("set-cookie"):
        jar.load(line)
    morsel = jar[binding_cookie(state)]
    assert morsel["httponly"] and morsel["path"] == "/auth/callback" and not morsel["domain"]
    assert 0 < int(morsel["max-age"]) <= 600 and morsel["samesite"].lower() == "lax"


async def test_the_binding_of_another_login_is_refused(browser: AsyncTestClient[Litestar]) -> None:
    mine = (await browser.get("/auth/login", params={"response": "json"})).json()
    theirs = (await browser.get("/auth/login", params={"response": "json"})).json()
    callback = await complete_idp_login(theirs["authorization_url"], "guest2")
    browser.cookies.clear()
    answer = await browser.get(local(callback), headers={"X-Login-Binding": mine["login_binding"]})
    assert answer.status_code == 400 and answer.json()["code"] == "login_not_bound"


async def test_the_mobile_app_binds_with_the_header(browser: AsyncTestClient[Litestar]) -> None:
    started = (await browser.get("/auth/login", params={"response": "json"})).json()
    callback = await complete_idp_login(started["authorization_url"], "guest2")
    browser.cookies.clear()  # an app's own HTTP client, not the browser that showed the IdP's pages
    answer = await browser.get(local(callback), headers={"X-Login-Binding": started["login_binding"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["refresh_token"].startswith("rt_")
