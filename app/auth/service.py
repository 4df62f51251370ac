"""The auth feature's parts, built once per app in its lifespan and kept on ``app.state.auth``."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from app.auth.audit import AuditTrail
from app.auth.flow import AsyncOAuth2Client, LoginStart, oauth_client, start_login, take_state
from app.auth.idp import IdentityProvider
from app.auth.jwtcheck import TokenRejected
from app.auth.keys import KeyRing, keys_path
from app.auth.live import LiveSessions
from app.auth.ratelimit import RateLimiter
from app.auth.refresh import RefreshTokens
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.auth.users import Profile, load_user, sync_profile
from app.resources import Resources
from app.settings import Settings


@dataclass(slots=True)
class VerifiedTokens:
    """Claims of tokens whose signature and claims were checked, until they expire (bounded)."""

    size: int
    entries: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def get(self, token: str) -> dict[str, Any] | None:
        hit = self.entries.get(token)
        if hit is None:
            return None
        if hit[0] < time.time():
            self.entries.pop(token, None)
            return None
        return hit[1]

    def put(self, token: str, claims: dict[str, Any]) -> None:
        if self.size <= 0:
            return
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[token] = (float(claims.get("exp", 0)), claims)


@dataclass(slots=True)
class AuthService:
    settings: Settings
    resources: Resources
    keys: KeyRing
    tokens: AccessTokens
    sessions: SessionStore
    live: LiveSessions
    refresh: RefreshTokens
    idp: IdentityProvider
    limiter: RateLimiter
    audit: AuditTrail
    verified: VerifiedTokens
    oauth: AsyncOAuth2Client

    @classmethod
    def build(cls, resources: Resources) -> AuthService:
        settings = resources.settings
        keys = KeyRing(keys_path(settings))
        sessions = SessionStore(resources.redis, settings)
        return cls(
            settings=settings,
            resources=resources,
            keys=keys,
            tokens=AccessTokens(settings, keys),
            sessions=sessions,
            live=LiveSessions(sessions, settings.auth_cache_ms),
            refresh=RefreshTokens(resources.redis, settings),
            idp=IdentityProvider(settings, resources.http),
            limiter=RateLimiter(resources.redis),
            audit=AuditTrail(resources.db),
            verified=VerifiedTokens(settings.auth_token_cache_size),
            oauth=oauth_client(settings),
        )

    async def start_login(self, *, mode: str, return_to: str) -> LoginStart:
        """A new login at the IdP: its state kept in Redis until the callback (``flow.start_login``)."""
        return await start_login(self.idp, self.oauth, self.resources.redis, mode=mode, return_to=return_to)

    async def take_login_state(self, state: str, binding: str | None) -> dict[str, Any]:
        """The login started with ``state`` by the client presenting ``binding``, consumed (single use)."""
        return await take_state(self.resources.redis, state, binding)

    async def mirror_profile(self, profile: Profile, roles: list[str]) -> None:
        """Keep the signed-in user's group profile (and roles) in PostgreSQL."""
        await sync_profile(self.resources.db, profile, roles)

    async def profile(self, subject: str) -> dict[str, Any] | None:
        """The mirrored profile of a user of the group's IdP, None if never signed in."""
        return await load_user(self.resources.db, self.settings.oidc_issuer, subject)

    async def remember_logout_token(self, claims: dict[str, Any]) -> None:
        """A logout token works once: its ``jti`` is kept in Redis until the token has expired (plus leeway)."""
        ttl = max(1, int(claims["exp"]) - int(time.time()) + self.settings.jwt_leeway_s)
        jti = hashlib.sha256(f"{claims['iss']}\n{claims['jti']}".encode()).hexdigest()
        if not await self.resources.redis.set(f"auth:logout-jti:{jti}", "1", nx=True, ex=ttl):
            raise TokenRejected("replayed_logout_token")

    async def retire(self, session_id: str) -> None:
        """After a session was revoked in Redis: revoke its refresh family, drop it from this instance's cache."""
        await self.refresh.revoke_family(session_id)
        self.live.drop(session_id)


def auth_of(app: Any) -> AuthService:
    return app.state.auth
