"""The activity feature of the api: capture (middleware + the queue to Kafka) and the revenue team's reports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog

from app.activity import store
from app.activity.capture import Emitter
from app.activity.controller import AnalyticsController, static_files
from app.activity.middleware import ActivityMiddleware
from app.index import Link
from app.resources import Resources

log = structlog.get_logger("app.activity")

ROUTES: list[Any] = [AnalyticsController, static_files]
MIDDLEWARE: list[Any] = [ActivityMiddleware()]
PAGES = [Link("/admin/analytics/", "Guest activity", "The revenue team's report: funnel, demand, zero-result searches,"
              " booked-together pairs (admin)")]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    """Start the sender of captured events; on the way out send what is queued (bounded)."""
    settings = resources.settings
    try:
        await store.ensure_indexes(resources.mongo[settings.mongo_db], settings.activity_retention_days)
    except Exception as exc:  # noqa: BLE001 - reports answer empty until MongoDB is back; the role ensures them too
        log.warning("activity_indexes_not_ensured", error=repr(exc))
    emitter = Emitter(settings, resources.kafka)
    emitter.start()
    app.state.activity = emitter
    try:
        yield
    finally:
        await emitter.stop()


__all__ = ["MIDDLEWARE", "PAGES", "ROUTES", "lifespan"]
