"""The gateway's view of session liveness: Redis on every check, with a tiny local cache (at most
``auth_cache_ms``, default 500 ms) that a revocation published on ``auth:revocations`` empties at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis

from app.auth.sessions import REVOCATIONS, Session, SessionStore

log = structlog.get_logger("app.auth")
_MAX_ENTRIES = 50_000


class LiveSessions:
    def __init__(self, store: SessionStore, ttl_ms: int) -> None:
        self.store = store
        self.ttl = max(0, ttl_ms) / 1000
        self._cache: dict[str, tuple[float, Session | None]] = {}
        # Called with each revoked sid as it is published (e.g. realtime closes that session's sockets).
        self.on_revoke: list[Callable[[str], None]] = []

    async def get(self, sid: str) -> Session | None:
        """The live session (touched in Redis at most once per cache period), or None."""
        now = time.monotonic()
        hit = self._cache.get(sid)
        if hit is not None and hit[0] > now:
            return hit[1]
        session = await self.store.touch(sid)
        if self.ttl:
            if len(self._cache) > _MAX_ENTRIES:
                self._cache.clear()
            self._cache[sid] = (now + self.ttl, session)
        return session

    def drop(self, sid: str) -> None:
        self._cache.pop(sid, None)

    async def listen(self, redis: Redis) -> None:
        """Drop revoked sids as they are published; on a broken subscription forget everything."""
        while True:
            pubsub: Any = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(REVOCATIONS)
                self._cache.clear()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        sid = message["data"].decode()
                        self.drop(sid)
                        for callback in self.on_revoke:
                            callback(sid)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect; the cache is cleared on resubscribe
                log.warning("revocation_listener_error", error=str(exc))
                self._cache.clear()
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
