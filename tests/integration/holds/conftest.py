"""Holds fixtures: a resort to hold, callers, and a ``hold`` helper posting with a fresh Idempotency-Key."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

HoldFn = Callable[..., Awaitable[Any]]


def hold_body(product: dict[str, Any], start: dt.date, nights: int = 1, **extra: Any) -> dict[str, Any]:
    return {"product_id": str(product["id"]), "check_in": start.isoformat(),
            "check_out": (start + dt.timedelta(days=nights)).isoformat(), "quantity": 1, "guests": 2} | extra


@pytest.fixture
def hold(client: Any) -> HoldFn:
    """``await hold(headers, body, key=None)`` -> the response of POST /holds."""

    async def post(headers: dict[str, str], body: dict[str, Any], key: str | None = None) -> Any:
        return await client.post("/holds", json=body,
                                 headers=headers | {"Idempotency-Key": key or uuid.uuid4().hex})

    return post


async def inventory(catalog_factory: Any, product: dict[str, Any], night: dt.date) -> dict[str, Any]:
    rows = await catalog_factory.fetch(
        "SELECT capacity, held, sold FROM inventory WHERE product_id = $1 AND night = $2", product["id"], night)
    return rows[0]
