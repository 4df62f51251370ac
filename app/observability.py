"""Structured JSON logs with a request id (and, with tracing on, the trace and span ids) on every line, and
the Prometheus registry's helpers."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from litestar import Response, get
from litestar.plugins.prometheus import PrometheusController
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app import tracing
from app.clientaddr import Network, apply_trusted_proxies, client_ip
from app.settings import Settings


def configure_logging(settings: Settings) -> None:
    """structlog for our lines and the stdlib's (uvicorn, aiokafka), one JSON object per line."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    if settings.otel_exporter != "none":
        shared.insert(1, tracing.add_trace_ids)  # after the request's context: the current span wins
    renderer: Any = (
        structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(  # a line below the level is dropped first, before it is stamped and formatted
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer,
        ])
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("aiokafka", "elastic_transport", "pymongo", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID`` in or a new one), binds it to every log line,
    echoes it on the response and writes one access line."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)
        self.log = structlog.get_logger("app.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        apply_trusted_proxies(scope, self.trusted_proxies)  # the one place the client's address is derived
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if path != "/metrics" and not path.startswith("/health/live"):
                self.log.info(
                    "request",
                    method=scope.get("method", "WS"),
                    path=path,
                    status=status,
                    client=client_ip(scope),
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    **_principal(scope),
                )
            structlog.contextvars.clear_contextvars()


def _principal(scope: Scope) -> dict[str, str]:
    principal = scope.get("state", {}).get("principal")
    if principal is None:
        return {}
    return {"subject": getattr(principal, "subject", ""), "client_id": getattr(principal, "client_id", "")}


class MetricsController(PrometheusController):
    """``/metrics``: the Prometheus text exposition, documented as such in the OpenAPI document
    (litestar's own controller documents it as JSON, which no scraper or client receives)."""

    @get(media_type=CONTENT_TYPE_LATEST, summary="Prometheus metrics (text exposition format)",
         tags=["operations"])
    async def get(self) -> Response[bytes]:
        return Response(generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
