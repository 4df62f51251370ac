"""One "from" price: the product page and the search document read it the same way
(``app.catalog.domain.price_range``): every rate plan, open nights only, from today at the resort."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar.testing import AsyncTestClient

from app.catalog import writes
from app.catalog.schemas import RatePlanIn
from app.settings import Settings
from sync.documents import build_search_document
from sync.state import load_state
from tests.support.dates import resort_today


async def test_the_page_and_the_search_document_show_the_same_from_price(
    client: AsyncTestClient, catalog_factory: Any, resources: Any, settings: Settings
) -> None:
    prop = await catalog_factory.property(time_zone="Asia/Seoul")
    product = await catalog_factory.product(prop["id"], "room_type")
    pid, horizon = product["id"], settings.search_price_horizon_days
    today = resort_today()
    day = dt.timedelta(days=1)
    await catalog_factory.prices(pid, today, today + 10 * day, 150_000)
    await catalog_factory.prices(pid, today + 3 * day, today + 4 * day, 90_000, closed=True)  # not for sale
    await catalog_factory.prices(pid, today - 2 * day, today, 50_000)  # past nights
    await catalog_factory.prices(pid, today + horizon * day, today + (horizon + 3) * day, 40_000)  # too far
    await catalog_factory.call(writes.add_rate_plan, catalog_factory.db, str(pid),
                               RatePlanIn(code="nonref", name="Non-refundable", refundable=False))
    await catalog_factory.prices(pid, today + 2 * day, today + 5 * day, 120_000, rate_plan="nonref")

    page = await client.get(f"/products/{pid}", params={"lang": "en"}, headers={"Cache-Control": "no-cache"})
    assert page.status_code == 200, page.text
    mongo = resources.mongo[settings.mongo_db]
    state = await catalog_factory.call(load_state, resources.db, mongo, str(pid), horizon)
    document = build_search_document(state)
    assert page.json()["from_price"] == document["price_min"] == 120_000
    assert document["price_max"] == 150_000
