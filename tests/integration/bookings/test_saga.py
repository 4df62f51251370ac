"""Bookings through the saga over Kafka, end to end on the real servers and real role processes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.integration.bookings.conftest import booking_body
from tests.integration.holds.conftest import hold_body


async def _hold(client: Any, headers: dict[str, str], product: dict[str, Any], start: Any, **kw: Any) -> str:
    response = await client.post("/holds", json=hold_body(product, start, **kw),
                                 headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _book(client: Any, headers: dict[str, str], hold_ids: list[str], token: str = "tok_approve") -> Any:
    return await client.post("/bookings", json=booking_body(hold_ids, token),
                             headers=headers | {"Idempotency-Key": uuid.uuid4().hex})


async def _settled(client: Any, headers: dict[str, str], booking_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await client.get(f"/bookings/{booking_id}", headers=headers)).json()
        if body["status"] in ("confirmed", "failed", "cancelled"):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


async def _inventory(catalog_factory: Any, product: dict[str, Any], night: Any) -> tuple[int, int]:
    row = (await catalog_factory.fetch("SELECT held, sold FROM inventory WHERE product_id = $1 AND night = $2",
                                       product["id"], night))[0]
    return row["held"], row["sold"]


async def _payments(catalog_factory: Any, booking_id: str) -> dict[str, tuple[str, int]]:
    rows = await catalog_factory.fetch("SELECT operation, status, attempts FROM payments WHERE booking_id = $1",
                                       uuid.UUID(booking_id))
    return {r["operation"]: (r["status"], r["attempts"]) for r in rows}


async def test_a_booking_is_confirmed_through_every_step(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str]
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    hold_id = await _hold(client, guest_headers, room, night, nights=2)
    response = await _book(client, guest_headers, [hold_id])
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    assert response.headers["location"] == f"/bookings/{response.json()['id']}"
    booking = await _settled(client, guest_headers, response.json()["id"])
    assert booking["status"] == "confirmed" and booking["confirmation_code"].startswith("GR-")
    assert [(s["step"], s["outcome"]) for s in booking["timeline"]] == [
        ("reserve", "reserved"), ("convert", "converted"), ("pay", "paid")]
    assert await _inventory(catalog_factory, room, night) == (0, 1)
    assert await _payments(catalog_factory, booking["id"]) == {"authorize": ("approved", 1),
                                                               "capture": ("approved", 1)}
    hold = (await client.get(f"/holds/{hold_id}", headers=guest_headers)).json()
    assert hold["status"] == "converted"
    mine = (await client.get("/bookings", headers=guest_headers)).json()
    assert [b["id"] for b in mine["items"]] == [booking["id"]] and mine["items"][0]["hold_ids"] == [hold_id]


@pytest.mark.parametrize(("token", "status", "reason", "payments"), [
    ("tok_decline", "failed", "payment_declined", {"authorize": ("declined", 1)}),
    ("tok_flaky", "confirmed", None, {"authorize": ("approved", 3), "capture": ("approved", 1)}),
    ("tok_timeout", "failed", "payment_timeout", {"void": ("approved", 1)}),
])
async def test_each_card_token_ends_as_it_should_and_inventory_is_exact(
    token: str, status: str, reason: str | None, payments: dict[str, Any], saga_roles: Any, client: Any,
    catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str]
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    hold_id = await _hold(client, guest_headers, room, night)
    booking = await _settled(client, guest_headers, (await _book(client, guest_headers, [hold_id], token)).json()["id"])
    assert (booking["status"], booking["reason"]) == (status, reason)
    assert await _payments(catalog_factory, booking["id"]) == payments
    assert await _inventory(catalog_factory, room, night) == ((0, 1) if status == "confirmed" else (0, 0))
    hold = await client.get(f"/holds/{hold_id}", headers=guest_headers)
    if status == "confirmed":
        assert hold.json()["status"] == "converted"
    else:  # the failed booking released it: its nights are back on sale, the hold is gone
        assert (hold.status_code, hold.json()["code"]) == (410, "hold_released")


async def test_a_package_is_booked_whole(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str]
) -> None:
    r = catalog_resort
    hold_id = await _hold(client, guest_headers, r.package, r.start)
    booking = await _settled(client, guest_headers, (await _book(client, guest_headers, [hold_id])).json()["id"])
    assert booking["status"] == "confirmed"
    assert await _inventory(catalog_factory, r.room, r.start) == (0, 1)
    assert await _inventory(catalog_factory, r.ticket, r.start) == (0, 2)
