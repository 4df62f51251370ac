"""The admin catalogue API: roles, creation, optimistic concurrency, bulk prices and inventory, details."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.dates import resort_today

START = resort_today() + dt.timedelta(days=30)


def iso(d: dt.date) -> str:
    return d.isoformat()


def later(days: int) -> str:
    return iso(START + dt.timedelta(days=days))


async def _events(factory: Any, product_id: Any) -> list[dict[str, Any]]:
    return await factory.fetch(
        "SELECT event_type, version, payload FROM outbox WHERE aggregate_id = $1 ORDER BY id", str(product_id)
    )


async def test_admin_routes_need_the_admin_role(
    client: AsyncTestClient, guest_headers: dict[str, str]
) -> None:
    body = {"id": f"r-{uuid.uuid4().hex[:8]}", "name": "X", "latitude": 1, "longitude": 1}
    anonymous = await client.post("/admin/properties", json=body)
    assert anonymous.status_code == 401
    guest = await client.post("/admin/properties", json=body, headers=guest_headers)
    assert guest.status_code == 403 and guest.json()["code"] == "insufficient_role"


async def test_create_property_and_product_then_read_with_etag(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    pid = f"r-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/admin/properties",
        headers=admin_headers,
        json={
            "id": pid,
            "name": "Sokcho Beach",
            "name_ko": "속초 비치",
            "latitude": 38.2,
            "longitude": 128.6,
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"v1"'
    dup = await client.post(
        "/admin/properties",
        headers=admin_headers,
        json={"id": pid, "name": "Again", "latitude": 38.2, "longitude": 128.6},
    )
    assert dup.status_code == 409 and dup.json()["code"] == "property_exists"
    product = await client.post(
        f"/admin/properties/{pid}/products",
        headers=admin_headers,
        json={"kind": "room_type", "code": "sea-double", "name": "Sea Double", "max_occupancy": 2},
    )
    assert product.status_code == 201, product.text
    body = product.json()
    assert body["rate_plans"][0]["code"] == "standard" and product.headers["etag"] == '"v1"'
    events = await _events(catalog_factory, body["id"])
    assert [(e["event_type"], e["version"]) for e in events] == [("product.created", 1)]
    read = await client.get(f"/admin/products/{body['id']}", headers=admin_headers)
    assert read.headers["etag"] == '"v1"'


async def test_update_needs_if_match_and_refuses_a_stale_one(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    url = f"/admin/products/{product['id']}"
    missing = await client.patch(url, headers=admin_headers, json={"name": "Renamed"})
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    ok = await client.patch(url, headers=admin_headers | {"If-Match": '"v1"'}, json={"name": "Renamed"})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"v2"' and ok.json()["name"] == "Renamed"
    stale = await client.patch(
        url, headers=admin_headers | {"If-Match": '"v1"'}, json={"name": "Lost update"}
    )
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert stale.headers["etag"] == '"v2"'
    assert (await catalog_factory.reload(product["id"]))["name"] == "Renamed"
    assert [e["version"] for e in await _events(catalog_factory, product["id"])] == [1, 2]


async def test_deactivating_a_product_announces_it_and_hides_its_view(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "ticket")
    response = await client.patch(
        f"/admin/products/{product['id']}", headers=admin_headers | {"If-Match": "*"}, json={"active": False}
    )
    assert response.status_code == 200
    assert (await _events(catalog_factory, product["id"]))[-1]["event_type"] == "product.deactivated"
    assert (await client.get(f"/products/{product['id']}")).status_code == 404


async def test_property_update_re_announces_each_product(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    resort = await catalog_factory.resort(nights=1)
    response = await client.patch(
        f"/admin/properties/{resort.property['id']}",
        headers=admin_headers | {"If-Match": '"v1"'},
        json={"name": "Renamed Resort"},
    )
    assert response.status_code == 200, response.text
    for product in resort.products:
        last = (await _events(catalog_factory, product["id"]))[-1]
        assert last["version"] == product["version"] + 1 and '"property"' in str(last["payload"])


async def test_bulk_prices_over_a_range_bump_the_version_once(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    response = await client.put(
        f"/admin/products/{product['id']}/prices",
        headers=admin_headers,
        json={
            "start": iso(START),
            "end": later(14),
            "amount": 120_000,
            "weekdays": [4, 5],
            "min_stay": 2,
            "closed_to_arrival": True,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"nights": 4, "version": 2}
    rows = await catalog_factory.fetch(
        "SELECT night, min_stay, closed_to_arrival FROM nightly_rates r"
        " JOIN rate_plans p ON p.id = r.rate_plan_id"
        " WHERE p.product_id = $1",
        product["id"],
    )
    assert len(rows) == 4 and all(r["night"].weekday() in (4, 5) and r["min_stay"] == 2 for r in rows)
    stale = await client.put(
        f"/admin/products/{product['id']}/prices",
        headers=admin_headers | {"If-Match": '"v1"'},
        json={"start": iso(START), "end": later(1), "amount": 1},
    )
    assert stale.status_code == 412


async def test_capacity_below_held_plus_sold_is_refused_whole(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    await catalog_factory.capacity(product["id"], START, START + dt.timedelta(days=3), 5)
    await catalog_factory.fetch(
        "UPDATE inventory SET sold = 4 WHERE product_id = $1 AND night = $2",
        product["id"],
        START + dt.timedelta(days=1),
    )
    before = await catalog_factory.reload(product["id"])
    response = await client.put(
        f"/admin/products/{product['id']}/inventory",
        headers=admin_headers,
        json={"start": iso(START), "end": later(3), "capacity": 3},
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "capacity_below_committed" and response.json()["nights"] == [later(1)]
    inventory = await client.get(
        f"/admin/products/{product['id']}/inventory",
        headers=admin_headers,
        params={"start": iso(START), "end": later(3)},
    )
    assert [n["capacity"] for n in inventory.json()] == [5, 5, 5]
    assert (await catalog_factory.reload(product["id"]))["version"] == before["version"]
    ok = await client.put(
        f"/admin/products/{product['id']}/inventory",
        headers=admin_headers,
        json={"start": iso(START), "end": later(3), "capacity": 4},
    )
    assert ok.status_code == 200 and ok.json()["nights"] == 3


async def test_details_replace_with_if_match_and_typed_attributes(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    url = f"/admin/products/{product['id']}/details"
    body = {
        "description": {"ko": "설명", "en": "Words"},
        "attributes": {"size_m2": 40, "theme": "blue"},
        "amenities": ["wifi"],
        "images": [{"url": "https://img.example/a.jpg", "caption": {"en": "A"}}],
    }
    ok = await client.put(url, headers=admin_headers | {"If-Match": '"v1"'}, json=body)
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"v2"'
    read = await client.get(url, headers=admin_headers)
    assert read.json()["attributes"] == {"size_m2": 40, "theme": "blue"} and read.json()["version"] == 2
    bad = await client.put(
        url, headers=admin_headers | {"If-Match": '"v2"'}, json=body | {"attributes": {"size_m2": "huge"}}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "attributes.size_m2"
    view = (await client.get(f"/products/{product['id']}", params={"lang": "en"})).json()
    assert view["description"] == "Words" and view["version"] == 2


async def _race(db: Any, product_id: str, writers: int) -> list[str]:
    import asyncio

    from app.catalog import writes
    from app.catalog.domain import ExpectedVersion
    from app.errors import AppError

    async def one(n: int) -> str:
        try:
            await writes.update_product(db, product_id, {"name": f"Writer {n}"}, ExpectedVersion(frozenset({1})))
            return "ok"
        except AppError as exc:
            return exc.code

    return list(await asyncio.gather(*(one(n) for n in range(writers))))


async def test_concurrent_updates_with_the_same_etag_let_exactly_one_win(
    catalog_factory: Any, app_call: Any, resources: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    outcomes = await app_call(_race, resources.db, str(product["id"]), 6)
    assert sorted(outcomes) == ["ok"] + ["precondition_failed"] * 5
    assert (await catalog_factory.reload(product["id"]))["version"] == 2
    assert len(await _events(catalog_factory, product["id"])) == 2


async def test_renaming_a_component_re_announces_its_packages(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    resort = await catalog_factory.resort(nights=1)
    response = await client.patch(
        f"/admin/products/{resort.ticket['id']}",
        headers=admin_headers | {"If-Match": "*"},
        json={"name": "Renamed Ticket"},
    )
    assert response.status_code == 200
    last = (await _events(catalog_factory, resort.package["id"]))[-1]
    assert last["version"] == resort.package["version"] + 1 and '"components"' in str(last["payload"])
    view = (await client.get(f"/products/{resort.package['id']}", params={"lang": "en"})).json()
    assert "Renamed Ticket" in {c["name"] for c in view["components"]}


async def _holds_against_capacity_cuts(db: Any, product_id: str, night: dt.date) -> tuple[list[str], Any]:
    import asyncio

    from app.catalog import writes
    from app.catalog.schemas import CapacityIn
    from app.errors import AppError

    async def hold() -> str:
        status = await db.execute(
            "UPDATE inventory SET held = held + 1 WHERE product_id = $1 AND night = $2"
            " AND held + sold + 1 <= capacity",
            uuid.UUID(product_id),
            night,
        )
        return "held" if status.endswith("1") else "full"

    async def cut(capacity: int) -> str:
        try:
            await writes.set_capacity(
                db,
                product_id,
                CapacityIn(start=night, end=night + dt.timedelta(days=1), capacity=capacity),
                None,
            )
            return f"cut-{capacity}"
        except AppError as exc:
            return exc.code

    outcomes = await asyncio.gather(*(hold() for _ in range(8)), *(cut(c) for c in (6, 4, 2)))
    row = await db.fetchrow(
        "SELECT capacity, held, sold FROM inventory WHERE product_id = $1", uuid.UUID(product_id)
    )
    return list(outcomes), row


async def test_capacity_cuts_racing_holds_never_break_the_invariant(
    catalog_factory: Any, app_call: Any, resources: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    await catalog_factory.capacity(product["id"], START, START + dt.timedelta(days=1), 10)
    outcomes, row = await app_call(_holds_against_capacity_cuts, resources.db, str(product["id"]), START)
    assert set(outcomes) <= {"held", "full", "cut-6", "cut-4", "cut-2", "capacity_below_committed"}
    assert row["held"] + row["sold"] <= row["capacity"]
    assert row["held"] == outcomes.count("held")
