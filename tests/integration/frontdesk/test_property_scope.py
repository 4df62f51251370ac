"""Staff act on their own property only: every front-desk and housekeeping endpoint, and the ``/live``
front-desk channel, refuse staff of another property with 403 ``property_forbidden``; admin acts on all."""

from __future__ import annotations

import re
from typing import Any

from litestar.routes import HTTPRoute

from tests.integration.frontdesk.conftest import DAY
from tests.integration.realtime.client import Live
from tests.integration.realtime.conftest import live_api, live_env  # noqa: F401 - the /live api process

# A body (and query) each operation accepts, so that only the property decides the answer. A new front-desk
# route without an entry here fails the test: it must be tried too.
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/frontdesk/{property_id}/rooms"): {},
    ("GET", "/frontdesk/{property_id}/arrivals"): {},
    ("GET", "/frontdesk/{property_id}/departures"): {},
    ("GET", "/frontdesk/{property_id}/in-house"): {},
    ("GET", "/frontdesk/{property_id}/board"): {},
    ("GET", "/frontdesk/{property_id}/stays"): {},
    ("GET", "/frontdesk/{property_id}/money-owed"): {},
    ("GET", "/frontdesk/{property_id}/audits/{day}"): {},
    ("POST", "/frontdesk/{property_id}/assign"): {"params": {"date": "{today}"}},
    ("PUT", "/frontdesk/bookings/{booking_id}/room"): {"json": {"room_id": "{room_id}"}},
    ("DELETE", "/frontdesk/bookings/{booking_id}/room"): {},
    ("GET", "/frontdesk/bookings/{booking_id}/rooms"): {},
    ("PUT", "/frontdesk/bookings/{booking_id}/rooms/{slot}/room"): {"json": {"room_id": "{room_id}"}},
    ("POST", "/frontdesk/bookings/{booking_id}/rooms/{slot}/check-in"): {},
    ("POST", "/frontdesk/bookings/{booking_id}/rooms/{slot}/check-out"): {},
    ("POST", "/frontdesk/bookings/{booking_id}/rooms/{slot}/cancel"): {"headers": {"Idempotency-Key": "scope-{booking_id}"}},
    ("GET", "/housekeeping/{property_id}/rooms"): {},
    ("PUT", "/housekeeping/rooms/{room_id}/state"): {"json": {"state": "clean"}},
    ("POST", "/frontdesk/bookings/{booking_id}/check-in"): {},
    ("POST", "/frontdesk/bookings/{booking_id}/check-out"): {},
    ("POST", "/frontdesk/bookings/{booking_id}/no-show"): {},
}


def _frontdesk_operations(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format.startswith(("/frontdesk/", "/housekeeping/")):
            found += [(m, route.path_format) for m in route.methods if m not in ("HEAD", "OPTIONS")]
    return sorted(found)


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return re.sub(r"\{(\w+)\}", lambda m: names[m.group(1)], value) if isinstance(value, str) else value


async def test_every_front_desk_endpoint_refuses_staff_of_another_property(
    client: Any, app: Any, desk: Any, staff_headers: Any, catalog_factory: Any
) -> None:
    operations = _frontdesk_operations(app)
    assert sorted(SAMPLES) == operations  # every route is tried below
    other = await catalog_factory.property()
    strangers = [await staff_headers(other["id"]), await staff_headers(other["id"], "housekeeping")]
    booking = await desk.booking(desk.today, desk.today + DAY)
    names = {"property_id": desk.property_id, "booking_id": str(booking), "room_id": str(desk.rooms[0]), "slot": "1",
             "today": desk.today.isoformat(), "day": (desk.today - DAY).isoformat()}
    before = await desk.written(booking)
    for method, path in operations:
        sample = _fill(SAMPLES[(method, path)], names)
        for stranger in strangers[: 2 if path.startswith("/housekeeping/") else 1]:
            extra = sample.get("headers", {})
            answer = await client.request(method, _fill(path, names), **sample | {"headers": stranger | extra})
            assert (answer.status_code, answer.json()["code"]) == (403, "property_forbidden"), (method, path,
                                                                                              answer.text)
    assert await desk.written(booking) == before  # nothing was done


async def test_staff_of_the_property_and_admin_may_act(
    client: Any, desk: Any, staff_headers: Any, admin_headers: dict[str, str]
) -> None:
    booking = await desk.booking(desk.today, desk.today + DAY)
    own = await staff_headers(desk.property_id)
    body = {"room_id": str(desk.rooms[0])}
    assert (await client.put(f"/frontdesk/bookings/{booking}/room", json=body, headers=own)).status_code == 200
    answer = await client.get(f"/frontdesk/{desk.property_id}/arrivals", headers=admin_headers)
    assert [s["booking_id"] for s in answer.json()["items"]] == [str(booking)]


async def test_the_live_front_desk_channel_refuses_staff_of_another_property(
    live_api: str, desk: Any, staff_headers: Any, catalog_factory: Any  # noqa: F811
) -> None:
    other = await catalog_factory.property()
    stranger = await Live.open(live_api, headers=await staff_headers(other["id"]))
    own = await Live.open(live_api, headers=await staff_headers(desk.property_id))
    try:
        refused = await stranger.subscribe(f"frontdesk:{desk.property_id}")
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        assert (await own.subscribe(f"frontdesk:{desk.property_id}"))["type"] == "snapshot"
    finally:
        await stranger.close()
        await own.close()
