"""The saga under crashes and redelivery: SIGKILLed roles, two orchestrators, every message twice.
Every saga ends (confirmed, or failed when a restart outlasts its step deadlines: the short deadlines of
these tests make both happen), inventory matches, money is only kept for confirmed bookings."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import msgspec

from tests.integration.bookings.conftest import Roles, booking_body, topics_exist
from tests.integration.holds.conftest import hold_body
from tests.support.servers import private_server


async def _start(client: Any, headers: dict[str, str], resort: Any, count: int, token: str = "tok_approve") -> list[str]:
    ids = []
    for i in range(count):
        product = resort.slot if i % 2 else resort.ticket
        hold = await client.post("/holds", json=hold_body(product, resort.start, guests=1),
                                 headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
        assert hold.status_code == 201, hold.text
        booking = await client.post("/bookings", json=booking_body([hold.json()["id"]], token),
                                    headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
        assert booking.status_code == 202, booking.text
        ids.append(booking.json()["id"])
    return ids


async def _all_terminal(catalog_factory: Any, ids: list[str], timeout: float = 60) -> dict[str, str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await catalog_factory.fetch("SELECT id::text, status FROM bookings WHERE id = ANY($1::uuid[])",
                                           [uuid.UUID(i) for i in ids])
        statuses = {r["id"]: r["status"] for r in rows}
        if all(s in ("confirmed", "failed") for s in statuses.values()):
            return statuses
        assert asyncio.get_running_loop().time() < deadline, statuses
        await asyncio.sleep(0.2)


async def _invariants(catalog_factory: Any, resort: Any, statuses: dict[str, str]) -> None:
    """Sold units are exactly the confirmed bookings'; captured money only for confirmed ones."""
    sold = await catalog_factory.fetchval(
        "SELECT coalesce(sum(sold), 0) FROM inventory WHERE product_id = ANY($1::uuid[]) AND night = $2",
        [resort.slot["id"], resort.ticket["id"]], resort.start)
    held = await catalog_factory.fetchval(
        "SELECT coalesce(sum(held), 0) FROM inventory WHERE product_id = ANY($1::uuid[]) AND night = $2",
        [resort.slot["id"], resort.ticket["id"]], resort.start)
    confirmed = [i for i, s in statuses.items() if s == "confirmed"]
    assert (sold, held) == (len(confirmed), 0)
    kept = await catalog_factory.fetch(
        "SELECT booking_id::text FROM payments p WHERE operation = 'capture' AND status = 'approved'"
        " AND NOT EXISTS (SELECT 1 FROM payments r WHERE r.booking_id = p.booking_id AND r.operation = 'refund')"
        " AND booking_id = ANY($1::uuid[])", [uuid.UUID(i) for i in statuses])
    assert sorted(r["booking_id"] for r in kept) == sorted(confirmed)


async def test_orchestrator_and_participants_killed_mid_run_every_saga_still_ends(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str]
) -> None:
    saga_roles.kill("saga")
    saga_roles.kill("services")
    ids = await _start(client, guest_headers, catalog_resort, 4)
    saga_roles.start("services")
    saga_roles.start("saga")
    statuses = await _all_terminal(catalog_factory, ids)
    print(f"\nkilled saga + services: {sorted(statuses.values())}")
    await _invariants(catalog_factory, catalog_resort, statuses)


async def test_two_orchestrators_share_and_one_dies(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str]
) -> None:
    saga_roles.start("saga", name="saga-2")
    saga_roles.wait_ready("saga-2")
    ids = await _start(client, guest_headers, catalog_resort, 3)
    saga_roles.kill("saga")  # its partitions move to saga-2 once the group notices
    ids += await _start(client, guest_headers, catalog_resort, 3)
    statuses = await _all_terminal(catalog_factory, ids)
    saga_roles.start("saga")
    saga_roles.kill("saga-2")
    print(f"\none of two orchestrators killed: {sorted(statuses.values())}")
    await _invariants(catalog_factory, catalog_resort, statuses)


async def test_every_message_delivered_twice_changes_nothing(
    saga_roles: Any, client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str]
) -> None:
    ids = await _start(client, guest_headers, catalog_resort, 2) + \
        await _start(client, guest_headers, catalog_resort, 1, "tok_decline")
    first = await _all_terminal(catalog_factory, ids)
    payments = await catalog_factory.fetchval("SELECT count(*) FROM payments WHERE booking_id = ANY($1::uuid[])",
                                              [uuid.UUID(i) for i in ids])
    # The relay publishes every command and reply of these sagas again, in the same order.
    await catalog_factory.fetchval("UPDATE outbox SET published_at = NULL WHERE aggregate_id = ANY($1::text[])"
                                   " AND topic LIKE 'saga.%' RETURNING 1", ids)
    later = await _start(client, guest_headers, catalog_resort, 1)  # behind the duplicates on its partition
    await _all_terminal(catalog_factory, later)
    await _until_published(catalog_factory, ids)
    statuses = await _all_terminal(catalog_factory, ids)
    assert statuses == first
    assert await catalog_factory.fetchval("SELECT count(*) FROM payments WHERE booking_id = ANY($1::uuid[])",
                                          [uuid.UUID(i) for i in ids]) == payments
    await _invariants(catalog_factory, catalog_resort, {**statuses, **{i: "confirmed" for i in later}})


async def _until_published(catalog_factory: Any, ids: list[str]) -> None:
    for _ in range(300):
        if not await catalog_factory.fetchval("SELECT count(*) FROM outbox WHERE aggregate_id = ANY($1::text[])"
                                              " AND published_at IS NULL", ids):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the duplicates were never published")


async def test_the_broker_restarted_mid_run_loses_its_messages_and_every_saga_still_ends(
    saga_roles: Any, client: Any, settings: Any, catalog_resort: Any, catalog_factory: Any,
    guest_headers: dict[str, str], tmp_path: Path
) -> None:
    """A private broker (the shared one serves other tests): the roles move to it, the broker restarts
    with sagas in flight and forgets every message; deadlines re-send what was lost."""
    broker = private_server("kafka", tmp_path)
    bootstrap = f"127.0.0.1:{broker.servers[0].port}"
    moved = ("relay", "saga", "services", "sweeper")
    for role in moved:
        saga_roles.kill(role)
    private = Roles(saga_roles.env | {"RESORT_KAFKA_BOOTSTRAP": bootstrap}, tmp_path)
    try:
        await topics_exist(msgspec.structs.replace(settings, kafka_bootstrap=bootstrap))
        for role in moved:
            private.start(role)
        for role in ("saga", "services"):
            await asyncio.to_thread(private.wait_ready, role)
        ids = await _start(client, guest_headers, catalog_resort, 4)
        await asyncio.to_thread(broker.restart_server, broker.servers[0].name)
        statuses = await _all_terminal(catalog_factory, ids, timeout=90)
        print(f"\nbroker restarted mid-run: {sorted(statuses.values())}")
        await _invariants(catalog_factory, catalog_resort, statuses)
    finally:
        private.stop()
        broker.stop()
        for role in moved:
            saga_roles.start(role)
        for role in ("saga", "services"):
            await asyncio.to_thread(saga_roles.wait_ready, role)
