"""The rules of a hold, without any server."""

from __future__ import annotations

import datetime as dt

import pytest

from app.catalog.domain import ProductKind, Quote, QuoteNight, Refusal
from app.holds.domain import (
    HoldRefused,
    HoldRequest,
    Line,
    expiry,
    lines_for,
    lock_keys,
    over_limit,
    refusal_of,
    stay_nights,
)
from app.idempotency.keys import KeyError_, fingerprint, parse_key

TODAY = dt.date(2027, 1, 10)


def _request(check_in: dt.date, nights: int = 2, **kw: object) -> HoldRequest:
    return HoldRequest("p1", check_in, check_in + dt.timedelta(days=nights), kw.get("quantity", 1),  # type: ignore[arg-type]
                       kw.get("guests", 2))  # type: ignore[arg-type]


def test_stay_nights_and_their_refusals() -> None:
    assert stay_nights(_request(TODAY), TODAY, 30) == [TODAY, TODAY + dt.timedelta(days=1)]
    cases = {"date_in_past": _request(TODAY - dt.timedelta(days=1)), "empty_date_range": _request(TODAY, 0),
             "invalid_date_range": _request(TODAY, -1), "beyond_sale_horizon": _request(TODAY + dt.timedelta(days=29))}
    for code, request in cases.items():
        with pytest.raises(HoldRefused) as refused:
            stay_nights(request, TODAY, 30)
        assert (refused.value.code, refused.value.status) == (code, 422)


def test_a_package_takes_each_component_for_every_night_sorted() -> None:
    lines = lines_for(ProductKind.PACKAGE, "pkg", _request(TODAY, quantity=2), [TODAY, TODAY + dt.timedelta(days=1)],
                      {"t-ticket": 2, "a-room": 1})
    assert lines == [Line("a-room", TODAY, 2), Line("a-room", TODAY + dt.timedelta(days=1), 2),
                     Line("t-ticket", TODAY, 4), Line("t-ticket", TODAY + dt.timedelta(days=1), 4)]


def test_tickets_take_one_unit_per_guest() -> None:
    assert lines_for(ProductKind.TICKET, "t", _request(TODAY, 1, guests=3), [TODAY], {}) == [Line("t", TODAY, 3)]


def test_lock_keys_are_unique_and_in_one_global_order() -> None:
    lines = [Line("b", TODAY, 1), Line("a", TODAY + dt.timedelta(days=1), 1), Line("a", TODAY, 2), Line("b", TODAY, 1)]
    assert lock_keys(lines) == ["a:2027-01-10", "a:2027-01-11", "b:2027-01-10"]


def test_restrictions_answer_422_before_capacity_answers_409() -> None:
    night = QuoteNight(TODAY, 100, 0)
    both = Quote(False, 0, [night], [Refusal("sold_out", TODAY), Refusal("min_stay", TODAY)])
    assert (refusal_of(both).status, refusal_of(both).code) == (422, "min_stay")  # type: ignore[union-attr]
    full = Quote(False, 0, [night], [Refusal("sold_out", TODAY)])
    assert (refusal_of(full).status, refusal_of(full).nights) == (409, [TODAY])  # type: ignore[union-attr]
    assert refusal_of(Quote(True, 100, [night], [])) is None


def test_a_hold_never_lives_past_the_maximum_and_limits_count() -> None:
    now = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
    assert expiry(now, 600, 1800) == now + dt.timedelta(minutes=10)
    assert expiry(now, 7200, 1800) == now + dt.timedelta(minutes=30)
    assert over_limit(5, 5) and not over_limit(4, 5) and not over_limit(100, 0)


def test_idempotency_keys_parse_as_the_draft_says() -> None:
    assert parse_key('"abc-123"') == parse_key("abc-123") == "abc-123"
    for bad, code in ((None, "idempotency_key_missing"), ("", "idempotency_key_missing"),
                      ("a b", "idempotency_key_invalid"), ("x" * 256, "idempotency_key_invalid"),
                      ("é", "idempotency_key_invalid")):
        with pytest.raises(KeyError_) as error:
            parse_key(bad)
        assert error.value.code == code


def test_fingerprints_ignore_json_key_order_but_not_values_or_operations() -> None:
    one = fingerprint("POST /holds", b'{"a": 1, "b": [1, 2]}')
    assert one == fingerprint("POST /holds", b'{"b":[1,2],"a":1}')
    assert one != fingerprint("POST /holds", b'{"a": 2, "b": [1, 2]}')
    assert one != fingerprint("POST /bookings", b'{"a": 1, "b": [1, 2]}')
    assert fingerprint("POST /x", b"not json") != fingerprint("POST /x", b"not json!")
