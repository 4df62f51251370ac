"""Room assignment never double-assigns: clerks racing for one room, automatic assignment racing clerks."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.frontdesk.domain import FrontDeskRefused, Staff
from app.frontdesk.service import FrontDeskService
from tests.integration.frontdesk.conftest import DAY
from tests.support.auth import serve_api, subprocess_environment
from tests.support.servers import free_port

ROUNDS = 25


async def _try(call: Any) -> Any:
    try:
        return await call
    except FrontDeskRefused as exc:
        return exc


async def test_two_clerks_assigning_one_room_to_overlapping_stays_exactly_one_wins_each_time(
    desk: Any, sync_resources: Any
) -> None:
    clerks = (FrontDeskService(sync_resources), FrontDeskService(sync_resources))
    for i in range(ROUNDS):
        start = desk.today + (i % 5) * DAY
        first = await desk.booking(start, start + 3 * DAY)
        second = await desk.booking(start + 2 * DAY, start + 4 * DAY)  # shares one night with the first
        room = await desk.room(f"R{i}")
        answers = await asyncio.gather(_try(clerks[0].assign(str(first), str(room), Staff("user:clerk-a"))),
                                       _try(clerks[1].assign(str(second), str(room), Staff("user:clerk-b"))))
        refused = [a for a in answers if isinstance(a, FrontDeskRefused)]
        won = [a for a in answers if not isinstance(a, FrontDeskRefused)]
        assert len(won) == 1 and len(refused) == 1, answers
        winner = first if answers[0] is won[0] else second
        assert (refused[0].status, refused[0].code, refused[0].extra["booking_id"]) == (409, "room_taken", str(winner))
        holders = await desk.db.fetch("SELECT booking_id FROM room_assignments WHERE room_id = $1", room)
        assert [h["booking_id"] for h in holders] == [winner]
    assert await desk.overlaps() == 0


@pytest.fixture(scope="module")
def api(settings: Any, stack: object) -> Iterator[str]:
    """The api as a real server process (the in-process test client runs one request at a time)."""
    with serve_api(subprocess_environment(settings), free_port()) as url:
        yield url


async def test_two_clerks_through_the_api_at_once_one_409_names_the_other_booking(
    api: str, desk: Any, auth_kit: Any
) -> None:
    clerks = [(await auth_kit.sign_in(["front_desk", f"property:{desk.property_id}"], subject=f"clerk-{n}"))[0] for n in ("a", "b")]
    async with httpx.AsyncClient(timeout=30) as http:
        for i in range(10):
            first = await desk.booking(desk.today + DAY, desk.today + 4 * DAY)
            second = await desk.booking(desk.today, desk.today + 2 * DAY)
            room = str(await desk.room(f"A{i}"))
            answers = await asyncio.gather(*(
                http.put(f"{api}/frontdesk/bookings/{booking}/room", json={"room_id": room}, headers=clerk)
                for booking, clerk in zip((first, second), clerks, strict=True)))
            assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
            loser = next(a for a in answers if a.status_code == 409)
            winner = first if answers[0].status_code == 200 else second
            assert loser.headers["content-type"].startswith("application/problem+json")
            assert (loser.json()["code"], loser.json()["booking_id"]) == ("room_taken", str(winner))
    assert await desk.overlaps() == 0


async def test_automatic_assignment_of_a_full_arrival_day_racing_clerks_never_overlaps(
    desk: Any, sync_resources: Any
) -> None:
    rooms = [await desk.room(f"B{i}") for i in range(16)] + desk.rooms  # 20 rooms of the type
    arrivals = [await desk.booking(desk.today + DAY, desk.today + (2 + i % 3) * DAY) for i in range(20)]
    auto, clerk = FrontDeskService(sync_resources), FrontDeskService(sync_resources)
    rng = random.Random(7)
    manual = [_try(clerk.assign(str(b), str(rng.choice(rooms)), Staff("user:clerk"))) for b in rng.sample(arrivals, 10)]
    results = await asyncio.gather(auto.auto_assign(desk.property_id, desk.today + DAY, "user:auto-1"),
                                   auto.auto_assign(desk.property_id, desk.today + DAY, "user:auto-2"), *manual)
    assert all(r["unassigned"] == [] for r in results[:2]), results[:2]
    assigned = await desk.db.fetch("SELECT booking_id, room_id FROM room_assignments WHERE booking_id = ANY($1::uuid[])",
                                   arrivals)
    assert sorted(r["booking_id"] for r in assigned) == sorted(arrivals)  # every stay has a room
    assert len({r["room_id"] for r in assigned}) == 20 and await desk.overlaps() == 0
    again = await auto.auto_assign(desk.property_id, desk.today + DAY, "user:auto-3")
    assert again == {"assigned": [], "unassigned": []}


async def test_automatic_assignment_says_which_stays_found_no_room(
    client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    arrivals = [await desk.booking(desk.today, desk.today + DAY) for _ in range(6)]  # 4 rooms only
    answer = await client.post(f"/frontdesk/{desk.property_id}/assign", params={"date": desk.today.isoformat()},
                               headers=front_desk_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["assigned"]) == 4 and {u["booking_id"] for u in body["unassigned"]} == {str(b) for b in arrivals[4:]}
    assert {a["room_number"] for a in body["assigned"]} == {"101", "102", "103", "104"}


async def test_reassignment_unassignment_and_the_refusals_of_assigning(
    client: Any, desk: Any, catalog_factory: Any, front_desk_headers: dict[str, str]
) -> None:
    booking = await desk.booking(desk.today, desk.today + 2 * DAY)
    url = f"/frontdesk/bookings/{booking}/room"
    first = await client.put(url, json={"room_id": str(desk.rooms[0])}, headers=front_desk_headers)
    assert first.status_code == 200 and first.json()["room_number"] == "101"
    moved = await client.put(url, json={"room_id": str(desk.rooms[1])}, headers=front_desk_headers)
    assert moved.status_code == 200 and moved.json()["room_number"] == "102"
    other_type = await catalog_factory.product(desk.property_id, "room_type")
    suite = await desk.room("901", other_type["id"])
    before = await desk.written(booking)
    for body, status, code in (({"room_id": str(suite)}, 422, "room_type_mismatch"),
                               ({"room_id": "not-a-room"}, 422, "room_not_found"),
                               ({"room": "x"}, 422, "validation_failed")):
        answer = await client.put(url, json=body, headers=front_desk_headers)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert await desk.written(booking) == before
    assert (await client.delete(url, headers=front_desk_headers)).status_code == 204
    assert (await client.delete(url, headers=front_desk_headers)).status_code == 204  # idempotent
    assert (await desk.written(booking))[3] == []
    missing = await client.put("/frontdesk/bookings/00000000-0000-0000-0000-000000000000/room",
                               json={"room_id": str(desk.rooms[0])}, headers=front_desk_headers)
    assert missing.status_code == 404 and missing.json()["code"] == "booking_not_found"


async def test_an_out_of_service_room_cannot_be_assigned_and_a_taken_room_cannot_go_out_of_service(
    client: Any, desk: Any, admin_headers: dict[str, str], front_desk_headers: dict[str, str]
) -> None:
    room = desk.rooms[0]
    url = f"/admin/properties/{desk.property_id}/rooms/{room}/out-of-service"
    body = {"start": (desk.today + DAY).isoformat(), "end": (desk.today + 3 * DAY).isoformat(), "reason": "paint"}
    assert (await client.post(url, json=body, headers=front_desk_headers)).status_code == 403
    period = await client.post(url, json=body, headers=admin_headers)
    assert period.status_code == 201, period.text
    booking = await desk.booking(desk.today, desk.today + 2 * DAY)
    refused = await client.put(f"/frontdesk/bookings/{booking}/room", json={"room_id": str(room)},
                               headers=front_desk_headers)
    assert refused.status_code == 409 and refused.json()["code"] == "room_out_of_service"
    assert (await client.put(f"/frontdesk/bookings/{booking}/room", json={"room_id": str(desk.rooms[1])},
                             headers=front_desk_headers)).status_code == 200
    busy = await client.post(f"/admin/properties/{desk.property_id}/rooms/{desk.rooms[1]}/out-of-service",
                             json=body, headers=admin_headers)
    assert busy.status_code == 409 and busy.json()["booking_id"] == str(booking)
    assert await desk.overlaps() == 0
    for _ in range(2):  # back in service, idempotently: now the room can be given
        assert (await client.delete(f"{url}/{period.json()['id']}", headers=admin_headers)).status_code == 204
    other = await desk.booking(desk.today, desk.today + 2 * DAY)
    assert (await client.put(f"/frontdesk/bookings/{other}/room", json={"room_id": str(room)},
                             headers=front_desk_headers)).status_code == 200


async def test_a_cancelled_booking_gives_its_room_back(
    client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    booking = await desk.booking(desk.today + DAY, desk.today + 3 * DAY)
    room = {"room_id": str(desk.rooms[0])}
    assert (await client.put(f"/frontdesk/bookings/{booking}/room", json=room, headers=front_desk_headers)).status_code == 200
    await desk.db.execute("UPDATE bookings SET status = 'cancelling' WHERE id = $1", booking)  # as the saga does
    other = await desk.booking(desk.today + DAY, desk.today + 2 * DAY)
    taken = await client.put(f"/frontdesk/bookings/{other}/room", json=room, headers=front_desk_headers)
    assert taken.status_code == 409 and taken.json()["booking_id"] == str(booking)
    await desk.db.execute("UPDATE bookings SET status = 'cancelled' WHERE id = $1", booking)
    assert (await desk.written(booking))[3] == []
    assert (await client.put(f"/frontdesk/bookings/{other}/room", json=room, headers=front_desk_headers)).status_code == 200
