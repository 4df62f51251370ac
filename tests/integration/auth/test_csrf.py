"""The CSRF double submit on cookie-authenticated unsafe calls: any header bytes get a 403, never a 500."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support.auth import AuthKit

NON_ASCII = b"\xe9t\xe9"  # latin-1 bytes: a str with non-ASCII characters once the server decodes it


async def test_gateway_csrf_with_non_ascii_header(browser: AsyncTestClient[Litestar], auth_kit: AuthKit) -> None:
    headers, sid = await auth_kit.sign_in(["guest"])
    session = await auth_kit.sessions.get(sid)
    assert session is not None
    access = headers["Authorization"].removeprefix("Bearer ")
    for cookie in (f"resort_access={access}; resort_csrf={session.csrf}".encode(),
                   f"resort_access={access}; resort_csrf=".encode() + NON_ASCII):
        answer = await browser.post("/auth/logout", headers={"Cookie": cookie, "X-CSRF-Token": NON_ASCII})
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "csrf_failed"
    await auth_kit.sessions.revoke(sid)


async def test_refresh_csrf_with_non_ascii_header(browser: AsyncTestClient[Litestar]) -> None:
    mismatch = await browser.post("/auth/token/refresh", headers={
        "Cookie": b"resort_refresh=rt_unknown; resort_csrf=abc", "X-CSRF-Token": NON_ASCII})
    assert mismatch.status_code == 403 and mismatch.json()["code"] == "csrf_failed"
    matching = await browser.post("/auth/token/refresh", headers={
        "Cookie": b"resort_refresh=rt_unknown; resort_csrf=" + NON_ASCII, "X-CSRF-Token": NON_ASCII})
    assert matching.status_code == 401 and matching.json()["code"] == "invalid_refresh_token"
