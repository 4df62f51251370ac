"""Several members of one Kafka consumer group, each run as its process would run it: pools and clients of its
own (PostgreSQL, Redis, MongoDB, Elasticsearch: a request cut off when it dies never reaches a pool another
member draws from), its consumer loop in a task. ``kill`` cancels the loop wherever it is and closes what the
member opened, as its death would; the group hands its partitions to the others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from app.resources import Resources, open_resources
from app.settings import Settings

# Tansu rebalances slowly on a loaded machine: bounded, but generous.
REBALANCE_S = 120.0

Loop = Callable[[Resources, asyncio.Event], Awaitable[tuple[Any, Awaitable[None]]]]


class Noting:
    """Mixed into a role's handler class (``handle(envelope) -> outcome``): notes what each delivery did, and
    with ``stall_at`` the member stops dead right after that delivery's effect, before its offset is committed,
    the point where a kill hurts most (``stalled`` is set; it waits there until killed)."""

    outcomes: list[tuple[str, str]]
    stall_at: int
    stalled: asyncio.Event

    def noting(self, stall_at: int = 0) -> None:
        self.outcomes, self.stall_at, self.stalled = [], stall_at, asyncio.Event()

    async def handle(self, envelope: Any) -> str:
        outcome: str = await super().handle(envelope)  # type: ignore[misc]
        self.outcomes.append((str(envelope.event_id), outcome))
        if len(self.outcomes) == self.stall_at:
            self.stalled.set()
            await asyncio.Event().wait()  # never set: here until the task is cancelled
        return outcome


@dataclass
class Member:
    name: str
    work: Any  # what the member's loop drives (a projector, a publisher), for the test to look at
    task: asyncio.Task[None]
    stop: asyncio.Event
    opened: contextlib.AsyncExitStack

    async def kill(self) -> None:
        """Cancelled mid-stream: no orderly stop; whatever was in flight is abandoned, its clients closed."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.opened.aclose()

    async def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(self.task, 15)
        await self.opened.aclose()


async def start_member(name: str, settings: Settings, loop: Loop) -> Member:
    """Open the member's own resources and start its loop (``loop`` builds what it drives and its coroutine)."""
    opened = contextlib.AsyncExitStack()
    resources = await opened.enter_async_context(open_resources(settings))
    stop = asyncio.Event()
    work, running = await loop(resources, stop)
    return Member(name, work, asyncio.create_task(running, name=f"member-{name}"), stop, opened)


async def produce_rounds(producer: AIOKafkaProducer, topic: str, rounds: list[list[tuple[str, int, bytes]]],
                         killed: asyncio.Event) -> None:
    """Send ``rounds`` of (key, partition, value); the last round only once a member was killed, so every
    partition has messages that arrive after the kill."""
    for number, messages in enumerate(rounds):
        if number == len(rounds) - 1:
            await killed.wait()
        for key, partition, value in messages:
            await producer.send_and_wait(topic, value, key=key.encode(), partition=partition)
