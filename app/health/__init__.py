"""Liveness and readiness: one real round trip to every dependency."""

from app.health.controller import HealthController

__all__ = ["HealthController"]
