"""What operators see of the saga: transitions by step and outcome, step latency, re-sends, bookings by
status (counted by the sweeper)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SAGA_TRANSITIONS = Counter("resort_saga_transitions_total", "Saga steps left, by step and outcome (incl. deadline)",
                           ["step", "outcome"])
SAGA_STEP_SECONDS = Histogram("resort_saga_step_seconds", "Time a saga spent in a step", ["step"],
                              buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SAGA_RESENDS = Counter("resort_saga_resends_total", "Commands re-sent after a step's deadline", ["step"])
BOOKINGS_BY_STATUS = Gauge("resort_bookings", "Bookings by status", ["status"])
