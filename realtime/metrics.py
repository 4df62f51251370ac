"""Prometheus metrics of live updates (process-wide registry: the api's /metrics shows them)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PUBLISHED = Counter("resort_live_events", "Events handled by the publisher, by outcome", ["outcome"])
PUBLISHER_SKIPPED = Counter("resort_live_events_skipped", "Undecodable or malformed events skipped")

CONNECTIONS = Gauge("resort_live_connections", "Open /live WebSocket connections")
SUBSCRIPTIONS = Gauge("resort_live_subscriptions", "Live subscriptions by channel kind", ["kind"])
FRAMES_SENT = Counter("resort_live_frames_sent", "Frames written to sockets")
CONFLATED = Counter("resort_live_updates_conflated", "Availability updates merged into a later frame (dropped)")
CLOSED = Counter("resort_live_closed", "Connections closed by the server, by reason", ["reason"])
SLOW_CLOSED = Counter("resort_live_slow_closed", "Slow clients closed on a non-conflatable channel", ["kind"])
RESYNCS = Counter("resort_live_resyncs", "Fresh snapshots sent because a channel's epoch changed")
LATENCY = Histogram("resort_live_latency_seconds", "Event (outbox) -> socket write, sampled",
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5))
