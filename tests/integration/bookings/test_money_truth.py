"""The provider's ledger is the truth for money: a crash between the provider's capture and our commit
charges once, and the reconciliation proves every captured and refunded amount (or reports the mismatch)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from typing import Any

from prometheus_client import REGISTRY

from app.payments.port import CAPTURED
from app.payments.reconcile import reconcile
from app.payments.stripe_provider import StripeProvider
from tests.integration.bookings.test_cancellation import _cancel, _confirmed
from tests.integration.bookings.test_saga import _book, _hold, _settled


async def _a_new_second() -> int:
    """Epoch seconds from which only this test's payments exist (the provider counts whole seconds)."""
    start = int(time.time())
    while int(time.time()) == start:
        await asyncio.sleep(0.02)
    return start + 1


async def _ref(db: Any, booking_id: str) -> str:
    return await db.fetchval("SELECT payment_ref FROM bookings WHERE id = $1", uuid.UUID(booking_id))


async def test_services_killed_between_the_capture_and_our_commit_charge_once(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str],
    provider: StripeProvider, sync_resources: Any,
) -> None:
    since = await _a_new_second()
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    booking_id = (await _book(client, guest_headers, [hold_id], "tok_capture_late")).json()["id"]
    reference = await _ref(catalog_factory, booking_id)
    deadline = time.monotonic() + 20
    while (await provider.retrieve(reference)).status != CAPTURED:  # captured: its answer has not come yet
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert await catalog_factory.fetchval("SELECT count(*) FROM payments WHERE booking_id = $1 AND operation ="
                                          " 'capture'", uuid.UUID(booking_id)) == 0
    saga_roles.kill("services")  # SIGKILL
    saga_roles.start("services")
    done = await _settled(client, guest_headers, booking_id, timeout=60)
    payment = await provider.retrieve(reference)
    refunded = sum(r.amount for r in await provider.refunds_of(reference) if r.status == "succeeded")
    assert payment.captured == done["total_amount"]  # one capture, of the whole amount
    # confirmed, or the saga compensated meanwhile and gave all of it back
    assert (done["status"], refunded) in (("confirmed", 0), ("failed", payment.captured))
    report = await reconcile(sync_resources.db, provider, since)
    assert (report.payments, report.mismatches) == (1, [])
    await asyncio.to_thread(saga_roles.wait_ready, "services")


async def test_reconciliation_proves_captures_and_refunds_and_reports_a_stray_capture(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str],
    provider: StripeProvider, sync_resources: Any,
) -> None:
    since = await _a_new_second()
    await catalog_factory.fetchval("UPDATE rate_plans SET free_cancel_hours = 24 * 365, late_cancel_fee_pct = 30"
                                   " WHERE product_id = $1 RETURNING 1", catalog_resort.room["id"])
    kept = await _confirmed(client, guest_headers, catalog_resort)
    cancelled = await _confirmed(client, guest_headers, catalog_resort)
    assert (await _cancel(client, guest_headers, cancelled["id"])).status_code == 202
    cancelled = await _settled(client, guest_headers, cancelled["id"])
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    failed = await _settled(client, guest_headers, (await _book(client, guest_headers, [hold_id], "tok_decline")).json()["id"])
    assert (cancelled["status"], failed["status"]) == ("cancelled", "failed")

    report = await reconcile(sync_resources.db, provider, since)
    assert report.mismatches == []
    assert (report.payments, report.captured) == (3, kept["total_amount"] + cancelled["total_amount"])
    assert report.refunded == cancelled["refund_amount"] == cancelled["total_amount"] * 7 // 10

    stray = str(uuid.uuid4())  # money the provider took for no booking of ours
    payment = await provider.open(f"{stray}:open", "tok_approve", 1234, "KRW", stray)
    await provider.authorize(f"{stray}:authorize", payment.reference)
    await provider.capture(f"{stray}:capture", payment.reference, 1234)
    hours = (time.time() - since + 1) / 3600
    cli = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", "from app.cli import main; main()",
                                                   "payments", "reconcile", "--hours", f"{hours:.6f}", "--json"],
                                  env=saga_roles.env, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 1, cli.stderr
    found = json.loads(cli.stdout)["mismatches"]
    assert [(m["kind"], m["reference"]) for m in found] == [("capture_without_booking", payment.reference)]
    await reconcile(sync_resources.db, provider, since)
    assert REGISTRY.get_sample_value("resort_payments_mismatches", {"kind": "capture_without_booking"}) == 1
