"""Validators, freshness and ``Vary`` on reads (RFC 9110 §8.8, §12.5.5, §13; RFC 9111 §5.2).

- **Every ``GET``** answers ``Vary`` naming the request headers its handler reads (its header parameters,
  e.g. ``Accept-Language``, and ``opt={"vary": [...]}`` for one that reads a header itself), merged with
  any ``Vary`` already set (CORS adds ``Origin``).
- **A cacheable read** (``opt=CACHED_READ``, e.g. the public catalogue) also answers a strong ``ETag``
  (its own, or a digest of the body), ``Cache-Control: max-age`` (``public`` for an anonymous caller,
  ``private`` for a signed-in one, whose answer may follow their locale) and ``Vary: Authorization, Cookie``;
  an ``If-None-Match`` naming the current tag gets ``304`` with those headers and no body. Answers larger
  than ``http_cache_max_body_bytes`` pass through unbuffered (no digest).
- **Any other read made with credentials** (``Authorization`` or a session cookie: a guest's bookings, a
  partner's holds, an account) answers ``Cache-Control: private, no-store`` unless its handler set one.

The document says so too (:func:`document_caching`): the ``If-None-Match`` parameter and ``304`` of each
cacheable read (``opt["headers"]`` and the 304 convention of app.problem_docs), the headers of its ``200``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import ParameterKwarg
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

IF_NONE_MATCH = {"If-None-Match": {
    "required": False,
    "description": "the ETag you hold: `304` with no body when it is still current"}}
CACHED_READ: dict[str, Any] = {"cache": True, "headers": IF_NONE_MATCH}
# Request headers that choose whether to answer, not what the answer is.
NOT_VARYING = frozenset({"if-none-match", "if-match", "if-modified-since", "cache-control", "authorization",
                         "idempotency-key", "x-csrf-token", "x-request-id"})
CREDENTIALS = (b"authorization", b"cookie")
PERSONAL = b"private, no-store"
VARY_KEY = "resort.vary"  # the scope's record of the route's Vary names (an ASGI scope extension key)


def cacheable(handler: HTTPRouteHandler) -> bool:
    return any((getattr(layer, "opt", None) or {}).get("cache") for layer in handler.ownership_layers)


def varying_headers(handler: HTTPRouteHandler) -> list[str]:
    """The request headers an answer of ``handler`` depends on."""
    found: list[str] = []
    for field in handler.parsed_fn_signature.parameters.values():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg) and kwarg.header and kwarg.header.lower() not in NOT_VARYING:
            found.append(kwarg.header)
    found += handler.opt.get("vary") or []
    if cacheable(handler):
        found += ["Authorization", "Cookie"]
    return found


def merged_vary(existing: bytes | None, names: list[str]) -> bytes:
    current = [v.strip() for v in (existing or b"").decode("latin-1").split(",") if v.strip()]
    seen = {v.lower() for v in current}
    current += [n for n in names if n.lower() not in seen and not seen.add(n.lower())]  # type: ignore[func-returns-value]
    return ", ".join(current).encode("latin-1")


def body_tag(body: bytes) -> bytes:
    return b'"b-' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def matches(if_none_match: bytes, tag: bytes) -> bool:
    """Weak comparison, as ``If-None-Match`` wants (RFC 9110 §13.1.2)."""
    tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
    return b"*" in tags or tag.removeprefix(b"W/") in tags


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _replace(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != name] + [(name, value)]


def _personal(send: Send) -> Send:
    """A read made with credentials that is not a cacheable one is the caller's own (their bookings, holds,
    account): ``Cache-Control: private, no-store`` unless the handler chose, so no shared cache keeps it."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            if _header(headers, b"cache-control") is None:
                message = {**message, "headers": [*headers, (b"cache-control", PERSONAL)]}  # type: ignore[assignment]
        await send(message)

    return sending


class ReadCaching:
    """Litestar middleware (routed: ``scope["route_handler"]`` is known) doing the above on ``GET``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_age = settings.http_cache_max_age_s
        self.max_body = settings.http_cache_max_body_bytes
        self.vary: dict[int, list[str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != "http" or scope["method"] != "GET" or not isinstance(handler, HTTPRouteHandler):
            await self.app(scope, receive, send)
            return
        scope[VARY_KEY] = self.vary.setdefault(id(handler), varying_headers(handler))  # type: ignore[literal-required]
        if cacheable(handler):
            await self._cached(scope, receive, send)
            return
        if any(key.lower() in CREDENTIALS for key, _ in scope["headers"]):
            await self.app(scope, receive, _personal(send))
            return
        await self.app(scope, receive, send)

    async def _cached(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_headers = dict((k.lower(), v) for k, v in scope["headers"])
        private = any(name in request_headers for name in CREDENTIALS)
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def buffer(message: Message) -> None:
            nonlocal start, size, chunks
            if message["type"] == "http.response.start":
                start = message
                return
            if start is None or start["status"] != 200:  # not buffered (or no longer)
                await self._flush(send, start, [])
                start = None
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:  # too large to digest: sent as it comes
                await self._flush(send, start, chunks[:-1])
                start, chunks = None, []
                await send(message)
                return
            if not message.get("more_body", False):
                freshness = b"%s, max-age=%d" % (b"private" if private else b"public", self.max_age)
                await self._answer(send, start, b"".join(chunks), request_headers.get(b"if-none-match"), freshness)

        await self.app(scope, receive, buffer)

    @staticmethod
    async def _flush(send: Send, start: Message | None, chunks: list[bytes]) -> None:
        if start is not None:
            await send(start)
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

    @staticmethod
    async def _answer(send: Send, start: Message, body: bytes, if_none_match: bytes | None,
                      freshness: bytes) -> None:
        headers = list(start.get("headers", ()))
        if _header(headers, b"cache-control") is None:
            headers.append((b"cache-control", freshness))
        tag = _header(headers, b"etag")
        if tag is None:
            tag = body_tag(body)
            headers.append((b"etag", tag))
        if if_none_match is not None and matches(if_none_match, tag):
            kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
            await send({**start, "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


class MergedVary:
    """Outside every middleware (CORS sets ``Vary: Origin`` by replacing the header): the ``Vary`` names
    ``ReadCaching`` recorded for the route, merged into the answer's own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            names = scope.get(VARY_KEY)
            if message["type"] == "http.response.start" and names:
                headers = list(message.get("headers", ()))
                merged = merged_vary(_header(headers, b"vary"), names)
                message = {**message, "headers": _replace(headers, b"vary", merged)}  # type: ignore[assignment]
            await send(message)

        await self.app(scope, receive, send_varying)


def read_caching(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware factory for ``Litestar(middleware=[...])``."""
    return lambda app: ReadCaching(app, settings)


SUCCESS_HEADERS = {
    "ETag": "the answer's strong validator: send it back as `If-None-Match`",
    "Cache-Control": "`public, max-age=N` (anonymous) or `private, max-age=N` (signed in)",
    "Vary": "the request headers the answer depends on",
}


def document_caching(handler: HTTPRouteHandler, operation: Operation) -> None:
    """The headers of a cacheable read's ``200``."""
    response = (operation.responses or {}).get("200")
    if not cacheable(handler) or not isinstance(response, OpenAPIResponse):
        return
    headers = dict(response.headers or {})
    for name, description in SUCCESS_HEADERS.items():
        headers.setdefault(name, OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=description))
    response.headers = headers
