"""The night audit closes a property's business day: the day's arrivals that never came become no-shows
keeping their rate plan's fee, the balance goes back through the payment provider exactly once (whether the
audit runs twice or a run died halfway), and the day's report is computed from the day's rows."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

from app.frontdesk.night_audit import NightAudit
from app.payments.stripe_provider import StripeProvider
from tests.integration.frontdesk.conftest import DAY, Desk, add_inventory, pay
from tests.support.wait import until


async def _no_show_fee(desk: Desk, pct: int) -> None:
    await desk.db.execute("UPDATE rate_plans SET no_show_fee_pct = $2 WHERE product_id = $1", desk.room_type, pct)


async def _a_no_show(desk: Desk, provider: StripeProvider) -> tuple[uuid.UUID, str]:
    """A paid arrival of yesterday that never came (its plan keeps 30 % of the stay); its payment's reference."""
    await _no_show_fee(desk, 30)
    gone = await desk.booking(desk.today - DAY, desk.today + DAY)
    return gone, await pay(desk, provider, gone)


async def _refunds(provider: StripeProvider, reference: str) -> list[tuple[int, str]]:
    return sorted((r.amount, r.status) for r in await provider.refunds_of(reference))


async def test_the_days_report_is_computed_from_its_rows_and_served_to_its_staff_only(
    client: Any, desk: Desk, provider: StripeProvider, staff_headers: Any, sync_resources: Any,
) -> None:
    day = desk.today - DAY
    await _no_show_fee(desk, 30)
    gone = await desk.booking(day, day + 2 * DAY)  # 100,000 for 2 nights, never came
    await pay(desk, provider, gone)
    await desk.booking(day, day + 2 * DAY, status="checked_in")  # 50,000 a night
    long = await desk.booking(day - DAY, day + 2 * DAY, status="checked_in")
    await desk.db.execute("UPDATE holds SET total_amount = 90000 WHERE booking_id = $1", long)  # 30,000 a night
    await desk.booking(day, day + DAY, status="cancelled")
    await desk.db.execute("INSERT INTO room_assignments (room_id, kind, stay) VALUES ($1, 'out_of_service',"
                          " daterange($2, $3))", desk.rooms[3], day, day + DAY)  # 3 rooms of 4 to sell

    report = await NightAudit(sync_resources.db, provider).run(desk.property_id, day)

    expected = {"property_id": desk.property_id, "business_date": day.isoformat(), "state": "done",
                "rooms_available": 3, "rooms_sold": 2, "room_revenue": 80_000, "occupancy": 0.6667, "adr": 40_000,
                "revpar": 26_667, "no_shows": 1, "no_show_fees": 30_000, "cancellations": 1, "stays_rolled": 2,
                "currency": "KRW"}
    assert report.state == "done"
    mine = await staff_headers(desk.property_id)
    served = await client.get(f"/frontdesk/{desk.property_id}/audits/{day.isoformat()}", headers=mine)
    assert (served.status_code, served.json()) == (200, expected)
    dashboard = await client.get(f"/frontdesk/{desk.property_id}/stays", headers=mine)
    assert dashboard.json()["last_audit"] == expected
    other = await staff_headers("another-property")
    refused = await client.get(f"/frontdesk/{desk.property_id}/audits/{day.isoformat()}", headers=other)
    assert (refused.status_code, refused.json()["code"]) == (403, "property_forbidden")
    missing = await client.get(f"/frontdesk/{desk.property_id}/audits/{(day - DAY).isoformat()}", headers=mine)
    assert (missing.status_code, missing.json()["code"]) == (404, "audit_not_found")


async def _night_audit_command(settings: Any, property_id: str, day: Any) -> int:
    """``resort night-audit`` in a process of its own."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from app.cli import entry; entry()", "night-audit", "--property", property_id,
        "--date", day.isoformat(), env={**os.environ, **settings.to_env()})
    return await asyncio.wait_for(proc.wait(), 120)


async def test_a_no_show_is_marked_and_charged_once_when_the_audit_runs_twice(
    desk: Desk, provider: StripeProvider, settings: Any,
) -> None:
    day = desk.today - DAY
    gone, reference = await _a_no_show(desk, provider)

    assert [await _night_audit_command(settings, desk.property_id, day) for _ in range(2)] == [0, 0]

    status = await desk.db.fetchrow("SELECT status, cancel_fee, refund_amount FROM bookings WHERE id = $1", gone)
    settled = await desk.db.fetch("SELECT status, amount, provider_ref FROM payments WHERE booking_id = $1"
                                  " AND operation = 'no_show'", gone)
    refunds = await provider.refunds_of(reference)
    events = await desk.db.fetchval("SELECT count(*) FROM outbox WHERE aggregate_id = $1"
                                    " AND event_type = 'booking.no_show'", str(gone))
    assert (tuple(status), [tuple(r) for r in settled], [(r.amount, r.status) for r in refunds], events) == (
        ("no_show", 30_000, 70_000), [("approved", 30_000, refunds[0].reference)], [(70_000, "succeeded")], 1)


async def test_an_audit_that_died_after_the_providers_refund_charges_once_when_it_runs_again(
    desk: Desk, provider: StripeProvider, sync_resources: Any,
) -> None:
    day = desk.today - DAY
    gone, reference = await _a_no_show(desk, provider)
    first = NightAudit(sync_resources.db, provider)
    # What a run that died halfway leaves: the day's audit begun, the no-show marked, its refund sent to the
    # provider (which made it) and the answer never recorded.
    async with sync_resources.db.acquire() as conn:
        await conn.execute("INSERT INTO night_audits (property_id, business_date) VALUES ($1, $2)",
                           desk.property_id, day)
    assert await first.mark_no_shows(desk.property_id, day) == 1
    made = await provider.refund(f"{gone}:no_show", reference, 70_000, "no_show")  # as the run sent it

    report = await NightAudit(sync_resources.db, provider).run(desk.property_id, day)

    settled = await desk.db.fetch("SELECT status, provider_ref FROM payments WHERE booking_id = $1"
                                  " AND operation = 'no_show'", gone)
    assert (report.state, report.no_shows, [tuple(r) for r in settled], await _refunds(provider, reference)) == (
        "done", 1, [("approved", made.reference)], [(70_000, "succeeded")])


async def test_a_no_show_balance_the_provider_declines_is_paid_by_the_owed_round_once(
    saga_roles: Any, desk: Desk, provider: StripeProvider, sync_resources: Any,
) -> None:
    day = desk.today - DAY
    await _no_show_fee(desk, 30)
    gone = await desk.booking(day, desk.today + DAY)
    reference = await pay(desk, provider, gone, card="tok_refund_reject_once")
    report = await NightAudit(sync_resources.db, provider).run(desk.property_id, day)
    assert report.state == "running"  # the provider declined the balance: not settled, owed

    await until(lambda: desk.db.fetchval("SELECT status = 'approved' FROM payments WHERE booking_id = $1"
                                         " AND operation = 'no_show'", gone), timeout=30)

    assert await _refunds(provider, reference) == [(70_000, "failed"), (70_000, "succeeded")]


async def test_a_party_with_a_room_cancelled_before_its_no_show_keeps_the_fee_of_the_rooms_still_booked(
    client: Any, desk: Desk, catalog_factory: Any, provider: StripeProvider, sync_resources: Any,
    front_desk_headers: dict[str, str],
) -> None:
    """Two rooms (one hold of 100,000, a no-show keeps 30 %) and a suite (100,000, cancelled on its own for
    nothing, its plan keeping nothing of a no-show) arriving yesterday: the suite's refund settled the suite;
    the no-show keeps 30,000 of the two rooms and gives back their 70,000, never the suite's share again."""
    day = desk.today - DAY
    suite = (await catalog_factory.product(desk.property_id, "room_type"))["id"]
    await add_inventory(desk.db, suite, day, desk.today + 2 * DAY, 5)
    await _no_show_fee(desk, 30)
    await desk.db.execute("UPDATE rate_plans SET free_cancel_hours = 0, late_cancel_fee_pct = 0,"
                          " no_show_fee_pct = 0 WHERE product_id = $1", suite)
    gone = await desk.booking(day, desk.today + DAY, party=[(desk.room_type, 2), (suite, 1)])
    reference = await pay(desk, provider, gone, 200_000)
    room = await client.post(f"/frontdesk/bookings/{gone}/rooms/3/cancel",
                             headers=front_desk_headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert room.json()["refund_amount"] == 100_000, room.text

    report = await NightAudit(sync_resources.db, provider).run(desk.property_id, day)

    kept = await desk.db.fetchrow("SELECT status, cancel_fee, refund_amount FROM bookings WHERE id = $1", gone)
    assert (report.state, tuple(kept), await _refunds(provider, reference)) == (
        "done", ("no_show", 30_000, 70_000), [(70_000, "succeeded"), (100_000, "succeeded")])
