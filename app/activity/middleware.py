"""Captures searches, product views (with dates: quotes) and reviews as they are answered, without the
features that answer them knowing: the route's template says what it was, the answer's status whether it
counts, and a search's body how many results it had. Runs inside the auth gateway (the principal is known).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.activity.capture import SESSION_COOKIE, SESSION_HEADER, Emitter, anonymous_subject
from app.auth.principal import current_principal

SEARCH, VIEW, QUOTE, REVIEWS = ("/search", "/products/{product_id:str}", "/products/{product_id:str}/quote",
                                "/products/{product_id:str}/reviews")
_NOT_FILTERS = {"q", "page", "size", "sort", "lang"}
_MAX_BODY = 1 << 20
_MAX_FILTER_VALUES = 10


class _Total(msgspec.Struct):
    total: int = 0


def what(scope: Scope) -> str | None:
    """Which captured route this request is (None: not one)."""
    handler = scope.get("route_handler")
    paths = getattr(handler, "paths", ()) or ()
    method = scope.get("method")
    if method == "GET":
        for kind, path in (("search", SEARCH), ("view", VIEW), ("quote", QUOTE)):
            if path in paths:
                return kind
    if method == "POST" and REVIEWS in paths:
        return "review"
    return None


def subject(scope: Scope) -> str:
    principal = current_principal(scope)
    if principal is not None:
        return principal.actor
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
    session = headers.get(SESSION_HEADER)
    if session is None:
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE:
                session = value
    return anonymous_subject(session)


def search_payload(query: dict[str, list[str]], body: bytes) -> dict[str, Any] | None:
    if query.get("page", ["1"])[0] not in ("1", ""):
        return None  # turning pages is the same search
    try:
        total = msgspec.json.decode(body, type=_Total).total
    except msgspec.DecodeError:
        return None
    properties = query.get("property") or []
    filters = {k: v[:_MAX_FILTER_VALUES] for k, v in query.items() if k not in _NOT_FILTERS}
    return {"query": (query.get("q") or [""])[0][:200], "filters": filters, "results": total, "zero": total == 0,
            "property_id": properties[0] if len(properties) == 1 else None}


def payload_of(kind: str, scope: Scope, status: int, body: bytes) -> tuple[str, dict[str, Any]] | None:
    """The event a finished request makes (kind, payload), or None when it makes none."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    product = (scope.get("path_params") or {}).get("product_id")
    base = {"subject": subject(scope)}
    if kind == "search" and status == 200:
        found = search_payload(query, body)
        return ("search", base | found) if found is not None else None
    if kind == "view" and status in (200, 304):
        return "view", base | {"product_id": product}
    if kind == "quote" and status == 200:
        return "view", base | {"product_id": product, "check_in": query.get("start", [None])[0],
                                "check_out": query.get("end", [None])[0]}
    if kind == "review" and status == 201:
        return "review", base | {"product_id": product}
    return None


class ActivityMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = ("^/docs", "^/health", "^/metrics", "^/admin", "^/live")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        kind = what(scope)
        emitter: Emitter | None = getattr(scope["litestar_app"].state, "activity", None)
        if kind is None or emitter is None:
            await next_app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": 0, "body": bytearray()}

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body" and kind == "search" and len(seen["body"]) < _MAX_BODY:
                seen["body"].extend(message.get("body", b""))
            await send(message)

        await next_app(scope, receive, watching)
        event = payload_of(kind, scope, seen["status"], bytes(seen["body"]))
        if event is not None:
            emitter.emit(*event)
