"""The inventory aggregate's arithmetic and invariants, without servers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.inventory.domain import InventoryRefused, Night, capacity_conflicts, free_of

DAY = dt.date(2028, 2, 29)


def test_free_is_capacity_less_held_sold_and_out_of_service() -> None:
    assert Night(DAY, 10, held=2, sold=3, out_of_service=1).free == 4
    assert Night(DAY, 5, held=2, sold=3).sold_out


def test_a_hold_takes_only_what_is_free() -> None:
    night = Night(DAY, 3, held=1, sold=1)
    assert night.take(1) == Night(DAY, 3, held=2, sold=1)
    with pytest.raises(InventoryRefused) as refused:
        night.take(2)
    assert refused.value.code == "sold_out"


def test_a_room_out_of_service_cannot_be_held() -> None:
    with pytest.raises(InventoryRefused) as refused:
        Night(DAY, 2, sold=1, out_of_service=1).take(1)
    assert refused.value.code == "sold_out"


def test_selling_moves_held_to_sold_and_unselling_frees() -> None:
    sold = Night(DAY, 4, held=2).sell(2)
    assert (sold.held, sold.sold, sold.free) == (0, 2, 2)
    assert sold.unsell(1).free == 3
    with pytest.raises(InventoryRefused) as refused:
        sold.unsell(3)
    assert refused.value.code == "not_sold"


def test_release_never_below_zero() -> None:
    with pytest.raises(InventoryRefused) as refused:
        Night(DAY, 4, held=1).release(2)
    assert refused.value.code == "not_held"


def test_capacity_never_below_committed() -> None:
    night = Night(DAY, 5, held=1, sold=2, out_of_service=1)
    assert night.with_capacity(4).free == 0
    with pytest.raises(InventoryRefused) as refused:
        night.with_capacity(3)
    assert refused.value.code == "capacity_below_committed"


def test_out_of_service_never_below_what_is_sold() -> None:
    night = Night(DAY, 3, held=1, sold=1)
    assert night.with_out_of_service(1).free == 0
    with pytest.raises(InventoryRefused) as refused:
        night.with_out_of_service(2)
    assert refused.value.code == "out_of_service_conflict"
    assert night.with_out_of_service(1).with_out_of_service(0).free == 1


def test_units_must_be_positive() -> None:
    with pytest.raises(InventoryRefused) as refused:
        Night(DAY, 3).take(0)
    assert refused.value.code == "validation_failed"


def test_capacity_conflicts_name_the_nights_in_order() -> None:
    rows = [Night(DAY + dt.timedelta(days=1), 5, sold=4), Night(DAY, 5, held=1, sold=2)]
    assert capacity_conflicts(rows, 2) == [DAY, DAY + dt.timedelta(days=1)]
    assert capacity_conflicts(rows, 4) == []


def test_free_of_a_row_read_from_the_table() -> None:
    assert free_of({"capacity": 5, "held": 1, "sold": 1, "out_of_service": 2}) == 1
    assert free_of({"capacity": 5, "held": 4, "sold": 4, "out_of_service": 0}) == 0


MOVES = st.lists(st.tuples(st.sampled_from(["take", "release", "sell", "unsell", "with_out_of_service",
                                             "with_capacity"]), st.integers(-2, 6)), max_size=40)


@settings(deadline=None)  # pure arithmetic; a loaded machine must not fail it on time
@given(st.integers(0, 8), MOVES)
def test_no_sequence_of_moves_breaks_an_invariant(capacity: int, moves: list[tuple[str, int]]) -> None:
    night = Night(DAY, capacity)
    for move, units in moves:
        try:
            night = getattr(night, move)(units)
        except InventoryRefused:
            continue  # refused whole: the state is unchanged
        assert night.broken() == [], (move, units, night)
    assert 0 <= night.free <= night.capacity


def test_claims_decided_together_fit_first_come_first_served() -> None:
    night = Night(DAY, capacity=10, held=3, sold=2, out_of_service=1)  # 4 free
    assert night.fit([1, 1, 1, 1, 1]) == 4
    assert night.fit([2, 3, 1]) == 1  # the 3 does not fit, and the 1 behind it does not pass it
    assert night.fit([]) == 0 and Night(DAY, capacity=2, held=2).fit([1]) == 0
    with pytest.raises(InventoryRefused):
        night.fit([1, 0])
