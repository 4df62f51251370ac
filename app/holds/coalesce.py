"""A single writer per hot key in each process: claims on one key that arrive while it is being written
queue behind the writer and are decided together in its next round.

The first claim on a quiet key is written at once by its own request (``alone``): without contention nothing
changes. Claims arriving while that write runs wait in the key's queue (at most ``max_waiting`` in the
process, past which the answer is ``refuse("queue_full")``); when the write ends, a writer task takes the queue, at most
``max_batch`` claims a round: one claim goes ``alone``, several go ``together`` (one transaction, one guarded
update). Each claim gets its own result or its own exception. The writer stops when its key's queue is
empty. A waiter that goes away (its request was cancelled) is skipped if its round has not started.

Knows nothing of holds: ``app.holds.together`` is the use case it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

C = TypeVar("C")
R = TypeVar("R")


class Coalescer(Generic[C, R]):
    def __init__(self, alone: Callable[[C], Awaitable[R]],
                 together: Callable[[list[C]], Awaitable[list[R | BaseException]]],
                 max_batch: int, max_waiting: int, refuse: Callable[[str], Exception]) -> None:
        self.alone, self.together, self.refuse = alone, together, refuse
        self.max_batch, self.max_waiting = max(1, max_batch), max_waiting
        self.queues: dict[str, list[tuple[C, asyncio.Future[R]]]] = {}
        self.waiting = 0
        self.writers: set[asyncio.Task[None]] = set()

    async def submit(self, key: str, claim: C) -> R:
        queue = self.queues.get(key)
        if queue is None:  # a quiet key: this request writes its claim itself
            self.queues[key] = []
            try:
                return await self.alone(claim)
            finally:
                self._hand_over(key)
        if self.waiting >= self.max_waiting:
            raise self.refuse("queue_full")
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue.append((claim, done))
        self.waiting += 1
        return await done

    def _hand_over(self, key: str) -> None:
        """The key's write ended: a writer takes what queued meanwhile, or the key is quiet again."""
        if not self.queues.get(key):
            self.queues.pop(key, None)
            return
        task = asyncio.create_task(self._write(key), name=f"hold-writer:{key}")
        self.writers.add(task)
        task.add_done_callback(self.writers.discard)

    async def _write(self, key: str) -> None:
        while queue := self.queues.get(key):
            batch, self.queues[key] = queue[:self.max_batch], queue[self.max_batch:]
            self.waiting -= len(batch)
            live = [(claim, done) for claim, done in batch if not done.done()]
            try:
                outcomes = await self._decide([claim for claim, _ in live])
            except BaseException:  # the writer itself was cancelled (the api stops): everyone hears "retry"
                rest = self.queues.pop(key, [])
                self.waiting -= len(rest)
                for _, done in live + rest:
                    _settle(done, self.refuse("stopping"))
                raise
            for (_, done), outcome in zip(live, outcomes, strict=True):
                _settle(done, outcome)
        self.queues.pop(key, None)

    async def _decide(self, claims: list[C]) -> list[R | BaseException]:
        if not claims:
            return []
        if len(claims) == 1:
            try:
                return [await self.alone(claims[0])]
            except Exception as exc:  # noqa: BLE001 - the claim's own answer (a refusal, busy, an error)
                return [exc]
        try:
            return await self.together(claims)
        except Exception as exc:  # noqa: BLE001 - the round failed as a whole: every claim gets why
            return [exc] * len(claims)


def _settle(done: asyncio.Future[R], outcome: R | BaseException) -> None:
    if done.done():
        return
    if isinstance(outcome, BaseException):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)
