"""A watermark never passes an event it has not read, whatever order transactions commit in.

The case a watermark kept by outbox id got wrong (the fault run's live watchers kept five bookings' old
status): transaction ``older`` takes its xid, then ``running`` takes one and stays open; ``younger`` writes
event L and commits; ``older`` writes event H (a higher id than L) and commits. While ``running`` is open,
L's transaction is not below the snapshot's xmin and H's is: a round reads H. By id the watermark was then past
L, which no later round read; by (txid, id) L comes after H, once ``running`` is over."""

from __future__ import annotations

import uuid

import asyncpg

from app.outbox import record_event
from app.resources import Resources
from app.watermarks import OutboxCursor, Round
from tests.support.wait import until


async def _event(conn: asyncpg.Connection, topic: str, name: str) -> str:
    await record_event(conn, topic=topic, aggregate_type="test", aggregate_id=name, event_type="test.changed",
                       version=1, payload={})
    return name


async def _begin_with_xid(conn: asyncpg.Connection) -> asyncpg.transaction.Transaction:
    transaction = conn.transaction()
    await transaction.start()
    await conn.fetchval("SELECT pg_current_xact_id()")  # the xid is taken now, as at a transaction's first write
    return transaction


async def test_an_event_committed_behind_a_running_transaction_is_read_once_it_ends(
        sync_resources: Resources) -> None:
    topic = f"watermark-test-{uuid.uuid4().hex[:8]}"  # no other test's event is on it
    cursor = OutboxCursor(sync_resources.db, topic, [topic], settle_s=0)
    assert (await cursor.round()).events == []  # a new watermark starts at the outbox's end
    older, running, younger = [await sync_resources.db.acquire() for _ in range(3)]
    try:
        older_tx = await _begin_with_xid(older)
        running_tx = await _begin_with_xid(running)
        async with younger.transaction():
            low = await _event(younger, topic, "L")
        high = await _event(older, topic, "H")
        await older_tx.commit()

        async def next_round() -> Round | None:
            done = await cursor.round()
            return done if done.events else None

        first = await until(next_round, timeout=30)
        assert [e["aggregate_id"] for e in first.events] == [high]
        await cursor.advance(first)
        await running_tx.rollback()
        second = await until(next_round, timeout=30)
        assert [e["aggregate_id"] for e in second.events] == [low]
        await cursor.advance(second)
        assert (await cursor.round()).events == []
    finally:
        for conn in (older, running, younger):
            await sync_resources.db.release(conn)
