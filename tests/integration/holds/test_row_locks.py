"""The inventory aggregate's row lock does not wait for holds being written: a hold inserts its lines (whose
foreign key to ``inventory`` takes ``FOR KEY SHARE`` on the night's row) before it takes its nights' locks,
so a writer of counts that locked rows ``FOR UPDATE`` queued behind every hold in flight on those nights (on
a hot night, past ``hold_lock_wait_ms``: a storm of ``503 busy``). Counts are locked ``FOR NO KEY UPDATE``,
the lock their UPDATE takes anyway, which such checks do not conflict with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.holds.domain import Line
from app.inventory import repository as inventory
from app.resources import Resources


async def test_locking_a_night_does_not_wait_for_a_hold_line_being_inserted(
    sync_resources: Resources, catalog_resort: Any, catalog_factory: Any
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 10)
    async with sync_resources.db.acquire() as writing, writing.transaction():
        # what inserting a hold_lines row does to its night (PostgreSQL's foreign-key check)
        await writing.execute("SELECT 1 FROM inventory WHERE product_id = $1 AND night = $2 FOR KEY SHARE",
                              room["id"], night)
        async with sync_resources.db.acquire() as counting, counting.transaction():
            await counting.execute("SET LOCAL lock_timeout = '500ms'")
            rows = await inventory.lock(counting, [Line(str(room["id"]), night, 1)])
            assert [(r["night"], r["capacity"]) for r in rows] == [(night, 10)]
