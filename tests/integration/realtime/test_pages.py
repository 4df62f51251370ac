"""The guest page and the front-desk dashboard in real Chromium (Debian's, driven by Playwright), fed by
the real pipe: POST /holds -> outbox -> relay -> Kafka -> publisher -> Redis -> /live -> the page.
Screenshots go to .data/screenshots/ (git-ignored)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from app.resources import Resources
from app.settings import PROJECT_ROOT
from realtime.publisher import Publisher
from tests.integration.realtime import events

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
SCREENSHOTS = PROJECT_ROOT / ".data" / "screenshots"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
expect.set_options(timeout=20_000)  # a generous bound for loading on a busy machine; the 1 s check is explicit


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


async def _page(browser: Browser, base: str, path: str, token: str | None = None) -> tuple[Page, list[str]]:
    context = await browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 900})
    if token:
        await context.add_cookies([{"name": "resort_access", "value": token, "url": base, "httpOnly": True}])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await page.goto(base + path)
    return page, errors


async def _hold(base: str, headers: dict[str, str], room: str, start: dt.date, key: str) -> dict:
    body = {"product_id": room, "check_in": start.isoformat(),
            "check_out": (start + dt.timedelta(days=1)).isoformat(), "quantity": 1, "guests": 2}
    async with httpx.AsyncClient(base_url=base) as http:
        made = await http.post("/holds", json=body, headers=headers | {"Idempotency-Key": key})
    assert made.status_code == 201, made.text
    return made.json()


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_dashboard_shows_a_hold_made_through_the_api_within_a_second(
        browser: Browser, live_api: str, event_flow: None, catalog_resort, auth_kit, unique: str) -> None:
    resort = catalog_resort
    prop, room = resort.property["id"], str(resort.room["id"])
    desk, _ = await auth_kit.sign_in(["front_desk", "guest"])
    guest, _ = await auth_kit.sign_in(["guest"])
    page, errors = await _page(browser, live_api, f"/live/frontdesk?property={prop}&lang=en", _token(desk))
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")
    await expect(page.locator("#occupancy tbody tr").first).to_be_visible()
    await _hold(live_api, guest, room, resort.start, f"warm-{unique}")  # the pipe's first event: warm it up
    await expect(page.locator("#feed li[data-kind=hold]")).to_have_count(1, timeout=30_000)
    made = time.monotonic()
    hold = await _hold(live_api, guest, room, resort.start, f"page-{unique}")
    await expect(page.locator(f"#feed li[data-hold='{hold['id']}'][data-kind=hold]")).to_be_visible()
    assert time.monotonic() - made < 1.0
    await expect(page.locator("h1")).to_have_text("Front desk")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "live-frontdesk.png"), full_page=True)
    assert errors == []
    await page.context.close()


async def test_guest_page_shows_availability_and_booking_progress_live(
        browser: Browser, live_api: str, event_flow: None, catalog_resort, auth_kit, unique: str,
        sync_resources: Resources, publisher: Publisher) -> None:
    resort = catalog_resort
    prop, room = resort.property["id"], str(resort.room["id"])
    subject, booking_id = f"guest-{unique}", f"bk-{unique}"
    guest, _ = await auth_kit.sign_in(["guest"], subject)
    await publisher.handle(await events.booking(sync_resources.db, prop, booking_id, "pending", subject))
    path = f"/live/guest?property={prop}&from={resort.start}&to={resort.start + dt.timedelta(days=7)}&lang=ko"
    page, errors = await _page(browser, live_api, path + f"&booking={booking_id}", _token(guest))
    cell = page.locator(f"#cell-{room}-{resort.start.isoformat()}")
    await expect(cell).to_have_attribute("data-free", "5")
    await _hold(live_api, guest, room, resort.start, f"guest-{unique}")
    await expect(cell).to_have_attribute("data-free", "4", timeout=30_000)
    await expect(page.locator("#booking-note")).to_have_attribute("data-status", "pending")
    for version, status in enumerate(("reserved", "paid", "confirmed"), 2):
        await publisher.handle(await events.booking(sync_resources.db, prop, booking_id, status, subject,
                                                    version=version))
    await expect(page.locator("#booking-note")).to_have_attribute("data-status", "confirmed")
    await expect(page.locator("#steps li.current")).to_have_text("확정")
    await expect(page.locator("h1")).to_have_text("실시간 객실 현황")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "live-guest.png"), full_page=True)
    assert errors == []
    await page.context.close()
