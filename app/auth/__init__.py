"""Single sign-on, Redis sessions, tokens and the gateway that checks every request.

Endpoints (public unless noted):

- ``GET  /auth/login``                 redirect to the group IdP (state, nonce, PKCE S256 kept in Redis);
                                       ``?response=json`` for the mobile app, ``?return_to=/path`` for browsers
- ``GET  /auth/callback``              the IdP's redirect back: validates everything, creates the session;
                                       browsers get HttpOnly cookies + a redirect, the app gets JSON tokens
- ``POST /auth/token/refresh``         rotate the refresh token (JSON body or the refresh cookie + CSRF)
- ``POST /auth/logout``                (signed in) end the session; answers the IdP's end-session URL
- ``POST /auth/backchannel-logout``    the IdP's OIDC back-channel ``logout_token``
- ``GET  /.well-known/jwks.json``      the backend's public signing keys (current + previous)
- ``GET  /auth/me``                    (signed in) profile, roles, scopes, locale
- ``GET  /auth/sessions``              (user) my live sessions; ``DELETE /auth/sessions/{id}`` revokes one
- ``GET|DELETE /admin/users/{sub}/sessions``  (admin) a user's sessions; end them all, everywhere

Other features use :mod:`app.auth.guards` (``requires_login``, ``requires_roles``, ``requires_scopes``)
and :func:`app.auth.principal.current_principal`; a route is public only with ``opt={"public": True}``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from app.auth.account import ROUTES as ACCOUNT_ROUTES
from app.auth.admin import ROUTES as ADMIN_ROUTES
from app.auth.gateway import Gateway
from app.auth.login import ROUTES as LOGIN_ROUTES
from app.auth.service import AuthService
from app.resources import Resources

ROUTES: list[Any] = [*LOGIN_ROUTES, *ACCOUNT_ROUTES, *ADMIN_ROUTES]
MIDDLEWARE: list[Any] = [Gateway()]

__all__ = ["MIDDLEWARE", "ROUTES", "lifespan"]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    """Build the auth service, start the audit writer and the revocation listener; stop them after."""
    auth = AuthService.build(resources)
    app.state.auth = auth
    auth.audit.start()
    listener = asyncio.create_task(auth.live.listen(resources.redis), name="auth-revocation-listener")
    try:
        yield
    finally:
        await _cancel(listener)
        await auth.audit.stop()
        await auth.oauth.aclose()


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel until it ends: redis-py's pub/sub can swallow a cancellation that lands while it (re)connects,
    which left the app's shutdown waiting forever."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.2)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
