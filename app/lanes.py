"""Bounded concurrency inside one partition, with each key's messages still one after another.

A saga consumer handles up to ``limit`` messages at once; messages of the same key (the booking id) wait
for the ones before them, so one booking's commands keep their order, and a booking that waits on a slow
provider holds one slot only: the bookings behind it on the same partition keep moving. An offset is
committed once every message up to it is done (at-least-once, as before; handlers are idempotent).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any


class Lanes:
    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.tails: dict[bytes, asyncio.Task[None]] = {}
        self.pending: dict[Any, deque[tuple[int, asyncio.Task[None]]]] = {}

    async def submit(self, partition: Any, offset: int, key: bytes | None,
                     work: Callable[[], Awaitable[None]]) -> None:
        """Start ``work`` once a slot is free (waits for one: back-pressure on the fetch loop)."""
        await self.slots.acquire()
        lane = key or b""
        task = asyncio.create_task(self._run(self.tails.get(lane), work))
        self.tails[lane] = task
        task.add_done_callback(lambda done: self._ended(lane, done))
        self.pending.setdefault(partition, deque()).append((offset, task))

    async def _run(self, before: asyncio.Task[None] | None, work: Callable[[], Awaitable[None]]) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])
            await work()
        finally:
            self.slots.release()

    def _ended(self, lane: bytes, task: asyncio.Task[None]) -> None:
        if self.tails.get(lane) is task:
            del self.tails[lane]

    def committable(self) -> dict[Any, int]:
        """Per partition, the offset after the last message whose predecessors are all done."""
        offsets = {}
        for partition, queue in self.pending.items():
            while queue and _succeeded(queue[0][1]):
                offsets[partition] = queue.popleft()[0] + 1
        return offsets

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout``) for what is running; cancel the rest (its offsets stay uncommitted)."""
        tasks = [t for queue in self.pending.values() for _, t in queue if not t.done()]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    def cancel(self) -> None:
        """Stop whatever still runs (the loop itself was cancelled): its offsets stay uncommitted, its
        messages come again."""
        for queue in self.pending.values():
            for _, task in queue:
                task.cancel()


def _succeeded(task: asyncio.Task[None]) -> bool:
    """Done without an error (a message interrupted by the stop is not done: it comes again)."""
    return task.done() and not task.cancelled() and task.exception() is None
