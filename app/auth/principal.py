"""Who is calling: set by the gateway on ``scope["state"]["principal"]`` for every authenticated request."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

ROLES = ("guest", "front_desk", "partner", "admin")


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller: a user with a session, or a partner system with IdP-issued scopes."""

    subject: str
    kind: Literal["user", "partner"]
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    session_id: str | None = None
    client_id: str | None = None
    locale: str | None = None
    name: str | None = None
    email: str | None = None
    token_id: str | None = None
    expires_at: int = 0

    def has_any_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def has_scopes(self, *scopes: str) -> bool:
        return all(scope in self.scopes for scope in scopes)

    @property
    def actor(self) -> str:
        """How audit rows and log lines name this caller."""
        return f"client:{self.client_id}" if self.kind == "partner" else f"user:{self.subject}"


def current_principal(connection: Any) -> Principal | None:
    """The principal of a request or websocket (``ASGIConnection`` or a raw ASGI scope), or None."""
    scope = getattr(connection, "scope", connection)
    state = scope.get("state") or {}
    principal = state.get("principal")
    return principal if isinstance(principal, Principal) else None
