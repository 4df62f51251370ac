"""Pure builders: the denormalised search document and the product read model, from loaded rows.

No I/O here: :mod:`sync.state` loads a :class:`ProductState`, these functions shape it, unit tests
exercise them without a server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.search.index import SEARCH_TEXT, with_search_text


@dataclass(frozen=True, slots=True)
class ProductState:
    """Everything the projection of one product needs, as read from PostgreSQL and MongoDB."""

    product: dict[str, Any]
    property: dict[str, Any]
    price_min: int | None = None
    price_max: int | None = None
    capacity: int | None = None
    details: dict[str, Any] | None = None
    rating_avg: float | None = None
    rating_count: int = 0
    components: list[str] = field(default_factory=list)
    popularity: float = 0.0

    @property
    def product_id(self) -> str:
        return str(self.product["id"])

    @property
    def version(self) -> int:
        return int(self.product["version"])

    @property
    def active(self) -> bool:
        return bool(self.product.get("active", True))


# ``popularity`` comes from the activity rollups, not from PostgreSQL: the activity role updates it on its
# own (``app.activity.popularity``), so it is no part of what reconciliation compares.
_UNHASHED = {"fingerprint", "projected_at", "popularity", *SEARCH_TEXT}


def fingerprint(document: dict[str, Any]) -> str:
    """A hash of the document's content (without its own ``fingerprint``, timestamps, the popularity and
    the search text derived from the content, which reconciliation checks on its own)."""
    content = {k: v for k, v in document.items() if k not in _UNHASHED}
    return hashlib.sha256(msgspec.json.encode(content, order="sorted")).hexdigest()[:32]


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or "")
    return ""


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def build_search_document(state: ProductState) -> dict[str, Any]:
    """The Elasticsearch document of an active product (see ``app/search/index.py`` for the mapping)."""
    product, prop, details = state.product, state.property, state.details or {}
    document: dict[str, Any] = {
        "product_id": state.product_id,
        "property_id": str(prop["id"]),
        "property_name_en": prop.get("name") or "",
        "property_name_ko": prop.get("name_ko") or "",
        "kind": str(product["kind"]),
        "code": product.get("code") or "",
        "name_en": product.get("name") or "",
        "name_ko": product.get("name_ko") or "",
        "description_en": _text(details.get("description"), "en"),
        "description_ko": _text(details.get("description"), "ko"),
        "amenities": sorted({str(a) for a in details.get("amenities") or []}),
        "attributes": details.get("attributes") or {},
        "location": {"lat": float(prop["latitude"]), "lon": float(prop["longitude"])},
        "price_min": state.price_min,
        "price_max": state.price_max,
        "currency": product.get("currency") or "KRW",
        "capacity": state.capacity,
        "max_occupancy": product.get("max_occupancy"),
        "rating_avg": _rounded(state.rating_avg),
        "rating_count": state.rating_count,
        "components": list(state.components),
        "version": state.version,
        "popularity": state.popularity,
    }
    document["fingerprint"] = fingerprint(document)
    return with_search_text(document)


def _plain(value: Any) -> Any:
    """Values MongoDB stores as they are (dates, times and uuids become strings)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def build_read_model(state: ProductState) -> dict[str, Any]:
    """The MongoDB read model (the fields of :class:`app.catalog.documents.ProductReadModel`)."""
    details = dict(state.details or {})
    details.pop("_id", None)
    core = {k: _plain(v) for k, v in state.product.items() if k not in {"created_at", "updated_at"}}
    core.update({
        "id": state.product_id,
        "property_name": state.property.get("name") or "",
        "property_name_ko": state.property.get("name_ko") or "",
        "location": {"lat": float(state.property["latitude"]), "lon": float(state.property["longitude"])},
        "price_min": state.price_min,
        "price_max": state.price_max,
        "capacity": state.capacity,
        "components": list(state.components),
    })
    model: dict[str, Any] = {
        "product_id": state.product_id,
        "property_id": str(state.property["id"]),
        "version": state.version,
        "details_version": int(details.get("version") or 0),
        "core": core,
        "details": {k: _plain_tree(v) for k, v in details.items() if k not in {"product_id", "property_id"}},
        "rating_avg": _rounded(state.rating_avg),
        "rating_count": state.rating_count,
    }
    model["fingerprint"] = fingerprint(model)
    return model


def _plain_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_tree(v) for v in value]
    return _plain(value)
