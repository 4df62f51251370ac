"""A small /live client for the tests (the ``websockets`` library, real sockets)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


class Live:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base_url: str, headers: dict[str, str] | None = None, origin: str | None = None,
                   rcvbuf: int | None = None, max_queue: int | None = 16) -> Live:
        url = base_url.replace("http://", "ws://") + "/live"
        kwargs: dict[str, Any] = {"additional_headers": headers or {}, "max_queue": max_queue,
                                  "open_timeout": 10, "close_timeout": 2}
        if origin:
            kwargs["origin"] = origin
        if rcvbuf:  # a client that reads slowly: a small kernel buffer fills fast
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            host, port = base_url.rsplit("/", 1)[-1].split(":")
            sock.connect((host, int(port)))
            kwargs["sock"] = sock
        return cls(await connect(url, **kwargs))

    def stop_reading(self) -> None:
        """Read nothing more from the socket until :meth:`resume_reading`: the server's writes pile up."""
        self.ws.transport.pause_reading()

    def resume_reading(self) -> None:
        self.ws.transport.resume_reading()

    async def send(self, **op: Any) -> None:
        await self.ws.send(json.dumps(op))

    async def frame(self, timeout: float = 10) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def until(self, predicate: Any, timeout: float = 10) -> dict[str, Any]:
        """The first frame matching ``predicate`` (frames before it are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.frame(timeout)
                if predicate(frame):
                    return frame

    async def subscribe(self, channel: str, **extra: Any) -> dict[str, Any]:
        await self.send(op="subscribe", channel=channel, **extra)
        return await self.until(lambda f: f.get("channel") == channel)

    async def pong(self) -> None:
        await self.send(op="ping")
        await self.until(lambda f: f["type"] == "pong")

    async def closed(self, timeout: float = 10) -> int | None:
        """Read until the server closes; its close code."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self.ws.recv()
            except Exception:  # noqa: BLE001 - ConnectionClosed*: the close is what we wait for
                pass
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
