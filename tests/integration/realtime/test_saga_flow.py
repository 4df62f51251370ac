"""A booking made through the API, followed live: POST /holds, POST /bookings -> the saga's roles
(relay, saga, services) and the ``publisher`` role as real processes -> /live booking and front-desk
channels, from the first status to ``confirmed``."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from tests.integration.bookings.conftest import FAST, Roles, booking_body, topics_exist
from tests.integration.holds.conftest import hold_body
from tests.integration.realtime.client import Live
from tests.support.auth import subprocess_environment


@pytest.fixture(scope="module")
def live_roles(settings: Any, stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, **subprocess_environment(settings), **FAST, "RESORT_SAGA_GROUP": f"live-saga-{run}",
           "RESORT_SERVICES_GROUP": f"live-services-{run}", "RESORT_LOG_JSON": "true",
           "RESORT_KAFKA_TOPIC_PREFIX": f"l{run}."}  # topics of its own (see the bookings' saga_roles)
    roles = Roles(env, tmp_path_factory.mktemp("live-roles"))
    for role in ("relay", "saga", "services", "publisher"):
        roles.start(role)
    try:
        asyncio.run(topics_exist(msgspec.structs.replace(settings, kafka_topic_prefix=f"l{run}.")))
        for role in ("saga", "services"):
            roles.wait_ready(role)
        yield roles
    finally:
        roles.stop()


EXPECTED = {"/holds": 201, "/bookings": 202}  # a hold is placed; a booking is accepted (its saga runs on)


async def _post(http: httpx.AsyncClient, path: str, body: dict, headers: dict[str, str]) -> dict:
    response = await http.post(path, json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == EXPECTED[path], response.text
    return response.json()


async def test_a_booking_is_followed_live_to_confirmed(live_roles: Roles, live_api: str, catalog_resort, auth_kit,
                                                       unique: str) -> None:
    resort = catalog_resort
    guest, _ = await auth_kit.sign_in(["guest"], f"guest-{unique}")
    desk_headers, _ = await auth_kit.sign_in(["front_desk", f"property:{resort.property['id']}"])
    desk = await Live.open(live_api, headers=desk_headers)
    await desk.subscribe(f"frontdesk:{resort.property['id']}")
    async with httpx.AsyncClient(base_url=live_api, timeout=10) as http:
        hold = await _post(http, "/holds", hold_body(resort.room, resort.start), guest)
        booking = await _post(http, "/bookings", booking_body([hold["id"]]), guest)
    live = await Live.open(live_api, headers=guest)
    snapshot = await live.subscribe(f"booking:{booking['id']}")  # owner known from PostgreSQL at once
    assert snapshot["type"] == "snapshot" and snapshot["data"]["booking_id"] == booking["id"]
    state, seq = snapshot["data"], snapshot["seq"]
    while state.get("status") != "confirmed":
        update = await live.until(lambda f: f["type"] == "update", timeout=60)
        assert update["seq"] == seq + 1  # consecutive: nothing lost, nothing twice
        state, seq = update["data"], update["seq"]
    assert state["confirmation_code"]
    feed = await desk.until(lambda f: f["type"] == "update" and f["data"].get("event_type") == "booking.confirmed",
                            timeout=60)
    assert feed["data"]["booking_id"] == booking["id"]
    stranger, _ = await auth_kit.sign_in(["guest"])
    other = await Live.open(live_api, headers=stranger)
    assert (await other.subscribe(f"booking:{booking['id']}"))["code"] == "forbidden"
    for client in (live, desk, other):
        await client.close()
