"""Bad bookings get a 4xx problem+json with a stable code and write nothing; one hold, one booking."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.integration.bookings.conftest import booking_body
from tests.integration.holds.conftest import hold_body


async def _hold(client: Any, headers: dict[str, str], resort: Any, **kw: Any) -> str:
    response = await client.post("/holds", json=hold_body(resort.room, resort.start, **kw),
                                 headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _post(client: Any, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.post("/bookings", json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex})


async def _bookings_of_resort(catalog_factory: Any, resort: Any) -> int:
    return await catalog_factory.fetchval("SELECT count(*) FROM bookings WHERE property_id = $1",
                                          resort.property["id"])


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.json()


BAD_BODIES = {
    "no holds": (lambda h: booking_body([]), 422, "validation_failed"),
    "unknown card token": (lambda h: booking_body([h], "tok_stolen"), 422, "unknown_card_token"),
    "malformed email": (lambda h: booking_body([h]) | {"guest": {"name": "A", "email": "not-an-email"}}, 422,
                        "validation_failed"),
    "malformed phone": (lambda h: booking_body([h]) | {"guest": {"name": "A", "email": "a@b.co", "phone": "call me"}},
                        422, "validation_failed"),
    "unknown hold": (lambda h: booking_body([str(uuid.uuid4())]), 422, "hold_not_found"),
    "same hold twice": (lambda h: booking_body([h, h]), 422, "invalid_hold_ids"),
    "no payment": (lambda h: {k: v for k, v in booking_body([h]).items() if k != "payment"}, 422,
                   "validation_failed"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
async def test_refused_and_nothing_written(case: str, client: Any, catalog_resort: Any, catalog_factory: Any,
                                           guest_headers: dict[str, str]) -> None:
    make, status, code = BAD_BODIES[case]
    hold_id = await _hold(client, guest_headers, catalog_resort)
    _problem(await _post(client, guest_headers, make(hold_id)), status, code)
    assert await _bookings_of_resort(catalog_factory, catalog_resort) == 0
    assert (await client.get(f"/holds/{hold_id}", headers=guest_headers)).json()["status"] == "held"


async def test_someone_elses_hold_cannot_be_booked(client: Any, catalog_resort: Any, catalog_factory: Any,
                                                   auth_headers: Any, guest_headers: dict[str, str]) -> None:
    hold_id = await _hold(client, guest_headers, catalog_resort)
    _problem(await _post(client, await auth_headers(["guest"]), booking_body([hold_id])), 422, "hold_not_found")
    assert await _bookings_of_resort(catalog_factory, catalog_resort) == 0


async def test_released_and_expired_holds_cannot_be_booked(client: Any, catalog_resort: Any, catalog_factory: Any,
                                                           guest_headers: dict[str, str]) -> None:
    released = await _hold(client, guest_headers, catalog_resort)
    await client.delete(f"/holds/{released}", headers=guest_headers)
    _problem(await _post(client, guest_headers, booking_body([released])), 409, "hold_ended")
    expired = await _hold(client, guest_headers, catalog_resort)
    await catalog_factory.fetchval("UPDATE holds SET expires_at = created_at + interval '1 ms' WHERE id = $1"
                                   " RETURNING 1", uuid.UUID(expired))
    _problem(await _post(client, guest_headers, booking_body([expired])), 409, "hold_expired")
    assert await _bookings_of_resort(catalog_factory, catalog_resort) == 0


async def test_the_same_hold_in_two_bookings_at_once_one_wins(client: Any, catalog_resort: Any,
                                                              catalog_factory: Any,
                                                              guest_headers: dict[str, str]) -> None:
    hold_id = await _hold(client, guest_headers, catalog_resort)
    answers = await asyncio.gather(*(_post(client, guest_headers, booking_body([hold_id])) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [202, 409, 409, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"hold_in_booking"}
    assert await _bookings_of_resort(catalog_factory, catalog_resort) == 1


async def test_someone_elses_booking_is_not_found(client: Any, catalog_resort: Any, auth_headers: Any,
                                                  guest_headers: dict[str, str],
                                                  front_desk_headers: dict[str, str]) -> None:
    hold_id = await _hold(client, guest_headers, catalog_resort)
    booking = (await _post(client, guest_headers, booking_body([hold_id]))).json()
    _problem(await client.get(f"/bookings/{booking['id']}", headers=await auth_headers(["guest"])), 404,
             "booking_not_found")
    assert (await client.get(f"/bookings/{booking['id']}", headers=front_desk_headers)).status_code == 200
