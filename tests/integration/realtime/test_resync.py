"""A server-side resync (the channel's stream was lost) that finds Redis unreachable is retried until the
subscriber has its fresh snapshot: it is never left detached and never told (the fault run found
subscribers silent for the rest of the run after a Redis restart).

Deterministic: the test waits on conditions the code signals (each attempt on the dead Redis, the frame
the socket gets), never on time or on log lines; the dead Redis refuses at once (no client retries with
random backoff, which once made the first attempt outlast the test's deadline)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.resources import Resources
from app.settings import Settings
from realtime.connection import Connection
from realtime.service import LiveService
from realtime.session import LiveSession
from realtime.store import StreamStore


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DeadStore(StreamStore):
    """A store whose Redis is down (a closed port): every attempt fails, and is counted."""

    def __init__(self, redis: Redis, maxlen: int) -> None:
        super().__init__(redis, maxlen)
        self.attempts = 0
        self.changed = asyncio.Condition()

    async def position(self, channel: str) -> tuple[str, int]:
        try:
            return await super().position(channel)
        finally:
            async with self.changed:
                self.attempts += 1
                self.changed.notify_all()


async def test_a_resync_is_retried_until_redis_answers(catalog_resort, sync_resources: Resources,
                                                      settings: Settings) -> None:
    service = LiveService.build(settings, sync_resources.db, sync_resources.redis, None)  # type: ignore[arg-type]
    frames: list[dict[str, Any]] = []
    arrived = asyncio.Condition()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            async with arrived:
                frames.append(json.loads(message["text"]))
                arrived.notify_all()

    conn = Connection(send, 64, lambda: None)
    session = LiveSession(service, conn, None)
    channel = f"availability:{catalog_resort.property['id']}"
    start = catalog_resort.start
    dead_redis = Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.2,
                       retry=Retry(NoBackoff(), 0))
    dead = DeadStore(dead_redis, settings.live_stream_maxlen)
    try:
        await session.on_text(json.dumps({"op": "subscribe", "channel": channel, "from": start.isoformat(),
                                          "to": (start + dt.timedelta(days=2)).isoformat()}))
        assert [f["type"] for f in frames] == ["snapshot"]
        real, service.store = service.store, dead  # Redis is restarting
        conn.resync(conn.subs[channel])
        async with asyncio.timeout(20), dead.changed:
            await dead.changed.wait_for(lambda: dead.attempts >= 2)  # failed, and tried again
        assert channel not in conn.subs and len(frames) == 1  # detached meanwhile, and told nothing yet
        service.store = real  # Redis is back
        async with asyncio.timeout(20), arrived:
            await arrived.wait_for(lambda: len(frames) == 2)
        assert frames[1]["type"] == "snapshot" and frames[1]["channel"] == channel
        assert not conn.subs[channel].catching_up and conn.subs[channel] in service.hub.readers[channel].subs
    finally:
        session.end()
        conn.stop()
        await service.hub.stop()
        await dead_redis.aclose()
