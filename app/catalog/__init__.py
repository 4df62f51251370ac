"""The polyglot product catalogue: PostgreSQL core, MongoDB details and reviews, Redis-cached views.

Admin writes (``admin.py``) bump the product's version and record an outbox event in the same
transaction (``writes.py``, ``details.py``); the projector (``sync/``) carries them to search and the
read model and calls ``cache.invalidate_product``.
"""

from __future__ import annotations

from litestar import Router

from app.catalog.admin import AdminCatalogController
from app.catalog.failures import EXCEPTION_HANDLERS
from app.catalog.public import ROUTES as PUBLIC_ROUTES

ROUTES: list = [
    Router(
        path="/",
        route_handlers=[*PUBLIC_ROUTES, AdminCatalogController],
        exception_handlers=EXCEPTION_HANDLERS,
    )
]
__all__ = ["ROUTES"]
