"""Several orchestrators and participants in one consumer group share the saga's partitions (4 each); one
killed mid-stream hands its partitions to the others, and every booking still ends once, with no step
applied twice."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

from tests.integration.bookings.test_saga import _book, _hold, _settled


async def test_a_killed_consumer_hands_its_partitions_over_and_every_booking_ends_once(
    group_roles: Any, client: Any, catalog_resort: Any, guest_headers: dict[str, str], catalog_factory: Any
) -> None:
    room, start = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], start, start + dt.timedelta(days=20), 10)
    booked = []
    for n in range(16):
        hold_id = await _hold(client, guest_headers, room, start + dt.timedelta(days=n))
        response = await _book(client, guest_headers, [hold_id])
        assert response.status_code == 202, response.text
        booked.append(response.json()["id"])
        if n == 5:
            group_roles.kill("saga")  # mid-stream: its partitions go to saga-2, its peer's to services-2
            group_roles.kill("services")
    finals = await asyncio.gather(*(_settled(client, guest_headers, b, timeout=120) for b in booked))
    assert Counter(f["status"] for f in finals) == {"confirmed": 16}
    steps = await catalog_factory.fetch(
        "SELECT booking_id, step, outcome, count(*) AS n FROM booking_timeline WHERE booking_id = ANY($1::uuid[])"
        " AND outcome NOT IN ('deadline', 'resent') GROUP BY booking_id, step, outcome", booked)
    assert all(s["n"] == 1 for s in steps), [dict(s) for s in steps if s["n"] != 1]
    sold = await catalog_factory.fetchval("SELECT sum(sold) FROM inventory WHERE product_id = $1", room["id"])
    assert sold == 16
