"""Two catalogue projectors in one consumer group (issues 21 and 27): they split a 6-partition topic, one is
killed mid-stream (its task cancelled, its own clients closed, as a process dies), the other takes its
partitions over, and every event's effect is there exactly once: every product's search document and read
model at its final version, one inbox entry per event with its announcements done, no event applied twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from app.resources import Resources
from app.settings import Settings
from sync import stores
from sync.projector import CatalogProjector, consume
from tests.integration.bookings.conftest import create_topics
from tests.integration.sync.rows import change_product, create_product, create_property, envelope, private_settings
from tests.support.groups import REBALANCE_S, Member, Noting, keyed, produce_rounds, start_member
from tests.support.wait import until

PARTITIONS, PRODUCTS, VERSIONS = 6, 24, 3
APPLIED = ("processed", "stale", "unknown")  # what a delivery that found no inbox entry did


class NotingProjector(Noting, CatalogProjector):
    """The role's projector, noting what each delivery did (and able to stall: see ``Noting``)."""


def _projecting(ready: asyncio.Event, stall_at: int = 0) -> Any:
    async def loop(resources: Resources, stop: asyncio.Event) -> tuple[NotingProjector, Any]:
        projector = NotingProjector.from_resources(resources)
        projector.noting(stall_at)
        await projector.prepare()
        return projector, consume(projector, stop, ready=ready)
    return loop


def _applied(member: Member) -> int:
    return sum(1 for _, outcome in member.work.outcomes if outcome in APPLIED)


async def _products(db: Any, unique: str) -> dict[str, int]:
    """Products at their final version (the events that follow rebuild from it)."""
    prop = await create_property(db, f"grp-{unique}")
    final = {}
    for i in range(PRODUCTS):
        pid = await create_product(db, prop, name=f"Room {i}", nights=2)
        for version in range(2, VERSIONS + 1):
            final[pid] = await change_product(db, pid, name=f"Room {i} v{version}")
    return final


async def _converged(resources: Resources, settings: Settings, final: dict[str, int]) -> bool:
    found = await resources.es.mget(index=settings.search_index, ids=list(final))
    searched = {d["_id"]: d["_source"]["version"] for d in found["docs"] if d.get("found")}
    models = {m["product_id"]: m["version"] async for m in resources.mongo[settings.mongo_db][stores.READ_MODELS]
              .find({"product_id": {"$in": list(final)}})}
    return searched == final and models == final


async def _inbox(resources: Resources, settings: Settings) -> list[dict[str, Any]]:
    inbox = resources.mongo[settings.mongo_db][stores.INBOX]
    return [e async for e in inbox.find({"consumer": settings.projector_group})]


async def test_a_killed_projector_hands_its_partitions_over_and_every_event_applies_once(
    sync_resources: Resources, settings: Settings, unique: str
) -> None:
    mine = private_settings(settings, unique)
    await create_topics(mine, ("catalog",), PARTITIONS)
    final = await _products(sync_resources.db, unique)
    partition_of = {pid: i % PARTITIONS for i, pid in enumerate(final)}  # every partition carries products
    sent = [[envelope(pid, version) for pid in final] for version in range(1, VERSIONS + 1)]
    rounds = keyed(sent, partition_of)
    events = {str(e.event_id): e.aggregate_id for r in sent for e in r}
    ready = {"a": asyncio.Event(), "b": asyncio.Event()}
    # "a" dies right after its 4th event's effects, before its offset is committed: "b" gets that event again
    members = {name: await start_member(name, mine, _projecting(ready[name], stall_at)) for name, stall_at in
               (("a", 4), ("b", 0))}
    killed = asyncio.Event()
    producing = asyncio.create_task(produce_rounds(sync_resources.kafka, mine.topic("catalog"), rounds, killed))
    try:
        await asyncio.wait_for(asyncio.gather(ready["a"].wait(), ready["b"].wait()), REBALANCE_S)
        await asyncio.wait_for(members["a"].work.stalled.wait(), REBALANCE_S)
        await until(lambda: _worked(members["b"], 4), timeout=REBALANCE_S)  # both worked
        await members["a"].kill()  # mid-stream: "a" still has messages of its partitions to apply
        b_before = len(members["b"].work.outcomes)
        killed.set()
        await producing
        await until(lambda: _all_announced(sync_resources, mine, len(events)), timeout=REBALANCE_S, step=0.2)
        await until(lambda: _converged(sync_resources, mine, final), timeout=30, step=0.2)
    finally:
        producing.cancel()
        for member in members.values():
            await member.close()
    a, b = members["a"].work.outcomes, members["b"].work.outcomes
    applied = Counter(event for event, outcome in a + b if outcome in APPLIED)
    print(f"\nprojector group: a applied {_applied(members['a'])}, b {_applied(members['b'])}, "
          f"redelivered {sum(1 for _, o in a + b if o == 'duplicate')}, events {len(events)}")
    assert set(applied) == set(events) and max(applied.values()) == 1, [e for e, n in applied.items() if n > 1]
    assert (a[-1][0], "duplicate") in b, "b got the event a applied but did not commit, and left it alone"
    taken_over = {partition_of[events[event]] for event, _ in b[b_before:]}
    assert taken_over == set(range(PARTITIONS)), "b took every partition over, the killed member's too"


async def _all_announced(resources: Resources, settings: Settings, count: int) -> bool:
    entries = await _inbox(resources, settings)
    return len(entries) == count and all(e.get("effects_done") for e in entries)


async def _worked(member: Member, count: int) -> bool:
    return _applied(member) >= count
