"""Bad input gets a 4xx problem+json with a stable code, and nothing is written (no row, no event)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.dates import resort_today

START = resort_today() + dt.timedelta(days=60)


def iso(d: dt.date) -> str:
    return d.isoformat()


async def _state(factory: Any, product_id: Any) -> tuple[Any, ...]:
    """Everything a bad write could have touched."""
    return (
        await factory.fetchval("SELECT version FROM products WHERE id = $1", product_id),
        await factory.fetchval("SELECT count(*) FROM outbox WHERE aggregate_id = $1", str(product_id)),
        await factory.fetch(
            "SELECT night, capacity, version FROM inventory WHERE product_id = $1 ORDER BY night", product_id
        ),
        await factory.fetch(
            "SELECT r.night, r.amount, r.version FROM nightly_rates r JOIN rate_plans p"
            " ON p.id = r.rate_plan_id WHERE p.product_id = $1 ORDER BY night",
            product_id,
        ),
    )


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if code:
        assert body["code"] == code, body
    return body


@pytest.fixture
async def stocked(catalog_factory: Any) -> dict[str, Any]:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    await catalog_factory.prices(product["id"], START, START + dt.timedelta(days=3), 100_000)
    await catalog_factory.capacity(product["id"], START, START + dt.timedelta(days=3), 4)
    return product


BAD_WRITES = [
    (
        "inverted range",
        "inventory",
        {"start": iso(START + dt.timedelta(days=2)), "end": iso(START), "capacity": 3},
        422,
        "invalid_date_range",
        "end",
    ),
    (
        "negative capacity",
        "inventory",
        {"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "capacity": -1},
        422,
        "validation_failed",
        "capacity",
    ),
    (
        "wrong-typed capacity",
        "inventory",
        {"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "capacity": "many"},
        422,
        "validation_failed",
        "capacity",
    ),
    (
        "wrong-typed amount",
        "prices",
        {"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "amount": "cheap"},
        422,
        "validation_failed",
        "amount",
    ),
    (
        "negative amount",
        "prices",
        {"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "amount": -5},
        422,
        "validation_failed",
        "amount",
    ),
    (
        "inverted price range",
        "prices",
        {"start": iso(START + dt.timedelta(days=1)), "end": iso(START), "amount": 5},
        422,
        "invalid_date_range",
        "end",
    ),
    (
        "unknown field",
        "prices",
        {"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "amount": 5, "amonut": 6},
        422,
        "validation_failed",
        None,
    ),
    (
        "unknown rate plan",
        "prices",
        {"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "amount": 5, "rate_plan": "vip"},
        422,
        "unknown_rate_plan",
        "rate_plan",
    ),
    (
        "capacity below sold",
        "inventory",
        {"start": iso(START), "end": iso(START + dt.timedelta(days=3)), "capacity": 1},
        409,
        "capacity_below_committed",
        "capacity",
    ),
]


@pytest.mark.parametrize(
    ("case", "path", "body", "status", "code", "field"), BAD_WRITES, ids=[c[0] for c in BAD_WRITES]
)
async def test_bad_bulk_writes_are_refused_and_write_nothing(
    client: AsyncTestClient,
    admin_headers: dict[str, str],
    catalog_factory: Any,
    stocked: dict[str, Any],
    case: str,
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    await catalog_factory.fetch(
        "UPDATE inventory SET sold = 2 WHERE product_id = $1 AND night = $2", stocked["id"], START
    )
    before = await _state(catalog_factory, stocked["id"])
    response = await client.put(f"/admin/products/{stocked['id']}/{path}", headers=admin_headers, json=body)
    problem = _problem(response, status, code)
    if field:
        assert field in {e["field"] for e in problem["errors"]}, problem
    assert await _state(catalog_factory, stocked["id"]) == before


async def test_malformed_json_is_400_and_writes_nothing(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any, stocked: dict[str, Any]
) -> None:
    before = await _state(catalog_factory, stocked["id"])
    response = await client.put(
        f"/admin/products/{stocked['id']}/inventory",
        content=b'{"start": "2027-',
        headers=admin_headers | {"Content-Type": "application/json"},
    )
    _problem(response, 400, "malformed_body")
    assert await _state(catalog_factory, stocked["id"]) == before


async def test_writes_to_an_unknown_product_are_404(
    client: AsyncTestClient, admin_headers: dict[str, str]
) -> None:
    for pid in (str(uuid.uuid4()), "nope"):
        response = await client.put(
            f"/admin/products/{pid}/inventory",
            headers=admin_headers,
            json={"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "capacity": 3},
        )
        _problem(response, 404, "product_not_found")
        response = await client.patch(
            f"/admin/products/{pid}", headers=admin_headers | {"If-Match": "*"}, json={"name": "x"}
        )
        _problem(response, 404, "product_not_found")


async def test_product_under_unknown_property_is_404_and_not_created(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    code = f"c-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/admin/properties/no-such-resort/products",
        headers=admin_headers,
        json={"kind": "ticket", "code": code, "name": "T"},
    )
    _problem(response, 404, "property_not_found")
    assert await catalog_factory.fetchval("SELECT count(*) FROM products WHERE code = $1", code) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "facility_slot", "name": "Spa"}, "slot_start"),
        ({"kind": "room_type", "name": "R", "max_occupancy": 0}, "max_occupancy"),
        ({"kind": "room_type", "name": "R", "max_occupancy": "two"}, "max_occupancy"),
        ({"kind": "castle", "name": "R"}, "kind"),
        ({"kind": "package", "name": "P"}, "components"),
        (
            {"kind": "package", "name": "P", "components": [{"product_id": str(uuid.uuid4())}]},
            "components[0].product_id",
        ),
        ({"kind": "room_type", "name": ""}, "name"),
    ],
)
async def test_invalid_products_name_the_field_and_are_not_created(
    client: AsyncTestClient,
    admin_headers: dict[str, str],
    catalog_factory: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    prop = await catalog_factory.property()
    code = f"c-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        f"/admin/properties/{prop['id']}/products", headers=admin_headers, json={"code": code, **body}
    )
    problem = _problem(response, 422)
    assert field in {e["field"] for e in problem["errors"]}, problem
    assert await catalog_factory.fetchval("SELECT count(*) FROM products WHERE code = $1", code) == 0


async def test_invalid_property_names_the_field(
    client: AsyncTestClient, admin_headers: dict[str, str]
) -> None:
    for body, field in (
        ({"latitude": 200}, "latitude"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"id": "Bad Id!"}, "id"),
    ):
        values = {"id": f"r-{uuid.uuid4().hex[:8]}", "name": "X", "latitude": 1, "longitude": 1} | body
        problem = _problem(await client.post("/admin/properties", headers=admin_headers, json=values), 422)
        assert field in {e["field"] for e in problem["errors"]}, problem


async def test_an_empty_patch_is_refused_and_bumps_nothing(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any, stocked: dict[str, Any]
) -> None:
    before = await _state(catalog_factory, stocked["id"])
    response = await client.patch(
        f"/admin/products/{stocked['id']}", headers=admin_headers | {"If-Match": "*"}, json={}
    )
    _problem(response, 422, "nothing_to_change")
    assert await _state(catalog_factory, stocked["id"]) == before


async def test_a_package_has_no_inventory_of_its_own(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any
) -> None:
    resort = await catalog_factory.resort(nights=1)
    before = await _state(catalog_factory, resort.package["id"])
    response = await client.put(
        f"/admin/products/{resort.package['id']}/inventory",
        headers=admin_headers,
        json={"start": iso(START), "end": iso(START + dt.timedelta(days=1)), "capacity": 3},
    )
    _problem(response, 422, "package_has_no_inventory")
    assert await _state(catalog_factory, resort.package["id"]) == before


# Found by the schemathesis fuzz run (tests/integration/test_fuzz_api.py): a NUL character reached
# PostgreSQL (which cannot store it in text) and the request ended in a 500.
NUL_WRITES = [
    ("property name", "POST", "/admin/properties", {"name": "Sea\u0000View"}, "name"),
    ("property address", "POST", "/admin/properties", {"address": "\u0000"}, "address"),
    ("product name", "POST", "/admin/properties/{property}/products", {"name": "R\u0000"}, "name"),
    ("rate plan name", "POST", "/admin/products/{product}/rate-plans", {"name": "x\u0000"}, "name"),
    ("product name_ko patch", "PATCH", "/admin/products/{product}", {"name_ko": "x\u0000"}, "name_ko"),
    ("property name patch", "PATCH", "/admin/properties/{property}", {"name": "x\u0000"}, "name"),
]


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "field"), NUL_WRITES, ids=[c[0] for c in NUL_WRITES]
)
async def test_nul_characters_are_a_422_naming_the_field_and_write_nothing(
    client: AsyncTestClient,
    admin_headers: dict[str, str],
    catalog_factory: Any,
    stocked: dict[str, Any],
    case: str,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    property_id = stocked["property_id"]
    defaults = {
        "/admin/properties": {
            "id": f"nul-{uuid.uuid4().hex[:8]}", "name": "X", "latitude": 1, "longitude": 1
        },
        "/admin/properties/{property}/products": {"kind": "ticket", "code": f"c-{uuid.uuid4().hex[:8]}"},
        "/admin/products/{product}/rate-plans": {"code": f"p-{uuid.uuid4().hex[:8]}"},
    }
    url = path.format(property=property_id, product=stocked["id"])
    before = await _state(catalog_factory, stocked["id"])
    properties_before = await catalog_factory.fetchval("SELECT count(*) FROM properties")
    version_sql = "SELECT version FROM properties WHERE id = $1"
    property_version = await catalog_factory.fetchval(version_sql, property_id)
    response = await client.request(
        method, url, headers=admin_headers | {"If-Match": "*"}, json=defaults.get(path, {}) | body
    )
    problem = _problem(response, 422, "validation_failed")
    assert field in {e["field"] for e in problem["errors"]}, problem
    assert await _state(catalog_factory, stocked["id"]) == before
    assert await catalog_factory.fetchval("SELECT count(*) FROM properties") == properties_before
    assert await catalog_factory.fetchval(version_sql, property_id) == property_version


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/properties/a%00b"),
        ("GET", "/properties/a%00b/products"),
        ("GET", "/admin/properties/a%00b"),
        ("PATCH", "/admin/properties/a%00b"),
        ("POST", "/admin/properties/a%00b/products"),
    ],
)
async def test_a_nul_in_a_property_id_is_a_422_not_a_500(
    client: AsyncTestClient, admin_headers: dict[str, str], method: str, path: str
) -> None:
    bodies = {
        "POST": {"kind": "ticket", "code": f"c-{uuid.uuid4().hex[:8]}", "name": "T"},
        "PATCH": {"name": "X"},
    }
    response = await client.request(
        method, path, headers=admin_headers | {"If-Match": "*"}, json=bodies.get(method)
    )
    _problem(response, 422, "invalid_text")


async def test_an_attribute_integer_beyond_64_bits_is_a_422_not_a_500(
    client: AsyncTestClient, admin_headers: dict[str, str], catalog_factory: Any, stocked: dict[str, Any]
) -> None:
    """MongoDB stores at most 8-byte integers: the write used to fail there with a 500."""
    before = await _state(catalog_factory, stocked["id"])
    response = await client.put(
        f"/admin/products/{stocked['id']}/details",
        headers=admin_headers | {"If-Match": "*"},
        json={"attributes": {"floor": 2**63, "tags": [2**64]}},
    )
    problem = _problem(response, 422, "validation_failed")
    assert {e["field"] for e in problem["errors"]} == {"attributes.floor", "attributes.tags"}, problem
    assert await _state(catalog_factory, stocked["id"]) == before
