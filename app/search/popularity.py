"""Popularity written into search documents: a partial update of the one field, for the products whose
popularity changed (``app.activity.popularity`` decides which and how much)."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_bulk

FIELD = "popularity"


async def set_popularity(es: AsyncElasticsearch, index: str, values: dict[str, float]) -> int:
    """Set each product's popularity; a product without a document (inactive, not projected yet) is skipped:
    the projector gives a new document its popularity. Returns how many documents were updated."""
    if not values:
        return 0
    actions = [{"_op_type": "update", "_index": index, "_id": pid, "doc": {FIELD: value}}
               for pid, value in sorted(values.items())]
    updated, errors = await async_bulk(es, actions, raise_on_error=False, refresh=True)
    failed = [e for e in errors if _status(e) != 404]
    if failed:
        raise RuntimeError(f"popularity not written for {len(failed)} documents: {failed[:3]}")
    return updated


def _status(error: dict[str, Any]) -> int:
    return int(next(iter(error.values())).get("status", 0))
