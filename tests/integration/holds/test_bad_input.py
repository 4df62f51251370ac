"""Bad input gets a 4xx problem+json with a stable code, and writes nothing (no hold, no held unit)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests.integration.holds.conftest import hold_body
from tests.support.dates import resort_today


async def _nothing_written(catalog_factory: Any, resort: Any) -> None:
    held = await catalog_factory.fetchval(
        "SELECT coalesce(sum(held), 0) FROM inventory WHERE product_id = ANY($1::uuid[])",
        [p["id"] for p in resort.products])
    holds = await catalog_factory.fetchval("SELECT count(*) FROM holds WHERE property_id = $1",
                                           resort.property["id"])
    assert (held, holds) == (0, 0)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


CASES = {
    "check_out not after check_in": (lambda r: hold_body(r.room, r.start, 0), 422, "empty_date_range"),
    "check_out before check_in": (lambda r: hold_body(r.room, r.start, -2), 422, "invalid_date_range"),
    "in the past": (lambda r: hold_body(r.room, resort_today() - dt.timedelta(days=3)), 422, "date_in_past"),
    "beyond the sale horizon": (lambda r: hold_body(r.room, resort_today() + dt.timedelta(days=900)), 422,
                                "beyond_sale_horizon"),
    "quantity 0": (lambda r: hold_body(r.room, r.start, quantity=0), 422, "validation_failed"),
    "negative quantity": (lambda r: hold_body(r.room, r.start, quantity=-1), 422, "validation_failed"),
    "huge quantity": (lambda r: hold_body(r.room, r.start, quantity=10**12), 422, "validation_failed"),
    "guests above occupancy": (lambda r: hold_body(r.room, r.start, guests=9), 422, "max_occupancy"),
    "unknown product": (lambda r: hold_body({"id": uuid.uuid4()}, r.start), 422, "unknown_product"),
    "malformed product id": (lambda r: hold_body({"id": "x y"}, r.start), 422, "validation_failed"),
    "unknown rate plan": (lambda r: hold_body(r.room, r.start, rate_plan="gold"), 422, "unknown_rate_plan"),
    "unknown field": (lambda r: hold_body(r.room, r.start, discount=100), 422, "validation_failed"),
    "night without inventory": (lambda r: hold_body(r.room, r.end), 422, "no_rate"),
    "more than capacity": (lambda r: hold_body(r.room, r.start, quantity=6, guests=6), 409, "sold_out"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_refused_and_nothing_written(case: str, catalog_resort: Any, catalog_factory: Any,
                                           guest_headers: dict[str, str], hold: Any) -> None:
    make, status, code = CASES[case]
    body = _problem(await hold(guest_headers, make(catalog_resort)), status, code)
    if code == "sold_out":
        assert body["nights"] == [catalog_resort.start.isoformat()]
    await _nothing_written(catalog_factory, catalog_resort)


RESTRICTIONS = {
    "closed": ({"closed": True}, 0, 1, "closed"),
    "min_stay": ({"min_stay": 3}, 0, 2, "min_stay"),
    "closed_to_arrival": ({"closed_to_arrival": True}, 0, 1, "closed_to_arrival"),
    "closed_to_departure": ({"closed_to_departure": True}, 1, 1, "closed_to_departure"),
}


@pytest.mark.parametrize("rule", list(RESTRICTIONS))
async def test_each_restriction_is_refused(rule: str, catalog_resort: Any, catalog_factory: Any,
                                           guest_headers: dict[str, str], hold: Any) -> None:
    flags, offset, nights, code = RESTRICTIONS[rule]
    room, night = catalog_resort.room, catalog_resort.start + dt.timedelta(days=offset)
    await catalog_factory.prices(room["id"], night, night + dt.timedelta(days=1), 150_000, **flags)
    body = _problem(await hold(guest_headers, hold_body(room, catalog_resort.start, nights)), 422, code)
    assert body["nights"]
    await _nothing_written(catalog_factory, catalog_resort)


async def test_an_inactive_product_cannot_be_held(client: Any, catalog_resort: Any, catalog_factory: Any,
                                                  admin_headers: dict[str, str], guest_headers: dict[str, str],
                                                  hold: Any) -> None:
    room = await catalog_factory.reload(catalog_resort.room["id"])
    response = await client.patch(f"/admin/products/{room['id']}", json={"active": False},
                                  headers=admin_headers | {"If-Match": f'"v{room["version"]}"'})
    assert response.status_code == 200, response.text
    _problem(await hold(guest_headers, hold_body(room, catalog_resort.start)), 422, "unknown_product")
    await _nothing_written(catalog_factory, catalog_resort)


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 256, "bad\"quote"])
async def test_missing_or_malformed_keys_are_400(key: str | None, client: Any, catalog_resort: Any,
                                                 catalog_factory: Any, guest_headers: dict[str, str]) -> None:
    headers = guest_headers if key is None else guest_headers | {"Idempotency-Key": key}
    response = await client.post("/holds", json=hold_body(catalog_resort.room, catalog_resort.start),
                                 headers=headers)
    _problem(response, 400, "idempotency_key_missing" if not key else "idempotency_key_invalid")
    await _nothing_written(catalog_factory, catalog_resort)


async def test_an_oversized_body_is_413(client: Any, catalog_resort: Any, catalog_factory: Any,
                                        guest_headers: dict[str, str]) -> None:
    body = hold_body(catalog_resort.room, catalog_resort.start) | {"padding": "x" * 100_000}
    response = await client.post("/holds", json=body, headers=guest_headers | {"Idempotency-Key": "big-1"})
    _problem(response, 413, "payload_too_large")
    await _nothing_written(catalog_factory, catalog_resort)


async def test_someone_elses_hold_is_not_found(client: Any, catalog_resort: Any, auth_headers: Any,
                                               guest_headers: dict[str, str], hold: Any) -> None:
    mine = (await hold(guest_headers, hold_body(catalog_resort.room, catalog_resort.start))).json()
    stranger = await auth_headers(["guest"])
    _problem(await client.get(f"/holds/{mine['id']}", headers=stranger), 404, "hold_not_found")
    _problem(await client.delete(f"/holds/{mine['id']}", headers=stranger), 404, "hold_not_found")
    _problem(await client.get("/holds/not-a-uuid", headers=stranger), 404, "hold_not_found")
    assert (await client.get(f"/holds/{mine['id']}", headers=guest_headers)).json()["status"] == "held"


async def test_front_desk_sees_any_hold_and_anonymous_callers_none(
    client: Any, catalog_resort: Any, guest_headers: dict[str, str], front_desk_headers: dict[str, str],
    hold: Any
) -> None:
    mine = (await hold(guest_headers, hold_body(catalog_resort.room, catalog_resort.start))).json()
    assert (await client.get(f"/holds/{mine['id']}", headers=front_desk_headers)).json()["id"] == mine["id"]
    _problem(await client.get(f"/holds/{mine['id']}"), 401, "authentication_required")
    _problem(await client.post("/holds", json={}, headers={"Idempotency-Key": "k"}), 401,
             "authentication_required")


async def test_a_caller_holds_at_most_the_limit(catalog_resort: Any, catalog_factory: Any,
                                                guest_headers: dict[str, str], hold: Any,
                                                settings: Any) -> None:
    limit = settings.hold_max_active_per_user
    for i in range(limit):
        response = await hold(guest_headers, hold_body(catalog_resort.ticket, catalog_resort.start + dt.timedelta(days=i)))
        assert response.status_code == 201, response.text
    _problem(await hold(guest_headers, hold_body(catalog_resort.ticket, catalog_resort.start)), 409, "too_many_holds")
    assert await catalog_factory.fetchval("SELECT count(*) FROM holds WHERE property_id = $1",
                                          catalog_resort.property["id"]) == limit
