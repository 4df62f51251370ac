"""Cancellation: a saga of its own (refund by the rate plan's policy, then the nights back), idempotent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.bookings.test_saga import _book, _hold, _inventory, _payments, _settled


async def _confirmed(client: Any, headers: dict[str, str], resort: Any, token: str = "tok_approve") -> dict[str, Any]:
    hold_id = await _hold(client, headers, resort.room, resort.start)
    booking = await _settled(client, headers, (await _book(client, headers, [hold_id], token)).json()["id"])
    assert booking["status"] == "confirmed", booking
    return booking


async def _cancel(client: Any, headers: dict[str, str], booking_id: str, key: str | None = None) -> Any:
    return await client.post(f"/bookings/{booking_id}/cancel",
                             headers=headers | {"Idempotency-Key": key or uuid.uuid4().hex})


@pytest.mark.parametrize(("policy", "refund_share", "rule"), [
    ("UPDATE rate_plans SET refundable = true WHERE product_id = $1", 1.0, "free"),
    ("UPDATE rate_plans SET free_cancel_hours = 24 * 365, late_cancel_fee_pct = 30 WHERE product_id = $1", 0.7, "late"),
    ("UPDATE rate_plans SET refundable = false WHERE product_id = $1", 0.0, "non_refundable"),
])
async def test_cancellation_refunds_by_policy_and_returns_the_nights(
    policy: str, refund_share: float, rule: str, saga_roles: Any, client: Any, catalog_resort: Any,
    catalog_factory: Any, guest_headers: dict[str, str]
) -> None:
    await catalog_factory.fetchval(policy + " RETURNING 1", catalog_resort.room["id"])
    booking = await _confirmed(client, guest_headers, catalog_resort)
    key = uuid.uuid4().hex
    first = await _cancel(client, guest_headers, booking["id"], key)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "cancelling"
    expected = int(booking["total_amount"] * refund_share)
    assert (first.json()["refund_amount"], first.json()["cancel_fee"]) == (expected, booking["total_amount"] - expected)
    replay = await _cancel(client, guest_headers, booking["id"], key)
    assert (replay.status_code, replay.content) == (202, first.content)
    done = await _settled(client, guest_headers, booking["id"])
    assert done["status"] == "cancelled"
    assert [s["step"] for s in done["timeline"]][-3:] == ["cancel", "refund", "release"]
    assert done["timeline"][-3]["detail"]["rule"] == rule
    assert await _inventory(catalog_factory, catalog_resort.room, catalog_resort.start) == (0, 0)
    assert (await _payments(catalog_factory, booking["id"]))["refund"] == ("approved", 1)
    refunded = await catalog_factory.fetchval("SELECT amount FROM payments WHERE booking_id = $1 AND operation ="
                                              " 'refund'", uuid.UUID(booking["id"]))
    assert refunded == expected
    again = await _cancel(client, guest_headers, booking["id"])
    assert (again.status_code, again.json()["code"]) == (409, "booking_cancelled")


async def test_a_pending_or_foreign_booking_cannot_be_cancelled(
    saga_roles: Any, client: Any, catalog_resort: Any, auth_headers: Any, guest_headers: dict[str, str]
) -> None:
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    pending = (await _book(client, guest_headers, [hold_id], "tok_timeout")).json()
    refused = await _cancel(client, guest_headers, pending["id"])
    assert (refused.status_code, refused.json()["code"]) == (409, "booking_pending")
    stranger = await _cancel(client, await auth_headers(["guest"]), pending["id"])
    assert (stranger.status_code, stranger.json()["code"]) == (404, "booking_not_found")
    failed = await _settled(client, guest_headers, pending["id"])
    assert failed["status"] == "failed"
    late = await _cancel(client, guest_headers, pending["id"])
    assert (late.status_code, late.json()["code"]) == (409, "booking_failed")
