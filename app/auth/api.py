"""The auth feature of the api: its routes, the gateway middleware, and the services of its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from app.auth.account import ROUTES as ACCOUNT_ROUTES
from app.auth.admin import ROUTES as ADMIN_ROUTES
from app.auth.gateway import Gateway
from app.auth.login import ROUTES as LOGIN_ROUTES
from app.auth.service import AuthService
from app.resources import Resources

ROUTES: list[Any] = [*LOGIN_ROUTES, *ACCOUNT_ROUTES, *ADMIN_ROUTES]
MIDDLEWARE: list[Any] = [Gateway()]

__all__ = ["MIDDLEWARE", "ROUTES", "lifespan"]


@contextlib.asynccontextmanager
async def lifespan(app: Any, resources: Resources) -> AsyncIterator[None]:
    """Build the auth service, start the audit writer and the revocation listener; stop them after."""
    auth = AuthService.build(resources)
    app.state.auth = auth
    auth.audit.start()
    listener = asyncio.create_task(auth.live.listen(resources.redis), name="auth-revocation-listener")
    try:
        yield
    finally:
        await _cancel(listener)
        await auth.audit.stop()
        await auth.oauth.aclose()


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel until it ends: redis-py's pub/sub can swallow a cancellation that lands while it (re)connects,
    which left the app's shutdown waiting forever."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.2)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
