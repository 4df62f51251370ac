"""The front-desk feature of the api: routes, and the service built in the app's lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from app.frontdesk.controller import AdminRoomsController, FrontDeskController, HousekeepingController
from app.frontdesk.guest import PartyRoomsController
from app.frontdesk.service import FrontDeskService
from app.payments.stripe_provider import StripeProvider
from app.resources import Resources


def _provide(state: State) -> FrontDeskService:
    return state.frontdesk


CONTROLLERS = (AdminRoomsController, FrontDeskController, HousekeepingController, PartyRoomsController)
for _controller in CONTROLLERS:
    _controller.dependencies = {"frontdesk": Provide(_provide, sync_to_thread=False)}
ROUTES: list[Any] = list(CONTROLLERS)


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    provider = StripeProvider(resources.settings)  # a party room's refund
    app.state.frontdesk = FrontDeskService(resources, provider)
    try:
        yield
    finally:
        await provider.close()


__all__ = ["ROUTES", "lifespan"]
