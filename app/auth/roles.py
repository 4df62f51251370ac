"""Roles at refresh: a change of the user's groups takes effect at the session's next refresh, not at the
end of the session. The IdP is asked first (its refresh grant, kept from the login); when it cannot be
asked, the user record mirrored in PostgreSQL decides. When the IdP refuses the grant, the session ends."""

from __future__ import annotations

import structlog

from app.auth.flow import refresh_at_idp
from app.auth.idp import IdpUnavailable
from app.auth.jwtcheck import TokenRejected
from app.auth.service import AuthService
from app.auth.sessions import Session
from app.auth.users import load_user, profile_from_claims, refresh_profile

log = structlog.get_logger("app.auth")


async def _from_idp(auth: AuthService, session: Session) -> tuple[list[str], str] | None:
    try:
        signed = await refresh_at_idp(auth.idp, auth.oauth, session.idp_refresh, session.subject)
    except (IdpUnavailable, TokenRejected) as exc:
        log.warning("idp_refresh_failed", session_id=session.id, error=type(exc).__name__)
        return None
    if "groups" not in signed.claims:  # the IdP said nothing about groups: keep what the record says
        return None
    profile = profile_from_claims(auth.settings.oidc_issuer, signed.claims)
    roles = auth.settings.roles_for_groups(list(profile.groups))
    await refresh_profile(auth.resources.db, profile, roles)
    return roles, signed.idp_refresh


async def current_roles(auth: AuthService, session: Session) -> tuple[list[str], str]:
    """The roles for the session's next access token and the IdP refresh token to keep.

    Raises :class:`app.auth.flow.GrantRevoked` when the IdP no longer vouches for the user."""
    if session.idp_refresh:
        fresh = await _from_idp(auth, session)
        if fresh is not None:
            return fresh
    user = await load_user(auth.resources.db, auth.settings.oidc_issuer, session.subject)
    if user is None:
        return list(session.roles), session.idp_refresh
    return auth.settings.roles_for_groups(list(user["groups"])), session.idp_refresh
