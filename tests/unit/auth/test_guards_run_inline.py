"""Every guard of every route is a coroutine: Litestar runs a plain-function guard in a worker thread
(anyio's ``to_thread``), a thread hop per guard per request for a few attribute reads; a feature adding a
plain function guard fails here."""

from __future__ import annotations

import inspect

from litestar.handlers import HTTPRouteHandler
from litestar.utils.sync import AsyncCallable

from app.main import create_app
from app.settings import Settings


def test_every_guard_of_every_route_is_a_coroutine_function() -> None:
    threaded = []
    for route in create_app(Settings()).routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for guard in handler.resolve_guards():
                if isinstance(guard, AsyncCallable) or not inspect.iscoroutinefunction(guard):
                    threaded.append((route.path, getattr(guard, "func", guard).__qualname__))
    assert threaded == []
    assert any(handler.resolve_guards() for route in create_app(Settings()).routes
               for handler in getattr(route, "route_handlers", ()) if isinstance(handler, HTTPRouteHandler))
