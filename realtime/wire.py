"""Prepared frames: an update's WebSocket frame built once and written as is to every socket.

A server's frames are not masked (RFC 6455 5.1), so an update's frame is the same bytes for every subscriber:
:func:`prepare` builds them once per entry per process (as gorilla/websocket's ``PreparedMessage`` does), and
:class:`DirectWriter` writes them straight to a socket's transport. Without it every subscriber paid for the
ASGI send and the ``websockets`` framing of the same text (a frame object, its header, a join, a UTF-8
encoding): 40 % of a fan-out's CPU, the rest being the socket write itself.

Only under uvicorn's ``websockets-sansio`` protocol (the api's server: ``resort run api``), on an open socket
with no extension negotiated, whose transport is writable (not paused by its high-water mark) and that is not
closing. Otherwise the writer declines and the frame takes the ASGI send, with its flow control, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from websockets.protocol import State

_FIN_TEXT = 0x81


def prepare(text: str) -> bytes:
    """The wire bytes of one unmasked, unfragmented text frame carrying ``text``."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((_FIN_TEXT, size)) + payload
    if size < 1 << 16:
        return bytes((_FIN_TEXT, 126)) + size.to_bytes(2, "big") + payload
    return bytes((_FIN_TEXT, 127)) + size.to_bytes(8, "big") + payload


class DirectWriter:
    """Writes prepared frames to one uvicorn websocket's transport while nothing stands in the way."""

    __slots__ = ("protocol", "conn", "transport", "writable")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.conn = protocol.conn  # the websockets ServerProtocol: its state says open or closing
        self.transport = protocol.transport
        self.writable = protocol.writable  # cleared by uvicorn while the transport is paused

    def __call__(self, frame: bytes) -> bool:
        """Write ``frame`` now; False (nothing written) if the ASGI send must take it."""
        protocol = self.protocol
        if (protocol.close_sent or protocol.disconnected or not self.writable.is_set()
                or self.conn.state is not State.OPEN or self.transport.is_closing()):
            return False
        self.transport.write(frame)
        return True


def direct_writer(send: Callable[..., Any]) -> DirectWriter | None:
    """A writer for the socket whose server ``send`` this is (once accepted), or None where the server is not
    uvicorn's websockets-sansio protocol or an extension (compression) was negotiated."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # pragma: no cover - uvicorn is the api's server
        return None
    protocol = getattr(send, "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol) or protocol.conn.extensions:
        return None
    return DirectWriter(protocol)
