"""The public catalogue API against the real servers: lists, views, ETags, availability, quotes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.dates import resort_today


def iso(d: dt.date) -> str:
    return d.isoformat()


async def test_products_of_a_property_filtered_by_kind_and_paginated(
    client: AsyncTestClient, catalog_factory: Any
) -> None:
    resort = await catalog_factory.resort(nights=2)
    pid = resort.property["id"]
    await catalog_factory.product(pid, "room_type")
    response = await client.get(f"/properties/{pid}/products", params={"kind": "room_type", "per_page": 1})
    body = response.json()
    assert response.status_code == 200, body
    assert body["total"] == 2 and len(body["items"]) == 1 and body["items"][0]["kind"] == "room_type"
    second = (
        await client.get(
            f"/properties/{pid}/products", params={"kind": "room_type", "per_page": 1, "page": 2}
        )
    ).json()
    assert second["items"][0]["id"] != body["items"][0]["id"]
    everything = (await client.get(f"/properties/{pid}/products")).json()
    assert everything["total"] == 5


async def test_products_of_unknown_property_is_404(client: AsyncTestClient) -> None:
    response = await client.get("/properties/no-such-resort/products")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "property_not_found"


async def test_bad_kind_filter_is_a_422_naming_the_field(
    client: AsyncTestClient, catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    response = await client.get(f"/properties/{prop['id']}/products", params={"kind": "spaceship"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"


async def test_view_merges_core_and_details_in_the_callers_language(
    client: AsyncTestClient, catalog_resort: Any
) -> None:
    room = catalog_resort.room
    en = await client.get(f"/products/{room['id']}", params={"lang": "en"})
    body = en.json()
    assert en.status_code == 200, body
    assert body["description"] == "A room with a sea view" and body["name"] == "Test room_type"
    assert body["property"]["id"] == catalog_resort.property["id"] and body["version"] == room["version"]
    assert body["amenities"] == ["sea-view", "wifi"] and body["from_price"] == 150_000
    assert en.headers["content-language"] == "en"
    ko = (await client.get(f"/products/{room['id']}", headers={"Accept-Language": "ko-KR,ko;q=0.9"})).json()
    assert ko["description"] == "바다가 보이는 객실" and ko["name"] == "테스트 room_type"


async def test_view_of_a_package_lists_its_components(client: AsyncTestClient, catalog_resort: Any) -> None:
    body = (await client.get(f"/products/{catalog_resort.package['id']}")).json()
    assert {(c["product_id"], c["quantity"]) for c in body["components"]} == {
        (str(catalog_resort.room["id"]), 1),
        (str(catalog_resort.ticket["id"]), 2),
    }


async def test_view_etag_and_if_none_match_answer_304(client: AsyncTestClient, catalog_resort: Any) -> None:
    url = f"/products/{catalog_resort.room['id']}?lang=en"
    first = await client.get(url)
    tag = first.headers["etag"]
    assert tag == f'"v{catalog_resort.room["version"]}-en"'
    again = await client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = await client.get(url, headers={"If-None-Match": '"v0-en"'})
    assert other.status_code == 200


async def test_view_is_cached_then_invalidated_by_a_write(
    client: AsyncTestClient, catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "ticket")
    url = f"/products/{product['id']}?lang=en"
    assert (await client.get(url)).headers["x-cache"] == "miss"
    assert (await client.get(url)).headers["x-cache"] == "hit"
    await catalog_factory.details(product["id"], description={"en": "New words", "ko": "새 설명"})
    from app.catalog.cache import invalidate_product

    await catalog_factory.call(invalidate_product, catalog_factory.resources.redis, str(product["id"]))
    fresh = await client.get(url)
    assert fresh.headers["x-cache"] == "miss" and fresh.json()["description"] == "New words"


async def test_unknown_and_malformed_product_ids_are_404(client: AsyncTestClient) -> None:
    for pid in (str(uuid.uuid4()), "not-a-uuid"):
        for suffix in (
            "",
            "/reviews",
            f"/availability?start={iso(resort_today())}&end={iso(resort_today() + dt.timedelta(days=1))}",
        ):
            response = await client.get(f"/products/{pid}{suffix}")
            assert response.status_code == 404, (pid, suffix, response.text)
            assert response.json()["code"] == "product_not_found"


async def test_availability_calendar(client: AsyncTestClient, catalog_factory: Any) -> None:
    resort = await catalog_factory.resort(nights=3)
    room = resort.room
    await catalog_factory.prices(
        room["id"],
        resort.start + dt.timedelta(days=1),
        resort.start + dt.timedelta(days=2),
        99_000,
        closed=True,
    )
    response = await client.get(
        f"/products/{room['id']}/availability",
        params={"start": iso(resort.start), "end": iso(resort.end + dt.timedelta(days=1))},
    )
    nights = response.json()["nights"]
    assert [(n["free"], n["amount"], n["bookable"]) for n in nights] == [
        (5, 150_000, True),
        (5, 99_000, False),
        (5, 150_000, True),
        (0, None, False),
    ]


async def test_package_availability_comes_from_its_components(
    client: AsyncTestClient, catalog_factory: Any
) -> None:
    resort = await catalog_factory.resort(nights=2)
    await catalog_factory.capacity(resort.ticket["id"], resort.start, resort.start + dt.timedelta(days=1), 3)
    nights = (
        await client.get(
            f"/products/{resort.package['id']}/availability",
            params={"start": iso(resort.start), "end": iso(resort.end)},
        )
    ).json()["nights"]
    assert [n["free"] for n in nights] == [1, 5]  # 3 tickets // 2 per package; then the room's 5


async def test_quote_prices_a_party_and_lists_refusals(client: AsyncTestClient, catalog_factory: Any) -> None:
    resort = await catalog_factory.resort(nights=4)
    room, start = resort.room, resort.start
    ok = (
        await client.get(
            f"/products/{room['id']}/quote",
            params={"start": iso(start), "end": iso(start + dt.timedelta(days=2)), "guests": 3},
        )
    ).json()
    assert ok["available"] and ok["total"] == 2 * (150_000 + 20_000)
    await catalog_factory.prices(
        room["id"], start, start + dt.timedelta(days=1), 150_000, min_stay=3, closed_to_arrival=True
    )
    refused = (
        await client.get(
            f"/products/{room['id']}/quote",
            params={"start": iso(start), "end": iso(start + dt.timedelta(days=2)), "guests": 5},
        )
    ).json()
    assert not refused["available"] and refused["refusals"] == [{"code": "max_occupancy", "night": None}]
    refused = (
        await client.get(
            f"/products/{room['id']}/quote",
            params={"start": iso(start), "end": iso(start + dt.timedelta(days=2)), "guests": 2},
        )
    ).json()
    assert {r["code"] for r in refused["refusals"]} == {"min_stay", "closed_to_arrival"}


async def test_inverted_or_empty_range_is_422_problem(client: AsyncTestClient, catalog_resort: Any) -> None:
    start = catalog_resort.start
    for end, code in ((start - dt.timedelta(days=1), "invalid_date_range"), (start, "empty_date_range")):
        for path in ("quote", "availability"):
            response = await client.get(
                f"/products/{catalog_resort.room['id']}/{path}",
                params={"start": iso(start), "end": iso(end), "guests": 2},
            )
            assert response.status_code == 422, response.text
            assert response.json()["code"] == code and response.json()["errors"][0]["field"] == "end"


async def test_wrong_typed_query_is_422_problem(client: AsyncTestClient, catalog_resort: Any) -> None:
    response = await client.get(
        f"/products/{catalog_resort.room['id']}/quote",
        params={"start": "tomorrow", "end": "2027-01-01", "guests": "two"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} >= {"start"}


async def test_catalogue_is_documented_in_openapi(client: AsyncTestClient) -> None:
    paths = (await client.get("/docs/openapi.json")).json()["paths"]
    for path in (
        "/products/{product_id}",
        "/products/{product_id}/quote",
        "/properties/{property_id}/products",
        "/admin/products/{product_id}/prices",
        "/admin/products/{product_id}/inventory",
    ):
        assert path in paths, sorted(paths)


async def test_properties_are_paginated(client: AsyncTestClient, catalog_factory: Any) -> None:
    await catalog_factory.property()
    await catalog_factory.property()
    first = (await client.get("/properties", params={"per_page": 1})).json()
    second = (await client.get("/properties", params={"per_page": 1, "page": 2})).json()
    assert first["total"] >= 2 and first["total"] == second["total"]
    assert len(first["items"]) == 1 and len(second["items"]) == 1
    assert first["items"][0]["id"] < second["items"][0]["id"]
    too_big = await client.get("/properties", params={"per_page": 1000})
    assert (too_big.status_code, too_big.json()["code"]) == (422, "validation_failed")
