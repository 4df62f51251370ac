"""Prepared frames under the api's server: uvicorn's websocket (as ``resort run api`` configures it) is written
to directly, and a client reads the prepared bytes as the text they carry (a real socket, ``websockets``)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect

from realtime.wire import direct_writer, prepare


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, then send one frame: through the direct writer if there is one, else a plain ASGI send."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    writer = direct_writer(send)
    if writer is None or not writer(prepare("written directly")):
        await send({"type": "websocket.send", "text": "sent through ASGI"})
    await receive()


@pytest.fixture
async def server() -> AsyncIterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, loop="none", http="httptools", lifespan="off",
                            log_level="warning", ws_per_message_deflate=False)  # as app.cli runs the api
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}/"
    instance.should_exit = True
    await task


async def test_a_prepared_frame_written_to_the_socket_is_read_as_its_text(server: str) -> None:
    async with connect(server, compression=None) as ws:
        assert await asyncio.wait_for(ws.recv(), 10) == "written directly"
