"""Related products and recommendations on a hand-built history: the expected products, in the expected
order, with the expected reasons; sold-out products never suggested; "N left" is the live count after
holds and releases, even when the ranking comes from the cache."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from app.activity import store
from app.activity.domain import complete


def _event(kind: str, subject: str, prop: str, products: list[Any], start: dt.date, nights: int = 2) -> dict[str, Any]:
    ids = [str(p["id"]) for p in products]
    return complete({"_id": uuid.uuid4().hex, "type": kind, "subject": subject, "property_id": prop,
                     "at": dt.datetime.now(dt.UTC), "rolled": False, "product_id": ids[0], "products": ids,
                     "rate_plans": [f"{i}|standard" for i in ids] if kind == "booking" else [],
                     "check_in": start.isoformat(), "check_out": (start + dt.timedelta(days=nights)).isoformat()})


@pytest.fixture
async def history(catalog_factory: Any, app_call: Any, resources: Any, unique: str) -> dict[str, Any]:
    """A resort (room 5 units, slot 3, ticket 100, package; Room B 1 unit, Room C sold out) whose guests
    u1 and u2 booked room + ticket + slot, u3 room + ticket; Room B held twice, room once, for the stay."""
    resort = await catalog_factory.resort()
    prop, start = resort.property["id"], resort.start
    extra = {}
    for name, units in (("Room B", 1), ("Room C", 0)):
        product = await catalog_factory.product(prop, "room_type", name=name)
        await catalog_factory.prices(product["id"], start, resort.end, 120_000)
        await catalog_factory.capacity(product["id"], start, resort.end, units)
        extra[name] = product
    room, slot, ticket = resort.room, resort.slot, resort.ticket
    far = start + dt.timedelta(days=20)
    events = [_event("booking", f"user:u1-{unique}", prop, [room, ticket, slot], far),
              _event("booking", f"user:u2-{unique}", prop, [room, ticket, slot], far),
              _event("booking", f"user:u3-{unique}", prop, [room, ticket], far),
              _event("booking", f"user:me-{unique}", prop, [ticket], far),
              _event("hold", f"anon:x-{unique}", prop, [extra["Room B"]], start),
              _event("hold", f"anon:y-{unique}", prop, [extra["Room B"]], start),
              _event("hold", f"anon:z-{unique}", prop, [room], start)]
    db = resources.mongo[resources.settings.mongo_db]

    async def load() -> None:
        await store.ingest(db, events)
        while await store.rollup_once(resources.mongo, db, 500):
            pass

    await app_call(load)
    return {"resort": resort, "prop": prop, "start": start, "room_b": extra["Room B"], "room_c": extra["Room C"],
            "ids": {str(p["id"]): n for n, p in (("room", room), ("slot", slot), ("ticket", ticket),
                                                ("package", resort.package), ("room_b", extra["Room B"]),
                                                ("room_c", extra["Room C"]))}}


def _shown(answer: Any, ids: dict[str, str]) -> list[tuple[str, list[str]]]:
    assert answer.status_code == 200, answer.text
    return [(ids.get(i["product_id"], i["product_id"]), i["reasons"]) for i in answer.json()["items"]]


def _stay(h: dict[str, Any]) -> dict[str, str]:
    return {"property": h["prop"], "check_in": h["start"].isoformat(),
            "check_out": (h["start"] + dt.timedelta(days=2)).isoformat()}


async def test_related_products_are_the_co_booked_ones_then_the_resorts(client: Any, history: dict[str, Any]) -> None:
    answer = await client.get(f"/products/{history['resort'].room['id']}/related")
    assert _shown(answer, history["ids"]) == [
        ("ticket", ["co_booked"]), ("slot", ["co_booked"]), ("room_b", ["same_property"]),
        ("room_c", ["same_property"]), ("package", ["same_property"])]
    assert [i["score"] for i in answer.json()["items"][:2]] == [3, 2]


async def test_anonymous_guests_get_what_is_popular_for_their_dates_and_never_what_is_sold_out(
        client: Any, history: dict[str, Any]) -> None:
    answer = await client.get("/recommendations", params=_stay(history))
    assert _shown(answer, history["ids"]) == [
        ("room_b", ["popular_for_dates"]), ("room", ["popular_for_dates"]), ("slot", ["available"]),
        ("ticket", ["available"])]
    labels = {history["ids"][i["product_id"]]: i["labels"] for i in answer.json()["items"]}
    assert labels["room_b"] == {"left": 1, "booked_this_week": None}
    assert labels["room"] == {"left": 5, "booked_this_week": 3}
    assert labels["ticket"] == {"left": None, "booked_this_week": 4}


async def test_a_signed_in_guest_gets_what_guests_like_them_booked(client: Any, history: dict[str, Any],
                                                                  auth_kit: Any, unique: str) -> None:
    me, _ = await auth_kit.sign_in(["guest"], subject=f"me-{unique}")
    answer = await client.get("/recommendations", params=_stay(history), headers=me)
    assert answer.json()["personal"] is True
    assert _shown(answer, history["ids"]) == [
        ("room", ["co_booked", "popular_for_dates"]), ("slot", ["co_booked"]), ("ticket", ["matches_your_stays"]),
        ("room_b", ["popular_for_dates"])]


async def test_the_left_label_follows_live_inventory_through_holds_and_releases_even_from_the_cache(
        client: Any, history: dict[str, Any], auth_kit: Any) -> None:
    guest, _ = await auth_kit.sign_in(["guest"])
    stay = _stay(history)
    first = await client.get("/recommendations", params=stay)
    assert first.headers["x-cache"] == "miss"

    async def hold(product: Any) -> str:
        body = {"product_id": str(product["id"]), "check_in": stay["check_in"], "check_out": stay["check_out"],
                "quantity": 1, "guests": 2}
        made = await client.post("/holds", json=body, headers=guest | {"Idempotency-Key": uuid.uuid4().hex})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    def left(answer: Any) -> dict[str, Any]:
        return {history["ids"][i["product_id"]]: i["labels"]["left"] for i in answer.json()["items"]}

    room_hold = await hold(history["resort"].room)
    await hold(history["room_b"])  # its last unit: sold out for these dates
    after = await client.get("/recommendations", params=stay)
    assert after.headers["x-cache"] == "hit"  # no invalidation role here: the ranking is cached, the counts live
    assert left(after) == {"room": 4, "slot": 3, "ticket": None}
    assert (await client.delete(f"/holds/{room_hold}", headers=guest)).status_code == 204
    assert left(await client.get("/recommendations", params=stay))["room"] == 5
    fresh = await client.get("/recommendations", params=stay, headers={"Cache-Control": "no-cache"})
    assert (fresh.headers["x-cache"], left(fresh)) == ("miss", {"room": 5, "slot": 3, "ticket": None})


async def test_bad_stays_and_unknown_things_answer_problems(client: Any, history: dict[str, Any]) -> None:
    stay = _stay(history)
    backwards = await client.get("/recommendations", params=stay | {"check_out": stay["check_in"]})
    assert (backwards.status_code, backwards.json()["code"]) == (422, "invalid_date_range")
    unknown = await client.get("/recommendations", params=stay | {"property": "no-such-resort"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "property_not_found")
    missing = await client.get(f"/products/{uuid.uuid4()}/related")
    assert (missing.status_code, missing.json()["code"]) == (404, "product_not_found")
