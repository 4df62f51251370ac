"""Search parameters -> validation, the Elasticsearch request, the cache key, the answer's shape."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.search.query import (
    build_filters,
    build_search_body,
    cache_key,
    facets_cache_key,
    make_params,
    shape_response,
    split_by_script,
)


def test_defaults_match_everything_sorted_by_relevance() -> None:
    body = build_search_body(make_params())
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert body["query"]["bool"]["filter"] == []
    assert body["sort"][0] == "_score" and body["from_"] == 0 and body["size"] == 20
    assert set(body["aggs"]) == {"kind", "property", "amenities", "price"}


def test_latin_words_match_the_english_search_text_with_typos() -> None:
    query = build_search_body(make_params(q="  ocaen   suite "))["query"]["bool"]
    assert query["must"] == [{"match": {"search_en": {"query": "ocaen suite", "operator": "and",
                                                      "fuzziness": "AUTO", "prefix_length": 1}}}]
    assert [next(iter(c["match"])) for c in query["should"]] == ["name_en.plain"]  # the name boost


def test_korean_words_match_the_korean_bigrams_without_fuzziness() -> None:
    query = build_search_body(make_params(q="수영장"))["query"]["bool"]
    assert query["must"] == [{"match": {"search_ko": {"query": "수영장", "operator": "and"}}}]
    assert [next(iter(c["match"])) for c in query["should"]] == ["name_ko.bigram"]


def test_mixed_scripts_need_each_half_in_its_language() -> None:
    must = build_search_body(make_params(q="오션뷰 suite 7038"))["query"]["bool"]["must"]
    assert [(next(iter(c["match"])), next(iter(c["match"].values()))["query"]) for c in must] == [
        ("search_ko", "오션뷰"), ("search_en", "suite 7038")]


def test_split_by_script() -> None:
    assert split_by_script("바다 ocean 7038번 view") == ("바다 7038번", "ocean view")
    assert split_by_script("") == ("", "")


def test_one_text_field_per_language_and_no_boost_unless_ranked_by_relevance() -> None:
    query = build_search_body(make_params(q="ocean 바다", sort="price_asc"))["query"]["bool"]
    assert "should" not in query and len(query["must"]) == 2
    fields = [field for clause in query["must"] for field in clause["match"]]
    assert fields == ["search_ko", "search_en"]


def test_facets_can_be_left_out_and_the_answer_is_lean() -> None:
    params = make_params(q="spa")
    assert "aggs" in build_search_body(params) and "aggs" not in build_search_body(params, facets=False)
    body = build_search_body(params)
    assert body["track_total_hits"] == 10_000
    assert "search_en" not in body["source_includes"] and "fingerprint" not in body["source_includes"]


def test_facets_key_ignores_page_sort_and_lang_but_not_text_or_filters() -> None:
    a = make_params(q="spa", kind=["ticket"])
    assert facets_cache_key(a, 1) == facets_cache_key(make_params(q="spa", kind=["ticket"], page=3, size=5,
                                                                  sort="price_asc", lang="en"), 1)
    assert facets_cache_key(a, 1) != facets_cache_key(make_params(q="spa"), 1)
    assert facets_cache_key(a, 1) != facets_cache_key(make_params(q="pool", kind=["ticket"]), 1)
    assert facets_cache_key(a, 1) != facets_cache_key(a, 2) != cache_key(a, 2)


def test_filters() -> None:
    params = make_params(property=["jeju,seorak"], kind=["room_type"], amenities=["wifi", "pool"],
                         price_min=1000, price_max=5000, min_rating=4, lat=33.0, lon=126.0, radius_km=25)
    filters = build_search_body(params)["query"]["bool"]["filter"]
    assert {"terms": {"property_id": ["jeju", "seorak"]}} in filters
    assert {"terms": {"kind": ["room_type"]}} in filters
    assert {"term": {"amenities": "pool"}} in filters and {"term": {"amenities": "wifi"}} in filters
    assert {"range": {"price_min": {"gte": 1000, "lte": 5000}}} in filters
    assert {"range": {"rating_avg": {"gte": 4}}} in filters
    assert {"geo_distance": {"distance": "25km", "location": {"lat": 33.0, "lon": 126.0}}} in filters


@pytest.mark.parametrize(("radius_km", "distance"), [(1.5, "1.5km"), (1e-05, "0.00001km"), (1e-300, "0km")])
def test_radius_is_written_without_an_exponent(radius_km: float, distance: str) -> None:
    filters = build_filters(make_params(lat=33.0, lon=126.0, radius_km=radius_km))
    assert filters == [{"geo_distance": {"distance": distance, "location": {"lat": 33.0, "lon": 126.0}}}]


@pytest.mark.parametrize(("sort", "first"), [("price_asc", {"price_min": {"order": "asc", "missing": "_last"}}),
                                             ("price_desc", {"price_min": {"order": "desc", "missing": "_last"}}),
                                             ("rating", {"rating_avg": {"order": "desc", "missing": "_last"}})])
def test_sorts(sort: str, first: dict) -> None:
    assert build_search_body(make_params(sort=sort))["sort"][0] == first


def test_distance_sort_and_pagination() -> None:
    body = build_search_body(make_params(sort="distance", lat=37.5, lon=127.0, page=3, size=10))
    assert "_geo_distance" in body["sort"][0] and body["from_"] == 20 and body["size"] == 10


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"price_min": 10, "price_max": 5}, "invalid_price_range"),
    ({"price_min": -1}, "invalid_price"),
    ({"size": 51}, "invalid_page_size"),
    ({"size": 0}, "invalid_page_size"),
    ({"page": 0}, "invalid_page"),
    ({"page": 1000, "size": 50}, "invalid_page"),
    ({"sort": "cheapest"}, "invalid_sort"),
    ({"sort": "distance"}, "invalid_sort"),
    ({"lat": 10.0}, "invalid_point"),
    ({"lat": 100.0, "lon": 0.0}, "invalid_point"),
    ({"radius_km": 5}, "invalid_radius"),
    ({"min_rating": 6}, "invalid_rating"),
    ({"lang": "fr"}, "invalid_lang"),
    ({"q": "x" * 201}, "query_too_long"),
])
def test_bad_input_is_refused_with_a_stable_code(kwargs: dict, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_params(**kwargs)
    assert caught.value.code == code and caught.value.status == 422


def test_cache_key_is_normalised_and_generation_scoped() -> None:
    a = make_params(q="spa  pool", amenities=["wifi", "pool"])
    b = make_params(q="spa pool", amenities=["pool,wifi"])
    assert cache_key(a, 1) == cache_key(b, 1) != cache_key(a, 2)
    assert cache_key(a, 1) != cache_key(make_params(q="spa"), 1)


def test_shape_response_picks_the_language_and_facets() -> None:
    response = {
        "hits": {"total": {"value": 1}, "hits": [{"_source": {
            "product_id": "p", "property_id": "jeju", "kind": "ticket", "name_en": "Aqua Park",
            "name_ko": "아쿠아 파크", "description_en": "", "description_ko": "물놀이", "price_min": 5}}]},
        "aggregations": {"kind": {"buckets": [{"key": "ticket", "doc_count": 1}]},
                         "price": {"buckets": [{"key": "under_100k", "to": 100000.0, "doc_count": 1}]}},
    }
    shaped = shape_response(response, make_params(lang="en"))
    assert shaped["total"] == 1 and shaped["items"][0]["name"] == "Aqua Park"
    assert shaped["items"][0]["description"] == "물놀이"  # falls back to the other language
    assert shaped["facets"]["kind"] == [{"value": "ticket", "count": 1}]
    assert shaped["facets"]["price"][0]["count"] == 1 and shaped["facets"]["amenities"] == []


def test_korean_search_text_keeps_only_words_with_hangul() -> None:
    from app.search.index import search_text

    text = search_text({"name_en": "Harbor Room 7", "name_ko": "harbor 상품 7038번", "property_name_ko": "벤치 8",
                        "description_ko": None})
    assert text == {"search_en": "Harbor Room 7", "search_ko": "상품 7038번 벤치"}


def test_relevance_adds_the_weighted_popularity_to_the_text_score() -> None:
    query = build_search_body(make_params(q="ocean", popularity_weight=0.5))["query"]["function_score"]
    assert query["functions"] == [{"field_value_factor": {"field": "popularity", "modifier": "log1p", "missing": 0},
                                   "weight": 0.5}]
    assert (query["boost_mode"], next(iter(query["query"]))) == ("sum", "bool")


def test_weight_zero_or_another_sort_leaves_popularity_out() -> None:
    assert "bool" in build_search_body(make_params(q="ocean", popularity_weight=0.0))["query"]
    assert "bool" in build_search_body(make_params(q="ocean", sort="price_asc", popularity_weight=2.0))["query"]


def test_the_weight_does_not_split_the_facets_cache() -> None:
    assert facets_cache_key(make_params(q="spa", popularity_weight=1.0), 3) == facets_cache_key(make_params(q="spa"), 3)
