"""The api's HTTP spans: Litestar's own OpenTelemetry plugin (the ASGI instrumentation), added only when
tracing is on. It continues a caller's W3C ``traceparent``; WebSockets are left out (a ``/live`` connection
lasts hours: each frame it pushes gets its own span in ``realtime.hub`` instead)."""

from __future__ import annotations

import re
from typing import Any

import structlog
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin
from litestar.types import Message, Scope
from opentelemetry import trace

from app.tracing import _State

# Probes and scrapes would be most of the spans and tell nothing.
EXCLUDED = ["^/metrics", "^/health/"]
_PARAM_TYPE = re.compile(r":[^}]*}")  # "{booking_id:str}" -> "{booking_id}"


def _bind_trace_id(span: Any, _scope: Scope) -> None:
    """The request's trace id on every log line of it, the access line written after the span included."""
    ctx = span.get_span_context()
    if ctx.is_valid:
        structlog.contextvars.bind_contextvars(trace_id=format(ctx.trace_id, "032x"))


async def _name_by_route(message: Message, scope: Scope) -> None:
    """Once routed, the span is named by the route (``GET /bookings/{booking_id}``), not by the raw path."""
    template = scope.get("path_template")
    if message["type"] == "http.response.start" and template:
        span = trace.get_current_span()
        if span.is_recording():
            route = _PARAM_TYPE.sub("}", template)
            span.update_name(f"{scope.get('method', '')} {route}")
            span.set_attribute("http.route", route)


class RouteNames(InitPlugin):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.before_send.append(_name_by_route)
        return app_config


def plugins() -> list[Any]:
    """Litestar's ``OpenTelemetryPlugin`` when this process traces, else nothing (no middleware, no cost)."""
    if _State.provider is None:
        return []
    from litestar.enums import ScopeType
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    return [RouteNames(), OpenTelemetryPlugin(OpenTelemetryConfig(
        tracer_provider=_State.provider, scopes={ScopeType.HTTP}, exclude=EXCLUDED,
        exclude_spans=["receive", "send"], server_request_hook_handler=_bind_trace_id))]
