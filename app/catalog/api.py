"""The catalogue feature of the api: its routes (public and admin) and its MongoDB documents."""

from __future__ import annotations

from litestar import Router

from app.catalog.admin import AdminCatalogController
from app.catalog.documents import DOCUMENTS
from app.catalog.failures import EXCEPTION_HANDLERS
from app.catalog.public import ROUTES as PUBLIC_ROUTES

ROUTES: list = [
    Router(
        path="/",
        route_handlers=[*PUBLIC_ROUTES, AdminCatalogController],
        exception_handlers=EXCEPTION_HANDLERS,
    )
]
__all__ = ["DOCUMENTS", "ROUTES"]
