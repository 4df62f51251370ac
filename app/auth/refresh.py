"""Opaque refresh tokens that rotate on every use; one family per session (family id = session id).

Redis keeps only a hash of each token: ``auth:refresh:{sha256}`` -> {family, sid, sub, state}, and
``auth:family:{sid}`` -> {revoked, current}. Presenting a token that was already used is reuse (a stolen
token, or a replay): the whole family is revoked and the caller ends the session. The check and the
rotation are one Lua script, so two concurrent uses of one token cannot both rotate it.

Two tabs of one browser refreshing at once present the same token twice. For ``refresh_reuse_grace_s``
seconds after a rotation, and only while its successor is still the family's current token (not used
itself), the spent token yields that same successor again (``grace``) instead of ending the session. The
successor is kept for that window at ``auth:refresh-grace:{sha256}``, sealed with a key derived from the
spent token, so Redis alone cannot reveal it. Any later presentation is reuse.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import Enum

import msgspec
from redis.asyncio import Redis

from app.settings import Settings

# KEYS: the token's record, its grace record. ARGV: successor digest, ttl, sealed successor, grace seconds.
_ROTATE = """
local t = redis.call('HMGET', KEYS[1], 'family', 'sid', 'sub', 'state')
if not t[1] then return {'unknown'} end
local famkey = 'auth:family:' .. t[1]
local revoked = redis.call('HGET', famkey, 'revoked')
if revoked ~= '0' then return {'revoked', t[1], t[2], t[3]} end
if t[4] ~= 'active' then
  local g = redis.call('HMGET', KEYS[2], 'next', 'sealed')
  if g[1] and redis.call('HGET', famkey, 'current') == g[1] then
    return {'grace', t[1], t[2], t[3], g[2]}
  end
  redis.call('HSET', famkey, 'revoked', '1')
  return {'reuse', t[1], t[2], t[3]}
end
redis.call('HSET', KEYS[1], 'state', 'used')
local newkey = 'auth:refresh:' .. ARGV[1]
redis.call('HSET', newkey, 'family', t[1], 'sid', t[2], 'sub', t[3], 'state', 'active')
redis.call('EXPIRE', newkey, ARGV[2])
redis.call('HSET', famkey, 'current', ARGV[1])
redis.call('EXPIRE', famkey, ARGV[2])
if tonumber(ARGV[4]) > 0 then
  redis.call('HSET', KEYS[2], 'next', ARGV[1], 'sealed', ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return {'ok', t[1], t[2], t[3]}
"""


class Rotation(str, Enum):
    OK = "ok"
    GRACE = "grace"  # the same rotation again (two tabs at once): the successor already issued
    UNKNOWN = "unknown"
    REUSE = "reuse"
    REVOKED = "revoked"


class RotationResult(msgspec.Struct, frozen=True):
    outcome: Rotation
    token: str | None = None
    session_id: str | None = None
    subject: str | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def _pad(spent: str, size: int) -> bytes:
    pad = hashlib.sha512(b"refresh-grace:" + spent.encode()).digest()
    return (pad * (size // len(pad) + 1))[:size]


def seal(successor: str, spent: str) -> str:
    """The successor, readable only with the spent token (a one-time pad derived from it)."""
    raw = successor.encode()
    return bytes(a ^ b for a, b in zip(raw, _pad(spent, len(raw)), strict=True)).hex()


def unseal(sealed: str, spent: str) -> str:
    raw = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(raw, _pad(spent, len(raw)), strict=True)).decode()


class RefreshTokens:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.ttl = settings.refresh_token_ttl
        self.grace = max(0, settings.refresh_reuse_grace_s)
        self._rotate = redis.register_script(_ROTATE)

    async def issue(self, session_id: str, subject: str, ttl: int | None = None) -> str:
        """The first token of a new family (at login)."""
        token, ttl = new_token(), min(ttl or self.ttl, self.ttl)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"auth:family:{session_id}", mapping={"revoked": "0", "current": digest(token)})
            pipe.expire(f"auth:family:{session_id}", ttl)
            pipe.hset(f"auth:refresh:{digest(token)}",
                      mapping={"family": session_id, "sid": session_id, "sub": subject, "state": "active"})
            pipe.expire(f"auth:refresh:{digest(token)}", ttl)
            await pipe.execute()
        return token

    async def rotate(self, token: str, ttl: int | None = None) -> RotationResult:
        """Spend ``token`` and get its successor, or learn why not (unknown, reused, revoked)."""
        if not token.startswith("rt_") or len(token) > 200:
            return RotationResult(Rotation.UNKNOWN)
        successor = new_token()
        ttl = max(1, min(ttl or self.ttl, self.ttl))
        spent = digest(token)
        raw = await self._rotate(keys=[f"auth:refresh:{spent}", f"auth:refresh-grace:{spent}"],
                                 args=[digest(successor), ttl, seal(successor, token), self.grace])
        values = [v.decode() if isinstance(v, bytes) else v for v in raw]
        outcome = Rotation(values[0])
        if outcome is Rotation.UNKNOWN:
            return RotationResult(outcome)
        if outcome is Rotation.GRACE:
            return RotationResult(outcome, unseal(values[4], token), values[2], values[3])
        return RotationResult(outcome, successor if outcome is Rotation.OK else None, values[2], values[3])

    async def revoke_family(self, session_id: str) -> None:
        await self.redis.hset(f"auth:family:{session_id}", "revoked", "1")
