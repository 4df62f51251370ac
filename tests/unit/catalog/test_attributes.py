"""Dynamic attributes: what MongoDB can store, named by field (no server)."""

from __future__ import annotations

from app.catalog.attributes import attribute_errors
from app.catalog.domain import ProductKind


def _fields(attributes: dict) -> set[str]:
    return {e["field"] for e in attribute_errors(ProductKind.ROOM_TYPE, attributes)}


def test_integers_beyond_64_bits_are_refused_naming_the_field() -> None:
    assert _fields({"floor": 2**63, "stars": -(2**63) - 1, "tags": [1, 2**64]}) == {
        "attributes.floor",
        "attributes.stars",
        "attributes.tags",
    }


def test_64_bit_integers_and_other_scalars_pass() -> None:
    assert _fields({"floor": 2**63 - 1, "stars": -(2**63), "smoking": False, "tags": ["a", 1.5], "note": None}) == set()
