"""Follow the outbox from a durable watermark: each round of a repair path reads only the events committed
since its last round, in commit order, so its work is proportional to change, never to a time window.

A round (``OutboxCursor.round``) reads at most ``batch`` events with an id above the watermark of topics
``topics``, only of transactions older than every one still running (as the relay: a lower id can never
appear later), and stops before the first event younger than ``settle_s`` (its consumer normally handles it
first). The caller checks those events' aggregates, then ``advance``s the watermark past them (in
PostgreSQL, table ``watermarks``). The first round of a new watermark starts at the outbox's end: there is
nothing older to repair that the consumers have not seen. Events pruned from the outbox
(``outbox_retention_s``) before a round reads them are not repaired: keep the repair interval far below it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

_CHANGES = """
SELECT id, topic, aggregate_id, payload::text AS payload, created_at < now() - make_interval(secs => $4) AS settled
FROM outbox
WHERE id > $1 AND topic = ANY($2::text[]) AND txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY id
LIMIT $3
"""
_START = "SELECT coalesce(max(id), 0) FROM outbox"
_READ = "SELECT position FROM watermarks WHERE name = $1"
_WRITE = ("INSERT INTO watermarks (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE"
          " SET position = greatest(watermarks.position, EXCLUDED.position), updated_at = now()")


@dataclass
class Round:
    """The events of one round (settled ones only) and the position just past them."""

    events: list[asyncpg.Record] = field(default_factory=list)
    position: int = 0
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
    position: int | None = None
    reads: int = 0  # outbox rows read by every round so far (what the proportionality test counts)

    async def round(self) -> Round:
        if self.position is None:
            self.position = await self._start()
        rows = await self.db.fetch(_CHANGES, self.position, self.topics, self.batch, self.settle_s)
        self.reads += len(rows)
        settled = []
        for row in rows:
            if not row["settled"]:
                break  # not past it: the watermark never skips an event it has not looked at
            settled.append(row)
        position = settled[-1]["id"] if settled else self.position
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
        if done.position > (self.position or 0):
            await self.db.execute(_WRITE, self.name, done.position)
            self.position = done.position

    async def _start(self) -> int:
        stored = await self.db.fetchval(_READ, self.name)
        if stored is not None:
            return int(stored)
        start = int(await self.db.fetchval(_START))
        await self.db.execute(_WRITE, self.name, start)
        return start


def payload_of(event: Any) -> dict[str, Any]:
    """An event's payload as a dict (empty when it has none)."""
    return msgspec.json.decode(event["payload"]) if event["payload"] else {}
