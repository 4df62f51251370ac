"""The search feature of the api: ``GET /search``, its ranking explained to staff, and the index ensured at start."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog

from app.resources import Resources
from app.search.controller import explain_ranking, search_products
from app.search.versions import ensure_current

log = structlog.get_logger("app.search")

ROUTES: list[Any] = [search_products, explain_ranking]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    """Make sure the index exists with the current mapping version (the projector does too)."""
    try:
        await ensure_current(resources.es, resources.settings.search_index)
    except Exception as exc:  # noqa: BLE001 - search answers empty until the index can be made
        log.warning("search_index_not_ensured", error=repr(exc))
    yield


__all__ = ["ROUTES", "lifespan"]
