"""Who may call what: the auth feature's guards, or refuse-everything stand-ins until it is installed.

Public catalogue reads carry ``opt={"public": True}``; the auth middleware lets them through unauthenticated.
"""

from __future__ import annotations

from typing import Any

from app.errors import Unauthorized

try:
    from app.auth.guards import requires_login, requires_roles
except ImportError:  # the auth feature is not in this build yet: nobody may write

    def requires_roles(*roles: str) -> Any:  # type: ignore[misc]
        def guard(connection: Any, handler: Any) -> None:
            raise Unauthorized("authentication is not available")

        return guard

    def requires_login(connection: Any, handler: Any) -> None:  # type: ignore[misc]
        raise Unauthorized("authentication is not available")


def principal_of(request: Any) -> Any | None:
    """The authenticated caller, or None (public routes, or auth not installed)."""
    try:
        from app.auth.principal import current_principal
    except ImportError:
        return None
    try:
        return current_principal(request)
    except Exception:
        return None


PUBLIC: dict[str, Any] = {"public": True}
ADMIN = [requires_roles("admin")]
GUEST = [requires_roles("guest")]
__all__ = ["ADMIN", "GUEST", "PUBLIC", "principal_of", "requires_login", "requires_roles"]
