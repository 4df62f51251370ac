"""Pure parts of activity and recommendations: deltas, pairs, ranking, labels, the vendored chart library."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path

from app.activity.domain import complete, pair_decrements, pair_increments, rollup_deltas
from app.activity.events import from_booking, from_hold
from app.activity.ingest import MIN_BATCH, Batch
from app.outbox import EventEnvelope
from app.recommend.domain import Candidate, Signals, left_label, rank, related

AT = dt.datetime(2027, 1, 5, 23, 30, tzinfo=dt.UTC)
VENDORED = Path(__file__).resolve().parents[3] / "app/activity/static/vendor/chart.umd.js"


def test_a_booking_adds_to_the_funnel_demand_per_night_rate_plan_and_popularity() -> None:
    event = complete({"_id": "e", "type": "booking", "subject": "user:a", "property_id": "p", "at": AT,
                      "products": ["r"], "rate_plans": ["r|flex"], "check_in": "2027-02-01", "check_out": "2027-02-03"})
    deltas = rollup_deltas([event])
    assert deltas["daily"]["p|2027-01-05"]["inc"] == {"booking": 1}
    assert sorted(deltas["demand"]) == ["r|2027-02-01", "r|2027-02-02"]
    assert deltas["rates"]["r|flex"]["inc"] == {"bookings": 1}
    assert rollup_deltas([event], sign=-1)["popular"]["r|2027-01-05"]["inc"] == {"bookings": -1}


def test_the_resort_s_nights_sum_the_demand_of_each_booked_product() -> None:
    event = complete({"_id": "e", "type": "booking", "subject": "user:a", "property_id": "p", "at": AT,
                      "products": ["r", "t"], "check_in": "2027-02-01", "check_out": "2027-02-03"})
    nights = rollup_deltas([event])["nights"]
    assert {key: d["inc"] for key, d in nights.items()} == {"p|2027-02-01": {"bookings": 2}, "p|2027-02-02": {"bookings": 2}}


def test_a_search_without_a_resort_counts_for_all_and_groups_by_normalised_text() -> None:
    event = complete({"_id": "s", "type": "search", "subject": "anon", "at": AT, "query": "  Ocean   VIEW ",
                      "results": 0, "zero": True})
    deltas = rollup_deltas([event])
    assert deltas["daily"]["all|2027-01-05"]["inc"] == {"search": 1, "zero_result": 1}
    assert deltas["queries"]["ocean view"]["inc"] == {"count": 1, "zero": 1}


def test_pairs_count_each_guest_once_per_pair_and_forgetting_takes_them_back() -> None:
    bookings = [{"subject": "u1", "products": ["a", "b"]}, {"subject": "u1", "products": ["a", "c"]},
                {"subject": "u2", "products": ["b", "a"]}]
    increments, sets = pair_increments({}, bookings)
    assert increments[("a", "b")] == 2 and increments[("a", "c")] == 1 and increments[("b", "c")] == 1
    assert sets["u1"] == {"a", "b", "c"}
    assert pair_decrements(sets["u1"])[("c", "b")] == -1


def test_a_subject_past_the_bound_takes_its_pairs_back_and_adds_none_whatever_the_order() -> None:
    """A travel agency books every product: past ``most`` distinct products it contributes no pairs, so a
    booking never costs one pair update per product the subject ever booked."""
    guest = [{"subject": "u1", "products": ["a", "b"]}]
    agency = [{"subject": "c1", "products": [p]} for p in "abcd"]
    increments, sets = pair_increments({}, guest + agency, most=3)
    assert {pair: n for pair, n in increments.items() if n} == {("a", "b"): 1, ("b", "a"): 1}
    assert sets == {"u1": {"a", "b"}, "c1": None}
    later, after = pair_increments(sets, [{"subject": "c1", "products": ["e", "f"]}], most=3)
    assert later == {} and after["c1"] is None  # nothing to read, nothing to write for a heavy subject
    stored, _ = pair_increments({"c1": {"a", "b", "c"}}, [{"subject": "c1", "products": ["d"]}], most=3)
    assert stored == pair_decrements({"a", "b", "c"})  # the pairs it had made are taken back, once
    reordered, _ = pair_increments({}, guest + agency[::-1], most=3)
    assert {k: n for k, n in reordered.items() if n} == {k: n for k, n in increments.items() if n}


def test_ranking_puts_co_booked_first_and_says_why() -> None:
    candidates = [Candidate("1", "room_type", "Ocean"), Candidate("2", "ticket", "Aqua"), Candidate("3", "room_type", "Hill")]
    signals = Signals(co_booked={"2": 3}, stayed_kinds={"room_type"}, demand={"3": 4})
    ranked = rank(candidates, signals, 10)
    assert [(r.id, r.reasons) for r in ranked] == [
        ("2", ["co_booked"]), ("3", ["matches_your_stays", "popular_for_dates"]), ("1", ["matches_your_stays"])]
    assert [r.reasons for r in rank(candidates, Signals(), 10)] == [["available"]] * 3


def test_related_skips_inactive_and_self_then_falls_back_to_the_resort() -> None:
    active = {"b": Candidate("b", "ticket", "B")}
    out = related("a", [("a", 9), ("x", 5), ("b", 2)], [Candidate("c", "room_type", "C")], active, 5)
    assert [(r.id, r.reasons[0], r.score) for r in out] == [("b", "co_booked", 2), ("c", "same_property", 0)]


def test_the_left_label_is_the_live_count_only_when_scarce() -> None:
    assert (left_label(2, 5), left_label(6, 5), left_label(0, 5), left_label(None, 5)) == (2, None, None, None)


def test_a_confirmed_booking_and_a_hold_become_events_of_their_owner() -> None:
    envelope = EventEnvelope(event_id=uuid.uuid4(), topic="bookings", event_type="booking.confirmed",
                             aggregate_type="booking", aggregate_id="b", version=2, occurred_at=AT,
                             payload={"owner_kind": "partner", "owner_id": "acme", "property_id": "p",
                                      "check_in": "2027-02-01", "check_out": "2027-02-02"})
    event = from_booking(envelope, [("r2", "flex"), ("r1", "standard")])
    assert (event["type"], event["subject"], event["products"]) == ("booking", "client:acme", ["r1", "r2"])
    hold = EventEnvelope(event_id=uuid.uuid4(), topic="holds", event_type="hold.released", aggregate_type="hold",
                         aggregate_id="h", version=1, occurred_at=AT, payload={})
    assert from_hold(hold) is None


def test_the_vendored_chart_library_is_the_published_file() -> None:
    digest = hashlib.sha256(VENDORED.read_bytes()).hexdigest()
    assert digest == "2812cb8825fdc57469eb2f7bb055e9429244e599920511ee477e828499b632cb"


def test_the_rollup_batch_halves_on_an_aborted_transaction_and_grows_back_to_the_setting() -> None:
    batch = Batch(400)
    batch.failed()
    batch.failed()
    assert batch.size == 100
    for _ in range(10):
        batch.failed()
    assert batch.size == MIN_BATCH
    for _ in range(10):
        batch.succeeded()
    assert batch.size == 400
