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

from app.outbox import encode_envelope
from app.resources import Resources, open_resources
from app.settings import Settings
from tests.support.wait import until

# Tansu rebalances slowly on a loaded machine: bounded, but generous.
REBALANCE_S = 120.0

Loop = Callable[[Resources, asyncio.Event], Awaitable[tuple[Any, Awaitable[None]]]]


class _Stall:
    """Where a member stops dead: right after the effect that brings its count to ``stall_at``, before its offset
    is committed, the point where a kill hurts most (``stalled`` is set; it waits there until killed)."""

    stall_at: int
    stalled: asyncio.Event

    async def _after(self, count: int) -> None:
        if 0 < self.stall_at <= count and not self.stalled.is_set():
            self.stalled.set()
            await asyncio.Event().wait()  # never set: here until the task is cancelled


class Noting(_Stall):
    """Mixed into a role's handler class (``handle(envelope) -> outcome``): notes what each delivery did, and
    with ``stall_at`` stalls after that delivery's effect (see ``_Stall``)."""

    outcomes: list[tuple[str, str]]

    def noting(self, stall_at: int = 0) -> None:
        self.outcomes, self.stall_at, self.stalled = [], stall_at, asyncio.Event()

    async def handle(self, envelope: Any) -> str:
        outcome: str = await super().handle(envelope)  # type: ignore[misc]
        self.outcomes.append((str(envelope.event_id), outcome))
        await self._after(len(self.outcomes))
        return outcome


class Stalling(_Stall):
    """A batch role's effect (``effect(resources, batch, stop)``, a batch of envelopes or of changes whose
    first item is the event id) noting each batch's event ids, and with ``stall_at`` stalling after the batch
    that brings its events to that many (see ``_Stall``)."""

    def __init__(self, effect: Callable[..., Awaitable[None]], stall_at: int = 0) -> None:
        self.effect, self.stall_at, self.stalled = effect, stall_at, asyncio.Event()
        self.batches: list[list[str]] = []

    async def __call__(self, resources: Resources, batch: list[Any], stop: asyncio.Event) -> None:
        await self.effect(resources, batch, stop)
        self.batches.append([_event_id(item) for item in batch])
        await self._after(len(self.events()))

    def events(self, since: int = 0) -> list[str]:
        """The event ids of every batch from the ``since``-th on."""
        return [event for batch in self.batches[since:] for event in batch]


def _event_id(item: Any) -> str:
    return str(item[0] if isinstance(item, tuple) else item.event_id)


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


async def start_pair(settings: Settings, loop: Callable[[asyncio.Event, int], Loop], stall_at: int,
                     ) -> tuple[dict[str, Member], dict[str, asyncio.Event]]:
    """Members "a" (stalling at its ``stall_at``-th effect) and "b" of one group, and the events each sets
    once its consumer has partitions (``loop(ready, stall_at)`` builds a member's loop)."""
    ready = {"a": asyncio.Event(), "b": asyncio.Event()}
    members = {name: await start_member(name, settings, loop(ready[name], stall)) for name, stall in
               (("a", stall_at), ("b", 0))}
    return members, ready


def keyed(rounds: list[list[Any]], partition_of: dict[str, int]) -> list[list[tuple[str, int, bytes]]]:
    """Rounds of envelopes as ``produce_rounds`` sends them: keyed by their aggregate, on its partition."""
    return [[(e.aggregate_id, partition_of[e.aggregate_id], encode_envelope(e)) for e in r] for r in rounds]


async def produce_rounds(producer: AIOKafkaProducer, topic: str, rounds: list[list[tuple[str, int, bytes]]],
                         killed: asyncio.Event) -> None:
    """Send ``rounds`` of (key, partition, value); the last round only once a member was killed, so every
    partition has messages that arrive after the kill."""
    for number, messages in enumerate(rounds):
        if number == len(rounds) - 1:
            await killed.wait()
        for key, partition, value in messages:
            await producer.send_and_wait(topic, value, key=key.encode(), partition=partition)


async def kill_mid_stream(members: dict[str, Member], ready: dict[str, asyncio.Event], topic: str,
                          rounds: list[list[tuple[str, int, bytes]]], producer: AIOKafkaProducer,
                          worked: Callable[[Member], int], on_kill: Callable[[], Awaitable[None]] | None = None,
                          ) -> int:
    """Members "a" (its work stalls: ``_Stall``) and "b" of one group: once both have partitions, send
    ``rounds``; once "a" stalled and "b" ``worked`` too, kill "a", do ``on_kill`` (what changes meanwhile), then
    send the last round. How much "b" had worked before the kill (what it does from there on is a takeover)."""
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready.values())), REBALANCE_S)
    killed = asyncio.Event()
    producing = asyncio.create_task(produce_rounds(producer, topic, rounds, killed))
    try:
        await asyncio.wait_for(members["a"].work.stalled.wait(), REBALANCE_S)

        async def both_worked() -> bool:
            return worked(members["b"]) > 0

        await until(both_worked, timeout=REBALANCE_S)
        await members["a"].kill()  # mid-stream: "a" still has messages of its partitions to handle
        before = worked(members["b"])
        if on_kill is not None:
            await on_kill()
        killed.set()
        await producing
    finally:
        producing.cancel()
    return before
