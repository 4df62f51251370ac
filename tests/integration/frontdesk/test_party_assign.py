"""Automatic assignment seats every room of a party, each in a free room of its own type, and leaves a
clerk's choice alone; a room no free room fits is named by its slot."""

from __future__ import annotations

from typing import Any

from tests.integration.frontdesk.conftest import DAY, Desk, add_inventory


async def test_automatic_assignment_seats_each_room_of_a_party_in_a_room_of_its_type(
    client: Any, desk: Desk, catalog_factory: Any, front_desk_headers: dict[str, str],
) -> None:
    suite = (await catalog_factory.product(desk.property_id, "room_type"))["id"]
    await add_inventory(desk.db, suite, desk.today, desk.today + 5 * DAY, 5)
    await desk.room("S1", suite)
    family = await desk.booking(desk.today, desk.today + 2 * DAY, party=[(desk.room_type, 2), (suite, 1)])
    couple = await desk.booking(desk.today, desk.today + DAY, party=[(desk.room_type, 1), (suite, 1)])
    chosen = await client.put(f"/frontdesk/bookings/{family}/rooms/1/room", json={"room_id": str(desk.rooms[2])},
                              headers=front_desk_headers)  # a clerk put the family's first room in 103
    assert chosen.status_code == 200, chosen.text

    answer = await client.post(f"/frontdesk/{desk.property_id}/assign", params={"date": desk.today.isoformat()},
                               headers=front_desk_headers)

    body = answer.json()
    assert (answer.status_code, [(a["booking_id"], a["slot"], a["room_number"]) for a in body["assigned"]],
            [(u["booking_id"], u["slot"], u["reason"]) for u in body["unassigned"]]) == (
        200, [(str(family), 2, "101"), (str(family), 3, "S1"), (str(couple), 1, "102")],
        [(str(couple), 2, "no_free_room")])
