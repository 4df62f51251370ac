"""The guest page and the front-desk dashboard in real Chromium (tests/support/browser.py: Debian's chromium
driven by Playwright, other origins blocked), fed by the real pipe: POST /holds -> outbox -> relay ->
Kafka -> publisher -> Redis -> /live -> the page. Screenshots go to .data/screenshots/ (git-ignored)."""

from __future__ import annotations

import datetime as dt
import time

import httpx
from playwright.async_api import expect

from app.resources import Resources
from realtime.publisher import Publisher
from tests.integration.realtime import events
from tests.support.browser import BrowserPage, assert_page_headers


async def _signed_in(view: BrowserPage, base: str, token: str) -> None:
    """The session cookie a browser login would have set, then the page again."""
    await view.page.context.add_cookies([{"name": "resort_access", "value": token, "url": base, "httpOnly": True}])
    await view.page.reload()


async def _clean(view: BrowserPage) -> None:
    assert view.foreign == [] and view.console_errors == [] and view.page_errors == []
    await assert_page_headers(view)


async def _hold(base: str, headers: dict[str, str], room: str, start: dt.date, key: str) -> dict:
    body = {"product_id": room, "check_in": start.isoformat(),
            "check_out": (start + dt.timedelta(days=1)).isoformat(), "quantity": 1, "guests": 2}
    async with httpx.AsyncClient(base_url=base) as http:
        made = await http.post("/holds", json=body, headers=headers | {"Idempotency-Key": key})
    assert made.status_code == 201, made.text
    return made.json()


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_dashboard_shows_a_hold_made_through_the_api_live(
        browser_page, served_api: str, event_flow: None, catalog_resort, auth_kit, unique: str) -> None:
    resort, live_api = catalog_resort, served_api
    prop, room = resort.property["id"], str(resort.room["id"])
    desk, _ = await auth_kit.sign_in(["front_desk", "guest", f"property:{prop}"])
    guest, _ = await auth_kit.sign_in(["guest"])
    view = await browser_page(f"/live/frontdesk?property={prop}&lang=en")
    await _signed_in(view, live_api, _token(desk))
    page = view.page
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")
    await expect(page.locator("#occupancy tbody tr").first).to_be_visible()
    await _hold(live_api, guest, room, resort.start, f"warm-{unique}")  # the pipe's first event: warm it up
    await expect(page.locator("#feed li[data-kind=hold]")).to_have_count(1, timeout=30_000)
    made = time.monotonic()
    hold = await _hold(live_api, guest, room, resort.start, f"page-{unique}")
    await expect(page.locator(f"#feed li[data-hold='{hold['id']}'][data-kind=hold]")).to_be_visible()
    # how fast is measured by bench.realtime (a timed assertion here only measures how busy the machine is)
    print(f"\nhold on the desk's page {time.monotonic() - made:.3f}s after the API answered")
    await expect(page.locator("h1")).to_have_text("Front desk")
    await view.screenshot("live-frontdesk")
    await _clean(view)


async def test_guest_page_shows_availability_and_booking_progress_live(
        browser_page, served_api: str, event_flow: None, catalog_resort, auth_kit, unique: str,
        sync_resources: Resources, publisher: Publisher) -> None:
    resort, live_api = catalog_resort, served_api
    prop, room = resort.property["id"], str(resort.room["id"])
    subject, booking_id = f"guest-{unique}", f"bk-{unique}"
    guest, _ = await auth_kit.sign_in(["guest"], subject)
    await publisher.handle(await events.booking(sync_resources.db, prop, booking_id, "pending", subject,
                                                step="convert"))
    path = f"/live/guest?property={prop}&from={resort.start}&to={resort.start + dt.timedelta(days=7)}&lang=ko"
    view = await browser_page(path + f"&booking={booking_id}")
    await _signed_in(view, live_api, _token(guest))
    page = view.page
    cell = page.locator(f"#cell-{room}-{resort.start.isoformat()}")
    await expect(cell).to_have_attribute("data-free", "5")
    await _hold(live_api, guest, room, resort.start, f"guest-{unique}")
    await expect(cell).to_have_attribute("data-free", "4", timeout=30_000)
    await expect(page.locator("#booking-note")).to_have_attribute("data-status", "pending")
    for version, (status, step) in enumerate((("pending", "pay"), ("confirmed", "done")), 2):
        await publisher.handle(await events.booking(sync_resources.db, prop, booking_id, status, subject,
                                                    version=version, step=step))
    await expect(page.locator("#booking-note")).to_have_attribute("data-status", "confirmed")
    await expect(page.locator("#steps li.current")).to_have_text("확정")
    await expect(page.locator("h1")).to_have_text("실시간 객실 현황")
    await view.screenshot("live-guest")
    await _clean(view)


async def test_dashboard_shows_a_check_in_made_through_the_api_live(
        browser_page, served_api: str, event_flow: None, catalog_factory, sync_resources: Resources,
        auth_kit) -> None:
    """Issue 14's promise: the clerk checks a guest in through the API; the open dashboard shows it live."""
    from tests.integration.frontdesk.conftest import DAY, make_desk

    desk = await make_desk(catalog_factory, sync_resources.db, rooms=2)
    staff, _ = await auth_kit.sign_in(["front_desk", "guest", f"property:{desk.property_id}"])
    warm, arriving = await desk.booking(desk.today, desk.today + DAY), await desk.booking(desk.today, desk.today + DAY)
    view = await browser_page(f"/live/frontdesk?property={desk.property_id}&lang=en")
    await _signed_in(view, served_api, _token(staff))
    page = view.page
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")
    async with httpx.AsyncClient(base_url=served_api, headers=staff, timeout=30) as http:
        for booking, room in ((warm, desk.rooms[0]), (arriving, desk.rooms[1])):
            assigned = await http.put(f"/frontdesk/bookings/{booking}/room", json={"room_id": str(room)})
            assert assigned.status_code == 200, assigned.text
        assert (await http.post(f"/frontdesk/bookings/{warm}/check-in")).status_code == 200  # warms the pipe
        await expect(page.locator("#feed li[data-kind=booking]", has_text=str(warm))).to_have_count(1, timeout=30_000)
        made = time.monotonic()
        checked_in = await http.post(f"/frontdesk/bookings/{arriving}/check-in")
        assert checked_in.status_code == 200, checked_in.text
        await expect(page.locator("#feed li[data-kind=booking]", has_text=f"booking.checked_in · {arriving}")
                     ).to_be_visible()
    print(f"\ncheck-in on the desk's page {time.monotonic() - made:.3f}s after the API answered")
    await view.screenshot("live-frontdesk-check-in")
    await _clean(view)
