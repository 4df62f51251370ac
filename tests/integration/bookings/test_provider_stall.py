"""A provider call that hangs delays only the booking that waits on it: the other bookings on the same
partition keep moving (the participants handle several bookings at once, each booking's commands in order)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from app.settings import Settings
from tests.integration.bookings.conftest import Roles, booking_body
from tests.integration.bookings.test_crashes import _all_terminal
from tests.integration.holds.conftest import hold_body

OTHERS = 50
ROLES = ("saga", "services", "sweeper")


async def _booking(client: Any, headers: dict[str, str], resort: Any, token: str) -> str:
    hold = await client.post("/holds", json=hold_body(resort.ticket, resort.start, guests=1),
                             headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert hold.status_code == 201, hold.text
    booking = await client.post("/bookings", json=booking_body([hold.json()["id"]], token),
                                headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert booking.status_code == 202, booking.text
    return booking.json()["id"]


async def test_a_hung_provider_call_stalls_only_its_own_booking(
    saga_roles: Any, client: Any, settings: Settings, catalog_resort: Any, catalog_factory: Any, tmp_path: Path,
    auth_headers: Any,
) -> None:
    # the authorization's own timeout and the steps' deadlines far longer than the run: the hung call stays
    # hung throughout, and no booking fails for a deadline on this busy machine
    patient = Roles(saga_roles.env | {"RESORT_PAYMENT_TIMEOUT_S": "60", "RESORT_SAGA_STEP_TIMEOUT_S": "60"}, tmp_path)
    for role in ROLES:
        saga_roles.kill(role)
    hung = ""
    try:
        for role in ROLES:
            patient.start(role)
        for role in ("saga", "services"):
            await asyncio.to_thread(patient.wait_ready, role)
        # a guest of its own for each booking (a guest may hold only a few nights at once)
        guests = [await auth_headers(settings.roles_for_groups(["customers"])) for _ in range(OTHERS + 1)]
        hung = await _booking(client, guests[0], catalog_resort, "tok_hang")
        started = time.monotonic()
        others = [await _booking(client, guest, catalog_resort, "tok_approve") for guest in guests[1:]]
        statuses = await _all_terminal(catalog_factory, others, timeout=45)
        took = time.monotonic() - started
        print(f"\n{OTHERS} bookings behind a hung provider call confirmed in {took:.1f}s")
        assert set(statuses.values()) == {"confirmed"}
        row = (await catalog_factory.fetch("SELECT status, step FROM bookings WHERE id = $1", uuid.UUID(hung)))[0]
        assert (row["status"], row["step"]) == ("pending", "pay")  # still waiting on its provider, alone
    finally:
        patient.stop()
        for role in ROLES:
            saga_roles.start(role)
        for role in ("saga", "services"):
            await asyncio.to_thread(saga_roles.wait_ready, role)
    # its step's long deadline taken as passed: with the usual roles again its saga ends (voided), so nothing
    # lingers for later tests
    await catalog_factory.fetchval("UPDATE bookings SET step_deadline = now(), deadline = now() WHERE id = $1"
                                   " RETURNING 1", uuid.UUID(hung))
    assert (await _all_terminal(catalog_factory, [hung], timeout=30))[hung] == "failed"
