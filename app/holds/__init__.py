"""Holds that never oversell: short claims on per-night inventory while a guest or partner pays.

- ``domain.py``     the rules (dates, lines, lock keys, limits, lifetime): pure
- ``locks.py``      Redis: fenced per-(product, night) locks, sold-out marks, lease keys
- ``repository.py`` PostgreSQL: guarded + fenced inventory moves, hold rows, events, audit
- ``service.py``    the use cases: place (where a hold is taken), read, list, release
- ``sweeper.py``    the ``sweeper`` role: every hold ends, whatever Redis or a process lost
- ``controller.py`` HTTP: ``POST /holds`` (Idempotency-Key), ``GET /holds``, ``GET|DELETE /holds/{id}``
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from litestar.datastructures import State
from litestar.di import Provide

from app.holds.controller import HoldsController
from app.holds.service import HoldService
from app.resources import Resources


def _provide(state: State) -> HoldService:
    return state.holds


HoldsController.dependencies = {"holds": Provide(_provide, sync_to_thread=False)}
ROUTES: list[Any] = [HoldsController]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    settings = resources.settings
    commit_db = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=settings.hold_commit_pool,
                                          command_timeout=30)
    try:
        app.state.holds = HoldService(resources, commit_db)
        yield
    finally:
        await commit_db.close()


__all__ = ["ROUTES", "lifespan"]
