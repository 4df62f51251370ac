"""The bookings feature of the api: routes, and the service built in the app's lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from app.bookings.controller import BookingsController, PartnerFeedController
from app.bookings.service import BookingService
from app.payments.stripe_provider import StripeProvider
from app.resources import Resources


def _provide(state: State) -> BookingService:
    return state.bookings


for _controller in (BookingsController, PartnerFeedController):
    _controller.dependencies = {"bookings": Provide(_provide, sync_to_thread=False)}
ROUTES: list[Any] = [BookingsController, PartnerFeedController]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    provider = StripeProvider(resources.settings)
    app.state.bookings = BookingService(resources, provider)
    try:
        yield
    finally:
        await provider.close()


__all__ = ["ROUTES", "lifespan"]
