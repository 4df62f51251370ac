"""Housekeeping: check-out makes a room dirty, housekeeping staff of the property make it clean (from a
phone-sized page), check-in to a room that is not ready warns, or is refused where the property says so."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.integration.frontdesk.conftest import DAY


async def _stay(client: Any, desk: Any, headers: dict[str, str], room: Any) -> Any:
    booking = await desk.booking(desk.today, desk.today + 2 * DAY)
    assigned = await client.put(f"/frontdesk/bookings/{booking}/room", json={"room_id": str(room)}, headers=headers)
    assert assigned.status_code == 200, assigned.text
    return booking


async def test_check_out_makes_the_room_dirty_and_housekeeping_makes_it_ready_again(
    client: Any, desk: Any, front_desk_headers: dict[str, str], staff_headers: Any
) -> None:
    maid = await staff_headers(desk.property_id, "housekeeping")
    booking = await _stay(client, desk, front_desk_headers, desk.rooms[0])
    assert (await client.post(f"/frontdesk/bookings/{booking}/check-in", headers=front_desk_headers)).json()[
        "warnings"] == []
    assert (await client.post(f"/frontdesk/bookings/{booking}/check-out", headers=front_desk_headers)).status_code == 200
    states = {r["number"]: r["housekeeping"] for r in (await client.get(
        f"/housekeeping/{desk.property_id}/rooms", headers=maid)).json()}
    assert states == {"101": "dirty", "102": "clean", "103": "clean", "104": "clean"}
    for state in ("clean", "inspected", "inspected"):  # the same state again changes nothing
        answer = await client.put(f"/housekeeping/rooms/{desk.rooms[0]}/state", json={"state": state}, headers=maid)
        assert (answer.status_code, answer.json()["housekeeping"]) == (200, state)
    events = await desk.db.fetch("SELECT payload->>'housekeeping' AS s FROM outbox WHERE event_type = 'room.housekeeping'"
                                 " AND aggregate_id = $1 ORDER BY id", str(desk.rooms[0]))
    assert [e["s"] for e in events] == ["dirty", "clean", "inspected"]
    bad = await client.put(f"/housekeeping/rooms/{desk.rooms[0]}/state", json={"state": "sparkling"}, headers=maid)
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")
    desk_only = await client.get(f"/frontdesk/{desk.property_id}/rooms", headers=maid)
    assert (desk_only.status_code, desk_only.json()["code"]) == (403, "insufficient_role")


async def test_check_in_to_a_room_that_is_not_ready_warns_or_is_refused_by_the_property(
    client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    await desk.db.execute("UPDATE rooms SET housekeeping = 'dirty' WHERE id = ANY($1::uuid[])", desk.rooms[:2])
    warned = await _stay(client, desk, front_desk_headers, desk.rooms[0])
    answer = await client.post(f"/frontdesk/bookings/{warned}/check-in", headers=front_desk_headers)
    assert (answer.status_code, answer.json()["warnings"]) == (200, ["room_not_clean"])
    await desk.db.execute("UPDATE properties SET checkin_requires_clean = true WHERE id = $1", desk.property_id)
    refused = await _stay(client, desk, front_desk_headers, desk.rooms[1])
    before = await desk.written(refused)
    answer = await client.post(f"/frontdesk/bookings/{refused}/check-in", headers=front_desk_headers)
    assert (answer.status_code, answer.json()["code"]) == (409, "room_not_clean")
    assert await desk.written(refused) == before


async def test_the_phone_page_moves_a_dirty_room_to_clean(
    browser_page: Any, served_api: str, catalog_factory: Any, sync_resources: Any, auth_kit: Any, settings: Any
) -> None:
    from tests.integration.frontdesk.conftest import make_desk

    desk = await make_desk(catalog_factory, sync_resources.db, rooms=2)
    await desk.db.execute("UPDATE rooms SET housekeeping = 'dirty' WHERE id = $1", desk.rooms[0])
    maid, sid = await auth_kit.sign_in(settings.roles_for_groups(["housekeeping", f"property:{desk.property_id}"]))
    csrf = (await auth_kit.sessions.get(sid)).csrf  # what a browser login sets as the resort_csrf cookie
    view = await browser_page(f"/live/housekeeping?property={desk.property_id}&lang=en")
    page = view.page
    await page.set_viewport_size({"width": 375, "height": 740})
    await page.context.add_cookies([
        {"name": "resort_access", "url": served_api, "httpOnly": True,
         "value": maid["Authorization"].removeprefix("Bearer ")},
        {"name": "resort_csrf", "url": served_api, "value": csrf}])
    await page.reload()
    row = page.locator(f"li[data-room='{desk.rooms[0]}']")
    await expect(row).to_have_attribute("data-state", "dirty")
    await row.locator("button[data-state=clean]").click()
    await expect(row).to_have_attribute("data-state", "clean")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
    await view.screenshot("housekeeping-phone")
