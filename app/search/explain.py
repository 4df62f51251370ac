"""Why a search ranks its results as it does, for staff (``GET /admin/search/explain``).

The engine is asked twice: once as ``GET /search`` asks (relevance blended with popularity), and once for
the same products with relevance alone. Each result's score is then told as its relevance, its popularity
(the count the activity role wrote into its document) and the boost that popularity gave it
(score - relevance): the figures come from the engine's own answers, not from a formula of ours.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError

from app.resources import Resources
from app.search.popularity import FIELD
from app.search.query import SearchParams, build_search_body


def explain_body(params: SearchParams, only: list[str] | None = None) -> dict[str, Any]:
    """The search body of ``params`` (sorted by relevance, no facets) with popularity in the source; ``only``
    restricts it to these products."""
    body = build_search_body(replace(params, sort="relevance"), facets=False)
    body["source_includes"] = [*body["source_includes"], FIELD]
    if only is not None:
        query = body["query"]
        inner = query["function_score"]["query"] if "function_score" in query else query
        inner["bool"]["filter"] = [*inner["bool"]["filter"], {"terms": {"product_id": only}}]
        body.update(from_=0, size=len(only))
    return body


def combine(ranked: list[dict[str, Any]], relevance: dict[str, float], lang: str) -> list[dict[str, Any]]:
    """One explanation per ranked hit: its rank, score, relevance alone, popularity and the boost it gave."""
    rows = []
    for rank, hit in enumerate(ranked, 1):
        src = hit["_source"]
        score = float(hit.get("_score") or 0.0)
        alone = relevance.get(src["product_id"], score)
        rows.append({"rank": rank, "product_id": src["product_id"], "property_id": src["property_id"],
                     "name": src.get(f"name_{lang}") or src.get("name_en") or src.get("name_ko") or "",
                     "score": round(score, 6), "relevance": round(alone, 6),
                     "popularity": float(src.get(FIELD) or 0.0), "popularity_boost": round(score - alone, 6)})
    return rows


async def explain(es: AsyncElasticsearch, index: str, params: SearchParams) -> dict[str, Any]:
    """The ranking of ``params``' page, explained (an index not made yet explains an empty page)."""
    try:
        ranked = (await es.search(index=index, **explain_body(params)))["hits"]["hits"]
    except NotFoundError:
        ranked = []
    ids = [hit["_source"]["product_id"] for hit in ranked]
    relevance: dict[str, float] = {}
    if ids and params.popularity_weight > 0:
        alone = await es.search(index=index, **explain_body(replace(params, popularity_weight=0.0), ids))
        relevance = {h["_source"]["product_id"]: float(h.get("_score") or 0.0) for h in alone["hits"]["hits"]}
    return {"q": params.q, "lang": params.lang, "popularity_weight": params.popularity_weight,
            "items": combine(ranked, relevance, params.lang)}


async def explained(resources: Resources, params: SearchParams) -> dict[str, Any]:
    """The use case behind ``GET /admin/search/explain``: never cached (staff ask about the ranking now)."""
    settings = resources.settings
    answer = await explain(resources.es, settings.search_index, params)
    return answer | {"popularity_days": settings.search_popularity_days}
