"""Who is calling: set by the gateway on ``scope["state"]["principal"]`` for every authenticated request."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from app.settings import PROPERTY_GRANT

ROLES = ("guest", "front_desk", "housekeeping", "partner", "admin")


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
    def properties(self) -> frozenset[str]:
        """The properties this user's staff roles are granted at (IdP groups ``property:<id>``)."""
        return frozenset(r[len(PROPERTY_GRANT):] for r in self.roles if r.startswith(PROPERTY_GRANT))

    def may_act_on(self, property_id: str) -> bool:
        """Staff act on the properties they are granted; admin on every one."""
        return self.has_any_role("admin") or (self.kind == "user" and property_id in self.properties)

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
