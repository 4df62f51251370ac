"""The revenue team's reports: JSON from the rollups, the same rows as CSV, admin only; and the report
page in real Chromium (tests/support/browser.py): its charts drawn with data by the self-hosted Chart.js."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from playwright.async_api import expect

from app import clock
from app.activity import store
from app.activity.domain import complete
from tests.support.browser import BrowserPage, assert_page_headers

# The events happen at the real time of day on the business date (a run pinned by RESORT_TODAY included),
# so the reports' range of activity days and the resort's nights stay a few days apart on any date.
AT = clock.now_at("UTC")


def _event(kind: str, subject: str, prop: str, **fields: Any) -> dict[str, Any]:
    return complete({"_id": uuid.uuid4().hex, "type": kind, "subject": subject, "property_id": prop,
                     "at": AT, "rolled": False} | fields)


@pytest.fixture
async def reported(catalog_factory: Any, app_call: Any, resources: Any, unique: str) -> dict[str, Any]:
    """A resort with searches (some finding nothing), views, holds, bookings and a cancellation, rolled up."""
    resort = await catalog_factory.resort()
    prop, room, ticket = resort.property["id"], str(resort.room["id"]), str(resort.ticket["id"])
    stay = {"check_in": resort.start.isoformat(), "check_out": (resort.start + dt.timedelta(days=2)).isoformat()}
    booked = stay | {"products": [room, ticket], "product_id": room,
                     "rate_plans": [f"{room}|standard", f"{ticket}|standard"]}
    events = [*(_event("search", f"anon:s{i}-{unique}", prop, query=f"igloo {unique}", results=0, zero=True)
                for i in range(3)),
              _event("search", f"anon:t-{unique}", prop, query="room", results=4, zero=False),
              *(_event("view", f"anon:s{i}-{unique}", prop, product_id=room) for i in range(4)),
              _event("hold", f"user:a-{unique}", prop, product_id=room, **stay),
              _event("hold", f"user:b-{unique}", prop, product_id=room, **stay),
              _event("booking", f"user:a-{unique}", prop, **booked),
              _event("booking", f"user:b-{unique}", prop, **booked),
              _event("cancellation", f"user:b-{unique}", prop, **booked)]
    db = resources.mongo[resources.settings.mongo_db]

    async def load() -> None:
        await store.ingest(db, events)
        while await store.rollup_once(resources.mongo, db, 500):
            pass

    await app_call(load)
    return {"prop": prop, "room": room, "ticket": ticket, "night": resort.start.isoformat(), "unique": unique}


def _range(r: dict[str, Any]) -> dict[str, str]:
    return {"property": r["prop"], "start": (AT.date() - dt.timedelta(days=1)).isoformat(), "end": r["night"]}


async def test_the_reports_read_the_rollups(client: Any, reported: dict[str, Any], admin_headers: Any) -> None:
    funnel = (await client.get("/admin/analytics/funnel", params=_range(reported), headers=admin_headers)).json()
    totals = funnel["totals"]
    assert (totals["search"], totals["zero_result"], totals["view"], totals["hold"], totals["booking"]) == (4, 3, 4, 2, 2)
    assert totals["booking_per_hold"] == 1.0
    demand = (await client.get("/admin/analytics/demand", params=_range(reported), headers=admin_headers)).json()
    night = next(n for n in demand["nights"] if n["night"] == reported["night"])
    assert (night["holds"], night["bookings"], night["cancellations"]) == (2, 4, 2)  # 2 bookings x 2 products
    zero = (await client.get("/admin/analytics/searches", params={"zero": "true", "limit": 500},
                             headers=admin_headers)).json()
    assert {"query": f"igloo {reported['unique']}", "count": 3, "zero": 3} in zero["items"]
    rates = (await client.get("/admin/analytics/cancellations", params={"property": reported["prop"]},
                              headers=admin_headers)).json()
    assert {(i["rate_plan"], i["bookings"], i["cancellations"], i["cancellation_rate"]) for i in rates["items"]} == {
        ("standard", 2, 1, 0.5)}
    pairs = (await client.get("/admin/analytics/pairs", params={"property": reported["prop"]},
                              headers=admin_headers)).json()
    assert [({i["a"], i["b"]}, i["count"]) for i in pairs["items"]] == [({reported["room"], reported["ticket"]}, 2)]


async def test_the_csv_export_has_the_rows_of_the_json(client: Any, reported: dict[str, Any], admin_headers: Any) -> None:
    params = _range(reported)
    exported = await client.get("/admin/analytics/export/funnel", params=params, headers=admin_headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    days = (await client.get("/admin/analytics/funnel", params=params, headers=admin_headers)).json()["days"]
    assert [(r["day"], int(r["search"]), int(r["hold"])) for r in rows] == [(d["day"], d["search"], d["hold"]) for d in days]


async def test_reports_need_the_admin_role_and_bounded_ranges(client: Any, reported: dict[str, Any],
                                                              guest_headers: Any, admin_headers: Any) -> None:
    refused = await client.get("/admin/analytics/funnel", params=_range(reported), headers=guest_headers)
    assert refused.status_code == 403
    assert (await client.get("/admin/analytics/", headers=guest_headers)).status_code == 403
    too_long = await client.get("/admin/analytics/funnel", headers=admin_headers,
                                params=_range(reported) | {"start": "2020-01-01", "end": "2026-01-01"})
    assert (too_long.status_code, too_long.json()["code"]) == (422, "date_range_too_long")
    unknown = await client.get("/admin/analytics/export/nothing", headers=admin_headers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "report_not_found")


async def _open_as(browser_page: Any, served_api: str, token: str, path: str) -> BrowserPage:
    view = await browser_page("/admin/analytics/static/report.css")  # same origin, public: set the cookie first
    await view.page.context.add_cookies([{"name": "resort_access", "value": token, "url": served_api, "httpOnly": True}])
    view.html_responses.clear()
    await view.page.goto(path)
    return view


async def test_the_report_page_draws_its_charts_with_data_in_chromium(
        browser_page: Any, served_api: str, reported: dict[str, Any], auth_kit: Any) -> None:
    admin, _ = await auth_kit.sign_in(["admin", "guest"])
    query = "&".join(f"{k}={v}" for k, v in _range(reported).items())
    view = await _open_as(browser_page, served_api, admin["Authorization"].removeprefix("Bearer "),
                          f"/admin/analytics/?{query}")
    page = view.page
    await expect(page.locator("#status")).to_have_attribute("data-state", "ready", timeout=20_000)
    for chart in ("#funnel-chart", "#demand-chart", "#zero-chart"):
        assert int(await page.locator(chart).get_attribute("data-points") or 0) > 0, chart
    assert await page.evaluate("() => Object.keys(Chart.instances).length") == 3
    await expect(page.locator("#pairs tbody tr").first).to_be_visible()
    await view.screenshot("analytics-report")
    assert view.foreign == [] and view.console_errors == [] and view.page_errors == []
    await assert_page_headers(view)


async def test_the_report_page_refuses_a_guest(browser_page: Any, served_api: str, auth_kit: Any) -> None:
    guest, _ = await auth_kit.sign_in(["guest"])
    view = await browser_page("/admin/analytics/static/report.css")
    await view.page.context.add_cookies([{"name": "resort_access", "value": guest["Authorization"].removeprefix(
        "Bearer "), "url": served_api, "httpOnly": True}])
    response = await view.page.goto("/admin/analytics/")
    assert response is not None and response.status == 403
