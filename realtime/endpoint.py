"""``/live``: the WebSocket endpoint (JSON text frames; protocol in :mod:`realtime.asyncapi`).

The gateway has already authenticated a bearer header or the session cookie: an invalid or ended one refuses
the handshake with its own HTTP status and problem+json body (401 ``session_ended``, 429...), through the ASGI
denial-response extension. A cookie-authenticated handshake must come from a configured Origin, else it is refused
before accept (close 4403, which the server answers with HTTP 403), so a cross-site page cannot ride
a guest's cookie. Without a principal the socket may watch public availability, or send ``auth``.
A client address or a subject over its connection bound (``live_connections_per_ip`` /
``live_connections_per_subject``, per process) is refused before accept: HTTP 429 ``too_many_connections``.
"""

from __future__ import annotations

import asyncio

from litestar import WebSocket, websocket
from litestar.types import ASGIApp, Receive, Scope, Send

from app.auth.gateway import ACCESS_COOKIE, DENIAL, deny, header, parse_cookies
from app.auth.principal import current_principal
from app.clientaddr import client_ip
from app.errors import RateLimited
from realtime.access import origin_ok
from realtime.channels import CLOSE_CODES, CLOSE_ORIGIN, CLOSE_RATE_LIMITED
from realtime.connection import Connection
from realtime.metrics import CLOSED, CONNECTIONS
from realtime.service import LiveService
from realtime.session import LiveSession, seat_of
from realtime.wire import direct_writer


class RawSend:
    """The outermost ASGI wrapper: keeps the server's own ``send`` of each websocket scope in its state, so
    /live writes frames without going through every middleware's per-call wrapper (they watch HTTP
    response starts, never websocket frames): a fan-out's cost per frame is the socket write."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope.setdefault("state", {})["raw_send"] = send
        await self.app(scope, receive, send)


def _via_cookie(socket: WebSocket) -> bool:
    if header(socket.scope, b"authorization") is not None:
        return False
    return bool(parse_cookies(header(socket.scope, b"cookie") or "").get(ACCESS_COOKIE))


@websocket("/live", opt={"public": True}, include_in_schema=False)
async def live(socket: WebSocket) -> None:
    service: LiveService = socket.app.state.live
    principal = current_principal(socket.scope)
    if principal is not None and _via_cookie(socket) and not origin_ok(header(socket.scope, b"origin"),
                                                                        service.origins):
        CLOSED.labels(CLOSE_CODES[CLOSE_ORIGIN]).inc()
        await socket.close(code=CLOSE_ORIGIN, reason="origin_refused")
        return
    ip = client_ip(socket.scope)
    if not service.per_ip.take(ip):
        await _refuse(socket, f"At most {service.bounds.connections_per_ip} connections per client address.")
        return
    seat = seat_of(principal) if principal is not None else None
    try:
        if seat is not None and not service.per_subject.take(seat):
            seat = None
            await _refuse(socket, f"At most {service.bounds.connections_per_subject} connections per caller.")
            return
        await _serve(socket, service, principal)
    finally:
        service.per_ip.give_back(ip)
        if seat is not None:
            service.per_subject.give_back(seat)


async def _refuse(socket: WebSocket, detail: str) -> None:
    CLOSED.labels("too_many_connections").inc()
    send = socket.scope.get("state", {}).get("raw_send")
    if send is not None and DENIAL in socket.scope.get("extensions", {}):
        await deny(socket.scope, send, RateLimited(detail, code="too_many_connections"))
    else:
        await socket.close(code=CLOSE_RATE_LIMITED, reason="too_many_connections")


async def _serve(socket: WebSocket, service: LiveService, principal: object) -> None:
    await socket.accept()
    me, receiving = asyncio.current_task(), [True]

    def closed_by_server() -> None:
        if receiving[0] and me is not None:
            me.cancel()

    send = socket.scope.get("state", {}).get("raw_send") or socket.send
    bounds = service.bounds
    conn = Connection(send, bounds.buffer_frames, closed_by_server, bounds.buffer_bytes, bounds.send_timeout_s,
                      direct_writer(send))
    session = LiveSession(service, conn, principal, seated=True)  # type: ignore[arg-type]
    CONNECTIONS.inc()
    try:
        while True:
            message = await socket.receive()
            if message["type"] != "websocket.receive":
                break
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            await session.on_text(text)
    except asyncio.CancelledError:
        if conn.closing is None:
            raise
    finally:
        receiving[0] = False
        session.end()
        CONNECTIONS.dec()
        conn.stop()
        await conn.send_close()
