"""A guest books tonight through POST /bookings (the saga over Kafka, real role processes); the desk puts the
stay in a room, checks the guest in (the guest can no longer cancel), and checks out early: the unused night
comes back to inventory; the guest's view follows through the booking events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.integration.bookings.conftest import booking_body
from tests.integration.bookings.test_saga import _settled
from tests.integration.frontdesk.conftest import DAY
from tests.integration.holds.conftest import hold_body
from tests.support.dates import resort_today


async def test_a_booking_made_through_the_saga_is_assigned_checked_in_and_out(
    saga_roles: Any, client: Any, catalog_factory: Any, guest_headers: dict[str, str],
    staff_headers: Any, admin_headers: dict[str, str]
) -> None:
    today = resort_today()  # the default zone's, by the app's clock
    resort = await catalog_factory.resort(nights=5, start=today)
    room_type = resort.room
    created = await client.post(f"/admin/properties/{resort.property['id']}/rooms", headers=admin_headers,
                                json={"number": "701", "floor": 7, "room_type_id": str(room_type["id"])})
    assert created.status_code == 201, created.text
    hold = await client.post("/holds", json=hold_body(room_type, today, nights=2),
                             headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert hold.status_code == 201, hold.text
    booked = await client.post("/bookings", json=booking_body([hold.json()["id"]]),
                               headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})
    booking = await _settled(client, guest_headers, booked.json()["id"])
    assert booking["status"] == "confirmed", booking

    desk = f"/frontdesk/bookings/{booking['id']}"
    front_desk_headers = await staff_headers(resort.property['id'])
    assert (await client.post(f"{desk}/check-in", headers=front_desk_headers)).json()["code"] == "no_room_assigned"
    auto = await client.post(f"/frontdesk/{resort.property['id']}/assign", params={"date": today.isoformat()},
                             headers=front_desk_headers)
    assert [a["room_number"] for a in auto.json()["assigned"]] == ["701"], auto.text
    arrivals = (await client.get(f"/frontdesk/{resort.property['id']}/arrivals", headers=front_desk_headers)).json()
    assert [(i["booking_id"], i["room_number"], i["guest_name"]) for i in arrivals["items"]] == [
        (booking["id"], "701", "Hong Gil-dong")]
    checked_in = await client.post(f"{desk}/check-in", headers=front_desk_headers)
    assert checked_in.status_code == 200 and checked_in.json()["status"] == "checked_in"
    seen = (await client.get(f"/bookings/{booking['id']}", headers=front_desk_headers)).json()
    assert seen["status"] == "checked_in"  # the clerk reads what they did
    await _guest_sees(client, guest_headers, booking["id"], "checked_in")  # booking.checked_in -> booking-views
    hold_row = "SELECT held, sold FROM inventory WHERE product_id = $1 AND night = $2"
    before = await catalog_factory.fetch(hold_row, room_type["id"], today)
    cancel = await client.post(f"/bookings/{booking['id']}/cancel", headers=guest_headers | {
        "Idempotency-Key": uuid.uuid4().hex})
    assert cancel.status_code == 409 and cancel.json()["code"] == "booking_checked_in", cancel.text
    assert await catalog_factory.fetch(hold_row, room_type["id"], today) == before
    assert await catalog_factory.fetchval("SELECT status FROM bookings WHERE id = $1",
                                          uuid.UUID(booking["id"])) == "checked_in"

    sold = "SELECT sold FROM inventory WHERE product_id = $1 AND night = $2"
    assert [await catalog_factory.fetchval(sold, room_type["id"], today + i * DAY) for i in range(2)] == [1, 1]
    checked_out = await client.post(f"{desk}/check-out", headers=front_desk_headers)
    assert checked_out.status_code == 200 and checked_out.json()["status"] == "checked_out"
    assert [await catalog_factory.fetchval(sold, room_type["id"], today + i * DAY) for i in range(2)] == [0, 0]
    await _guest_sees(client, guest_headers, booking["id"], "checked_out")


async def _guest_sees(client: Any, headers: dict[str, str], booking_id: str, status: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (body := (await client.get(f"/bookings/{booking_id}", headers=headers)).json())["status"] != status:
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)
