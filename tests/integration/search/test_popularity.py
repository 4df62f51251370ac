"""Search ranked by popularity: of two products equally relevant to a query, the one booked more often ranks
first once the activity rollup has counted its bookings (the rollup round updates the changed products'
documents); with weight 0 the order is relevance, then product id. Only the changed products' documents are
written, and a re-projection of a product keeps the popularity the activity role wrote."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.activity import ingest, store
from app.activity.domain import complete
from app.resources import Resources
from app.search.query import make_params
from app.search.service import run_search
from app.settings import Settings
from sync.projector import CatalogProjector
from tests.integration.sync.rows import create_product, create_property, put_details

QUERY = "lagoon cabin"


def _bookings(property_id: str, product_id: str, count: int) -> list[dict[str, Any]]:
    """``count`` bookings of the product by different guests, as the activity role stores them."""
    now, stay = dt.datetime.now(dt.UTC), dt.date.today() + dt.timedelta(days=20)
    return [complete({"_id": uuid.uuid4().hex, "type": "booking", "subject": f"user:twin-{uuid.uuid4().hex[:8]}",
                      "property_id": property_id, "product_id": product_id, "products": [product_id],
                      "rate_plans": [f"{product_id}|bar"], "check_in": stay.isoformat(),
                      "check_out": (stay + dt.timedelta(days=1)).isoformat(), "at": now, "rolled": False})
            for _ in range(count)]


@pytest.fixture(scope="module")
async def twins(sync_resources: Resources, settings: Settings) -> dict[str, Any]:
    """Two identical products of a new resort (ids sorted: the first wins a tie), projected."""
    db, mongo = sync_resources.db, sync_resources.mongo[settings.mongo_db]
    prop = await create_property(db, f"twins-{uuid.uuid4().hex[:10]}", lat=-40.0, lon=160.0, name="Twin Lodge",
                                 name_ko="쌍둥이 롯지")
    ids = sorted([await create_product(db, prop, name="Lagoon Cabin", name_ko="라군 캐빈") for _ in range(2)])
    projector = CatalogProjector.from_resources(sync_resources)
    await projector.prepare()
    for pid in ids:
        await put_details(mongo, pid, prop, amenities=["wifi"], en="A cabin on the lagoon", ko="라군 위의 캐빈")
        await projector.project(pid, refresh="wait_for")
    return {"prop": prop, "ids": ids}


@pytest.fixture(scope="module")
async def booked(sync_resources: Resources, settings: Settings, twins: dict[str, Any]) -> dict[str, Any]:
    """The product that loses the tie booked three times, the other once, counted by a rollup round."""
    first, second = twins["ids"]
    db = sync_resources.mongo[settings.mongo_db]
    await store.ensure_indexes(db, settings.activity_retention_days)
    await store.ingest(db, _bookings(twins["prop"], second, 3) + _bookings(twins["prop"], first, 1))
    assert await ingest.rollup_round(sync_resources) >= 4
    return twins


async def _order(client: AsyncTestClient, prop: str) -> list[str]:
    response = await client.get("/search", params={"q": QUERY, "lang": "en", "property": prop})
    assert response.status_code == 200, response.text
    return [item["product_id"] for item in response.json()["items"]]


async def _source(resources: Resources, settings: Settings, product_id: str) -> dict[str, Any]:
    return dict(await resources.es.get(index=settings.search_index, id=product_id))


async def test_the_more_booked_of_two_equally_relevant_products_ranks_first(
        client: AsyncTestClient, booked: dict[str, Any]) -> None:
    first, second = booked["ids"]
    assert await _order(client, booked["prop"]) == [second, first]


async def test_with_weight_zero_the_order_is_relevance_then_product_id(
        sync_resources: Resources, settings: Settings, booked: dict[str, Any]) -> None:
    params = make_params(q=QUERY, lang="en", property=[booked["prop"]], popularity_weight=0.0)
    answer = await run_search(sync_resources.es, settings.search_index, params)
    assert [item["product_id"] for item in answer["items"]] == booked["ids"]


async def test_a_round_updates_only_the_documents_whose_popularity_changed(
        sync_resources: Resources, settings: Settings, booked: dict[str, Any]) -> None:
    first, second = booked["ids"]
    before = {pid: (await _source(sync_resources, settings, pid))["_seq_no"] for pid in (first, second)}
    await store.ingest(sync_resources.mongo[settings.mongo_db], _bookings(booked["prop"], first, 1))
    assert await ingest.rollup_round(sync_resources) >= 1
    after = {pid: (await _source(sync_resources, settings, pid))["_seq_no"] for pid in (first, second)}
    assert (after[first] > before[first], after[second] == before[second]) == (True, True)


async def test_a_reprojection_keeps_the_popularity_the_activity_role_wrote(
        sync_resources: Resources, settings: Settings, booked: dict[str, Any]) -> None:
    second = booked["ids"][1]
    written = (await _source(sync_resources, settings, second))["_source"]["popularity"]
    await CatalogProjector.from_resources(sync_resources).project(second, refresh="wait_for")
    assert (await _source(sync_resources, settings, second))["_source"]["popularity"] == written == 3.0


async def test_staff_see_why_the_more_booked_twin_ranks_first(
        client: AsyncTestClient, booked: dict[str, Any], admin_headers: dict[str, str],
        guest_headers: dict[str, str], sync_resources: Resources, settings: Settings) -> None:
    """Equal relevance, the second twin booked more: the whole difference of score is the popularity boost."""
    first, second = booked["ids"]
    params = {"q": QUERY, "lang": "en", "property": booked["prop"]}
    refused = await client.get("/admin/search/explain", params=params, headers=guest_headers)
    assert refused.status_code == 403
    response = await client.get("/admin/search/explain", params=params, headers=admin_headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    held = {pid: (await _source(sync_resources, settings, pid))["_source"]["popularity"] for pid in (first, second)}
    assert held[second] > held[first]  # as the rollup counted them (another test may book the first once more)
    assert [(i["rank"], i["product_id"], i["popularity"]) for i in items] == [(1, second, held[second]),
                                                                            (2, first, held[first])]
    assert items[0]["relevance"] == pytest.approx(items[1]["relevance"])
    assert items[0]["popularity_boost"] > items[1]["popularity_boost"] > 0
    for item in items:
        assert item["score"] == pytest.approx(item["relevance"] + item["popularity_boost"], abs=1e-5)  # 6 decimals
