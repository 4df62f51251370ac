"""Waiting on a condition instead of sleeping for a guessed time."""

from __future__ import annotations

import asyncio
from typing import Any


async def until(predicate: Any, timeout: float = 20.0, step: float = 0.05) -> Any:
    """Poll the async ``predicate`` until it returns something truthy (or fail after ``timeout``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(step)
