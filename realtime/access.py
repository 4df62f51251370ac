"""Who may listen to which channel, and whether a handshake's Origin may ride a session cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis

from app.auth.principal import Principal
from app.settings import Settings
from realtime.channels import Channel, booking_key

STAFF = ("front_desk", "admin")


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def allowed_origins(settings: Settings) -> frozenset[str]:
    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    return frozenset(origin(u) for u in [settings.public_url, *settings.cors_origins] if u)


def origin_ok(origin: str | None, allowed: frozenset[str]) -> bool:
    return origin is not None and origin.rstrip("/").lower() in allowed


async def authorize(redis: Redis, channel: Channel, principal: Principal | None) -> None:
    """Raise :class:`Refused` unless ``principal`` may subscribe to ``channel``."""
    if channel.kind == "availability":
        return
    if principal is None:
        raise Refused("auth_required", "Sign in (or send the auth op) to subscribe to this channel.")
    if principal.has_any_role(*STAFF):
        return
    if channel.kind == "frontdesk":
        raise Refused("forbidden", "Only front desk and administrators may subscribe to this channel.")
    owner = await redis.hmget(booking_key(channel.key), ["owner_kind", "owner_id", "partner_client_id"])
    kind, owner_id, partner = (v.decode() if v is not None else None for v in owner)
    if principal.kind == "user" and kind == "user" and owner_id == principal.subject:
        return
    if principal.kind == "partner" and principal.client_id and principal.client_id in (
            partner, owner_id if kind == "partner" else None):
        return
    # Unknown bookings and other people's are refused alike: existence is not disclosed.
    raise Refused("forbidden", "This booking's channel is not yours.")
