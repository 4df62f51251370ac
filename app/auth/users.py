"""The IdP profile mirrored into PostgreSQL on every login (unique by issuer and subject)."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    locale: str | None = None
    groups: tuple[str, ...] = ()


def profile_from_claims(issuer: str, claims: dict[str, Any]) -> Profile:
    """The profile the ID token (or userinfo) carries; unexpected types are ignored, not trusted."""
    groups = claims.get("groups")
    return Profile(
        issuer=issuer,
        subject=str(claims["sub"]),
        email=claims["email"] if isinstance(claims.get("email"), str) else None,
        email_verified=claims.get("email_verified") is True,
        name=claims["name"] if isinstance(claims.get("name"), str) else None,
        locale=claims["locale"] if isinstance(claims.get("locale"), str) else None,
        groups=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
    )


_UPSERT = """
INSERT INTO users (issuer, subject, email, email_verified, name, locale, groups, roles, last_login_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
ON CONFLICT (issuer, subject) DO UPDATE SET
    email = EXCLUDED.email, email_verified = EXCLUDED.email_verified, name = EXCLUDED.name,
    locale = EXCLUDED.locale, groups = EXCLUDED.groups, roles = EXCLUDED.roles,
    updated_at = now(), last_login_at = now()
RETURNING id
"""


async def sync_profile(db: asyncpg.Pool, profile: Profile, roles: list[str]) -> int:
    """Upsert the user; returns the row id."""
    async with db.acquire() as conn:
        return await conn.fetchval(_UPSERT, profile.issuer, profile.subject, profile.email, profile.email_verified,
                                   profile.name, profile.locale, list(profile.groups), roles)


_REFRESH = """
UPDATE users SET email = $3, email_verified = $4, name = $5, locale = $6, groups = $7, roles = $8, updated_at = now()
WHERE issuer = $1 AND subject = $2
"""


async def refresh_profile(db: asyncpg.Pool, profile: Profile, roles: list[str]) -> None:
    """What the IdP said at a refresh (not a login: ``last_login_at`` stays)."""
    async with db.acquire() as conn:
        await conn.execute(_REFRESH, profile.issuer, profile.subject, profile.email, profile.email_verified,
                           profile.name, profile.locale, list(profile.groups), roles)


async def load_user(db: asyncpg.Pool, issuer: str, subject: str) -> dict[str, Any] | None:
    async with db.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, subject, email, email_verified, name, locale, groups, roles, created_at, last_login_at"
            " FROM users WHERE issuer = $1 AND subject = $2", issuer, subject)
    return dict(row) if row else None
