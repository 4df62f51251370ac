"""The ranking explanation's arithmetic (no server): boost = score - relevance alone, per ranked hit."""

from __future__ import annotations

from app.search.explain import combine, explain_body
from app.search.query import make_params


def _hit(pid: str, score: float, popularity: float | None) -> dict:
    src = {"product_id": pid, "property_id": "p", "name_en": f"Cabin {pid}", "name_ko": "캐빈"}
    if popularity is not None:
        src["popularity"] = popularity
    return {"_score": score, "_source": src}


def test_each_hit_is_told_as_relevance_plus_the_boost_popularity_gave_it() -> None:
    rows = combine([_hit("b", 2.5, 9.0), _hit("a", 2.0, None)], {"a": 2.0, "b": 2.0}, "en")
    assert [(r["rank"], r["product_id"], r["relevance"], r["popularity"], r["popularity_boost"]) for r in rows] == [
        (1, "b", 2.0, 9.0, 0.5), (2, "a", 2.0, 0.0, 0.0)]
    assert rows[0]["name"] == "Cabin b"


def test_the_relevance_query_is_restricted_to_the_ranked_products() -> None:
    params = make_params(q="cabin", popularity_weight=0.0)
    body = explain_body(params, ["a", "b"])
    assert {"terms": {"product_id": ["a", "b"]}} in body["query"]["bool"]["filter"]
    assert (body["from_"], body["size"], body["source_includes"][-1]) == (0, 2, "popularity")
    assert "aggs" not in body
