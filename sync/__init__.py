"""Change propagation: the outbox relay (PostgreSQL -> Kafka), the catalogue projector
(Kafka -> Elasticsearch, MongoDB read models, Redis) and reconciliation (drift detection and repair)."""

from __future__ import annotations

__all__ = ["relay", "projector", "reconcile"]
