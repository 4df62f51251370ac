"""ETags, conditional requests, language choice and attribute validation (no server)."""

from __future__ import annotations

import inspect

import pytest

from app.catalog import details, service, writes
from app.catalog.attributes import attribute_errors
from app.catalog.domain import ANY_VERSION, ExpectedVersion, ProductKind
from app.catalog.headers import etag, expected_version, not_modified, pick_language
from app.catalog.writes import check_version
from app.errors import PreconditionFailed, PreconditionRequired


def check(header: str | None, current: int, *, required: bool = True) -> None:
    """What an admin write does: the controller parses the header, the service checks the version."""
    check_version(expected_version(header), current, required=required)


def test_if_match_is_parsed_into_the_typed_version_the_services_take() -> None:
    assert expected_version(etag(3)) == ExpectedVersion(frozenset({3}))
    assert expected_version('W/"v2", "v3-en"') == ExpectedVersion(frozenset({2, 3}))
    assert expected_version(" * ") == ANY_VERSION
    assert expected_version("garbage") == ExpectedVersion(frozenset())
    assert expected_version(None) is None and expected_version("  ") is None


def test_if_match_accepts_the_current_version_only() -> None:
    check(etag(3), 3)
    check('W/"v3"', 3)
    check('"v3-en"', 3)
    check('"v2", "v3"', 3)
    check("*", 7)
    with pytest.raises(PreconditionFailed) as caught:
        check(etag(2), 3)
    assert caught.value.headers["ETag"] == '"v3"' and caught.value.extra == {"current_etag": '"v3"'}
    with pytest.raises(PreconditionFailed):
        check("garbage", 3)


def test_if_match_missing_is_428_when_required() -> None:
    with pytest.raises(PreconditionRequired):
        check(None, 1)
    check(None, 1, required=False)
    check("", 1, required=False)


def test_the_services_parse_no_header() -> None:
    """``If-Match`` is HTTP: the catalogue's services take an ``ExpectedVersion`` and never see the header."""
    for module in (writes, details, service):
        source = inspect.getsource(module)
        assert "if_match" not in source.lower().replace("if-match", "") and "expected_version(" not in source
    for function in (writes.update_property, writes.update_product, writes.set_prices, writes.set_capacity,
                     details.put_details, service.update_product, service.put_details):
        assert "ExpectedVersion" in str(inspect.signature(function).parameters["expected"].annotation)


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
