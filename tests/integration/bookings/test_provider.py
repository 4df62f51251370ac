"""Each failure mode of the payment provider, through the API and the real saga processes, against the
sandbox provider's own ledger (read through the Stripe adapter, as production would): the booking ends
in the state it should, and the provider's ledger and our records agree."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from app.payments.port import AUTHORIZED, CANCELED, CAPTURED, OPEN
from app.payments.stripe_provider import StripeProvider
from tests.integration.bookings.test_cancellation import _cancel, _confirmed
from tests.integration.bookings.test_saga import _book, _hold, _payments, _settled
from tests.support.catalog import ended_stay


async def _booking_row(db: Any, booking_id: str) -> Any:
    return (await db.fetch("SELECT payment_ref, refund_state, refund_amount, total_amount FROM bookings"
                           " WHERE id = $1", uuid.UUID(booking_id)))[0]


async def _until(check: Any, timeout: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await check()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)
    return value


@pytest.mark.parametrize(("token", "status", "reason", "provider_status", "ours"), [
    ("tok_insufficient_funds", "failed", "insufficient_funds", OPEN, {"authorize": "declined"}),
    ("tok_late", "confirmed", None, CAPTURED, {"authorize": "approved", "capture": "approved"}),
    ("tok_capture_fail", "failed", "capture_failed", CANCELED,
     {"authorize": "approved", "capture": "failed", "void": "approved"}),
    ("tok_hang", "failed", "payment_timeout", CANCELED, {"void": "approved"}),
])
async def test_each_authorization_failure_ends_as_the_provider_says(
    token: str, status: str, reason: str | None, provider_status: str, ours: dict[str, str], saga_roles: Any,
    client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str], provider: StripeProvider,
) -> None:
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    booking = await _settled(client, guest_headers, (await _book(client, guest_headers, [hold_id], token)).json()["id"])
    assert (booking["status"], booking["reason"]) == (status, reason)
    row = await _booking_row(catalog_factory, booking["id"])
    payment = await provider.retrieve(row["payment_ref"])
    assert (payment.status, payment.booking_id) == (provider_status, booking["id"])
    assert payment.captured == (row["total_amount"] if status == "confirmed" else 0)
    assert {op: s for op, (s, _) in (await _payments(catalog_factory, booking["id"])).items()} == ours


async def test_a_void_the_provider_keeps_refusing_leaves_the_booking_owing_and_is_retried(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str],
    provider: StripeProvider,
) -> None:
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    response = await _book(client, guest_headers, [hold_id], "tok_void_fail")
    booking = await _settled(client, guest_headers, response.json()["id"])
    assert (booking["status"], booking["reason"]) == ("failed", "capture_failed")
    assert ("void", "void_failed") in [(s["step"], s["outcome"]) for s in booking["timeline"]]
    row = await _booking_row(catalog_factory, booking["id"])
    assert row["refund_state"] in ("refund_pending", "needs_attention")  # never reported done
    assert (await provider.retrieve(row["payment_ref"])).status == AUTHORIZED  # the provider still holds it
    # retried later, until an operator is needed; the audit log says so
    await _until(lambda: _state_is(catalog_factory, booking["id"], "needs_attention"))
    audit = await catalog_factory.fetch("SELECT action FROM audit_log WHERE detail->>'booking_id' = $1"
                                        " AND actor = 'system:payments' ORDER BY id", booking["id"])
    assert [a["action"] for a in audit] == ["payment.refund_pending", "payment.needs_attention"]


async def test_a_booking_whose_money_cannot_be_given_back_never_holds_back_the_others(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str],
) -> None:
    # the oldest money owed of all, with no payment reference to give it back through (bad data)
    stuck = await ended_stay(catalog_factory, catalog_resort.room, f"user:stuck-{uuid.uuid4().hex[:8]}")
    await catalog_factory.fetchval("UPDATE bookings SET refund_state = 'refund_pending', payment_ref = NULL,"
                                   " updated_at = now() - interval '1 year' WHERE id = $1 RETURNING 1",
                                   uuid.UUID(stuck))
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    booking = await _settled(client, guest_headers,
                             (await _book(client, guest_headers, [hold_id], "tok_void_fail")).json()["id"])
    # the owed rounds go on past it: the refusing void is retried until an operator is needed
    await _until(lambda: _state_is(catalog_factory, booking["id"], "needs_attention"))
    assert await catalog_factory.fetchval("SELECT updated_at > now() - interval '1 hour' FROM bookings"
                                          " WHERE id = $1", uuid.UUID(stuck))  # tried, then put at the back


async def _state_is(db: Any, booking_id: str, state: str) -> bool:
    return (await _booking_row(db, booking_id))["refund_state"] == state


async def test_a_refund_that_fails_then_succeeds_refunds_exactly_the_policy_amount(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str],
    provider: StripeProvider,
) -> None:
    booking = await _confirmed(client, guest_headers, catalog_resort, "tok_refund_flaky")
    assert (await _cancel(client, guest_headers, booking["id"])).status_code == 202
    done = await _settled(client, guest_headers, booking["id"])
    row = await _booking_row(catalog_factory, booking["id"])
    assert (done["status"], row["refund_state"]) == ("cancelled", None)
    refunds = await provider.refunds_of(row["payment_ref"])
    assert [(r.status, r.amount) for r in refunds] == [("succeeded", row["refund_amount"])]
    assert (await _payments(catalog_factory, booking["id"]))["refund"][0] == "approved"


async def test_a_rejected_refund_is_never_reported_done(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str],
    provider: StripeProvider,
) -> None:
    booking = await _confirmed(client, guest_headers, catalog_resort, "tok_refund_reject")
    assert (await _cancel(client, guest_headers, booking["id"])).status_code == 202
    done = await _settled(client, guest_headers, booking["id"])
    assert done["status"] == "cancelled" and done["refund_state"] in ("refund_pending", "needs_attention")
    assert ("refund", "refund_failed") in [(s["step"], s["outcome"]) for s in done["timeline"]]
    assert (await _payments(catalog_factory, booking["id"]))["refund"][0] == "failed"
    await _until(lambda: _state_is(catalog_factory, booking["id"], "needs_attention"))
    row = await _booking_row(catalog_factory, booking["id"])
    refunds = await provider.refunds_of(row["payment_ref"])
    assert len(refunds) >= 2 and {r.status for r in refunds} == {"failed"}  # tried again, nothing given back


async def test_a_request_repeated_with_its_idempotency_key_has_one_effect(provider: StripeProvider) -> None:
    booking_id = str(uuid.uuid4())
    first = await provider.open(f"{booking_id}:open", "tok_approve", 5000, "KRW", booking_id)
    again = await provider.open(f"{booking_id}:open", "tok_approve", 5000, "KRW", booking_id)
    assert again.reference == first.reference
    for _ in range(2):
        await provider.authorize(f"{booking_id}:authorize", first.reference)
        captured = await provider.capture(f"{booking_id}:capture", first.reference, 5000)
    assert captured.captured == 5000
    ours = [p async for p in provider.payments_since(first.created) if p.booking_id == booking_id]
    assert [(p.reference, p.captured) for p in ours] == [(first.reference, 5000)]


async def test_a_hold_a_booking_is_converting_cannot_be_released_by_its_owner(
    saga_roles: Any, client: Any, catalog_resort: Any, guest_headers: dict[str, str]
) -> None:
    saga_roles.kill("services")  # the booking stays in its first step: its hold held, and the booking's own
    try:
        hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
        booking_id = (await _book(client, guest_headers, [hold_id])).json()["id"]
        refused = await client.delete(f"/holds/{hold_id}", headers=guest_headers)
        assert (refused.status_code, refused.json()["code"]) == (409, "hold_in_booking")
        assert (await client.get(f"/holds/{hold_id}", headers=guest_headers)).json()["status"] == "held"
    finally:
        saga_roles.start("services")
    booking = await _settled(client, guest_headers, booking_id, timeout=60)
    # confirmed, or failed by its own deadline while the participants were away; never for a released hold
    assert booking["reason"] != "hold_expired"
    await asyncio.to_thread(saga_roles.wait_ready, "services")
