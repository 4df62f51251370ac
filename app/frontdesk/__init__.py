"""Front desk: physical rooms, room assignment that can never double-assign, check-in, check-out, no-shows,
and the desk's views (arrivals, departures, in-house, the room board).

- ``domain.py``     the stay's rules and the board's cells: pure
- ``repository.py`` PostgreSQL: rooms, occupancy rows (one exclusion constraint), status moves, nights back
- ``service.py``    the use cases
- ``controller.py`` HTTP: ``/admin/properties/{id}/rooms``, ``/frontdesk/...``

A guest's cancellation must refuse a stay whose status is ``checked_in`` (or ``checked_out``, ``no_show``):
``domain.guest_may_cancel(status)`` says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from app.frontdesk.controller import AdminRoomsController, FrontDeskController
from app.frontdesk.service import FrontDeskService
from app.resources import Resources


def _provide(state: State) -> FrontDeskService:
    return state.frontdesk


for _controller in (AdminRoomsController, FrontDeskController):
    _controller.dependencies = {"frontdesk": Provide(_provide, sync_to_thread=False)}
ROUTES: list[Any] = [AdminRoomsController, FrontDeskController]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    app.state.frontdesk = FrontDeskService(resources)
    yield


__all__ = ["ROUTES", "lifespan"]
