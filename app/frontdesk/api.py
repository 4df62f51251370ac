"""The front-desk feature of the api: routes, and the service built in the app's lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from app.frontdesk.controller import AdminRoomsController, FrontDeskController, HousekeepingController
from app.frontdesk.service import FrontDeskService
from app.resources import Resources


def _provide(state: State) -> FrontDeskService:
    return state.frontdesk


for _controller in (AdminRoomsController, FrontDeskController, HousekeepingController):
    _controller.dependencies = {"frontdesk": Provide(_provide, sync_to_thread=False)}
ROUTES: list[Any] = [AdminRoomsController, FrontDeskController, HousekeepingController]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    app.state.frontdesk = FrontDeskService(resources)
    yield


__all__ = ["ROUTES", "lifespan"]
