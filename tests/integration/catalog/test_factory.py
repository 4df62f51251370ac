"""The shared catalogue factory builds a priced, stocked resort and announces every product."""

from __future__ import annotations

from typing import Any


async def test_resort_has_every_kind_priced_and_announced(catalog_factory: Any) -> None:
    resort = await catalog_factory.resort(nights=3)
    assert {p["kind"] for p in resort.products} == {"room_type", "facility_slot", "ticket", "package"}
    rows = await catalog_factory.fetch(
        "SELECT event_type, version FROM outbox WHERE aggregate_id = $1 AND topic = 'catalog' ORDER BY id",
        str(resort.room["id"])
    )
    nights = await catalog_factory.fetchval(
        "SELECT count(*) FROM inventory WHERE product_id = $1", resort.room["id"]
    )
    assert rows[0]["event_type"] == "product.created" and rows[0]["version"] == 1
    assert [r["version"] for r in rows] == list(range(1, resort.room["version"] + 1))
    assert nights == 3
