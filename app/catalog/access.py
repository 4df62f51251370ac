"""Who may call what in the catalogue, with the auth feature's guards.

Public catalogue reads carry ``opt={"public": True}``: the gateway lets them through unauthenticated
(and still sets the principal when a valid token is sent, so the view can follow the user's locale).
Admin routes need the ``admin`` role; posting a review needs ``guest``.
"""

from __future__ import annotations

from typing import Any

from app.auth.guards import requires_login, requires_roles
from app.auth.principal import Principal, current_principal


def principal_of(request: Any) -> Principal | None:
    """The authenticated caller, or None on a public route called anonymously."""
    return current_principal(request)


PUBLIC: dict[str, Any] = {"public": True}
ADMIN = [requires_roles("admin")]
GUEST = [requires_roles("guest")]
__all__ = ["ADMIN", "GUEST", "PUBLIC", "principal_of", "requires_login", "requires_roles"]
