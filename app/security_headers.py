"""Security headers on every response, and a strict Content-Security-Policy on every HTML page.

A raw ASGI wrapper around the whole app (like the request-id middleware), so it covers pages added by
any feature, the docs, error pages and 404s alike, without those knowing about it:

- every HTML response (``Content-Type: text/html``): ``Content-Security-Policy`` allowing only the app's
  own origin for scripts, styles, images, fonts and connections (plus the WebSocket of that origin),
  no inline script or style, ``frame-ancestors 'none'``; ``X-Frame-Options: DENY`` for old browsers;
- every response: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``.

A response that already carries one of these headers keeps its own value (a page that truly needs a
script hash or nonce sets its own policy; the test of every HTML page still checks it names no other
origin).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

Headers = tuple[tuple[bytes, bytes], ...]


def content_security_policy(public_url: str) -> str:
    """The pages' policy: the app's own origin only; WebSockets to that same origin (``/live``)."""
    parts = urlsplit(public_url)
    websocket = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
    directives = (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self' {websocket}",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
    return "; ".join(directives)


def header_sets(settings: Settings) -> tuple[Headers, Headers]:
    """(headers of every response, extra headers of HTML responses)."""
    every: Headers = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
    pages: Headers = (
        (b"content-security-policy", content_security_policy(settings.public_url).encode()),
        (b"x-frame-options", b"DENY"),
    )
    return every, pages


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.lower().startswith(b"text/html")
    return False


class SecurityHeadersMiddleware:
    """Adds the headers above to each HTTP response start message, keeping any already set."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.every, self.pages = header_sets(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                extra = self.every + self.pages if _is_html(headers) else self.every
                headers.extend(pair for pair in extra if pair[0] not in present)
                message = {**message, "headers": headers}  # type: ignore[assignment]
            await send(message)

        await self.app(scope, receive, send_with_headers)
