"""Benchmark: what tracing costs, off (the default) and on, as ratios measured in the same run.

    python -m bench.tracing [--seconds 3] [--connections 32] [--rounds 4] [--messages 20000]

1. Per Kafka message, in this process (CPU time, the spans' export thread included): the consumer's span
   and the onward ``traceparent`` (what every consumer and ``record_event`` do) with tracing off and on
   (spans batched to an exporter that drops them), next to decoding the message's envelope as a yardstick.
2. ``GET /ping`` under wrk on the api (uvicorn, one worker) with ``RESORT_OTEL_EXPORTER=none`` and ``otlp``
   (to an OTLP/HTTP receiver in this process), alternately (ABBA); the running servers' test databases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid

from app import tracing
from app.outbox import EventEnvelope, decode_envelope, encode_envelope
from app.settings import Settings
from app.tracing import setup
from bench.auth import ENV
from bench.loadgen import load
from bench.server import api_server
from tests.support.otlp import OtlpReceiver

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class _Drop:
    def export(self, spans: object) -> object:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 0) -> bool:
        return True


def _per_message_us(raw: bytes, count: int) -> float:
    envelope = decode_envelope(raw)
    started = time.process_time()
    for _ in range(count):
        with tracing.message_span(envelope, "bench"):
            tracing.current_traceparent()
    return (time.process_time() - started) / count * 1e6


def per_message(count: int) -> None:
    raw = encode_envelope(EventEnvelope(
        event_id=uuid.uuid4(), topic="bookings", event_type="booking.confirmed", aggregate_type="booking",
        aggregate_id=str(uuid.uuid4()), version=3, occurred_at=dt.datetime.now(dt.UTC),
        payload={"booking_id": "x", "status": "confirmed", "step": "done"}, traceparent=PARENT))
    started = time.process_time()
    for _ in range(count):
        decode_envelope(raw)
    decode_us = (time.process_time() - started) / count * 1e6
    off = _per_message_us(raw, count)
    setup.configure(Settings(), "bench", exporter=_Drop())
    try:
        on = _per_message_us(raw, count)
    finally:
        setup.shutdown()
    print(f"per message: decode {decode_us:.2f} µs; tracing off {off:.2f} µs ({off / decode_us:.2f}x a decode); "
          f"on {on:.2f} µs ({on / decode_us:.1f}x a decode)")


def http(args: argparse.Namespace) -> None:
    runs: dict[str, list[float]] = {"none": [], "otlp": []}
    with OtlpReceiver() as receiver:
        servers = {mode: api_server({**os.environ, **ENV, "RESORT_OTEL_EXPORTER": mode,
                                     "RESORT_OTEL_ENDPOINT": receiver.url}) for mode in runs}
        bases = {mode: server.__enter__() for mode, server in servers.items()}
        try:
            for mode, base in bases.items():
                load(mode, base, ["/ping"], 1, args.connections, {})  # warm up
            for round_ in range(args.rounds):  # ABBA: drift in the machine's load hits both alike
                for mode in list(runs) if round_ % 2 == 0 else list(runs)[::-1]:
                    runs[mode].append(load(mode, bases[mode], ["/ping"], args.seconds, args.connections, {}).rps)
        finally:
            for server in servers.values():
                server.__exit__(None, None, None)
        spans = len(receiver.spans)
    off, on = statistics.median(runs["none"]), statistics.median(runs["otlp"])
    print(f"GET /ping: tracing off {off:8.0f} req/s   on {on:8.0f} req/s   on/off {on / off:.2f}   "
          f"({spans} spans received; rounds {[round(x) for x in runs['none']]} vs {[round(x) for x in runs['otlp']]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    per_message(args.messages)
    http(args)


if __name__ == "__main__":
    main()
