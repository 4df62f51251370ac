"""Reviews: guests post one per stay, lists are paginated, the rating reaches the view."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.catalog import ended_stay


def review(stay: str, rating: int = 5) -> dict[str, Any]:
    return {"stay_ref": stay, "rating": rating, "text": "Lovely", "lang": "en"}


async def test_guest_reviews_a_stay_once(
    client: AsyncTestClient, auth_headers: Any, catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    url = f"/products/{product['id']}/reviews"
    subject = f"reviewer-{uuid.uuid4().hex[:8]}"
    guest_headers = await auth_headers(["guest"], subject=subject)
    stay = await ended_stay(catalog_factory, product, subject)
    first = await client.post(url, headers=guest_headers, json=review(stay, 4))
    assert first.status_code == 201, first.text
    again = await client.post(url, headers=guest_headers, json=review(stay, 1))
    assert again.status_code == 409 and again.json()["code"] == "review_exists"
    other = await client.post(url, headers=guest_headers, json=review(await ended_stay(catalog_factory, product,
                                                                                      subject), 2))
    assert other.status_code == 201
    events = await catalog_factory.fetch(
        "SELECT version, payload FROM outbox WHERE aggregate_id = $1 ORDER BY id", str(product["id"])
    )
    assert [e["version"] for e in events] == [1, 2, 3]  # created, review, review (not the refused one)
    view = (await client.get(f"/products/{product['id']}")).json()
    assert view["rating"] == {"average": 3.0, "count": 2} and view["version"] == 3


async def test_reviews_need_a_signed_in_guest(client: AsyncTestClient, catalog_factory: Any) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "ticket")
    response = await client.post(f"/products/{product['id']}/reviews", json=review("s1"))
    assert response.status_code == 401


async def test_bad_reviews_are_refused(
    client: AsyncTestClient, guest_headers: dict[str, str], catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "ticket")
    url = f"/products/{product['id']}/reviews"
    for body, field in (
        (review("s1", 6), "rating"),
        (review("s1", 0), "rating"),
        (review("s1") | {"rating": "five"}, "rating"),
        (review(""), "stay_ref"),
        (review("s1") | {"text": "nice\u0000stay"}, "text"),
        (review("s\u00001"), "stay_ref"),
    ):
        response = await client.post(url, headers=guest_headers, json=body)
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}
    unknown = await client.post(f"/products/{uuid.uuid4()}/reviews", headers=guest_headers, json=review("s1"))
    assert unknown.status_code == 404
    assert (await client.get(url)).json()["total"] == 0


async def test_review_list_is_paginated_newest_first(
    client: AsyncTestClient, auth_headers: Any, catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    url = f"/products/{product['id']}/reviews"
    subject = f"reviewer-{uuid.uuid4().hex[:8]}"
    headers = await auth_headers(["guest"], subject=subject)
    stays = [await ended_stay(catalog_factory, product, subject) for _ in range(5)]
    for n in range(5):
        assert (await client.post(url, headers=headers, json=review(stays[n], 1 + n))).status_code == 201
    page1 = (await client.get(url, params={"per_page": 2})).json()
    page3 = (await client.get(url, params={"per_page": 2, "page": 3})).json()
    assert page1["total"] == 5 and [r["stay_ref"] for r in page1["items"]] == [stays[4], stays[3]]
    assert [r["stay_ref"] for r in page3["items"]] == [stays[0]]
    assert (await client.get(url, params={"per_page": 500})).status_code == 422


async def test_view_language_follows_the_signed_in_users_locale(
    client: AsyncTestClient, auth_headers: Any, catalog_resort: Any
) -> None:
    url = f"/products/{catalog_resort.room['id']}"
    english = await auth_headers(["guest"], locale="en-US")
    assert (await client.get(url, headers=english)).json()["lang"] == "en"
    assert (await client.get(url, headers=english | {"Accept-Language": "ko"})).json()["lang"] == "ko"
    assert (await client.get(url)).json()["lang"] == "ko"


async def test_only_a_real_ended_stay_of_this_product_by_this_guest_can_be_reviewed(
    client: AsyncTestClient, auth_headers: Any, catalog_factory: Any
) -> None:
    prop = await catalog_factory.property()
    product = await catalog_factory.product(prop["id"], "room_type")
    other_product = await catalog_factory.product(prop["id"], "ticket")
    url = f"/products/{product['id']}/reviews"
    subject = f"reviewer-{uuid.uuid4().hex[:8]}"
    headers = await auth_headers(["guest"], subject=subject)
    cases = {
        "made up": ("stay-1", "stay_not_found"),
        "someone else's": (await ended_stay(catalog_factory, product, "someone-else"), "stay_not_found"),
        "another product": (await ended_stay(catalog_factory, other_product, subject), "stay_not_found"),
        "not ended": (await ended_stay(catalog_factory, product, subject, days_ago=-3), "stay_not_ended"),
        "failed booking": (await ended_stay(catalog_factory, product, subject, status="failed"), "stay_not_found"),
    }
    for name, (stay, code) in cases.items():
        response = await client.post(url, headers=headers, json=review(stay))
        assert (response.status_code, response.json()["code"]) == (422, code), name
    assert (await client.get(url)).json()["total"] == 0
