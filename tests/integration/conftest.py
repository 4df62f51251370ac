"""Integration tests: the session's main app opens before any other, so it owns beanie's binding.

beanie binds its documents to one MongoDB client per process (see ``app.resources``); every test app
runs on its own event loop, so the app whose handlers read MongoDB through beanie must be the one that
bound it: the main ``client`` app, opened first and kept open for the whole session.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _main_app_owns_the_odm(client: object) -> None:
    return None
