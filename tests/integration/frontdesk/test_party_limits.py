"""A party's size limits are settings: a hold past ``party_max_rooms`` rooms or ``party_max_guests_per_room``
guests a room, and a booking whose holds add up to more rooms than a party may take, are refused with their
problem code."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.bookings.conftest import booking_body
from tests.integration.frontdesk.conftest import DAY
from tests.integration.holds.conftest import hold_body
from tests.support.dates import resort_today


async def test_a_party_past_its_size_limits_is_refused_with_its_code(
    client: Any, catalog_factory: Any, guest_headers: dict[str, str], settings: Any,
) -> None:
    resort = await catalog_factory.resort(nights=3, start=resort_today() + 7 * DAY)
    big = await catalog_factory.product(resort.property["id"], "room_type", max_occupancy=20)
    await catalog_factory.prices(big["id"], resort.start, resort.start + 3 * DAY, 100_000, extra_guest_amount=0)
    await catalog_factory.capacity(big["id"], resort.start, resort.start + 3 * DAY, 30)
    big = await catalog_factory.reload(big["id"])
    rooms, per_room = settings.party_max_rooms, settings.party_max_guests_per_room

    async def hold(**party: Any) -> Any:
        return await client.post("/holds", json=hold_body(big, resort.start, **party),
                                 headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})

    too_many_rooms = await hold(quantity=rooms + 1, guests=rooms + 1)
    crowded = await hold(quantity=1, guests=per_room + 1)
    halves = [await hold(quantity=rooms // 2 + 1, guests=2) for _ in range(2)]  # each within, together past
    booked = await client.post("/bookings", json=booking_body([h.json()["id"] for h in halves]),
                               headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})

    assert [(a.status_code, a.json().get("code")) for a in (too_many_rooms, crowded, *halves, booked)] == [
        (422, "party_too_large"), (422, "too_many_guests_per_room"), (201, None), (201, None),
        (422, "party_too_large")]
