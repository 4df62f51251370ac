"""A task cancelled while it talks to Redis stops (``app.redis_connection``). On Python 3.11 redis-py's own
connection loses a cancel that lands as a command's write completes (``asyncio.wait_for``, CPython gh-86296):
about one cancel in twenty was ignored on this machine, and a SIGTERM drain hung on a ``/live`` reader that never
stopped. Here 200 tasks, each cancelled at a random moment of a loop of commands on the api's own Redis client,
must all end."""

from __future__ import annotations

import asyncio
import random

from app.resources import Resources

TRIALS = 200


async def _commands_forever(resources: Resources) -> None:
    while True:
        await resources.redis.get("redis-cancel-probe")


async def test_every_cancelled_redis_task_stops(sync_resources: Resources) -> None:
    rng = random.Random(86296)
    for trial in range(TRIALS):
        task = asyncio.create_task(_commands_forever(sync_resources))
        await asyncio.sleep(rng.uniform(0, 0.02))
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1)
        if not done:
            await _stop(task)
        assert done, f"cancelled task {trial + 1} of {TRIALS} went on running"


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel until the cancel sticks (each one is lost only now and then), so the session can close."""
    for _ in range(100):
        task.cancel()
        if (await asyncio.wait({task}, timeout=0.1))[0]:
            return
