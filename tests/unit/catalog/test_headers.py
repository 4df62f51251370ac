"""ETags, conditional requests, language choice and attribute validation (no server)."""

from __future__ import annotations

import pytest

from app.catalog.attributes import attribute_errors
from app.catalog.domain import ProductKind
from app.catalog.headers import check_if_match, etag, not_modified, pick_language
from app.errors import PreconditionFailed, PreconditionRequired


def test_if_match_accepts_the_current_version_only() -> None:
    check_if_match(etag(3), 3)
    check_if_match('W/"v3"', 3)
    check_if_match('"v3-en"', 3)
    check_if_match('"v2", "v3"', 3)
    check_if_match("*", 7)
    with pytest.raises(PreconditionFailed) as caught:
        check_if_match(etag(2), 3)
    assert caught.value.headers["ETag"] == '"v3"'
    with pytest.raises(PreconditionFailed):
        check_if_match("garbage", 3)


def test_if_match_missing_is_428_when_required() -> None:
    with pytest.raises(PreconditionRequired):
        check_if_match(None, 1)
    check_if_match(None, 1, required=False)


def test_if_none_match() -> None:
    assert not_modified('"v4-ko"', '"v4-ko"')
    assert not_modified('W/"v4-ko", "v5-ko"', '"v4-ko"')
    assert not_modified("*", '"v4-ko"')
    assert not not_modified('"v4-en"', '"v4-ko"')
    assert not not_modified(None, '"v4-ko"')


@pytest.mark.parametrize(
    ("query", "accept", "locale", "expected"),
    [
        ("en", "ko", "ko", "en"),
        (None, "en-US,en;q=0.9,ko;q=0.8", "ko", "en"),
        (None, "ko;q=0.5, en;q=0.9", None, "en"),
        (None, "fr, de", "en-GB", "en"),
        (None, None, None, "ko"),
        ("xx", "fr", None, "ko"),
        (None, "en;q=0", None, "ko"),
        (None, "en;q=bad", "ko", "ko"),
    ],
)
def test_language_choice(query: str | None, accept: str | None, locale: str | None, expected: str) -> None:
    assert pick_language(query, accept, locale) == expected


def test_known_attributes_are_typed_by_kind_unknown_ones_free() -> None:
    assert (
        attribute_errors(ProductKind.ROOM_TYPE, {"size_m2": 33.5, "bed_type": "king", "custom": [1, "a"]})
        == []
    )
    errors = attribute_errors(ProductKind.ROOM_TYPE, {"size_m2": "big", "floor": True})
    assert [e["field"] for e in errors] == ["attributes.size_m2", "attributes.floor"]
    assert attribute_errors(ProductKind.TICKET, {"size_m2": "n/a"}) == []  # not a ticket attribute
    assert attribute_errors(ProductKind.TICKET, {"Bad Key": 1})[0]["field"] == "attributes.Bad Key"
    assert attribute_errors(ProductKind.PACKAGE, {"nested": {"a": 1}})[0]["field"] == "attributes.nested"
