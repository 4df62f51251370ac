"""OpenTelemetry tracing, in one place: every process role, the api's HTTP spans, the events' trace context.

The trace context travels as a W3C ``traceparent`` string: from the HTTP request (or a consumer's span) into
the outbox row (:func:`current_traceparent`, read by ``app.outbox.record_event``), from the row into the
Kafka message (the envelope's ``traceparent`` field and a ``traceparent`` header, set by the relay inside
its producer span), and from the message into each consumer's span (:func:`message_span`), whose own
events (saga commands, replies, booking events) carry it onward: one booking's saga is one trace.

Off by default (``RESORT_OTEL_EXPORTER=none``): no SDK is installed, the HTTP middleware is not added,
:func:`enabled` is False and every helper here returns at once (no span object, no context change).
:func:`app.tracing.setup.configure` installs the SDK's provider with the configured exporter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
_KINDS = {"consumer": trace.SpanKind.CONSUMER, "producer": trace.SpanKind.PRODUCER,
          "internal": trace.SpanKind.INTERNAL, "server": trace.SpanKind.SERVER}
_NOTHING = contextlib.nullcontext()


class _State:
    """This process's tracing (set by :func:`app.tracing.setup.configure` when an exporter is configured)."""

    provider: Any = None
    tracer: trace.Tracer | None = None


def enabled() -> bool:
    """Whether this process records spans (an exporter is configured)."""
    return _State.tracer is not None


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, or None (tracing off, or no span is current)."""
    if _State.tracer is None:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_of(traceparent: str | None) -> Context:
    """The context a ``traceparent`` names (an empty one, so a new trace, when it is missing or malformed)."""
    return _PROPAGATOR.extract({TRACEPARENT: traceparent} if traceparent else {}, context=Context())


def span(name: str, traceparent: str | None, kind: str = "internal",
         attributes: Mapping[str, Any] | None = None) -> contextlib.AbstractContextManager[Any]:
    """A current span, child of ``traceparent`` (a new trace without one); a no-op when tracing is off."""
    tracer = _State.tracer
    if tracer is None:
        return _NOTHING
    return tracer.start_as_current_span(name, context=context_of(traceparent), kind=_KINDS[kind],
                                        attributes=dict(attributes or {}))


def message_span(envelope: Any, consumer: str) -> contextlib.AbstractContextManager[Any]:
    """The span of one Kafka message (an ``EventEnvelope``) handled by ``consumer``, child of its producer."""
    if _State.tracer is None:
        return _NOTHING
    return span(f"process {envelope.event_type}", getattr(envelope, "traceparent", None), "consumer", {
        "messaging.system": "kafka", "messaging.operation.type": "process",
        "messaging.destination.name": envelope.topic, "messaging.consumer.group.name": consumer,
        "messaging.message.id": str(envelope.event_id), "resort.aggregate_id": envelope.aggregate_id,
        "resort.event_type": envelope.event_type})


def kafka_headers(traceparent: str | None) -> list[tuple[str, bytes]] | None:
    """The Kafka message headers that carry ``traceparent`` (for consumers that read headers, not bodies)."""
    return [(TRACEPARENT, traceparent.encode())] if traceparent else None


def add_trace_ids(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the current span's ``trace_id`` and ``span_id`` on the log line."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    return event
