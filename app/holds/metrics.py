"""What operators see of holds: created and refused by reason, busy by cause, lock wait, time to decision,
active holds, holds ended by how, sweeper lag, and whether holds run on PostgreSQL alone (Redis lost)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

HOLDS_CREATED = Counter("resort_holds_created_total", "Holds placed")
HOLDS_REFUSED = Counter("resort_holds_refused_total", "Hold attempts refused, by reason code", ["reason"])
# Why a hold was answered 503 busy: ``lock_wait`` (its nights stayed locked by other writers past
# hold_lock_wait_ms: real contention), ``commit_wait`` / ``commit_queue_full`` (no commit connection within
# hold_commit_wait_ms, or hold_commit_queue waiters already: the api is past its capacity), ``pg_lock``
# (PostgreSQL's lock timeout or a deadlock, when Redis is away), ``stale_fence`` (its lock expired twice),
# ``coalesce_queue_full`` (hold_coalesce_waiting claims already wait behind hot nights' writers),
# ``coalesce_stopping`` (the api stopped while the claim waited for its night's writer).
HOLDS_BUSY = Counter("resort_hold_busy_total", "Hold attempts answered 503 busy, by cause", ["cause"])
HOLDS_ENDED = Counter("resort_holds_ended_total", "Holds ended, by how (released, expired, converted)", ["how"])
LOCK_WAIT = Histogram("resort_hold_lock_wait_seconds", "Time to get a hold's Redis locks", buckets=_FAST)
DECISION = Histogram("resort_hold_decision_seconds", "Time from a hold request to its answer", buckets=_FAST)
HOLDS_ACTIVE = Gauge("resort_holds_active", "Live holds (counted by the sweeper)")
SWEEPER_LAG = Gauge("resort_sweeper_lag_seconds", "How far past its expiry the oldest live hold is")
# Claims on one hot night decided together in one round of its writer (app/holds/coalesce.py): one
# transaction, one guarded update (a round of one claim is not counted).
ROUND_CLAIMS = Histogram("resort_hold_round_claims", "Claims decided together in one round of a hot night's writer",
                         buckets=(2, 4, 8, 16, 32, 64, 128))
DEGRADED = Gauge("resort_holds_degraded", "1 while holds are taken on PostgreSQL alone (Redis unavailable)")
