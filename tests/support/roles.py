"""Worker roles that exist for tests only, plugged in through ``RESORT_EXTRA_ROLES`` (name=module:function)."""

from __future__ import annotations

import asyncio

from app.resources import Resources


async def exit_at_once(resources: Resources, stop: asyncio.Event) -> None:
    """A role that fails as soon as it starts, every time: ``resort up`` must report it as crash-looping."""
    raise RuntimeError("the exit_at_once test role fails as soon as it starts")
