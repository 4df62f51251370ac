"""The api's HTTP spans: Litestar's own OpenTelemetry plugin (the ASGI instrumentation), added only when
tracing is on. It continues a caller's W3C ``traceparent``; WebSockets are left out (a ``/live`` connection
lasts hours: each frame it pushes gets its own span in ``realtime.hub`` instead)."""

from __future__ import annotations

from typing import Any

import structlog
from litestar.types import Scope

from app.tracing import _State

# Probes and scrapes would be most of the spans and tell nothing.
EXCLUDED = ["^/metrics", "^/health/"]


def _bind_trace_id(span: Any, _scope: Scope) -> None:
    """The request's trace id on every log line of it, the access line written after the span included."""
    ctx = span.get_span_context()
    if ctx.is_valid:
        structlog.contextvars.bind_contextvars(trace_id=format(ctx.trace_id, "032x"))


def plugins() -> list[Any]:
    """``[OpenTelemetryPlugin]`` when this process traces, else nothing (no middleware, no cost)."""
    if _State.provider is None:
        return []
    from litestar.enums import ScopeType
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    return [OpenTelemetryPlugin(OpenTelemetryConfig(
        tracer_provider=_State.provider, scopes={ScopeType.HTTP}, exclude=EXCLUDED,
        exclude_spans=["receive", "send"], server_request_hook_handler=_bind_trace_id))]
