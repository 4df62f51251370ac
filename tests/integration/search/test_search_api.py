"""``GET /search`` over documents the projector built from real rows: text (ko/en, typos), filters,
facets, sorting, pagination, the result cache and bad input.

Every query filters on this test's own property, so other tests' documents never show up.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.catalog.cache import bump_search_generation
from app.resources import Resources
from app.settings import Settings
from sync.projector import CatalogProjector
from tests.integration.sync.rows import create_product, create_property, put_details


@pytest.fixture(scope="module")
async def catalogue(sync_resources: Resources, settings: Settings) -> dict[str, Any]:
    """One property far from everything (so distance is testable) with four projected products."""
    import uuid

    unique = uuid.uuid4().hex[:10]
    db, mongo = sync_resources.db, sync_resources.mongo[settings.mongo_db]
    prop = await create_property(db, f"search-{unique}", lat=-45.0, lon=170.0, name="Seaside Lodge",
                                 name_ko="바닷가 롯지")
    near = await create_property(db, f"near-{unique}", lat=-45.05, lon=170.05, name="Harbour Inn",
                                 name_ko="항구 여관")
    ids = {
        "suite": await create_product(db, prop, name="Ocean View Suite", name_ko="오션뷰 스위트", amount=300_000),
        "pool": await create_product(db, prop, name="Outdoor Swimming Pool", name_ko="야외수영장 이용권",
                                     kind="ticket", amount=30_000),
        "spa": await create_product(db, prop, name="Forest Spa", name_ko="숲속 스파", kind="facility_slot",
                                    amount=80_000),
        "inn": await create_product(db, near, name="Harbour Double Room", name_ko="항구 더블룸", amount=150_000),
    }
    await put_details(mongo, ids["suite"], prop, amenities=["wifi", "sea-view", "bathtub"],
                      en="A quiet suite facing the ocean", ko="바다를 마주한 조용한 스위트", ratings=(5, 4))
    await put_details(mongo, ids["pool"], prop, amenities=["wifi", "pool"], en="Heated outdoor pool",
                      ko="온수 야외 수영장", ratings=(3,))
    await put_details(mongo, ids["spa"], prop, amenities=["sauna"], en="Cedar sauna", ko="편백 사우나")
    await put_details(mongo, ids["inn"], near, amenities=["wifi"], en="Room by the harbour", ko="항구 옆 객실",
                      ratings=(4,))
    projector = CatalogProjector.from_resources(sync_resources)
    await projector.prepare()
    for pid in ids.values():
        await projector.project(pid, refresh="wait_for")
    return {"prop": prop, "near": near, "ids": ids, "both": f"{prop},{near}"}


async def _search(client: AsyncTestClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


async def test_english_text_with_a_typo(client: AsyncTestClient, catalogue: dict[str, Any]) -> None:
    body = await _search(client, q="ocaen veiw", lang="en", property=catalogue["both"])
    assert _names(body) == ["Ocean View Suite"]
    assert body["items"][0]["rating_avg"] == 4.5 and body["items"][0]["price_min"] == 300_000


async def test_korean_text_inside_compounds(client: AsyncTestClient, catalogue: dict[str, Any]) -> None:
    body = await _search(client, q="수영장", property=catalogue["both"])
    assert _names(body) == ["야외수영장 이용권"]
    body = await _search(client, q="사우나", property=catalogue["both"])  # in the Korean description
    assert _names(body) == ["숲속 스파"]


async def test_filters(client: AsyncTestClient, catalogue: dict[str, Any]) -> None:
    both = catalogue["both"]
    assert _names(await _search(client, property=both, kind="ticket", lang="en")) == ["Outdoor Swimming Pool"]
    assert _names(await _search(client, property=both, amenities="wifi,sea-view", lang="en")) == ["Ocean View Suite"]
    priced = await _search(client, property=both, price_min=50_000, price_max=200_000, lang="en", sort="price_asc")
    assert _names(priced) == ["Forest Spa", "Harbour Double Room"]
    assert _names(await _search(client, property=both, min_rating=4, lang="en", sort="rating")) == [
        "Ocean View Suite", "Harbour Double Room"]
    near = await _search(client, property=both, lat=-45.05, lon=170.05, radius_km=1, lang="en")
    assert _names(near) == ["Harbour Double Room"]


async def test_sorting_and_pagination(client: AsyncTestClient, catalogue: dict[str, Any]) -> None:
    both = catalogue["both"]
    by_price = await _search(client, property=both, sort="price_desc", lang="en")
    assert _names(by_price) == ["Ocean View Suite", "Harbour Double Room", "Forest Spa", "Outdoor Swimming Pool"]
    page2 = await _search(client, property=both, sort="price_desc", lang="en", size=3, page=2)
    assert _names(page2) == ["Outdoor Swimming Pool"] and page2["total"] == 4
    by_distance = await _search(client, property=both, sort="distance", lat=-45.06, lon=170.06, lang="en")
    assert by_distance["items"][0]["name"] == "Harbour Double Room"
    assert by_distance["items"][0]["distance_km"] < by_distance["items"][1]["distance_km"]


async def test_facets_count_the_filtered_results(client: AsyncTestClient, catalogue: dict[str, Any]) -> None:
    body = await _search(client, property=catalogue["both"])
    facets = body["facets"]
    assert {f["value"]: f["count"] for f in facets["kind"]} == {"room_type": 2, "ticket": 1, "facility_slot": 1}
    assert {f["value"]: f["count"] for f in facets["property"]} == {catalogue["prop"]: 3, catalogue["near"]: 1}
    assert {f["value"]: f["count"] for f in facets["amenities"]}["wifi"] == 3
    assert {f["value"]: f["count"] for f in facets["price"]} == {
        "under_100k": 2, "100k_200k": 1, "200k_400k": 1, "400k_plus": 0}


async def test_results_are_cached_per_generation(client: AsyncTestClient, catalogue: dict[str, Any],
                                                 sync_resources: Resources) -> None:
    params = {"property": catalogue["prop"], "q": "spa", "lang": "en"}
    first = await client.get("/search", params=params)
    second = await client.get("/search", params=params)
    assert second.headers["x-cache"] == "hit" and second.json() == first.json()
    await bump_search_generation(sync_resources.redis)
    assert (await client.get("/search", params=params)).headers["x-cache"] == "miss"


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"price_min": 5, "price_max": 1}, 422, "invalid_price_range"),
    ({"size": 500}, 422, "invalid_page_size"),
    ({"sort": "best"}, 422, "invalid_sort"),
    ({"sort": "distance"}, 422, "invalid_sort"),
    ({"lat": 10}, 422, "invalid_point"),
    ({"price_min": "cheap"}, 422, "validation_failed"),
    ({"amenities": ",".join(f"a{i}" for i in range(101))}, 422, "too_many_values"),
])
async def test_bad_input_is_a_problem(client: AsyncTestClient, params: dict[str, Any], status: int,
                                      code: str | None) -> None:
    response = await client.get("/search", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    if code:
        assert response.json()["code"] == code


async def test_a_tiny_radius_is_an_answer_not_a_500(client: AsyncTestClient, catalogue: dict[str, Any]) -> None:
    """Python writes 1e-05 with an exponent, which Elasticsearch refuses as a distance."""
    body = await _search(client, property=catalogue["both"], lat=-45.05, lon=170.05, radius_km=1e-05,
                         lang="en")
    assert _names(body) == ["Harbour Double Room"]  # the inn stands on that very point


async def test_mixed_language_query_needs_each_word_in_its_language(client: AsyncTestClient,
                                                                      catalogue: dict[str, Any]) -> None:
    body = await _search(client, q="바닷가 suite", lang="en", property=catalogue["both"])
    assert _names(body) == ["Ocean View Suite"]  # 바닷가 in the Korean property name, suite in English


async def test_pages_reuse_the_facets_of_their_query(client: AsyncTestClient, catalogue: dict[str, Any],
                                                     sync_resources: Resources) -> None:
    from app.catalog.cache import search_generation
    from app.search.query import facets_cache_key, make_params

    await bump_search_generation(sync_resources.redis)
    params = {"property": catalogue["both"], "sort": "price_desc", "size": 2}
    first = await _search(client, **params, page=1)
    key = facets_cache_key(make_params(property=[catalogue["both"]]),
                           await search_generation(sync_resources.redis))
    assert await sync_resources.redis.exists(key)
    second = await client.get("/search", params={**params, "page": 2, "lang": "en"})
    assert second.headers["x-cache"] == "miss" and second.json()["facets"] == first["facets"]
    assert _names(second.json()) == ["Forest Spa", "Outdoor Swimming Pool"]
    assert {f["value"]: f["count"] for f in first["facets"]["kind"]} == {
        "room_type": 2, "ticket": 1, "facility_slot": 1}


async def test_search_is_served_uncached_when_redis_fails(sync_resources: Any, settings: Any,
                                                         catalogue: dict[str, Any]) -> None:
    from redis.asyncio import Redis

    from app.search.query import make_params
    from app.search.service import cached_search
    from tests.support.servers import free_port

    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    try:
        body, hit = await cached_search(dead, sync_resources.es, settings.search_index, make_params(q="ocean"), 60)
    finally:
        await dead.aclose()
    assert hit is False and msgspec.json.decode(body)["total"] >= 1
