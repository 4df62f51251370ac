"""The live feature of the api: ``/live``, its AsyncAPI document and pages, and the hub of its lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from app.drain import DRAIN
from app.index import Link
from app.resources import Resources
from realtime.asyncapi import asyncapi
from realtime.endpoint import live
from realtime.pages import ROUTES as PAGE_ROUTES
from realtime.service import LiveService

ROUTES: list[Any] = [live, asyncapi, *PAGE_ROUTES]
PAGES = [
    Link("/live/guest", "Live availability", "A resort's rooms night by night as they change, and a booking's progress"),
    Link("/live/frontdesk", "Front-desk dashboard", "Arrivals, departures, in-house, occupancy and the live feed"),
]

__all__ = ["PAGES", "ROUTES", "lifespan"]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    """Build the hub; close this process's sockets of a session as soon as it is revoked anywhere."""
    service = LiveService.build(resources.settings, resources.db, resources.redis, app.state.auth)
    app.state.live = service
    app.state.auth.live.on_revoke.append(service.hub.revoked)
    DRAIN.hooks.append(service.hub.drain)  # SIGTERM: every socket told to reconnect, with its position
    try:
        yield
    finally:
        DRAIN.hooks.remove(service.hub.drain)
        app.state.auth.live.on_revoke.remove(service.hub.revoked)
        await service.hub.stop()
