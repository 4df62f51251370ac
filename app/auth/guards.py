"""Litestar guards: 401 when nobody is authenticated, 403 when the caller lacks a role or scope.

Use them on any route: ``@get(..., guards=[requires_roles("admin")])``. Users are governed by roles;
scopes are what partner systems were granted by the IdP (a user principal has no scopes, so combine
``requires_roles("guest", "partner")`` with ``requires_scopes(...)`` only where partners are allowed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.auth.audit import AUTH_REFUSALS
from app.auth.principal import Principal, current_principal
from app.clientaddr import client_ip
from app.errors import Forbidden, Unauthorized

# Guards are coroutines: Litestar runs a plain function guard in a worker thread (anyio's ``to_thread``), a
# thread hop per guard per request for a few attribute reads.
Guard = Callable[[Any, Any], Awaitable[None]]


def sign_in_required() -> Unauthorized:
    """The 401 for a request that carries no token (the gateway's and the guards')."""
    return Unauthorized("Sign in to use this endpoint.", code="authentication_required",
                        headers={"WWW-Authenticate": 'Bearer realm="resort"'})


def _principal(connection: Any) -> Principal:
    principal = current_principal(connection)
    if principal is None:
        raise sign_in_required()
    return principal


def _refused(connection: Any, principal: Principal, error: Forbidden) -> Forbidden:
    """Audit (who, what, from where) and count a refusal by a guard; the error to raise."""
    auth = getattr(getattr(getattr(connection, "app", None), "state", None), "auth", None)
    if auth is not None:
        auth.audit.record("access", "forbidden", actor=principal.actor, client_id=principal.client_id,
                          ip=client_ip(connection.scope) or None, reason=error.code, path=connection.scope.get("path"))
    AUTH_REFUSALS.labels(error.code).inc()
    return error


async def requires_login(connection: Any, _: Any) -> None:
    """Any authenticated caller (user or partner)."""
    _principal(connection)


async def requires_user(connection: Any, _: Any) -> None:
    """An authenticated user with a session (not a partner system)."""
    principal = _principal(connection)
    if principal.kind != "user":
        raise _refused(connection, principal,
                       Forbidden("This endpoint is for signed-in users.", code="insufficient_role"))


def requires_roles(*roles: str) -> Guard:
    """Any one of ``roles``."""

    async def guard(connection: Any, _: Any) -> None:
        principal = _principal(connection)
        if not principal.has_any_role(*roles):
            raise _refused(connection, principal, Forbidden(
                f"Requires one of the roles: {', '.join(roles)}.", code="insufficient_role",
                extra={"required_roles": list(roles)}))

    return guard


def requires_scopes(*scopes: str) -> Guard:
    """Partners must hold every one of ``scopes``; users pass (roles govern them)."""

    async def guard(connection: Any, _: Any) -> None:
        principal = _principal(connection)
        if principal.kind == "partner" and not principal.has_scopes(*scopes):
            raise _refused(connection, principal, Forbidden(
                f"Requires the scopes: {' '.join(scopes)}.", code="insufficient_scope",
                extra={"required_scopes": list(scopes)},
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'}))

    return guard
