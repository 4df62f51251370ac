"""The product search index: settings, mapping, and creating it when missing.

Text comes in two languages. English fields use the ``english`` analyzer (stemming) with a ``plain``
sub-field (standard analyzer) that fuzzy matching works on without stemming surprises. Korean fields use
``cjk`` (bigrams of Hangul) with a ``bigram`` sub-field from an n-gram tokenizer, which matches words
inside compounds (수영 in 야외수영장) and tolerates a wrong syllable at the edges. Facets are keywords,
the property's location a ``geo_point``, prices and ratings numbers. ``attributes`` (which differ by
kind) are stored but not indexed, so they cannot explode the mapping; ``dynamic: strict`` refuses
anything else the mapping does not name.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch, BadRequestError

_EN = {"type": "text", "analyzer": "english",
       "fields": {"plain": {"type": "text", "analyzer": "standard"}}}
_KO = {"type": "text", "analyzer": "cjk",
       "fields": {"bigram": {"type": "text", "analyzer": "ko_bigram"}}}

INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "analysis": {
        "tokenizer": {
            "ko_ngram": {"type": "ngram", "min_gram": 2, "max_gram": 2, "token_chars": ["letter", "digit"]},
        },
        "analyzer": {
            "ko_bigram": {"type": "custom", "tokenizer": "ko_ngram", "filter": ["lowercase"]},
        },
    },
}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "product_id": {"type": "keyword"},
        "property_id": {"type": "keyword"},
        "property_name_en": {**_EN, "fields": {**_EN["fields"], "raw": {"type": "keyword"}}},
        "property_name_ko": _KO,
        "kind": {"type": "keyword"},
        "code": {"type": "keyword"},
        "name_en": {**_EN, "fields": {**_EN["fields"], "raw": {"type": "keyword"}}},
        "name_ko": _KO,
        "description_en": _EN,
        "description_ko": _KO,
        "amenities": {"type": "keyword"},
        "attributes": {"type": "object", "enabled": False},
        "location": {"type": "geo_point"},
        "price_min": {"type": "long"},
        "price_max": {"type": "long"},
        "currency": {"type": "keyword"},
        "capacity": {"type": "integer"},
        "max_occupancy": {"type": "integer"},
        "rating_avg": {"type": "float"},
        "rating_count": {"type": "integer"},
        "components": {"type": "keyword"},
        "version": {"type": "long"},
        "fingerprint": {"type": "keyword"},
    },
}

# Fields free text is matched against, with their boosts.
TEXT_FIELDS = [
    "name_en^4", "name_en.plain^3", "name_ko^4", "name_ko.bigram^3",
    "property_name_en^2", "property_name_en.plain^2", "property_name_ko^2", "property_name_ko.bigram",
    "description_en", "description_en.plain", "description_ko", "description_ko.bigram",
]


async def ensure_index(es: AsyncElasticsearch, name: str) -> bool:
    """Create the index with its mapping if it does not exist; True when this call created it."""
    if await es.indices.exists(index=name):
        return False
    try:
        await es.indices.create(index=name, settings=INDEX_SETTINGS, mappings=MAPPING)
    except BadRequestError as exc:  # created by a concurrent caller meanwhile
        if "already_exists" not in str(exc):
            raise
        return False
    return True
