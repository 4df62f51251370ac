"""Integration tests: the session's main app opens before any other, so it owns beanie's binding.

beanie binds its documents to one MongoDB client per process (see ``app.resources``); every test app
runs on its own event loop, so the app whose handlers read MongoDB through beanie must be the one that
bound it: the main ``client`` app, opened first and kept open for the whole session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.resources import Resources, open_resources
from app.settings import Settings


@pytest.fixture(scope="session", autouse=True)
def _main_app_owns_the_odm(client: object) -> None:
    return None


@pytest.fixture(scope="session")
async def sync_resources(settings: Settings, stack: object) -> AsyncIterator[Resources]:
    """Pools opened in the tests' own event loop (the app's pools live in the test client's loop)."""
    async with open_resources(settings) as resources:
        yield resources
