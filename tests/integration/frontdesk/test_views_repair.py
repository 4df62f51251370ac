"""The stay lists' repair follows the outbox from a watermark (issue 21: background work in proportion to
change): a stay whose event was lost is refreshed once, and a round after no new change reads nothing,
however many bookings changed before. It used to re-read every booking changed in the last ten minutes,
every five seconds."""

from __future__ import annotations

import uuid

from app.frontdesk.views import DeskViews, _index_key
from app.outbox import record_event
from app.resources import Resources
from app.settings import Settings
from app.watermarks import OutboxCursor
from tests.integration.frontdesk.conftest import DAY, Desk
from tests.support.wait import until


async def _stamp(resources: Resources, booking: uuid.UUID) -> int:
    return int((await resources.redis.get(_index_key(str(booking)))).split(b"|", 1)[0])


async def test_a_lost_stay_is_repaired_once_and_a_quiet_round_reads_nothing(
        sync_resources: Resources, settings: Settings, desk: Desk) -> None:
    topic = f"frontdesk-test-{uuid.uuid4().hex[:8]}"  # no other test's event is counted
    views, cursor = DeskViews(sync_resources.db, sync_resources.redis, settings), \
        OutboxCursor(sync_resources.db, topic, [topic], settle_s=0)
    await views.reconcile(cursor)  # the watermark starts at the outbox's end
    bookings = [await desk.booking(desk.today + i * DAY, desk.today + (i + 2) * DAY) for i in range(3)]
    for booking in bookings:
        await views.refresh(booking)
    lost = bookings[1]
    async with sync_resources.db.acquire() as conn, conn.transaction():  # changed; its event never delivered
        await conn.execute("UPDATE bookings SET desk_version = desk_version + 1 WHERE id = $1", lost)
        await record_event(conn, topic=topic, aggregate_type="booking", aggregate_id=str(lost),
                           event_type="booking.checked_in", version=1, payload={"booking_id": str(lost)})
    stale = await _stamp(sync_resources, lost)
    repaired: list[int] = []

    async def caught_up() -> bool:  # events of transactions older than a running one wait for it (as the relay)
        repaired.append(await views.reconcile(cursor))
        return cursor.reads == 1

    await until(caught_up, timeout=30)
    assert sum(repaired) == 1
    assert await _stamp(sync_resources, lost) == stale + 1
    quiet = cursor.reads
    assert await views.reconcile(cursor) == 0
    assert cursor.reads == quiet
