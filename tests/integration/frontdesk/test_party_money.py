"""The money of a party whose rooms are cancelled one by one, on the real provider (the sandbox) and the real
saga and services roles: the rest of the party is refunded by its own share's policy, and a room's refund the
provider declines is money owed, paid by the services role's owed round, once."""

from __future__ import annotations

import time
import uuid
from typing import Any

from app.payments.reconcile import reconcile
from tests.integration.frontdesk.conftest import DAY, Desk, add_inventory, pay
from tests.support.wait import until


async def _party(desk: Desk, catalog_factory: Any, owner: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Two rooms of the desk's type (one hold of 100,000; its plan keeps 50 % inside 72 hours) and a suite
    (a hold of 100,000, free to cancel until its check-in), from tomorrow."""
    suite = (await catalog_factory.product(desk.property_id, "room_type"))["id"]
    await add_inventory(desk.db, suite, desk.today, desk.today + 10 * DAY, 5)
    await desk.db.execute("UPDATE rate_plans SET free_cancel_hours = 72, late_cancel_fee_pct = 50"
                          " WHERE product_id = $1", desk.room_type)
    await desk.db.execute("UPDATE rate_plans SET free_cancel_hours = 0 WHERE product_id = $1", suite)
    booking = await desk.booking(desk.today + DAY, desk.today + 3 * DAY, owner=("user", owner),
                                 party=[(desk.room_type, 2), (suite, 1)])
    return booking, suite


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def _mismatches(db: Any, provider: Any, since: int, booking: uuid.UUID) -> list[str]:
    return [m.kind for m in (await reconcile(db, provider, since)).mismatches if m.booking_id == str(booking)]


async def test_cancelling_the_rest_of_a_party_refunds_the_remaining_rooms_by_their_policy_only(
    saga_roles: Any, client: Any, desk: Desk, catalog_factory: Any, provider: Any, sync_resources: Any,
    auth_headers: Any, settings: Any, front_desk_headers: dict[str, str],
) -> None:
    since = int(time.time()) - 1
    subject = f"guest-{uuid.uuid4().hex[:8]}"
    guest = await auth_headers(settings.roles_for_groups(["customers"]), subject)
    booking, suite = await _party(desk, catalog_factory, subject)
    reference = await pay(desk, provider, booking, 200_000)
    room = await client.post(f"/frontdesk/bookings/{booking}/rooms/3/cancel", headers=front_desk_headers | _key())
    assert room.json()["refund_amount"] == 100_000, room.text  # the suite, cancelled while still free
    # the suite's free window closes (its plan now keeps 30 %, as it would once past the deadline)
    await desk.db.execute("UPDATE rate_plans SET free_cancel_hours = 72, late_cancel_fee_pct = 30"
                          " WHERE product_id = $1", suite)

    cancel = await client.post(f"/bookings/{booking}/cancel", headers=guest | _key())
    assert cancel.status_code == 202, cancel.text
    await until(lambda: desk.db.fetchval("SELECT status = 'cancelled' FROM bookings WHERE id = $1", booking),
                timeout=60)

    refunds = sorted((r.amount, r.status) for r in await provider.refunds_of(reference))
    # the suite's own 100,000, then the two rooms' 100,000 less their 50 % fee: never the suite's fee again
    assert (refunds, await _mismatches(sync_resources.db, provider, since, booking)) == (
        [(50_000, "succeeded"), (100_000, "succeeded")], [])


async def test_a_room_refund_the_provider_declines_is_paid_by_the_owed_round_once(
    saga_roles: Any, client: Any, desk: Desk, catalog_factory: Any, provider: Any, sync_resources: Any,
    front_desk_headers: dict[str, str],
) -> None:
    since = int(time.time()) - 1
    booking, _ = await _party(desk, catalog_factory, "test-guest")
    reference = await pay(desk, provider, booking, 200_000, card="tok_refund_reject_once")
    room = await client.post(f"/frontdesk/bookings/{booking}/rooms/3/cancel", headers=front_desk_headers | _key())
    assert room.json()["refund_status"] == "pending", room.text  # declined: owed

    await until(lambda: desk.db.fetchval("SELECT status = 'approved' FROM payments WHERE booking_id = $1"
                                         " AND slot = 3 AND operation = 'refund'", booking), timeout=30)

    refunds = sorted((r.amount, r.status) for r in await provider.refunds_of(reference))
    assert (refunds, await _mismatches(sync_resources.db, provider, since, booking)) == (
        [(100_000, "failed"), (100_000, "succeeded")], [])
