"""Rooms (admin), the desk's lists per date and the room board."""

from __future__ import annotations

from typing import Any

from tests.integration.frontdesk.conftest import DAY


async def test_admins_add_rooms_front_desk_lists_them(
    client: Any, desk: Any, admin_headers: dict[str, str], front_desk_headers: dict[str, str],
    guest_headers: dict[str, str]
) -> None:
    url = f"/admin/properties/{desk.property_id}/rooms"
    body = {"number": "1204", "floor": 12, "room_type_id": str(desk.room_type)}
    created = await client.post(url, json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in body} == body and created.json()["property_id"] == desk.property_id
    for payload, headers, status, code in (
        (body, admin_headers, 409, "room_exists"),
        (body | {"number": "1205", "room_type_id": "nope"}, admin_headers, 422, "unknown_room_type"),
        (body | {"number": "12 05"}, admin_headers, 422, "validation_failed"),
        (body | {"number": "1206"}, front_desk_headers, 403, "insufficient_role"),
    ):
        answer = await client.post(url, json=payload, headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    missing = await client.post("/admin/properties/no-such-place/rooms", json=body, headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["code"] == "property_not_found"
    listed = await client.get(f"/frontdesk/{desk.property_id}/rooms", headers=front_desk_headers)
    assert [r["number"] for r in listed.json()] == ["101", "102", "103", "104", "1204"]
    assert (await client.get(f"/frontdesk/{desk.property_id}/rooms", headers=guest_headers)).status_code == 403


async def test_arrivals_departures_and_in_house_of_a_date_with_rooms_and_status(
    client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    arriving = await desk.booking(desk.today, desk.today + 2 * DAY)
    staying = await desk.booking(desk.today - DAY, desk.today + DAY)
    leaving = await desk.booking(desk.today - 2 * DAY, desk.today)
    for booking, room in ((arriving, 0), (staying, 1)):
        assigned = await client.put(f"/frontdesk/bookings/{booking}/room", json={"room_id": str(desk.rooms[room])},
                                    headers=front_desk_headers)
        assert assigned.status_code == 200, assigned.text
    await desk.seat(leaving, desk.rooms[2])  # assigned while its nights were ahead
    assert (await client.post(f"/frontdesk/bookings/{staying}/check-in", headers=front_desk_headers)).status_code == 200
    await desk.db.execute("UPDATE bookings SET status = 'checked_in' WHERE id = $1", leaving)  # in since 2 days

    async def view(which: str, day: Any = None) -> list[tuple[str, str, str | None]]:
        params = {"date": day.isoformat()} if day else {}
        answer = await client.get(f"/frontdesk/{desk.property_id}/{which}", params=params, headers=front_desk_headers)
        assert answer.status_code == 200, answer.text
        return [(i["booking_id"], i["status"], i["room_number"]) for i in answer.json()["items"]]

    assert await view("arrivals") == [(str(arriving), "confirmed", "101")]
    assert await view("departures") == [(str(leaving), "checked_in", "103")]
    assert await view("in-house") == [(str(staying), "checked_in", "102")]
    assert await view("arrivals", desk.today - DAY) == [(str(staying), "checked_in", "102")]
    bad = await client.get(f"/frontdesk/{desk.property_id}/arrivals", params={"date": "soon"},
                           headers=front_desk_headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")


async def test_the_board_shows_free_assigned_occupied_and_out_of_service_nights(
    client: Any, desk: Any, front_desk_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    booked = await desk.booking(desk.today + DAY, desk.today + 3 * DAY)
    inside = await desk.booking(desk.today, desk.today + 2 * DAY)
    for booking, room in ((booked, 0), (inside, 1)):
        await client.put(f"/frontdesk/bookings/{booking}/room", json={"room_id": str(desk.rooms[room])},
                         headers=front_desk_headers)
    await client.post(f"/frontdesk/bookings/{inside}/check-in", headers=front_desk_headers)
    await client.post(f"/admin/properties/{desk.property_id}/rooms/{desk.rooms[2]}/out-of-service",
                      json={"start": desk.today.isoformat(), "end": (desk.today + 10 * DAY).isoformat()},
                      headers=admin_headers)
    params = {"from": desk.today.isoformat(), "to": (desk.today + 4 * DAY).isoformat()}
    board = (await client.get(f"/frontdesk/{desk.property_id}/board", params=params, headers=front_desk_headers)).json()
    assert board["nights"] == [(desk.today + i * DAY).isoformat() for i in range(4)]
    assert {r["number"]: r["cells"] for r in board["rooms"]} == {
        "101": ["free", "assigned", "assigned", "free"],
        "102": ["occupied", "occupied", "free", "free"],
        "103": ["out_of_service"] * 4,
        "104": ["free"] * 4,
    }
    assert board["rooms"][0]["bookings"] == [None, str(booked), str(booked), None]
    for bad, code in (({"from": params["to"], "to": params["from"]}, "invalid_date_range"),
                      ({"from": params["from"], "to": (desk.today + 100 * DAY).isoformat()}, "date_range_too_long")):
        answer = await client.get(f"/frontdesk/{desk.property_id}/board", params=bad, headers=front_desk_headers)
        assert answer.status_code == 422 and answer.json()["code"] == code
