"""An api instance of the auth tests' own (its cookies never leak into the shared client) and helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar, Request, get, post
from litestar.testing import AsyncTestClient

from app.auth.guards import requires_roles, requires_scopes
from app.auth.principal import current_principal
from app.settings import Settings
from tests.support.idp import complete_idp_login


@get("/test-auth/public", opt={"public": True}, include_in_schema=False)
async def probe_public(request: Request[Any, Any, Any]) -> dict[str, Any]:
    principal = current_principal(request)
    return {"locale": principal.locale if principal else None, "who": principal.subject if principal else None}


@get("/test-auth/admin", guards=[requires_roles("admin")], include_in_schema=False)
async def probe_admin() -> dict[str, str]:
    return {"ok": "admin"}


@post("/test-auth/bookings", guards=[requires_roles("guest", "partner"), requires_scopes("bookings:write")],
      include_in_schema=False, status_code=200)
async def probe_partner_write(request: Request[Any, Any, Any]) -> dict[str, Any]:
    principal = current_principal(request)
    assert principal is not None
    return {"client_id": principal.client_id, "scopes": list(principal.scopes), "kind": principal.kind}


PROBES = [probe_public, probe_admin, probe_partner_write]


@pytest.fixture(scope="session")
async def auth_app(settings: Settings, stack: object) -> Litestar:
    from app.main import create_app

    app = create_app(settings)
    for handler in PROBES:
        app.register(handler)
    return app


@pytest.fixture(scope="session")
async def auth_client(auth_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(auth_app, base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture
def browser(auth_client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    """The auth tests' client with an empty cookie jar (cleared again after the test)."""
    auth_client.cookies.clear()
    yield auth_client
    auth_client.cookies.clear()


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def idp_callback_url(client: AsyncTestClient[Litestar], login: str, *, mode: str = "json") -> str:
    """Start a login at the api, sign in at the IdP's form; the callback URL the browser would follow."""
    if mode == "json":
        started = await client.get("/auth/login", params={"response": "json"})
        assert started.status_code == 200, started.text
        authorize = started.json()["authorization_url"]
    else:
        started = await client.get("/auth/login", params={"return_to": "/welcome"}, follow_redirects=False)
        assert started.status_code == 302, started.text
        authorize = started.headers["location"]
    return await complete_idp_login(authorize, login)


async def login_json(client: AsyncTestClient[Litestar], login: str) -> dict[str, Any]:
    """The mobile app's login: tokens as JSON."""
    callback = await idp_callback_url(client, login)
    answer = await client.get(local(callback))
    assert answer.status_code == 200, answer.text
    return answer.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
