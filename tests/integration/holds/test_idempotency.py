"""Idempotency-Key on POST /holds: one effect per (caller, key), the same answer to every retry."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.integration.holds.conftest import hold_body, inventory


async def test_fifty_concurrent_identical_requests_make_one_hold(
    client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    key, body = uuid.uuid4().hex, hold_body(catalog_resort.room, catalog_resort.start)
    answers = await asyncio.gather(*(hold(guest_headers, body, key) for _ in range(50)))
    statuses = {r.status_code for r in answers}
    assert statuses <= {201, 409}, statuses
    assert all(r.json()["code"] == "idempotency_in_flight" and r.headers["retry-after"]
               for r in answers if r.status_code == 409)
    assert (await inventory(catalog_factory, catalog_resort.room, catalog_resort.start))["held"] == 1
    created = [r for r in answers if r.status_code == 201]
    after = [await hold(guest_headers, body, key) for _ in range(3)]
    for response in [*created, *after]:
        assert response.status_code == 201
        assert response.content == after[0].content
        assert response.headers["location"] == after[0].headers["location"]
    assert all(r.headers["idempotent-replayed"] == "true" for r in after)
    assert await catalog_factory.fetchval("SELECT count(*) FROM holds WHERE property_id = $1",
                                          catalog_resort.property["id"]) == 1


async def test_same_key_other_body_is_422_and_writes_nothing(
    catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    key = uuid.uuid4().hex
    assert (await hold(guest_headers, hold_body(catalog_resort.room, catalog_resort.start), key)).status_code == 201
    other = await hold(guest_headers, hold_body(catalog_resort.room, catalog_resort.start, guests=1), key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert (await inventory(catalog_factory, catalog_resort.room, catalog_resort.start))["held"] == 1


async def test_the_same_body_in_another_key_order_is_the_same_request(
    catalog_resort: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    key, body = uuid.uuid4().hex, hold_body(catalog_resort.room, catalog_resort.start)
    first = await hold(guest_headers, body, key)
    again = await hold(guest_headers, dict(reversed(list(body.items()))), key)
    assert again.status_code == 201 and again.json() == first.json()


async def test_keys_are_private_to_each_caller(
    catalog_resort: Any, catalog_factory: Any, auth_headers: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    key, body = uuid.uuid4().hex, hold_body(catalog_resort.room, catalog_resort.start)
    mine = await hold(guest_headers, body, key)
    theirs = await hold(await auth_headers(["guest"]), body, key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert (await inventory(catalog_factory, catalog_resort.room, catalog_resort.start))["held"] == 2


async def test_an_error_is_replayed_too(catalog_resort: Any, guest_headers: dict[str, str],
                                        catalog_factory: Any, hold: Any) -> None:
    key = uuid.uuid4().hex
    too_many = hold_body(catalog_resort.room, catalog_resort.start, quantity=6, guests=6)
    first = await hold(guest_headers, too_many, key)
    assert first.status_code == 409 and first.json()["code"] == "sold_out"
    await catalog_factory.capacity(catalog_resort.room["id"], catalog_resort.start, catalog_resort.end, 10)
    replay = await hold(guest_headers, too_many, key)  # capacity is there now, but the answer was given
    assert (replay.status_code, replay.content) == (409, first.content)
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert (await inventory(catalog_factory, catalog_resort.room, catalog_resort.start))["held"] == 0


async def test_a_committed_answer_survives_a_crash_before_the_response(
    client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    """The answer is written in the hold's own transaction: had the process died right after COMMIT,
    the retry finds it. Shown by reading the record the effect's transaction wrote."""
    key = uuid.uuid4().hex
    response = await hold(guest_headers, hold_body(catalog_resort.room, catalog_resort.start), key)
    row = (await catalog_factory.fetch(
        "SELECT k.status, k.response_status, k.response_body, h.xmin::text = k.xmin::text AS same_tx"
        " FROM idempotency_keys k, holds h WHERE k.key = $1 AND h.id = $2", key, uuid.UUID(response.json()["id"])))[0]
    assert (row["status"], row["response_status"], bytes(row["response_body"])) == ("done", 201, response.content)
    assert row["same_tx"]
