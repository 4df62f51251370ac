"""The recommendation feature of the api (its cache is kept by the ``recommend-cache`` worker role)."""

from __future__ import annotations

from typing import Any

from app.recommend.controller import recommendations, related_products

ROUTES: list[Any] = [related_products, recommendations]

__all__ = ["ROUTES"]
