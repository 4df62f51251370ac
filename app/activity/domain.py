"""Activity events and what they add to the rollups: pure functions, no store, no web stack.

An event is a plain dict (it is stored as is in MongoDB): ``_id`` (the message's event id, so a redelivery
is refused by the unique index), ``type`` (search, view, hold, booking, cancellation, review), ``subject``
(``user:<sub>``, ``client:<id>`` or ``anon:<session>``), ``property_id``, ``product_id`` / ``products``,
``rate_plans`` (``product|code``), ``check_in`` / ``check_out`` (ISO dates, optional), search fields
(``query``, ``filters``, ``results``, ``zero``) and ``at`` (when it happened, UTC).

The rollups (keyed documents, counters only) and what one event adds to each:

- ``daily``   (property, day): one per event type, ``zero_result`` for searches that found nothing;
- ``demand``  (product, night): ``interest`` (views with dates), ``holds``, ``bookings``, ``cancellations``
  for each night of the stay;
- ``nights``  (property, night): the same counters summed over the resort's products, so the demand report
  for 90 nights reads at most 90 documents (never a ``$group`` over every product's nights);
- ``queries`` (normalised text): ``count`` and ``zero``;
- ``rates``   (product, rate plan): ``bookings`` and ``cancellations``;
- ``popular`` (product, day): ``views``, ``holds``, ``bookings``;
- ``pairs``   (product a, product b): guests who booked both (each guest counted once per pair), kept
  from each subject's set of booked products (:func:`pair_increments`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

TYPES = ("search", "view", "hold", "booking", "cancellation", "review")
ALL_PROPERTIES = "all"
ROLLUPS = ("daily", "demand", "nights", "queries", "rates", "popular")
MAX_QUERY_KEY = 100

Deltas = dict[str, dict[str, dict[str, Any]]]  # rollup -> key -> {"set": {...}, "inc": {...}}


def normalise_query(text: str | None) -> str:
    """How searches are grouped: lower case, spaces collapsed, bounded."""
    return " ".join((text or "").lower().split())[:MAX_QUERY_KEY]


def nights(check_in: str | None, check_out: str | None) -> list[str]:
    """The nights of a stay as ISO dates (none when a date is missing or the range is empty)."""
    if not check_in or not check_out:
        return []
    start, end = dt.date.fromisoformat(check_in), dt.date.fromisoformat(check_out)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days)]


def products_of(event: dict[str, Any]) -> list[str]:
    if event.get("products"):
        return list(event["products"])
    return [event["product_id"]] if event.get("product_id") else []


def day_of(event: dict[str, Any]) -> str:
    if event.get("day"):
        return str(event["day"])
    at = event["at"]
    return (at.astimezone(dt.UTC) if at.tzinfo else at).date().isoformat()


def complete(event: dict[str, Any]) -> dict[str, Any]:
    """The derived fields stored with an event, so aggregations need no date arithmetic: ``day`` (UTC),
    ``products``, ``nights``, ``query_key`` and ``property_id`` (``all`` for a search of every resort)."""
    event["property_id"] = event.get("property_id") or ALL_PROPERTIES
    event["day"] = day_of(event)
    event["products"] = products_of(event)
    event["nights"] = nights(event.get("check_in"), event.get("check_out"))
    if event["type"] == "search":
        event["query_key"] = normalise_query(event.get("query"))
    return event


class _Acc:
    """Deltas being summed: per rollup and key, the identifying fields and the counters."""

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.out: Deltas = defaultdict(dict)

    def add(self, rollup: str, key: str, fields: dict[str, Any], counter: str, n: int = 1) -> None:
        entry = self.out[rollup].setdefault(key, {"set": fields, "inc": defaultdict(int)})
        entry["inc"][counter] += n * self.sign


def rollup_deltas(events: Iterable[dict[str, Any]], sign: int = 1) -> Deltas:
    """What ``events`` add to each rollup (``sign=-1``: what they take away, for a forgotten subject)."""
    acc = _Acc(sign)
    for event in events:
        _daily(acc, event)
        _demand(acc, event)
        _queries(acc, event)
        _rates(acc, event)
        _popular(acc, event)
    return {rollup: {key: {"set": e["set"], "inc": dict(e["inc"])} for key, e in keys.items()}
            for rollup, keys in acc.out.items()}


def _daily(acc: _Acc, event: dict[str, Any]) -> None:
    prop, day = event.get("property_id") or ALL_PROPERTIES, day_of(event)
    fields = {"property_id": prop, "day": day}
    acc.add("daily", f"{prop}|{day}", fields, event["type"])
    if event["type"] == "search" and event.get("zero"):
        acc.add("daily", f"{prop}|{day}", fields, "zero_result")


_DEMAND = {"view": "interest", "hold": "holds", "booking": "bookings", "cancellation": "cancellations"}
_POPULAR = {"view": "views", "hold": "holds", "booking": "bookings"}


def _demand(acc: _Acc, event: dict[str, Any]) -> None:
    counter = _DEMAND.get(event["type"])
    if counter is None:
        return
    prop = event.get("property_id")
    for product in products_of(event):
        for night in event.get("nights") or nights(event.get("check_in"), event.get("check_out")):
            acc.add("demand", f"{product}|{night}", {"product_id": product, "night": night,
                                                      "property_id": prop}, counter)
            acc.add("nights", f"{prop}|{night}", {"property_id": prop, "night": night}, counter)


def _queries(acc: _Acc, event: dict[str, Any]) -> None:
    if event["type"] != "search":
        return
    text = normalise_query(event.get("query"))
    if not text:
        return
    acc.add("queries", text, {"query": text}, "count")
    if event.get("zero"):
        acc.add("queries", text, {"query": text}, "zero")


def _rates(acc: _Acc, event: dict[str, Any]) -> None:
    counter = {"booking": "bookings", "cancellation": "cancellations"}.get(event["type"])
    if counter is None:
        return
    for plan in event.get("rate_plans") or ():
        product, _, code = plan.partition("|")
        acc.add("rates", plan, {"product_id": product, "rate_plan": code,
                                "property_id": event.get("property_id")}, counter)


def _popular(acc: _Acc, event: dict[str, Any]) -> None:
    counter = _POPULAR.get(event["type"])
    if counter is None:
        return
    for product in products_of(event):
        acc.add("popular", f"{product}|{day_of(event)}", {"product_id": product, "day": day_of(event),
                                                          "property_id": event.get("property_id")}, counter)


def popular_products(deltas: Deltas) -> set[str]:
    """The products whose views or bookings these deltas change (their popularity changes; holds do not
    count in it)."""
    return {d["set"]["product_id"] for d in deltas.get("popular", {}).values()
            if d["set"].get("product_id") and (d["inc"].get("views") or d["inc"].get("bookings"))}


PAIRS_SUBJECT_MAX = 50  # the default of RESORT_ACTIVITY_PAIRS_SUBJECT_MAX


def pair_increments(known: dict[str, set[str] | None], bookings: Iterable[dict[str, Any]],
                    most: int = PAIRS_SUBJECT_MAX) -> tuple[dict[tuple[str, str], int], dict[str, set[str] | None]]:
    """Co-booking pairs added by ``bookings`` given each subject's ``known`` booked products.

    A subject who books a product new to them pairs it with each product they had booked (both ways);
    a product booked again adds nothing. Returns the pair increments and the subjects' new sets.

    A subject with more than ``most`` distinct booked products (a travel agency, a bot: not one guest's taste)
    contributes no pairs: when it crosses the bound its pairs are taken back, and it adds none after (its set
    becomes ``None``). So a booking costs at most ``2 * most`` pair updates (the one booking that crosses the
    bound takes back ``most * (most - 1)`` once), never one per product the subject ever booked; and whether a subject crossed depends on how many products it booked, not on their order, so
    the pairs rebuilt from the raw events are the same.
    """
    increments: dict[tuple[str, str], int] = defaultdict(int)
    sets = {subject: None if products is None else set(products) for subject, products in known.items()}
    for event in bookings:
        mine = sets.setdefault(event["subject"], set())
        for product in products_of(event):
            if mine is None or product in mine:
                continue
            if len(mine) >= most:
                for pair in pair_decrements(mine):
                    increments[pair] -= 1
                mine = sets[event["subject"]] = None
                continue
            for other in mine:
                increments[(product, other)] += 1
                increments[(other, product)] += 1
            mine.add(product)
    return dict(increments), sets


def pair_decrements(products: Iterable[str]) -> dict[tuple[str, str], int]:
    """What forgetting a subject with these booked products takes from the pairs."""
    items = sorted(set(products))
    return {(a, b): -1 for a in items for b in items if a != b}


def rate(numerator: int, denominator: int) -> float | None:
    """A conversion or cancellation rate, rounded; None when nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None
