"""Installing the OpenTelemetry SDK for one process role, from the settings (imported only when tracing is on).

``RESORT_OTEL_EXPORTER``: ``none`` (default: nothing is installed), ``console`` (one JSON object per span on
stdout, beside the logs), ``otlp`` (OTLP/HTTP protobuf to ``RESORT_OTEL_ENDPOINT`` + ``/v1/traces``: a
collector, Jaeger, Tempo...). Each process is the service ``<RESORT_OTEL_SERVICE_NAME>-<role>``.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from app.settings import Settings
from app.tracing import _State


def exporter_for(settings: Settings) -> Any:
    if settings.otel_exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(out=sys.stdout, formatter=lambda span: span.to_json(indent=None) + "\n")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otel_endpoint.rstrip("/") + "/v1/traces", timeout=5)


def configure(settings: Settings, role: str, exporter: Any = None) -> bool:
    """Install a tracer provider for this process (``role``: api, relay, saga, ...); False when tracing is
    off. ``exporter`` replaces the configured one (tests: an in-memory exporter)."""
    if exporter is None and settings.otel_exporter == "none":
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    shutdown()
    resource = Resource.create({"service.name": f"{settings.otel_service_name}-{role}",
                                "service.instance.id": f"{socket.gethostname()}:{os.getpid()}"})
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio)))
    provider.add_span_processor(BatchSpanProcessor(exporter or exporter_for(settings),
                                                   schedule_delay_millis=settings.otel_batch_delay_ms))
    _State.provider = provider
    _State.tracer = provider.get_tracer("resort")
    return True


def shutdown() -> None:
    """Export what is buffered, stop the exporter, and turn tracing off in this process."""
    if _State.provider is not None:
        _State.provider.shutdown()
    _State.provider = _State.tracer = None
