"""The stay's lifecycle at the desk: each transition (idempotent, an event, an audit row naming the clerk) and
each refusal (a clear 4xx problem+json, nothing written)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.frontdesk.conftest import DAY
from tests.integration.holds.test_partners_events import _partner
from tests.support.wait import until


async def _assign(client: Any, headers: dict[str, str], booking: Any, room: Any) -> None:
    answer = await client.put(f"/frontdesk/bookings/{booking}/room", json={"room_id": str(room)}, headers=headers)
    assert answer.status_code == 200, answer.text


async def _events(desk: Any, booking: Any) -> list[tuple[str, dict[str, Any]]]:
    rows = await desk.db.fetch("SELECT event_type, payload::text AS payload FROM outbox WHERE aggregate_id = $1"
                               " AND topic = 'bookings' ORDER BY id", str(booking))
    return [(r["event_type"], json.loads(r["payload"])) for r in rows]


async def _actors(desk: Any, booking: Any, action: str) -> list[str]:
    rows = await desk.db.fetch("SELECT actor FROM audit_log WHERE action = $1 AND detail->>'booking_id' = $2",
                               action, str(booking))
    return [r["actor"] for r in rows]


async def test_check_in_then_out_on_the_last_day_each_once_with_its_event_and_audit_row(
    client: Any, desk: Any, auth_kit: Any
) -> None:
    headers, _ = await auth_kit.sign_in(["front_desk", f"property:{desk.property_id}"], subject="clerk-kim")
    booking = await desk.booking(desk.today, desk.today + DAY)
    await _assign(client, headers, booking, desk.rooms[0])
    for _ in range(2):  # the second call answers the same and writes nothing
        answer = await client.post(f"/frontdesk/bookings/{booking}/check-in", headers=headers)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["status"], answer.json()["room_number"]) == ("checked_in", "101")
    events = await _events(desk, booking)
    assert [e for e, _ in events] == ["booking.checked_in"]
    payload = events[0][1]
    assert (payload["booking_id"], payload["status"], payload["property_id"]) == (str(booking), "checked_in",
                                                                                  desk.property_id)
    assert await _actors(desk, booking, "booking.checked_in") == ["user:clerk-kim"]
    board = (await client.get(f"/frontdesk/{desk.property_id}/board", headers=headers,
                              params={"from": desk.today.isoformat(), "to": (desk.today + DAY).isoformat()})).json()
    assert board["rooms"][0]["cells"] == ["occupied"] and board["rooms"][0]["bookings"] == [str(booking)]
    sold = await desk.sold(desk.today)
    for _ in range(2):
        answer = await client.post(f"/frontdesk/bookings/{booking}/check-out", headers=headers)
        assert answer.status_code == 200 and answer.json()["status"] == "checked_out"
    assert [e for e, _ in await _events(desk, booking)] == ["booking.checked_in", "booking.checked_out"]
    assert await _actors(desk, booking, "booking.checked_out") == ["user:clerk-kim"]
    assert await desk.sold(desk.today) == sold - 1  # left on the arrival day: tonight is unused


async def test_an_early_departure_gives_the_unused_nights_back_once(
    client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    booking = await desk.booking(desk.today - 2 * DAY, desk.today + 3 * DAY)
    await _assign(client, front_desk_headers, booking, desk.rooms[1])
    assert (await client.post(f"/frontdesk/bookings/{booking}/check-in", headers=front_desk_headers)).status_code == 200
    nights = [desk.today + i * DAY for i in range(-2, 3)]
    before = [await desk.sold(n) for n in nights]
    for _ in range(2):
        out = await client.post(f"/frontdesk/bookings/{booking}/check-out", headers=front_desk_headers)
        assert out.status_code == 200 and out.json()["status"] == "checked_out"
    assert [await desk.sold(n) for n in nights] == before[:2] + [s - 1 for s in before[2:]]
    stay = await desk.db.fetchval("SELECT stay::text FROM room_assignments WHERE booking_id = $1", booking)
    assert stay == f"[{(desk.today - 2 * DAY).isoformat()},{desk.today.isoformat()})"  # the room is free tonight
    changed = await desk.db.fetch(
        "SELECT payload::text AS p FROM outbox WHERE topic = 'inventory' AND aggregate_id = $1 AND payload->>'cause'"
        " = 'booking.checked_out'", str(desk.room_type))
    assert [[n["night"] for n in json.loads(r["p"])["nights"]] for r in changed] == [[n.isoformat() for n in nights[2:]]]


async def test_a_no_show_after_the_arrival_day_frees_the_room(
    client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    booking = await desk.booking(desk.today - DAY, desk.today + DAY)
    await _assign(client, front_desk_headers, booking, desk.rooms[2])
    for _ in range(2):
        answer = await client.post(f"/frontdesk/bookings/{booking}/no-show", headers=front_desk_headers)
        assert answer.status_code == 200 and answer.json()["status"] == "no_show", answer.text
    assert [e for e, _ in await _events(desk, booking)] == ["booking.no_show"]
    assert (await desk.written(booking))[3] == []
    late = await client.post(f"/frontdesk/bookings/{booking}/check-in", headers=front_desk_headers)
    assert late.status_code == 409 and late.json()["code"] == "invalid_status"


@pytest.mark.parametrize(("action", "check_in", "check_out", "setup", "code"), [
    ("check-in", 1, 3, "room", "before_arrival"),
    ("check-in", 0, 2, "", "no_room_assigned"),
    ("check-in", -3, -1, "room", "stay_over"),
    ("check-out", 0, 2, "room", "not_checked_in"),
    ("no-show", 0, 2, "room", "arrival_day_not_over"),
    ("no-show", -1, 2, "checked_in", "checked_in"),
    ("check-in", 0, 2, "cancelled", "invalid_status"),
])
async def test_each_refusal_is_a_409_problem_and_writes_nothing(
    action: str, check_in: int, check_out: int, setup: str, code: str, client: Any, desk: Any,
    front_desk_headers: dict[str, str]
) -> None:
    status = "cancelled" if setup == "cancelled" else "confirmed"
    booking = await desk.booking(desk.today + check_in * DAY, desk.today + check_out * DAY, status=status)
    if setup in ("room", "checked_in"):
        await desk.seat(booking, desk.rooms[3])
    if setup == "checked_in":
        assert (await client.post(f"/frontdesk/bookings/{booking}/check-in",
                                  headers=front_desk_headers)).status_code == 200
    before = await desk.written(booking)
    answer = await client.post(f"/frontdesk/bookings/{booking}/{action}", headers=front_desk_headers)
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json") and answer.json()["code"] == code
    assert await desk.written(booking) == before


async def test_a_checked_in_stay_cannot_be_unassigned_but_moves_from_tonight(
    client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    booking = await desk.booking(desk.today - DAY, desk.today + 2 * DAY)
    await _assign(client, front_desk_headers, booking, desk.rooms[0])
    earlier = await desk.booking(desk.today - 3 * DAY, desk.today)  # left room 102 this morning
    await desk.db.execute("INSERT INTO room_assignments (room_id, kind, booking_id, stay) VALUES ($1, 'booking', $2,"
                          " daterange($3, $4))", desk.rooms[1], earlier, desk.today - 3 * DAY, desk.today)
    assert (await client.post(f"/frontdesk/bookings/{booking}/check-in", headers=front_desk_headers)).status_code == 200
    before = await desk.written(booking)
    refused = await client.delete(f"/frontdesk/bookings/{booking}/room", headers=front_desk_headers)
    assert refused.status_code == 409 and refused.json()["code"] == "checked_in"
    assert await desk.written(booking) == before
    await _assign(client, front_desk_headers, booking, desk.rooms[1])
    stay = await desk.db.fetchval("SELECT stay::text FROM room_assignments WHERE booking_id = $1", booking)
    assert stay == f"[{desk.today.isoformat()},{(desk.today + 2 * DAY).isoformat()})"


async def test_only_front_desk_and_admin_and_unknown_bookings_are_404(
    client: Any, desk: Any, guest_headers: dict[str, str], front_desk_headers: dict[str, str]
) -> None:
    booking = await desk.booking(desk.today, desk.today + DAY)
    for path in (f"/frontdesk/bookings/{booking}/check-in", f"/frontdesk/{desk.property_id}/assign?date=2030-01-01"):
        refused = await client.post(path, headers=guest_headers)
        assert refused.status_code == 403 and refused.json()["code"] == "insufficient_role"
    assert (await client.post(f"/frontdesk/bookings/{booking}/check-in")).status_code == 401
    for missing in (uuid.uuid4(), "nope"):
        answer = await client.post(f"/frontdesk/bookings/{missing}/check-out", headers=front_desk_headers)
        assert answer.status_code == 404 and answer.json()["code"] == "booking_not_found"


async def test_a_partners_feed_tells_it_of_check_in_check_out_and_no_show(
    client: Any, desk: Any, front_desk_headers: dict[str, str], settings: Any
) -> None:
    acme = await _partner(settings, "partner-acme", "bookings:read")
    start = (await client.get("/partner/events", headers=acme)).json()["next"]
    stay = await desk.booking(desk.today, desk.today + 2 * DAY, owner=("partner", "partner-acme"))
    missed = await desk.booking(desk.today - DAY, desk.today + DAY, owner=("partner", "partner-acme"))
    await _assign(client, front_desk_headers, stay, desk.rooms[0])
    await _assign(client, front_desk_headers, missed, desk.rooms[1])
    for booking, action in ((stay, "check-in"), (stay, "check-out"), (missed, "no-show")):
        answer = await client.post(f"/frontdesk/bookings/{booking}/{action}", headers=front_desk_headers)
        assert answer.status_code == 200, answer.text

    async def all_three() -> list[Any] | None:  # the feed shows a row once every older transaction has ended
        events = (await client.get(f"/partner/events?after={start}", headers=acme)).json()["events"]
        return events if len(events) >= 3 else None

    feed = await until(all_three)
    assert [(e["booking_id"], e["type"], e["data"]["status"]) for e in feed] == [
        (str(stay), "booking.checked_in", "checked_in"), (str(stay), "booking.checked_out", "checked_out"),
        (str(missed), "booking.no_show", "no_show")]
