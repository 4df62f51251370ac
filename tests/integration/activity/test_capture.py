"""Activity from real API calls: searches, views and holds reach MongoDB once each (through Kafka; a
redelivered message counts once) and the funnel of the resort's day equals what the test did."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from prometheus_client import REGISTRY

from app.activity import store
from app.activity.domain import rate
from tests.integration.activity.conftest import eventually


def _events(resources: Any) -> Any:
    return resources.mongo[resources.settings.mongo_db][store.EVENTS]


async def _hold(client: Any, headers: dict[str, str], product: dict[str, Any], start: dt.date) -> dict[str, Any]:
    body = {"product_id": str(product["id"]), "check_in": start.isoformat(),
            "check_out": (start + dt.timedelta(days=2)).isoformat(), "quantity": 1, "guests": 2}
    made = await client.post("/holds", json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert made.status_code == 201, made.text
    return made.json()


async def test_api_calls_reach_mongodb_once_each_and_the_funnel_counts_them(
        client: Any, activity_flow: Any, catalog_resort: Any, auth_kit: Any, unique: str) -> None:
    resort, events = catalog_resort, _events(activity_flow)
    prop, room = resort.property["id"], resort.room
    anon = {"X-Session-Id": f"session-{unique}"}
    guest, _ = await auth_kit.sign_in(["guest"], subject=f"guest-{unique}")
    zero = 0  # counted from the answers, independently of the pipeline
    for text in (f"nothing{unique}", f"nothing{unique}", "room"):
        answer = await client.get("/search", params={"q": text, "property": prop}, headers=anon)
        assert answer.status_code == 200
        zero += answer.json()["total"] == 0
    for _ in range(3):
        assert (await client.get(f"/products/{room['id']}", headers=anon)).status_code == 200
    assert (await client.get(f"/products/{room['id']}", headers=guest)).status_code == 200
    hold = await _hold(client, guest, room, resort.start)

    async def stored() -> list[dict[str, Any]]:
        found = await events.find({"property_id": prop}).to_list()
        return found if len(found) == 8 and all(e["rolled"] for e in found) else []

    found = await eventually(stored, timeout=90)  # a bound, not a wait: a loaded machine is slow
    kinds = sorted(e["type"] for e in found)
    assert kinds == ["hold", "search", "search", "search", "view", "view", "view", "view"]
    assert sum(1 for e in found if e["type"] == "search" and e["zero"]) == zero
    assert {e["subject"] for e in found if e["type"] in ("hold", "view")} == {f"user:guest-{unique}",
                                                                              f"anon:session-{unique}"}

    # The hold's outbox row published again: Kafka delivers the same message a second time.
    read = _holds_read()
    await activity_flow.db.execute("UPDATE outbox SET published_at = NULL WHERE aggregate_id = $1", hold["id"])
    assert await eventually(lambda: _async(_holds_read() > read))
    assert await events.count_documents({"property_id": prop, "type": "hold"}) == 1

    day = dt.datetime.now(dt.UTC).date().isoformat()
    daily = await activity_flow.mongo[activity_flow.settings.mongo_db][store.ROLLUP_COLLECTIONS["daily"]].find_one(
        {"_id": f"{prop}|{day}"})
    assert (daily["search"], daily["zero_result"], daily["view"], daily["hold"]) == (3, zero, 4, 1)
    funnel = (await client.get("/admin/analytics/funnel", params={"property": prop, "start": day, "end": day},
                               headers=(await auth_kit.sign_in(["admin"]))[0])).json()
    assert (funnel["totals"]["view_per_search"], funnel["totals"]["hold_per_view"]) == (rate(4, 3), rate(1, 4))


def _holds_read() -> float:
    """Messages of the ``holds`` topic the activity role (in this process) has read and stored."""
    return REGISTRY.get_sample_value("resort_activity_messages_total", {"topic": "holds"}) or 0.0


async def _async(value: Any) -> Any:
    return value


async def test_an_availability_change_invalidates_the_cached_recommendations(
        client: Any, activity_flow: Any, catalog_factory: Any, catalog_resort: Any) -> None:
    resort = catalog_resort
    stay = {"property": resort.property["id"], "check_in": resort.start.isoformat(),
            "check_out": (resort.start + dt.timedelta(days=1)).isoformat()}
    await client.get("/recommendations", params=stay)
    assert (await client.get("/recommendations", params=stay)).headers["x-cache"] == "hit"
    await catalog_factory.capacity(resort.room["id"], resort.start, resort.start + dt.timedelta(days=1), 9)

    async def missed() -> bool:
        return (await client.get("/recommendations", params=stay)).headers["x-cache"] == "miss"

    assert await eventually(missed)
