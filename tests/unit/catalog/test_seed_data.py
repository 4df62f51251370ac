"""The demo catalogue's shape and pricing rules (no server)."""

from __future__ import annotations

import datetime as dt

from app.catalog.domain import ProductKind
from app.catalog.seed_data import RESORTS, nightly_amount, product_uuid, restrictions


def test_three_resorts_with_every_kind_and_valid_packages() -> None:
    assert len(RESORTS) >= 3
    for resort in RESORTS:
        kinds = {p.kind for p in resort.products}
        assert kinds == {k.value for k in ProductKind}
        codes = {p.code for p in resort.products}
        for package in (p for p in resort.products if p.kind == "package"):
            assert package.components and all(c in codes for c, _ in package.components)


def test_ids_are_stable_and_distinct() -> None:
    ids = [product_uuid(r.id, p.code) for r in RESORTS for p in r.products]
    assert len(set(ids)) == len(ids)
    assert product_uuid("jeju-ocean", "ocean-double") == product_uuid("jeju-ocean", "ocean-double")


def test_weekend_and_season_raise_the_price() -> None:
    wednesday, friday = dt.date(2027, 3, 3), dt.date(2027, 3, 5)
    assert nightly_amount(100_000, wednesday, winter_peak=False) == 100_000
    assert nightly_amount(100_000, friday, winter_peak=False) == 125_000
    assert nightly_amount(100_000, dt.date(2027, 1, 6), winter_peak=True) == 140_000
    assert nightly_amount(100_000, dt.date(2027, 1, 6), winter_peak=False) == 100_000


def test_demo_restrictions_only_on_rooms() -> None:
    saturday = dt.date(2027, 8, 7)
    assert restrictions("room_type", saturday) == (2, False, True, False)
    assert restrictions("ticket", saturday) == (1, False, False, False)
    assert restrictions("room_type", dt.date(2027, 8, 1)) == (1, False, False, True)  # first Sunday: CTD
