"""The desk's lists never lose a guest: through a stay's whole life (confirmed, moved, checked in, moved
again, checked out; no-show; cancelled; due out past departure) the guest is in exactly one list, the right
one, through the API (``GET /frontdesk/{property}/stays``, the read model) and on the ``/live`` front-desk
page in Chromium (snapshot, then the booking events: outbox -> relay -> Kafka -> publisher -> the page)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import expect

from app.bookings.repository import announce
from app.frontdesk.views import run as run_views
from realtime.publisher import TOPICS
from realtime.publisher import run as run_publisher
from sync.relay import OutboxRelay
from tests.integration.frontdesk.conftest import DAY, make_desk
from tests.support.wait import until

PAGE_LISTS = {"arrivals": "arrivals", "in_house": "in-house", "departures": "departures", "departed": "departed",
              "no_shows": "no-shows", "cancelled": "cancelled"}


@pytest.fixture
async def event_flow(sync_resources: Any) -> AsyncIterator[None]:
    """As in production: the outbox relay, the ``publisher`` role (outbox -> Kafka -> Redis streams -> /live)
    and the ``frontdesk-views`` role (the lists from the ``bookings`` events), with consumer groups of their
    own (a member an earlier, killed run left behind would hold a shared group's rebalance)."""
    stop, run = asyncio.Event(), uuid.uuid4().hex[:8]
    own = dataclasses.replace(sync_resources, settings=msgspec.structs.replace(
        sync_resources.settings, frontdesk_views_group=f"test-frontdesk-views-{run}",
        live_publisher_group=f"test-publisher-{run}"))
    relay = OutboxRelay(own.settings, own.db, own.kafka, topics=list(TOPICS))
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(run_publisher(own, stop)),
             asyncio.create_task(run_views(own, stop))]
    yield
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)


async def _lists_of(http: httpx.AsyncClient, property_id: str, booking: Any) -> list[str]:
    answer = await http.get(f"/frontdesk/{property_id}/stays")
    assert answer.status_code == 200, answer.text
    return [name for name in PAGE_LISTS for s in answer.json()[name] if s["booking_id"] == str(booking)]


async def _cancel_as_the_saga_does(db: Any, booking: Any) -> None:
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("UPDATE bookings SET status = 'cancelled', version = version + 1, updated_at = now()"
                                  " WHERE id = $1 RETURNING *", booking)
        await announce(conn, row)


async def test_a_guest_is_in_exactly_one_list_at_every_step_through_the_api_and_live(
    browser_page: Any, served_api: str, event_flow: None, catalog_factory: Any,
    sync_resources: Any, staff_headers: Any
) -> None:
    desk = await make_desk(catalog_factory, sync_resources.db, rooms=4)
    headers = await staff_headers(desk.property_id)
    stay = await desk.booking(desk.today, desk.today + 2 * DAY)
    late = await desk.booking(desk.today - DAY, desk.today + DAY)
    cancelled = await desk.booking(desk.today, desk.today + DAY)
    due = await desk.booking(desk.today - 2 * DAY, desk.today)
    await desk.seat(due, desk.rooms[3])
    await desk.db.execute("UPDATE bookings SET status = 'checked_in' WHERE id = $1", due)  # in since 2 days
    view = await browser_page(f"/live/frontdesk?property={desk.property_id}&lang=en")
    await view.page.context.add_cookies([{"name": "resort_access", "url": served_api, "httpOnly": True,
                                          "value": headers["Authorization"].removeprefix("Bearer ")}])
    await view.page.reload()
    await expect(view.page.locator("#status")).to_have_attribute("data-state", "live")

    async with httpx.AsyncClient(base_url=served_api, headers=headers, timeout=30) as http:
        async def step(booking: Any, expected: str, method: str = "", path: str = "", **body: Any) -> None:
            if method:
                answer = await http.request(method, f"/frontdesk/bookings/{booking}/{path}", **body)
                assert answer.status_code == 200, answer.text
            await until(lambda: _is_in(http, desk.property_id, booking, expected), timeout=20)
            await expect(view.page.locator(f"#{PAGE_LISTS[expected]} li[data-booking='{booking}']")).to_have_count(1)
            await expect(view.page.locator(f"li[data-booking='{booking}']")).to_have_count(1)

        await step(stay, "arrivals")
        await step(stay, "arrivals", "PUT", "room", json={"room_id": str(desk.rooms[0])})
        await step(stay, "in_house", "POST", "check-in")
        await step(stay, "in_house", "PUT", "room", json={"room_id": str(desk.rooms[1])})  # moved in the house
        await step(stay, "departed", "POST", "check-out")
        await step(late, "arrivals")
        await step(late, "no_shows", "POST", "no-show")
        await step(cancelled, "arrivals")
        await _cancel_as_the_saga_does(desk.db, cancelled)  # its event reaches the lists and the page
        await step(cancelled, "cancelled")
        await step(due, "departures")
        moved = await http.put(f"/frontdesk/bookings/{due}/room", json={"room_id": str(desk.rooms[2])})
        assert (moved.status_code, moved.json()["code"]) == (409, "stay_over")  # no night left to move
        await step(due, "departed", "POST", "check-out")
    await view.screenshot("live-frontdesk-lists")


async def _is_in(http: httpx.AsyncClient, property_id: str, booking: Any, expected: str) -> bool:
    return await _lists_of(http, property_id, booking) == [expected]
