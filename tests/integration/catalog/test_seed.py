"""Demo data: every kind of product, a priced and stocked calendar, details, reviews; idempotent."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from app.catalog.documents import ProductDetails, Review
from app.catalog.seed import seed
from app.catalog.seed_data import RESORTS
from tests.support.dates import resort_today


async def _mongo_counts(ids: list[str]) -> tuple[int, int]:
    details = await ProductDetails.find({"product_id": {"$in": ids}}).count()
    reviews = await Review.find({"product_id": {"$in": ids}}).count()
    return details, reviews


async def test_seed_loads_everything_once_and_announces_each_product(
    client: AsyncTestClient, app_call: Any, resources: Any, catalog_factory: Any
) -> None:
    suffix = uuid.uuid4().hex[:6]
    resorts = [dataclasses.replace(r, id=f"{r.id}-{suffix}") for r in RESORTS]
    first = await app_call(lambda: seed(resources.db, days=20, resorts=resorts))
    products = sum(len(r.products) for r in resorts)
    assert (first.properties, first.products) == (3, products)
    stocked = sum(1 for r in resorts for p in r.products if p.kind != "package")
    assert first.rates == products * 20 and first.inventory == stocked * 20 and first.reviews == 45
    assert first.rooms == sum(p.capacity for r in resorts for p in r.products if p.kind == "room_type")
    kinds = await catalog_factory.fetch(
        "SELECT DISTINCT kind::text AS kind FROM products WHERE property_id = $1", resorts[0].id
    )
    assert {k["kind"] for k in kinds} == {"room_type", "facility_slot", "ticket", "package"}
    events = await catalog_factory.fetch(
        "SELECT event_type, version FROM outbox WHERE aggregate_id = ANY($1::text[])", first.created_ids
    )
    assert len(events) == products and {(e["event_type"], e["version"]) for e in events} == {
        ("product.created", 1)
    }
    assert await app_call(_mongo_counts, first.created_ids) == (products, 45)

    again = await app_call(lambda: seed(resources.db, days=20, resorts=resorts))
    assert (again.properties, again.products, again.rates, again.inventory, again.reviews, again.rooms) == (0,) * 6
    assert (
        await catalog_factory.fetchval(
            "SELECT count(*) FROM outbox WHERE aggregate_id = ANY($1::text[])", first.created_ids
        )
        == products
    )

    package = next(p for p in resorts[1].products if p.kind == "package")
    view = (
        await client.get(f"/properties/{resorts[1].id}/products", params={"kind": "package", "lang": "en"})
    ).json()
    assert view["items"][0]["code"] == package.code
    quote = (
        await client.get(
            f"/products/{view['items'][0]['id']}/quote",
            params={
                "start": (resort_today() + dt.timedelta(days=3)).isoformat(),
                "end": (resort_today() + dt.timedelta(days=4)).isoformat(),
                "guests": 2,
            },
        )
    ).json()
    assert quote["available"] and quote["total"] > 0
    room = next(p for p in resorts[0].products if p.kind == "room_type")
    rooms = (await client.get(f"/properties/{resorts[0].id}/products", params={"kind": "room_type"})).json()
    room_id = next(i["id"] for i in rooms["items"] if i["code"] == room.code)
    view = (await client.get(f"/products/{room_id}", params={"lang": "ko"})).json()
    assert view["rating"] == {"average": 4.2, "count": 5} and view["description"] == room.text_ko


async def _drop(settings: Any, name: str) -> None:
    import asyncpg
    from pymongo import AsyncMongoClient

    base = settings.database_url.rsplit("/", 1)[0]
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
    mongo: AsyncMongoClient = AsyncMongoClient(settings.mongo_url)
    try:
        await mongo.drop_database(name)
    finally:
        await mongo.close()


async def test_resort_seed_command_is_idempotent(settings: Any, stack: object) -> None:
    """``resort seed`` twice on a fresh database of its own (dropped afterwards)."""
    import asyncio
    import os
    import sys

    name = f"resort_seedcli_{uuid.uuid4().hex[:8]}"
    env = os.environ | {
        "RESORT_DATABASE_URL": settings.database_url.rsplit("/", 1)[0] + f"/{name}",
        "RESORT_MONGO_DB": name,
        "COLUMNS": "200",
    }

    async def run(*argv: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *(argv or ("-m", "app.cli", "seed")),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:  # the demo history's rollup on the SecantusDB stand-in takes 30-150 s on a loaded machine
            out, _ = await asyncio.wait_for(process.communicate(), 300)
        finally:  # never left running: it would hold the stand-in through the drop and the tests after it
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, out.decode()
        return out.decode()

    try:
        assert "seeded: 3 properties, 24 products, 8760 nightly rates" in await run()
        assert (
            "seeded: 0 properties, 0 products, 0 nightly rates, 0 inventory nights, 0 reviews" in await run()
        )
        # what `resort up` calls: nothing to do on a seeded database
        code = "import asyncio; from app.catalog.seed import seed_if_empty; from app.settings import Settings;"
        code += " print('result', asyncio.run(seed_if_empty(Settings.from_env())))"
        assert "result None" in await run("-c", code)
    finally:
        await _drop(settings, name)
