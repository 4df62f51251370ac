"""Tracing (app/tracing): the trace context carried by the event envelope, the consumer's span continuing it,
the log processor, and tracing off costing nothing (no SDK, no span, no envelope field)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import tracing
from app.outbox import EventEnvelope, decode_envelope, encode_envelope
from app.settings import Settings, SettingsError
from app.tracing import http as tracing_http
from app.tracing import setup
from sync.relay import envelope_of

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _envelope(traceparent: str | None = None) -> EventEnvelope:
    return EventEnvelope(event_id=uuid.uuid4(), topic="saga.commands", event_type="inventory.convert",
                         aggregate_type="booking", aggregate_id="b-1", version=0,
                         occurred_at=dt.datetime.now(dt.UTC), payload={"step": "convert"}, traceparent=traceparent)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process for one test, spans kept in memory."""
    exporter = InMemorySpanExporter()
    assert setup.configure(Settings(otel_service_name="resort"), "test", exporter=exporter)
    yield exporter
    setup.shutdown()


def _finished(exporter: InMemorySpanExporter) -> list[Any]:
    setup._State.provider.force_flush()
    return list(exporter.get_finished_spans())


def test_tracing_off_installs_nothing_and_every_helper_is_a_no_op() -> None:
    assert setup.configure(Settings(), "api") is False
    assert not tracing.enabled() and tracing.current_traceparent() is None
    with tracing.span("x", PARENT) as span, tracing.message_span(_envelope(PARENT), "group") as consumed:
        assert span is None and consumed is None  # a null context: no span object at all
        assert tracing.current_traceparent() is None


def test_the_envelope_carries_the_traceparent_and_old_messages_still_decode() -> None:
    assert decode_envelope(encode_envelope(_envelope(PARENT))).traceparent == PARENT
    untraced = encode_envelope(_envelope())
    assert b"traceparent" not in untraced  # tracing off: the messages are as before
    old = msgspec.json.decode(untraced)
    assert decode_envelope(msgspec.json.encode(old)).traceparent is None


def test_the_relay_puts_the_rows_traceparent_in_the_message_unless_it_has_its_own_span() -> None:
    row = {"event_id": uuid.uuid4(), "topic": "bookings", "event_type": "booking.confirmed", "aggregate_type": "booking",
           "aggregate_id": "b-1", "version": 3, "created_at": dt.datetime.now(dt.UTC), "payload": "{}",
           "traceparent": PARENT}
    assert envelope_of(row).traceparent == PARENT
    assert envelope_of(row, "00-" + "1" * 32 + "-" + "2" * 16 + "-01").traceparent.startswith("00-1111")
    assert envelope_of(row | {"traceparent": None}).traceparent is None
    assert tracing.kafka_headers(PARENT) == [("traceparent", PARENT.encode())] and tracing.kafka_headers(None) is None


def test_a_span_writes_its_context_and_the_consumer_continues_it(spans: InMemorySpanExporter) -> None:
    with tracing.span("POST /bookings", PARENT, "server"):
        written = tracing.current_traceparent()  # what record_event stores in the outbox row
    assert written is not None and written.startswith(f"00-{TRACE_ID}-") and written.endswith("-01")
    envelope = decode_envelope(encode_envelope(_envelope(written)))
    with tracing.message_span(envelope, "saga-services"):
        onward = tracing.current_traceparent()  # a command or reply sent while handling the message
    server, consumer = _finished(spans)
    assert server.parent.span_id == int("00f067aa0ba902b7", 16)
    assert consumer.context.trace_id == int(TRACE_ID, 16)
    assert consumer.parent.span_id == server.context.span_id
    assert consumer.kind.name == "CONSUMER" and consumer.name == "process inventory.convert"
    assert consumer.attributes["messaging.consumer.group.name"] == "saga-services"
    assert consumer.attributes["messaging.message.id"] == str(envelope.event_id)
    assert onward == f"00-{TRACE_ID}-{consumer.context.span_id:016x}-01"
    assert consumer.resource.attributes["service.name"] == "resort-test"


@pytest.mark.parametrize("traceparent", [None, "garbage", "00-" + "0" * 32 + "-" + "0" * 16 + "-01"])
def test_a_message_without_a_valid_context_starts_a_new_trace(spans: InMemorySpanExporter,
                                                              traceparent: str | None) -> None:
    with tracing.span("outer", None):
        with tracing.message_span(_envelope(traceparent), "g"):
            pass
    consumer, outer = _finished(spans)
    assert consumer.parent is None  # never the span that happens to be current in the consumer's loop
    assert consumer.context.trace_id != outer.context.trace_id


def test_log_lines_carry_the_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    assert tracing.add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}
    with tracing.span("work", PARENT) as span:
        line = tracing.add_trace_ids(None, "info", {"event": "x"})
    assert line["trace_id"] == TRACE_ID and line["span_id"] == f"{span.get_span_context().span_id:016x}"


def test_a_failing_handler_marks_its_span_as_an_error(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), tracing.message_span(_envelope(PARENT), "g"):
        raise ValueError("poison")
    (span,) = _finished(spans)
    assert span.status.status_code.name == "ERROR" and span.events[0].name == "exception"


@pytest.mark.parametrize(("var", "value"), [("RESORT_OTEL_EXPORTER", "jaeger"), ("RESORT_OTEL_ENDPOINT", "localhost"),
                                            ("RESORT_OTEL_SAMPLE_RATIO", "1.5"), ("RESORT_OTEL_BATCH_DELAY_MS", "0")])
def test_bad_tracing_settings_stop_the_process(var: str, value: str) -> None:
    with pytest.raises(SettingsError, match=var):
        Settings.from_env({var: value})


def test_the_exporter_follows_the_settings() -> None:
    otlp = setup.exporter_for(Settings(otel_exporter="otlp", otel_endpoint="http://collector:4318/"))
    assert type(otlp).__name__ == "OTLPSpanExporter" and otlp._endpoint == "http://collector:4318/v1/traces"
    assert type(setup.exporter_for(Settings(otel_exporter="console"))).__name__ == "ConsoleSpanExporter"


def test_the_api_gets_its_http_middleware_only_when_tracing_is_on(spans: InMemorySpanExporter) -> None:
    names = [type(plugin).__name__ for plugin in tracing_http.plugins()]
    assert names == ["RouteNames", "OpenTelemetryPlugin"]  # Litestar finds its plugin by this class name
    setup.shutdown()
    assert tracing_http.plugins() == []
