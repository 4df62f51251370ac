"""A server-side resync (the channel's stream was lost) that finds Redis unreachable is retried until the
subscriber has its fresh snapshot: it is never left detached and never told (the fault run found
subscribers silent for the rest of the run after a Redis restart)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
from typing import Any

from redis.asyncio import Redis
from structlog.testing import capture_logs

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


async def _until(predicate: Any, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_a_resync_is_retried_until_redis_answers(catalog_resort, sync_resources: Resources,
                                                      settings: Settings) -> None:
    service = LiveService.build(settings, sync_resources.db, sync_resources.redis, None)  # type: ignore[arg-type]
    frames: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            frames.append(json.loads(message["text"]))

    conn = Connection(send, 64, lambda: None)
    session = LiveSession(service, conn, None)
    channel = f"availability:{catalog_resort.property['id']}"
    start = catalog_resort.start
    try:
        await session.on_text(json.dumps({"op": "subscribe", "channel": channel, "from": start.isoformat(),
                                          "to": (start + dt.timedelta(days=2)).isoformat()}))
        assert [f["type"] for f in frames] == ["snapshot"]
        real, dead = service.store, Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.2)
        with capture_logs() as logs:
            service.store = StreamStore(dead, settings.live_stream_maxlen)  # Redis is restarting
            conn.resync(conn.subs[channel])
            await _until(lambda: any(e["event"] == "live_resync_retry" for e in logs))
            assert channel not in conn.subs and len(frames) == 1
            service.store = real  # Redis is back
            await _until(lambda: len(frames) == 2)
        assert frames[1]["type"] == "snapshot" and frames[1]["channel"] == channel
        assert not conn.subs[channel].catching_up and conn.subs[channel] in service.hub.readers[channel].subs
        await dead.aclose()
    finally:
        session.end()
        conn.stop()
        await service.hub.stop()
