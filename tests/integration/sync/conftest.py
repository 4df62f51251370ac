"""Pools of the sync tests, opened in the tests' own event loop (the app's live in another loop)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.resources import Resources, open_resources
from app.settings import Settings


@pytest.fixture(scope="session")
async def sync_resources(settings: Settings, stack: object) -> AsyncIterator[Resources]:
    async with open_resources(settings) as resources:
        yield resources
