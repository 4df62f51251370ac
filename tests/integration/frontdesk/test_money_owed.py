"""Money owed back is visible to the desk: bookings whose void or refund the payment provider has not done
yet (``refund_pending``, ``needs_attention``) are listed for their property's staff, oldest first."""

from __future__ import annotations

from typing import Any

from tests.integration.frontdesk.conftest import DAY, Desk


async def test_the_desk_lists_the_bookings_that_owe_a_guest_money(
    client: Any, desk: Desk, front_desk_headers: dict[str, str]
) -> None:
    owed = await desk.booking(desk.today + DAY, desk.today + 3 * DAY, status="cancelled")
    stuck = await desk.booking(desk.today + 2 * DAY, desk.today + 4 * DAY, status="failed")
    settled = await desk.booking(desk.today + DAY, desk.today + 2 * DAY, status="cancelled")
    # Neither is due for a retry while the test runs, even by the package's saga roles (a 0.5 s owed round,
    # tests/integration/bookings/conftest.py), which would settle them under the test's feet.
    await desk.db.execute("UPDATE bookings SET refund_state = 'needs_attention', updated_at = now() + interval '1 minute'"
                          " WHERE id = $1", stuck)
    await desk.db.execute("UPDATE bookings SET refund_state = 'refund_pending', refund_amount = 80000,"
                          " updated_at = now() + interval '1 hour' WHERE id = $1", owed)
    await desk.db.execute("UPDATE bookings SET refund_state = 'refunded' WHERE id = $1", settled)

    response = await client.get(f"/frontdesk/{desk.property_id}/money-owed", headers=front_desk_headers)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["booking_id"], i["refund_state"], i["amount_owed"]) for i in items] == [
        (str(stuck), "needs_attention", 100000), (str(owed), "refund_pending", 80000)]  # the oldest first


async def test_the_desk_lists_a_room_refund_the_provider_declined_until_it_is_paid(
    client: Any, desk: Desk, front_desk_headers: dict[str, str]
) -> None:
    party = await desk.booking(desk.today + DAY, desk.today + 3 * DAY, party=[(desk.room_type, 3)])
    await desk.db.execute("INSERT INTO cancelled_rooms (booking_id, slot, room_type_id, refund_amount, cancel_fee,"
                          " rule, cancelled_by) VALUES ($1, 2, $2, 33333, 0, 'free', 'test')", party, desk.room_type)
    await desk.db.execute("INSERT INTO payments (booking_id, slot, operation, status, amount, currency, detail)"
                          " VALUES ($1, 2, 'refund', 'failed', 33333, 'KRW', 'refund_failed')", party)

    response = await client.get(f"/frontdesk/{desk.property_id}/money-owed", headers=front_desk_headers)

    assert [(i["booking_id"], i["purpose"], i["refund_state"], i["amount_owed"]) for i in response.json()["items"]] == [
        (str(party), "room:2", "refund_pending", 33333)]


async def test_an_unknown_property_is_404(client: Any, desk: Desk, admin_headers: dict[str, str]) -> None:
    response = await client.get("/frontdesk/no-such-resort/money-owed", headers=admin_headers)
    assert response.status_code == 404
    assert response.json()["code"] == "property_not_found"
