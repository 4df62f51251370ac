"""Search parameters, their validation, the Elasticsearch request they become, and the answer's shape.

Pure functions: no I/O, unit-tested without a server.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from typing import Any

import msgspec

from app.errors import ValidationFailed
from app.search.index import has_hangul

SORTS = ("relevance", "price_asc", "price_desc", "rating", "distance")
LANGS = ("ko", "en")
MAX_RESULT_WINDOW = 10_000
MAX_QUERY_LENGTH = 200
NAME_BOOST = 3.0
# What an answer carries of each document (not the search text, fingerprint or attributes).
SOURCE_FIELDS = [
    "product_id", "property_id", "property_name_en", "property_name_ko", "kind", "name_en", "name_ko",
    "description_en", "description_ko", "amenities", "price_min", "price_max", "currency", "rating_avg",
    "rating_count", "location", "version",
]
# Price facet buckets in KRW (the currency's minor unit is the won itself).
PRICE_BUCKETS = (
    {"key": "under_100k", "to": 100_000},
    {"key": "100k_200k", "from": 100_000, "to": 200_000},
    {"key": "200k_400k", "from": 200_000, "to": 400_000},
    {"key": "400k_plus", "from": 400_000},
)


@dataclass(frozen=True, slots=True)
class SearchParams:
    q: str = ""
    lang: str = "ko"
    properties: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    amenities: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    min_rating: float | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    sort: str = "relevance"
    page: int = 1
    size: int = 20
    popularity_weight: float = 0.0  # RESORT_SEARCH_POPULARITY_WEIGHT (0: relevance alone)

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


def _invalid(code: str, field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, extra={"errors": [{"field": field_name, "message": message}]})


MAX_FILTER_VALUES = 100


def _values(raw: list[str] | None, field_name: str) -> tuple[str, ...]:
    """Repeated parameters and comma-separated lists both work; duplicates go, order is normalised."""
    items = {part.strip() for value in raw or [] for part in value.split(",") if part.strip()}
    if len(items) > MAX_FILTER_VALUES:
        raise _invalid("too_many_values", field_name, f"at most {MAX_FILTER_VALUES} values of {field_name}")
    return tuple(sorted(items))


def make_params(*, q: str | None = None, lang: str | None = None, property: list[str] | None = None,
                kind: list[str] | None = None, amenities: list[str] | None = None,
                price_min: int | None = None, price_max: int | None = None,
                min_rating: float | None = None, lat: float | None = None, lon: float | None = None,
                radius_km: float | None = None, sort: str | None = None, page: int = 1, size: int = 20,
                max_size: int = 50, popularity_weight: float = 0.0) -> SearchParams:
    """Validate and normalise the query string; raises ValidationFailed with a stable code."""
    text = " ".join((q or "").split())
    if len(q or "") > MAX_QUERY_LENGTH:
        raise _invalid("query_too_long", "q", f"q is longer than {MAX_QUERY_LENGTH} characters")
    if lang is not None and lang not in LANGS:
        raise _invalid("invalid_lang", "lang", f"lang must be one of {', '.join(LANGS)}")
    if sort is not None and sort not in SORTS:
        raise _invalid("invalid_sort", "sort", f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= size <= max_size:
        raise _invalid("invalid_page_size", "size", f"size must be between 1 and {max_size}")
    if page < 1 or page * size > MAX_RESULT_WINDOW:
        raise _invalid("invalid_page", "page", f"page must be >= 1 and page*size <= {MAX_RESULT_WINDOW}")
    for name, value in (("price_min", price_min), ("price_max", price_max)):
        if value is not None and value < 0:
            raise _invalid("invalid_price", name, f"{name} must not be negative")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise _invalid("invalid_price_range", "price_min", "price_min is greater than price_max")
    if min_rating is not None and not 0 <= min_rating <= 5:
        raise _invalid("invalid_rating", "min_rating", "min_rating must be between 0 and 5")
    sort = sort or "relevance"
    _check_point(lat, lon, radius_km, sort)
    return SearchParams(
        q=text, lang=lang or "ko", properties=_values(property, "property"),
        kind=_values(kind, "kind"), amenities=_values(amenities, "amenities"), price_min=price_min, price_max=price_max, min_rating=min_rating,
        lat=lat, lon=lon, radius_km=radius_km, sort=sort, page=page, size=size,
        popularity_weight=popularity_weight,
    )


def _check_point(lat: float | None, lon: float | None, radius_km: float | None, sort: str) -> None:
    if (lat is None) != (lon is None):
        raise _invalid("invalid_point", "lat" if lat is None else "lon", "lat and lon go together")
    if lat is not None and not -90 <= lat <= 90:
        raise _invalid("invalid_point", "lat", "lat must be between -90 and 90")
    if lon is not None and not -180 <= lon <= 180:
        raise _invalid("invalid_point", "lon", "lon must be between -180 and 180")
    if radius_km is not None and (lat is None or not 0 < radius_km <= 20_000):
        raise _invalid("invalid_radius", "radius_km", "radius_km needs lat and lon and must be in (0, 20000]")
    if sort == "distance" and lat is None:
        raise _invalid("invalid_sort", "sort", "sort=distance needs lat and lon")


def _digest(params: SearchParams) -> str:
    return hashlib.sha256(msgspec.json.encode(asdict(params), order="sorted")).hexdigest()[:40]


def cache_key(params: SearchParams, generation: int) -> str:
    """The Redis key of a result: search generation + the normalised parameters."""
    return f"search:result:{generation}:{_digest(params)}"


def facets_cache_key(params: SearchParams, generation: int) -> str:
    """The Redis key of the facets: they depend on the text and filters, not on sort, page or lang."""
    neutral = replace(params, sort="relevance", page=1, size=1, lang="ko", popularity_weight=0.0)
    return f"search:facets:{generation}:{_digest(neutral)}"


def split_by_script(text: str) -> tuple[str, str]:
    """(Korean words, the other words) of a query: each half goes to its language's search field."""
    korean = [word for word in text.split() if has_hangul(word)]
    other = [word for word in text.split() if not has_hangul(word)]
    return " ".join(korean), " ".join(other)


def build_text_query(text: str, *, ranked: bool) -> dict[str, Any]:
    """Every word must match: Korean words as bigrams in ``search_ko``, the others in ``search_en``
    with typo tolerance. ``ranked`` adds a boost for words found in the product's name."""
    korean, other = split_by_script(text)
    must: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    if korean:
        must.append({"match": {"search_ko": {"query": korean, "operator": "and"}}})
        should.append({"match": {"name_ko.bigram": {"query": korean, "operator": "and", "boost": NAME_BOOST}}})
    if other:
        fuzzy = {"operator": "and", "fuzziness": "AUTO", "prefix_length": 1}
        must.append({"match": {"search_en": {"query": other, **fuzzy}}})
        should.append({"match": {"name_en.plain": {"query": other, **fuzzy, "boost": NAME_BOOST}}})
    query: dict[str, Any] = {"must": must}
    if ranked:
        query["should"] = should
    return query


def build_filters(params: SearchParams) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if params.properties:
        filters.append({"terms": {"property_id": list(params.properties)}})
    if params.kind:
        filters.append({"terms": {"kind": list(params.kind)}})
    filters.extend({"term": {"amenities": amenity}} for amenity in params.amenities)  # all of them
    if params.price_min is not None or params.price_max is not None:
        bounds = {"gte": params.price_min, "lte": params.price_max}
        filters.append({"range": {"price_min": {k: v for k, v in bounds.items() if v is not None}}})
    if params.min_rating is not None:
        filters.append({"range": {"rating_avg": {"gte": params.min_rating}}})
    if params.radius_km is not None and params.has_point:
        filters.append({"geo_distance": {"distance": _km(params.radius_km),
                                         "location": {"lat": params.lat, "lon": params.lon}}})
    return filters


def _km(value: float) -> str:
    """A distance Elasticsearch parses: fixed-point, never ``1e-05km`` (refused with a 400)."""
    return f"{value:.6f}".rstrip("0").rstrip(".") + "km"


def build_sort(params: SearchParams) -> list[Any]:
    tie = {"product_id": "asc"}
    if params.sort == "price_asc":
        return [{"price_min": {"order": "asc", "missing": "_last"}}, tie]
    if params.sort == "price_desc":
        return [{"price_min": {"order": "desc", "missing": "_last"}}, tie]
    if params.sort == "rating":
        return [{"rating_avg": {"order": "desc", "missing": "_last"}},
                {"rating_count": {"order": "desc"}}, tie]
    if params.sort == "distance":
        return [{"_geo_distance": {"location": {"lat": params.lat, "lon": params.lon},
                                   "order": "asc", "unit": "km"}}, tie]
    return ["_score", tie]


def build_aggregations() -> dict[str, Any]:
    return {
        "kind": {"terms": {"field": "kind", "size": 20}},
        "property": {"terms": {"field": "property_id", "size": 50}},
        "amenities": {"terms": {"field": "amenities", "size": 50}},
        "price": {"range": {"field": "price_min", "ranges": [dict(b) for b in PRICE_BUCKETS]}},
    }


def with_popularity(query: dict[str, Any], weight: float) -> dict[str, Any]:
    """``query``'s score plus ``weight * log10(1 + popularity)`` (a document without one counts 0);
    ``weight`` 0 leaves the query as it is."""
    if weight <= 0:
        return query
    boost = {"field_value_factor": {"field": "popularity", "modifier": "log1p", "missing": 0}, "weight": weight}
    return {"function_score": {"query": query, "functions": [boost], "score_mode": "sum", "boost_mode": "sum"}}


def build_search_body(params: SearchParams, *, facets: bool = True) -> dict[str, Any]:
    """The keyword arguments of ``AsyncElasticsearch.search`` for ``params``.

    ``facets=False`` leaves the aggregations out (the caller has them cached). Totals are counted up to
    the deepest reachable result, not beyond. Sorted by relevance, popularity is blended in
    (:func:`with_popularity`); ties go by product id.
    """
    text: dict[str, Any] = {"must": [{"match_all": {}}]}
    if params.q:
        text = build_text_query(params.q, ranked=params.sort == "relevance")
    query: dict[str, Any] = {"bool": {**text, "filter": build_filters(params)}}
    if params.sort == "relevance":
        query = with_popularity(query, params.popularity_weight)
    body: dict[str, Any] = {
        "query": query,
        "sort": build_sort(params),
        "from_": (params.page - 1) * params.size,
        "size": params.size,
        "track_total_hits": MAX_RESULT_WINDOW,
        "source_includes": SOURCE_FIELDS,
    }
    if facets:
        body["aggs"] = build_aggregations()
    return body


def _facet(buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"value": b["key"], "count": b["doc_count"]} for b in buckets]


def _item(hit: dict[str, Any], params: SearchParams) -> dict[str, Any]:
    src, lang = hit["_source"], params.lang
    other = "en" if lang == "ko" else "ko"
    item = {
        "product_id": src["product_id"],
        "property_id": src["property_id"],
        "property_name": src.get(f"property_name_{lang}") or src.get(f"property_name_{other}") or "",
        "kind": src["kind"],
        "name": src.get(f"name_{lang}") or src.get(f"name_{other}") or "",
        "description": src.get(f"description_{lang}") or src.get(f"description_{other}") or "",
        "amenities": src.get("amenities") or [],
        "price_min": src.get("price_min"),
        "price_max": src.get("price_max"),
        "currency": src.get("currency"),
        "rating_avg": src.get("rating_avg"),
        "rating_count": src.get("rating_count") or 0,
        "location": src.get("location"),
        "version": src.get("version"),
    }
    if params.sort == "distance" and hit.get("sort"):
        item["distance_km"] = round(float(hit["sort"][0]), 3)
    return item


def shape_response(response: dict[str, Any], params: SearchParams) -> dict[str, Any]:
    """The /search answer from Elasticsearch's."""
    aggs = response.get("aggregations") or {}
    total = response["hits"]["total"]
    return {
        "items": [_item(hit, params) for hit in response["hits"]["hits"]],
        "total": total["value"] if isinstance(total, dict) else int(total),
        "total_exact": not isinstance(total, dict) or total.get("relation", "eq") == "eq",
        "page": params.page,
        "size": params.size,
        "facets": {
            "kind": _facet(aggs.get("kind", {}).get("buckets", [])),
            "property": _facet(aggs.get("property", {}).get("buckets", [])),
            "amenities": _facet(aggs.get("amenities", {}).get("buckets", [])),
            "price": [{"value": b["key"], "from": b.get("from"), "to": b.get("to"), "count": b["doc_count"]}
                      for b in aggs.get("price", {}).get("buckets", [])],
        },
    }


def empty_response(params: SearchParams) -> dict[str, Any]:
    return shape_response({"hits": {"total": {"value": 0}, "hits": []}}, params)
