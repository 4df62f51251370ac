"""The product search index: settings, mapping (versioned), and the search text derived per document.

Free text is matched against two derived fields the projector writes with every document:
``search_en`` (name, property name and description in English, ``words`` analyzer: split on spaces,
punctuation and symbols, lowercased; typo tolerance works on unstemmed words, and it costs noida-db a
third of ``standard``) and ``search_ko`` (the Korean words, ``ko_bigram``: Hangul bigrams, so 수영
matches inside 야외수영장). One field per language keeps a text query to one analyzed field: the
Elasticsearch stand-in (noida-db) re-analyzes every document for every field a query names, so twelve
sub-fields made an uncached search on 10,000 products take seconds.
``name_en.plain`` / ``name_ko.bigram`` stay for the name boost of relevance ranking.
See ``PERFORMANCE.md`` beside this module for the measurements.

Facets are keywords, the property's location a ``geo_point``, prices and ratings numbers.
``attributes`` (which differ by kind) are stored but not indexed; ``dynamic: strict`` refuses anything
else. The mapping has a version: :mod:`app.search.versions` makes a new one take effect (4 added
``popularity``: bookings and views over a recent window, kept by the activity role, see
:mod:`app.activity.popularity`; search blends it with relevance, :func:`app.search.query.build_search_body`).
"""

from __future__ import annotations

import re
from typing import Any

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
MAPPING_VERSION = 4

# Derived search text: field -> the document fields it joins (in this order).
SEARCH_TEXT: dict[str, tuple[str, ...]] = {
    "search_en": ("name_en", "property_name_en", "description_en"),
    "search_ko": ("name_ko", "property_name_ko", "description_ko"),
}

INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "analysis": {
        "tokenizer": {
            "ko_ngram": {"type": "ngram", "min_gram": 2, "max_gram": 2, "token_chars": ["letter", "digit"]},
            "words": {"type": "char_group", "tokenize_on_chars": ["whitespace", "punctuation", "symbol"]},
        },
        "analyzer": {
            "ko_bigram": {"type": "custom", "tokenizer": "ko_ngram", "filter": ["lowercase"]},
            "words": {"type": "custom", "tokenizer": "words", "filter": ["lowercase"]},
        },
    },
}

_EN = {"type": "text", "analyzer": "english"}
_KO = {"type": "text", "analyzer": "cjk"}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "product_id": {"type": "keyword"},
        "property_id": {"type": "keyword"},
        "property_name_en": _EN,
        "property_name_ko": _KO,
        "kind": {"type": "keyword"},
        "code": {"type": "keyword"},
        "name_en": {**_EN, "fields": {"plain": {"type": "text", "analyzer": "words"},
                                      "raw": {"type": "keyword"}}},
        "name_ko": {**_KO, "fields": {"bigram": {"type": "text", "analyzer": "ko_bigram"}}},
        "description_en": _EN,
        "description_ko": _KO,
        "search_en": {"type": "text", "analyzer": "words"},
        "search_ko": {"type": "text", "analyzer": "ko_bigram"},
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
        "popularity": {"type": "float"},
        "components": {"type": "keyword"},
        "version": {"type": "long"},
        "fingerprint": {"type": "keyword"},
    },
}


def has_hangul(word: str) -> bool:
    return HANGUL.search(word) is not None


def search_text(document: dict[str, Any]) -> dict[str, str]:
    """The derived search fields of a document (pure: the same document gives the same text).

    ``search_ko`` keeps only the words with Hangul in them: queries send the other words to
    ``search_en``, and bigrams of Latin words would only cost (noida analyzes at query time).
    """
    text = {field: " ".join(str(document[part]) for part in parts if document.get(part))
            for field, parts in SEARCH_TEXT.items()}
    text["search_ko"] = " ".join(word for word in text["search_ko"].split() if has_hangul(word))
    return text


def with_search_text(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its derived search fields (re)computed."""
    return {**document, **search_text(document)}


def search_text_consistent(document: dict[str, Any]) -> bool:
    """Whether the document carries the search text its own fields give (reconciliation's check)."""
    return all(document.get(field) == text for field, text in search_text(document).items())

