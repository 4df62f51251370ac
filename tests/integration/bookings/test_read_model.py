"""The read side (CQRS): bookings are served from MongoDB views kept from Kafka events, and a caller who
just changed a booking never reads an older state than the one they caused."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.bookings.test_saga import _book, _hold, _settled


async def _served_from_mongo(client: Any, headers: dict[str, str], booking_id: str, status: str,
                             timeout: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(f"/bookings/{booking_id}", headers=headers)
        if response.headers["x-read-model"] == "mongo" and response.json()["status"] == status:
            return response.json()
        assert asyncio.get_running_loop().time() < deadline, (response.headers["x-read-model"], response.json())
        await asyncio.sleep(0.1)


async def test_views_follow_the_saga_and_reads_never_go_behind_your_own_writes(
    saga_roles: Any, client: Any, catalog_resort: Any, guest_headers: dict[str, str], front_desk_headers: dict[str, str]
) -> None:
    saga_roles.kill("booking-views")  # the read side lags as much as it likes
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    created = (await _book(client, guest_headers, [hold_id])).json()
    mine = await client.get(f"/bookings/{created['id']}", headers=guest_headers)
    assert mine.status_code == 200 and mine.headers["x-read-model"] == "postgres"
    listed = await client.get("/bookings", headers=guest_headers)
    assert created["id"] in [b["id"] for b in listed.json()["items"]]
    await _settled(client, guest_headers, created["id"])
    saga_roles.start("booking-views")
    view = await _served_from_mongo(client, guest_headers, created["id"], "confirmed")
    assert [s["step"] for s in view["timeline"]] == ["reserve", "convert", "pay"]
    assert view["hold_ids"] == [hold_id] and view["confirmation_code"]
    staff = await client.get(f"/bookings/{created['id']}", headers=front_desk_headers)
    assert staff.json()["id"] == created["id"]
    listed = await client.get("/bookings", headers=guest_headers)
    assert listed.headers["x-read-model"] == "mongo" and listed.json()["items"][0]["status"] == "confirmed"
