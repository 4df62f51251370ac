"""Pure parts of popularity: the score, the window, which products a rollup round changed."""

from __future__ import annotations

import datetime as dt

from app.activity.domain import complete, popular_products, rollup_deltas
from app.activity.popularity import first_day, score

AT = dt.datetime(2027, 1, 5, 12, tzinfo=dt.UTC)


def test_ten_views_count_as_one_booking() -> None:
    assert (score(2, 10), score(0, 0), score(-1, 0)) == (3.0, 0.0, 0.0)


def test_the_window_ends_today() -> None:
    assert first_day(dt.date(2027, 1, 30), 30) == "2027-01-01"


def test_views_and_bookings_change_popularity_holds_searches_and_cancellations_do_not() -> None:
    events = [complete({"_id": str(i), "type": kind, "subject": "user:a", "property_id": "p", "at": AT,
                        "product_id": product, "query": "spa"})
              for i, (kind, product) in enumerate([("view", "a"), ("booking", "b"), ("cancellation", "c"),
                                                   ("search", None), ("hold", "d")])]
    assert popular_products(rollup_deltas(events)) == {"a", "b"}
