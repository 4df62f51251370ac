"""The holds feature of the api: routes, and the service built in the app's lifespan."""

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
