"""Bookings and cancellations made through the API (the saga running as real processes) reach the activity
store as one booking and one cancellation with their products and rate plans; the rollups count the rate
plan's cancellation and the pair booked together."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.activity import store
from tests.integration.activity.conftest import eventually
from tests.integration.bookings.conftest import FAST, ROLES, Roles, topics_exist
from tests.integration.bookings.test_saga import _book, _hold, _settled
from tests.support.auth import subprocess_environment


@pytest.fixture(scope="module")
def saga_and_activity(settings: Any, stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, **subprocess_environment(settings), **FAST, "RESORT_SAGA_GROUP": f"test-saga-{run}",
           "RESORT_SERVICES_GROUP": f"test-services-{run}", "RESORT_ACTIVITY_GROUP": f"test-activity-{run}",
           "RESORT_ACTIVITY_ROLLUP_INTERVAL_S": "0.2", "RESORT_LOG_JSON": "true",
           "RESORT_KAFKA_TOPIC_PREFIX": f"t{run}."}
    roles = Roles(env, tmp_path_factory.mktemp("activity-roles"))
    for role in (*ROLES, "activity"):
        roles.start(role)
    try:
        import msgspec

        asyncio.run(topics_exist(msgspec.structs.replace(settings, kafka_topic_prefix=f"t{run}.")))
        for role in ("saga", "services"):
            roles.wait_ready(role)
        yield roles
    finally:
        roles.stop()


async def test_a_booking_and_its_cancellation_are_counted_with_their_rate_plans_and_pair(
        saga_and_activity: Roles, client: Any, catalog_resort: Any, resources: Any, app_call: Any,
        guest_headers: dict[str, str]) -> None:
    resort = catalog_resort
    holds = [await _hold(client, guest_headers, product, resort.start) for product in (resort.room, resort.ticket)]
    booking = await _settled(client, guest_headers, (await _book(client, guest_headers, holds)).json()["id"])
    assert booking["status"] == "confirmed", booking
    cancel = await client.post(f"/bookings/{booking['id']}/cancel",
                               headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert cancel.status_code == 202, cancel.text
    assert (await _settled(client, guest_headers, booking["id"]))["status"] == "cancelled"
    db = resources.mongo[resources.settings.mongo_db]
    room, ticket = str(resort.room["id"]), str(resort.ticket["id"])

    async def counted() -> list[dict[str, Any]]:
        found = await app_call(lambda: db[store.EVENTS].find({"property_id": resort.property["id"]}).to_list())
        kinds = sorted(e["type"] for e in found)
        return found if kinds == ["booking", "cancellation", "hold", "hold"] and all(e["rolled"] for e in found) else []

    found = await eventually(counted, timeout=60)
    booked = next(e for e in found if e["type"] == "booking")
    assert (booked["products"], booked["rate_plans"]) == (sorted([room, ticket]),
                                                          sorted([f"{room}|standard", f"{ticket}|standard"]))
    rates = await app_call(lambda: db[store.ROLLUP_COLLECTIONS["rates"]].find_one({"_id": f"{room}|standard"}))
    assert (rates["bookings"], rates["cancellations"]) == (1, 1)
    pair = await app_call(lambda: db[store.PAIRS].find_one({"_id": f"{room}|{ticket}"}))
    assert pair["count"] == 1
