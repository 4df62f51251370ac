"""Who may listen to which channel, and whether a handshake's Origin may ride a session cookie."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import asyncpg
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


async def booking_owner(redis: Redis, db: asyncpg.Pool, booking_id: str) -> tuple[str | None, ...]:
    """(owner kind, owner id, partner client id, property id): as the publisher recorded it from the
    booking's events, else from PostgreSQL (a booking whose first event is still on its way, or a Redis that
    lost it); all None for a booking that does not exist."""
    owner = await redis.hmget(booking_key(booking_id), ["owner_kind", "owner_id", "partner_client_id", "property_id"])
    kind, owner_id, partner, property_id = (v.decode() if v is not None else None for v in owner)
    if kind is not None:
        return kind, owner_id, partner, property_id
    try:
        key = uuid.UUID(booking_id)
    except ValueError:
        return None, None, None, None
    row = await db.fetchrow("SELECT owner_kind, owner_id, property_id FROM bookings WHERE id = $1", key)
    if row is None:
        return None, None, None, None
    return (row["owner_kind"], row["owner_id"], row["owner_id"] if row["owner_kind"] == "partner" else None,
            row["property_id"])


def staff_of(principal: Principal, property_id: str | None) -> bool:
    """Whether ``principal`` is staff of the property. The group's identity provider assigns front desk and
    administrators to the group, not to one property: every property's staff is the group's (the one place
    to narrow it when tokens name properties)."""
    return property_id is not None and principal.has_any_role(*STAFF) and principal.may_act_on(property_id)


async def authorize(redis: Redis, db: asyncpg.Pool, channel: Channel, principal: Principal | None) -> None:
    """Raise :class:`Refused` unless ``principal`` may subscribe to ``channel``: availability is public; a
    property's front-desk feed is its staff's; a booking's stream is its guest's, the partner's that made
    it and its property's staff's, and only a booking that exists has one (subscribing creates none)."""
    if channel.kind == "availability":
        return
    if principal is None:
        raise Refused("auth_required", "Sign in (or send the auth op) to subscribe to this channel.")
    if channel.kind == "frontdesk":
        if principal.has_any_role(*STAFF, "housekeeping") and principal.may_act_on(channel.key):
            return
        raise Refused("forbidden", "Only this property's front desk and administrators may subscribe to this channel.")
    kind, owner_id, partner, property_id = await booking_owner(redis, db, channel.key)
    if principal.kind == "user" and kind == "user" and owner_id == principal.subject:
        return
    if principal.kind == "partner" and principal.client_id and principal.client_id in (
            partner, owner_id if kind == "partner" else None):
        return
    if kind is not None and staff_of(principal, property_id):
        return
    # Unknown bookings and other people's are refused alike: existence is not disclosed.
    raise Refused("forbidden", "This booking's channel is not yours.")
