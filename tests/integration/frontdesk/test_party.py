"""A party: one booking (one saga, one payment) of three rooms over two room types, each room assigned,
checked in and checked out on its own; a room leaving early gives back its own nights only."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.bookings.conftest import booking_body
from tests.integration.bookings.test_saga import _settled
from tests.integration.frontdesk.conftest import DAY
from tests.integration.holds.conftest import hold_body
from tests.support.dates import resort_today


async def test_a_party_of_three_rooms_over_two_types_is_one_booking_with_rooms_checked_in_and_out_one_by_one(
    saga_roles: Any, client: Any, catalog_factory: Any, guest_headers: dict[str, str], staff_headers: Any
) -> None:
    resort = await catalog_factory.resort(nights=5, start=resort_today())
    prop, today = resort.property["id"], resort.start
    suite = await catalog_factory.product(prop, "room_type")
    await catalog_factory.prices(suite["id"], today, today + 5 * DAY, 300_000, extra_guest_amount=0)
    await catalog_factory.capacity(suite["id"], today, today + 5 * DAY, 3)
    suite = await catalog_factory.reload(suite["id"])
    numbers = {"701": resort.room["id"], "702": resort.room["id"], "801": suite["id"]}
    rooms = {n: await catalog_factory.fetchval(
        "INSERT INTO rooms (property_id, number, floor, room_type_id) VALUES ($1, $2, 7, $3) RETURNING id",
        prop, n, t) for n, t in numbers.items()}
    holds = []
    for product, quantity in ((resort.room, 2), (suite, 1)):
        made = await client.post("/holds", json=hold_body(product, today, nights=2, quantity=quantity),
                                 headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})
        assert made.status_code == 201, made.text
        holds.append(made.json()["id"])
    booked = await client.post("/bookings", json=booking_body(holds),
                               headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})
    booking = await _settled(client, guest_headers, booked.json()["id"])
    assert booking["status"] == "confirmed", booking
    bid = uuid.UUID(booking["id"])
    payments = await catalog_factory.fetch("SELECT operation FROM payments WHERE booking_id = $1 ORDER BY 1", bid)
    assert [p["operation"] for p in payments] == ["authorize", "capture"]  # one payment for the party

    desk, headers = f"/frontdesk/bookings/{booking['id']}/rooms", await staff_headers(prop)
    party = (await client.get(desk, headers=headers)).json()
    assert [(r["slot"], r["room_type_id"], r["status"]) for r in party["rooms"]] == [
        (1, str(resort.room["id"]), "unassigned"), (2, str(resort.room["id"]), "unassigned"),
        (3, str(suite["id"]), "unassigned")]
    for slot, number in ((1, "701"), (2, "702"), (3, "801")):
        assigned = await client.put(f"{desk}/{slot}/room", json={"room_id": str(rooms[number])}, headers=headers)
        assert (assigned.status_code, assigned.json()["room_number"]) == (200, number), assigned.text
    wrong = await client.put(f"{desk}/3/room", json={"room_id": str(rooms["701"])}, headers=headers)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "room_type_mismatch")
    missing = await client.put(f"{desk}/4/room", json={"room_id": str(rooms["701"])}, headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "slot_not_found")
    assert await catalog_factory.fetchval("SELECT count(*) FROM room_assignments WHERE booking_id = $1", bid) == 3

    first = await client.post(f"{desk}/1/check-in", headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["status"], [r["status"] for r in first.json()["rooms"]]) == (
        "checked_in", ["checked_in", "assigned", "assigned"])
    for slot in (2, 3):
        assert (await client.post(f"{desk}/{slot}/check-in", headers=headers)).status_code == 200
    sold = "SELECT sold FROM inventory WHERE product_id = $1 AND night = $2"
    assert [await catalog_factory.fetchval(sold, t, today) for t in (resort.room["id"], suite["id"])] == [2, 1]
    out = await client.post(f"{desk}/3/check-out", headers=headers)  # the suite leaves on the first day
    assert (out.json()["status"], [r["status"] for r in out.json()["rooms"]][:2]) == (
        "checked_in", ["checked_in", "checked_in"])
    assert [await catalog_factory.fetchval(sold, suite["id"], today + i * DAY) for i in range(2)] == [0, 0]
    assert [await catalog_factory.fetchval(sold, resort.room["id"], today + i * DAY) for i in range(2)] == [2, 2]
    for slot in (1, 2):
        assert (await client.post(f"{desk}/{slot}/check-out", headers=headers)).status_code == 200
    assert (await client.get(desk, headers=headers)).json()["status"] == "checked_out"  # the last room out
    assert [await catalog_factory.fetchval(sold, resort.room["id"], today + i * DAY) for i in range(2)] == [0, 0]


async def test_each_room_of_a_party_moves_on_its_own_and_the_last_one_out_checks_the_booking_out(
    client: Any, desk: Any, catalog_factory: Any, front_desk_headers: dict[str, str]
) -> None:
    suite_type = (await catalog_factory.product(desk.property_id, "room_type"))["id"]
    await catalog_factory.fetchval("INSERT INTO inventory (product_id, night, capacity) SELECT $1, $2::date + n, 5"
                                   " FROM generate_series(0, 3) n RETURNING 1", suite_type, desk.today)
    suite = await desk.room("801", suite_type)
    booking = await desk.booking(desk.today, desk.today + 2 * DAY, party=[(desk.room_type, 2), (suite_type, 1)])
    url, headers = f"/frontdesk/bookings/{booking}/rooms", front_desk_headers
    for slot, room in ((1, desk.rooms[0]), (2, desk.rooms[1]), (3, suite)):
        assert (await client.put(f"{url}/{slot}/room", json={"room_id": str(room)}, headers=headers)).status_code == 200
    wrong = await client.put(f"{url}/3/room", json={"room_id": str(desk.rooms[2])}, headers=headers)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "room_type_mismatch")
    missing = await client.post(f"{url}/4/check-in", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "slot_not_found")
    early = await client.post(f"{url}/1/check-out", headers=headers)
    assert (early.status_code, early.json()["code"]) == (409, "not_checked_in")
    first = await client.post(f"{url}/1/check-in", headers=headers)
    assert (first.json()["status"], [r["status"] for r in first.json()["rooms"]]) == (
        "checked_in", ["checked_in", "assigned", "assigned"])
    for slot in (1, 2, 3):  # the first again is a no-op
        assert (await client.post(f"{url}/{slot}/check-in", headers=headers)).status_code == 200
    out = await client.post(f"{url}/3/check-out", headers=headers)  # the suite leaves on the arrival day
    assert (out.json()["status"], [r["status"] for r in out.json()["rooms"]][:2]) == (
        "checked_in", ["checked_in", "checked_in"])
    assert [await desk.sold(desk.today + i * DAY, suite_type) for i in range(2)] == [0, 0]
    assert [await desk.sold(desk.today + i * DAY) for i in range(2)] == [2, 2]
    stays = (await client.get(f"/frontdesk/{desk.property_id}/stays", headers=headers)).json()
    assert [[r["number"] for r in s["rooms"]] for s in stays["in_house"]] == [["101", "102"]]
    for slot in (1, 2):
        assert (await client.post(f"{url}/{slot}/check-out", headers=headers)).status_code == 200
    assert (await client.get(url, headers=headers)).json()["status"] == "checked_out"  # the last room out
    assert [await desk.sold(desk.today + i * DAY) for i in range(2)] == [0, 0]
    assert await desk.overlaps() == 0
