"""Follow the outbox from a durable watermark: each round of a repair path reads only the events committed
since its last round, so its work is proportional to change, never to a time window.

A round (``OutboxCursor.round``) reads at most ``batch`` events of topics ``topics`` past the watermark in
(transaction id, id) order, only of transactions older than every one still running, and stops before the
first event younger than ``settle_s`` (its consumer normally handles it first). The caller checks those
events' aggregates, then ``advance``s the watermark past them (in PostgreSQL, table ``watermarks``).

Why (txid, id) and not id: ids are drawn at INSERT, so a transaction that took its xid early can commit a
higher id while a younger transaction's lower id is still hidden behind a third one running; a watermark by
id would pass that lower id for good. Every transaction below the snapshot's xmin is over, and any later one
gets a higher xid, so the events below a (txid, id) position never change once read: no event is skipped.

The first round of a new watermark starts at the outbox's end: there is nothing older to repair that the
consumers have not seen. Events pruned from the outbox (``outbox_retention_s``) before a round reads them are
not repaired: keep the repair interval far below it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

_CHANGES = """
SELECT id, txid::text::bigint AS tx, topic, aggregate_id, payload::text AS payload,
       created_at < now() - make_interval(secs => $5) AS settled
FROM outbox
WHERE (txid, id) > ($1::text::xid8, $2::bigint) AND txid < pg_snapshot_xmin(pg_current_snapshot())
  AND topic = ANY($3::text[])
ORDER BY txid, id
LIMIT $4
"""
_START = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
_READ = "SELECT txid, position FROM watermarks WHERE name = $1"
_WRITE = ("INSERT INTO watermarks (name, txid, position) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE"
          " SET txid = EXCLUDED.txid, position = EXCLUDED.position, updated_at = now()"
          " WHERE (watermarks.txid, watermarks.position) < (EXCLUDED.txid, EXCLUDED.position)")
Position = tuple[int, int]  # (transaction id, outbox id) of the last event read


@dataclass
class Round:
    """The events of one round (settled ones only) and the position of the last of them."""

    events: list[asyncpg.Record] = field(default_factory=list)
    position: Position = (0, 0)
    more: bool = False  # the batch was full: another round can follow at once

    def aggregates(self) -> list[str]:
        """Distinct aggregate ids, in first-seen order."""
        return list(dict.fromkeys(e["aggregate_id"] for e in self.events))


@dataclass
class OutboxCursor:
    db: asyncpg.Pool
    name: str
    topics: list[str]
    batch: int = 1000
    settle_s: float = 2.0
    position: Position | None = None
    reads: int = 0  # outbox rows read by every round so far (what the proportionality test counts)

    async def round(self) -> Round:
        if self.position is None:
            self.position = await self._start()
        tx, last = self.position
        rows = await self.db.fetch(_CHANGES, str(tx), last, self.topics, self.batch, self.settle_s)
        self.reads += len(rows)
        settled = []
        for row in rows:
            if not row["settled"]:
                break  # not past it: the watermark never skips an event it has not looked at
            settled.append(row)
        position = (settled[-1]["tx"], settled[-1]["id"]) if settled else self.position
        return Round(settled, position, more=len(rows) == self.batch and len(settled) == len(rows))

    async def repair_aggregates(self, repair: Callable[[list[str]], Awaitable[int]]) -> int:
        """Rounds until caught up: each round's distinct aggregate ids to ``repair`` (which returns how many
        it repaired), then the watermark past them; the total repaired."""
        repaired = 0
        while True:
            done = await self.round()
            if ids := done.aggregates():
                repaired += await repair(ids)
            await self.advance(done)
            if not done.more:
                return repaired

    async def advance(self, done: Round) -> None:
        """The round's events are repaired: never read them again."""
        if done.position > (self.position or (0, 0)):
            await self.db.execute(_WRITE, self.name, *done.position)
            self.position = done.position

    async def _start(self) -> Position:
        stored = await self.db.fetchrow(_READ, self.name)
        if stored is not None:
            return int(stored["txid"]), int(stored["position"])
        start = (int(await self.db.fetchval(_START)), 0)
        await self.db.execute(_WRITE, self.name, *start)
        return start


def payload_of(event: Any) -> dict[str, Any]:
    """An event's payload as a dict (empty when it has none)."""
    return msgspec.json.decode(event["payload"]) if event["payload"] else {}
