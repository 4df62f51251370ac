"""Cancelling one room of a party: that room's nights come back, the provider refunds what its rate plan's
policy allows (once), and the other rooms stay; every refusal is a problem+json with its code."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.frontdesk.conftest import DAY, Desk, add_inventory, pay


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def _party_of_three(desk: Desk, catalog_factory: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """Two rooms of the desk's type and a suite (its plan keeps 30 % once inside 72 hours), from tomorrow."""
    suite = (await catalog_factory.product(desk.property_id, "room_type"))["id"]
    await add_inventory(desk.db, suite, desk.today, desk.today + 10 * DAY, 5)
    await desk.db.execute("UPDATE rate_plans SET free_cancel_hours = 72, late_cancel_fee_pct = 30"
                          " WHERE product_id = $1", suite)
    booking = await desk.booking(desk.today + DAY, desk.today + 3 * DAY, party=[(desk.room_type, 2), (suite, 1)])
    return booking, suite


async def test_cancelling_one_room_of_a_party_returns_its_nights_and_refunds_it_by_policy(
    client: Any, desk: Desk, catalog_factory: Any, provider: Any, front_desk_headers: dict[str, str],
) -> None:
    booking, suite = await _party_of_three(desk, catalog_factory)
    reference = await pay(desk, provider, booking, 200_000)  # 100,000 for the two rooms, 100,000 the suite
    suite_room = await desk.room("S1", suite)
    rooms = f"/frontdesk/bookings/{booking}/rooms"
    for slot, room in ((1, desk.rooms[0]), (2, desk.rooms[1]), (3, suite_room)):
        assert (await client.put(f"{rooms}/{slot}/room", json={"room_id": str(room)},
                                 headers=front_desk_headers)).status_code == 200
    nights = [desk.today + DAY, desk.today + 2 * DAY]

    answers = [(await client.post(f"{rooms}/3/cancel", headers=front_desk_headers | _key())).json() for _ in range(2)]

    party = (await client.get(rooms, headers=front_desk_headers)).json()
    made = await provider.refunds_of(reference)
    refunds = [(r.amount, r.status) for r in made]
    sold = [[await desk.sold(n, t) for n in nights] for t in (desk.room_type, suite)]
    expected = {"booking_id": str(booking), "slot": 3, "refund_amount": 70_000, "cancel_fee": 30_000, "rule": "late",
                "refund_status": "refunded", "refund_reference": made[0].reference}
    assert (answers, refunds, sold, [(r["slot"], r["status"]) for r in party["rooms"]], party["status"]) == (
        [expected, expected], [(70_000, "succeeded")], [[2, 2], [0, 0]],
        [(1, "assigned"), (2, "assigned"), (3, "cancelled")], "confirmed")


async def test_each_refusal_to_cancel_a_room_is_a_problem_with_its_code(
    client: Any, desk: Desk, catalog_factory: Any, auth_headers: Any, settings: Any, staff_headers: Any,
) -> None:
    subject = f"guest-{uuid.uuid4().hex[:8]}"
    guest = await auth_headers(settings.roles_for_groups(["customers"]), subject)
    mine = await desk.booking(desk.today + DAY, desk.today + 2 * DAY, owner=("user", subject),
                              party=[(desk.room_type, 2)])
    theirs = await desk.booking(desk.today + DAY, desk.today + 2 * DAY, party=[(desk.room_type, 2)])
    in_house = await desk.booking(desk.today, desk.today + DAY, status="checked_in", owner=("user", subject),
                                  party=[(desk.room_type, 2)])
    stranger = await staff_headers("another-property")
    asks = [(f"/bookings/{mine}/rooms/1/cancel", guest), (f"/bookings/{mine}/rooms/2/cancel", guest),
            (f"/bookings/{mine}/rooms/3/cancel", guest), (f"/bookings/{theirs}/rooms/1/cancel", guest),
            (f"/bookings/{in_house}/rooms/1/cancel", guest), (f"/frontdesk/bookings/{theirs}/rooms/1/cancel", stranger)]

    answers = [await client.post(path, headers=headers | _key()) for path, headers in asks]

    problem = "application/problem+json"
    assert [(a.status_code, a.headers["content-type"].split(";")[0], a.json().get("code")) for a in answers] == [
        (200, "application/json", None), (409, problem, "last_room"), (404, problem, "slot_not_found"),
        (404, problem, "booking_not_found"), (409, problem, "booking_checked_in"), (403, problem, "property_forbidden")]


async def test_a_room_cancel_replays_its_first_answer_and_refuses_its_key_for_another_room(
    client: Any, desk: Desk, provider: Any, auth_headers: Any, settings: Any, front_desk_headers: dict[str, str],
) -> None:
    subject = f"guest-{uuid.uuid4().hex[:8]}"
    guest = await auth_headers(settings.roles_for_groups(["customers"]), subject)
    booking = await desk.booking(desk.today + 5 * DAY, desk.today + 6 * DAY, owner=("user", subject),
                                 party=[(desk.room_type, 3)])
    await desk.db.execute("UPDATE rate_plans SET free_cancel_hours = 72 WHERE product_id = $1", desk.room_type)
    reference = await pay(desk, provider, booking)  # a third of 100,000 for each room, free five days ahead
    mine, theirs = guest | _key(), front_desk_headers | _key()
    asks = [(f"/bookings/{booking}/rooms/1/cancel", mine), (f"/bookings/{booking}/rooms/1/cancel", mine),
            (f"/bookings/{booking}/rooms/2/cancel", mine), (f"/frontdesk/bookings/{booking}/rooms/2/cancel", theirs),
            (f"/frontdesk/bookings/{booking}/rooms/2/cancel", theirs),
            (f"/frontdesk/bookings/{booking}/rooms/3/cancel", theirs), (f"/bookings/{booking}/rooms/2/cancel", guest)]

    answers = [await client.post(path, headers=headers) for path, headers in asks]

    said = [(a.status_code, a.json().get("code") or a.json().get("slot"), a.headers.get("Idempotent-Replayed"))
            for a in answers]
    refunds = [r.amount for r in await provider.refunds_of(reference)]
    assert (said, answers[1].json() == answers[0].json(), answers[4].json() == answers[3].json(), refunds) == (
        [(200, 1, None), (200, 1, "true"), (422, "idempotency_key_reused", None), (200, 2, None),
         (200, 2, "true"), (422, "idempotency_key_reused", None), (400, "idempotency_key_missing", None)],
        True, True, [33_333, 33_333])
