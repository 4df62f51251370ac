"""``HEAD`` on every ``GET`` route (RFC 9110 §9.3.2): the same status and headers as the ``GET``, no body.

A raw ASGI wrapper, outermost, so every route of every feature (the docs, the pages, the health probes)
has it without declaring it: the request is routed as a ``GET`` (a copy of the scope: the server still
knows it answers a ``HEAD``) and each body message is sent empty; ``Content-Length`` stays the ``GET``'s.
An ``Allow`` header that lists ``GET`` (``OPTIONS``, ``405``) also lists ``HEAD``. The document does not
repeat ``HEAD`` per operation: HTTP says a ``GET`` implies it, and generated clients would gain a
second method per read.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def with_head(allow: bytes) -> bytes:
    methods = [m.strip() for m in allow.decode("latin-1").split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return ", ".join(sorted(methods)).encode("latin-1")


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"

        async def send_headless(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, with_head(value) if name.lower() == b"allow" else value)
                           for name, value in message.get("headers", ())]
                message = {**message, "headers": headers}  # type: ignore[assignment]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}  # type: ignore[assignment]
            await send(message)

        await self.app({**scope, "method": "GET"} if head else scope, receive, send_headless)  # type: ignore[arg-type]


def http_semantics(app: ASGIApp) -> ASGIApp:
    """The outer wrappers of this package, in order: ``HEAD`` as ``GET``, then ``Vary`` merged."""
    from app.http_semantics.caching import MergedVary

    return HeadAsGet(MergedVary(app))
