"""Prometheus metrics of the sync roles (process-wide registry; the api's /metrics shows them too)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

RELAY_PUBLISHED = Counter("resort_relay_published", "Outbox rows published to Kafka", ["topic"])
RELAY_FAILURES = Counter("resort_relay_failures", "Relay batches that failed and will be retried")
RELAY_LAG = Gauge("resort_relay_lag_seconds", "Age of the oldest unpublished outbox row (0 when none)")

PROJECTOR_PROCESSED = Counter("resort_projector_processed", "Catalogue events projected", ["event_type"])
PROJECTOR_DUPLICATES = Counter("resort_projector_duplicates", "Events skipped: already in the inbox")
PROJECTOR_STALE = Counter("resort_projector_stale", "Events skipped: older than the read model")
PROJECTOR_UNKNOWN = Counter("resort_projector_unknown", "Events for products that do not exist (removed)")
PROJECTOR_FAILURES = Counter("resort_projector_failures", "Projection attempts that raised", ["kind"])

RECONCILE_DRIFT = Gauge("resort_reconcile_drift", "Drifted documents found by the last reconciliation",
                        ["store"])
RECONCILE_REPAIRED = Counter("resort_reconcile_repaired", "Documents repaired by reconciliation", ["store"])
