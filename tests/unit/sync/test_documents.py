"""The search document and the read model, built from rows without any server."""

from __future__ import annotations

import datetime as dt

from app.search.index import search_text_consistent, with_search_text
from sync.documents import ProductState, build_read_model, build_search_document, fingerprint
from sync.reconcile import intact


def _state(**changes: object) -> ProductState:
    product = {"id": "7b1c", "property_id": "jeju", "kind": "room_type", "code": "ocean", "name": "Ocean Suite",
               "name_ko": "오션 스위트", "max_occupancy": 3, "slot_start": None, "slot_minutes": None,
               "currency": "KRW", "active": True, "version": 4}
    prop = {"id": "jeju", "name": "Jeju Resort", "name_ko": "제주 리조트", "latitude": 33.25, "longitude": 126.5}
    details = {"description": {"ko": "바다 전망", "en": "Sea view"}, "amenities": ["wifi", "pool", "wifi"],
               "attributes": {"bed": "king"}, "version": 2, "updated_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}
    values: dict = {"product": product, "property": prop, "price_min": 120_000, "price_max": 180_000,
                    "capacity": 10, "details": details, "rating_avg": 4.333333, "rating_count": 3}
    values.update(changes)
    return ProductState(**values)  # type: ignore[arg-type]


def test_search_document_merges_core_details_and_rating() -> None:
    doc = build_search_document(_state())
    assert doc["product_id"] == "7b1c" and doc["property_id"] == "jeju" and doc["kind"] == "room_type"
    assert (doc["name_en"], doc["name_ko"]) == ("Ocean Suite", "오션 스위트")
    assert (doc["description_en"], doc["description_ko"]) == ("Sea view", "바다 전망")
    assert doc["amenities"] == ["pool", "wifi"]
    assert doc["location"] == {"lat": 33.25, "lon": 126.5}
    assert (doc["price_min"], doc["price_max"], doc["capacity"]) == (120_000, 180_000, 10)
    assert doc["rating_avg"] == 4.33 and doc["rating_count"] == 3
    assert doc["version"] == 4 and doc["property_name_ko"] == "제주 리조트"


def test_search_document_without_details_or_prices() -> None:
    doc = build_search_document(_state(details=None, price_min=None, price_max=None, rating_avg=None,
                                       rating_count=0))
    assert doc["description_en"] == "" and doc["amenities"] == [] and doc["attributes"] == {}
    assert doc["price_min"] is None and doc["rating_avg"] is None


def test_fingerprint_follows_content_and_detects_tampering() -> None:
    doc = build_search_document(_state())
    assert doc["fingerprint"] == fingerprint(doc) and intact(doc)
    assert build_search_document(_state())["fingerprint"] == doc["fingerprint"]
    assert build_search_document(_state(price_min=1))["fingerprint"] != doc["fingerprint"]
    tampered = {**doc, "name_en": "HACKED"}
    assert not intact(tampered)


def test_read_model_has_core_details_and_plain_values() -> None:
    model = build_read_model(_state())
    assert model["product_id"] == "7b1c" and model["version"] == 4 and model["details_version"] == 2
    assert model["core"]["name"] == "Ocean Suite" and model["core"]["price_min"] == 120_000
    assert model["details"]["updated_at"] == "2025-01-01T00:00:00+00:00"
    assert "product_id" not in model["details"]
    assert model["rating_avg"] == 4.33 and intact(model)


def test_search_document_carries_its_search_text_outside_the_fingerprint() -> None:
    doc = build_search_document(_state())
    assert doc["search_en"] == "Ocean Suite Jeju Resort Sea view"
    assert doc["search_ko"] == "오션 스위트 제주 리조트 바다 전망"
    assert search_text_consistent(doc) and intact(doc)
    without = {k: v for k, v in doc.items() if k not in {"search_en", "search_ko"}}
    assert fingerprint(without) == doc["fingerprint"]  # an index migration can add the text alone
    assert with_search_text(without) == doc
    assert not search_text_consistent({**doc, "search_en": "HACKED"})
