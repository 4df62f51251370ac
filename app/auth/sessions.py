"""Sessions in Redis, shared by every api instance: one per login, with idle and absolute timeouts.

Keys: ``auth:session:{sid}`` (hash), ``auth:user-sessions:{sub}`` (set of sids),
``auth:idp-session:{idp_sid}`` (set of sids, for back-channel logout). Every revocation is published on
``auth:revocations`` so the instances drop the sid from their short local cache at once.
"""

from __future__ import annotations

import secrets
import time

import msgspec
from redis.asyncio import Redis

from app.settings import Settings

REVOCATIONS = "auth:revocations"

_TOUCH = """
local abs = tonumber(redis.call('HGET', KEYS[1], 'abs_exp'))
if not abs then return nil end
local now = tonumber(ARGV[1])
if now >= abs then redis.call('DEL', KEYS[1]); return nil end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), abs - now))
return redis.call('HGETALL', KEYS[1])
"""

# Update fields of a live session only: never recreate a revoked session's hash (it would have no TTL).
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


def session_key(sid: str) -> str:
    return f"auth:session:{sid}"


def _user_key(subject: str) -> str:
    return f"auth:user-sessions:{subject}"


def _idp_key(idp_sid: str) -> str:
    return f"auth:idp-session:{idp_sid}"


def _ms() -> int:
    return int(time.time() * 1000)


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """One login: who, with which roles, since when, last seen when (epoch ms)."""

    id: str
    subject: str
    roles: tuple[str, ...]
    created: int
    last_seen: int
    abs_exp: int
    csrf: str
    locale: str = ""
    name: str = ""
    email: str = ""
    idp_sid: str = ""
    ip: str = ""
    user_agent: str = ""
    id_token: str = ""
    idp_refresh: str = ""

    def public(self) -> dict[str, object]:
        """What a user may see of their own sessions."""
        return {"id": self.id, "created": self.created, "last_seen": self.last_seen,
                "expires": self.abs_exp, "ip": self.ip, "user_agent": self.user_agent}


def _decode(raw: dict[bytes, bytes] | list[bytes] | None) -> Session | None:
    if not raw:
        return None
    if isinstance(raw, list):
        raw = dict(zip(raw[::2], raw[1::2], strict=True))
    fields = {k.decode(): v.decode() for k, v in raw.items()}
    try:
        return Session(
            id=fields["id"], subject=fields["sub"], roles=tuple(fields.get("roles", "").split()),
            created=int(fields["created"]), last_seen=int(fields["last_seen"]), abs_exp=int(fields["abs_exp"]),
            csrf=fields.get("csrf", ""), locale=fields.get("locale", ""), name=fields.get("name", ""),
            email=fields.get("email", ""), idp_sid=fields.get("idp_sid", ""), ip=fields.get("ip", ""),
            user_agent=fields.get("ua", ""), id_token=fields.get("id_token", ""),
            idp_refresh=fields.get("idp_rt", ""),
        )
    except (KeyError, ValueError):
        return None


class SessionStore:
    """Create, touch, list and revoke sessions."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self._touch = redis.register_script(_TOUCH)
        self._update = redis.register_script(_UPDATE)

    async def create(self, *, subject: str, roles: list[str] | tuple[str, ...], locale: str = "", name: str = "",
                     email: str = "", idp_sid: str = "", ip: str = "", user_agent: str = "",
                     id_token: str = "", idp_refresh: str = "") -> Session:
        now = _ms()
        session = Session(
            id=secrets.token_urlsafe(24), subject=subject, roles=tuple(roles), created=now, last_seen=now,
            abs_exp=now + self.settings.session_absolute_timeout * 1000, csrf=secrets.token_urlsafe(24),
            locale=locale, name=name, email=email, idp_sid=idp_sid, ip=ip, user_agent=user_agent[:300],
            id_token=id_token, idp_refresh=idp_refresh,
        )
        mapping = {
            "id": session.id, "sub": subject, "roles": " ".join(roles), "created": now, "last_seen": now,
            "abs_exp": session.abs_exp, "csrf": session.csrf, "locale": locale, "name": name, "email": email,
            "idp_sid": idp_sid, "ip": ip, "ua": session.user_agent, "id_token": id_token,
            "idp_rt": idp_refresh,
        }
        absolute = self.settings.session_absolute_timeout
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(session_key(session.id), mapping=mapping)
            pipe.expire(session_key(session.id), min(self.settings.session_idle_timeout, absolute))
            pipe.sadd(_user_key(subject), session.id)
            pipe.expire(_user_key(subject), absolute)
            if idp_sid:
                pipe.sadd(_idp_key(idp_sid), session.id)
                pipe.expire(_idp_key(idp_sid), absolute)
            await pipe.execute()
        return session

    async def touch(self, sid: str) -> Session | None:
        """The live session (last seen now, idle timer restarted), or None if it ended."""
        raw = await self._touch(keys=[session_key(sid)],
                                args=[_ms(), self.settings.session_idle_timeout * 1000])
        return _decode(raw)

    async def update(self, sid: str, *, roles: list[str] | tuple[str, ...], idp_refresh: str) -> bool:
        """New roles (and the IdP's rotated refresh token) for a live session; False if it has ended."""
        fields = ["roles", " ".join(roles), "idp_rt", idp_refresh]
        return bool(await self._update(keys=[session_key(sid)], args=fields))

    async def get(self, sid: str) -> Session | None:
        session = _decode(await self.redis.hgetall(session_key(sid)))
        if session is not None and session.abs_exp <= _ms():
            return None
        return session

    async def list_for(self, subject: str) -> list[Session]:
        sids = sorted(s.decode() for s in await self.redis.smembers(_user_key(subject)))
        sessions = []
        for sid in sids:
            session = await self.get(sid)
            if session is None:
                await self.redis.srem(_user_key(subject), sid)
            else:
                sessions.append(session)
        return sessions

    async def revoke(self, sid: str) -> Session | None:
        """End one session everywhere; returns it if it was alive."""
        session = await self.get(sid)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(session_key(sid))
            if session is not None:
                pipe.srem(_user_key(session.subject), sid)
                if session.idp_sid:
                    pipe.srem(_idp_key(session.idp_sid), sid)
            pipe.publish(REVOCATIONS, sid)
            await pipe.execute()
        return session

    async def revoke_all(self, subject: str) -> list[str]:
        sids = [s.decode() for s in await self.redis.smembers(_user_key(subject))]
        for sid in sids:
            await self.revoke(sid)
        return sids

    async def revoke_idp_session(self, idp_sid: str | None, subject: str | None) -> list[str]:
        """Back-channel logout: every session born from that IdP session (or, without sid, the subject's)."""
        if idp_sid:
            sids = [s.decode() for s in await self.redis.smembers(_idp_key(idp_sid))]
            ended = []
            for sid in sids:
                session = await self.get(sid)
                if session is not None and (subject is None or session.subject == subject):
                    await self.revoke(sid)
                    ended.append(sid)
            return ended
        return await self.revoke_all(subject) if subject else []
