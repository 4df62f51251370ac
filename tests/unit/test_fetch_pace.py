"""The fetch hold's pace (app/fetch_pace.py) and its settings, without a broker."""

from __future__ import annotations

import pytest

from app.fetch_pace import FetchPace, next_wait
from app.settings import Settings, SettingsError


def test_an_empty_poll_doubles_the_hold_up_to_the_idle_bound() -> None:
    waits, wait = [], 20
    for _ in range(6):
        wait = next_wait(wait, False, 20, 250)
        waits.append(wait)
    assert waits == [40, 80, 160, 250, 250, 250]


def test_a_poll_with_messages_brings_the_hold_back_to_the_busy_one() -> None:
    assert next_wait(250, True, 20, 250) == 20


def test_an_idle_bound_at_the_busy_one_turns_pacing_off() -> None:
    assert next_wait(20, False, 20, 20) == 20


class _Fetcher:
    _fetch_max_wait_ms = 500


class _Consumer:
    def __init__(self) -> None:
        self._fetcher = _Fetcher()


def test_the_pace_writes_the_hold_the_fetcher_uses() -> None:
    consumer = _Consumer()
    pace = FetchPace(consumer, 20, 250)
    assert consumer._fetcher._fetch_max_wait_ms == 20
    pace.after({})
    assert consumer._fetcher._fetch_max_wait_ms == 40
    pace.after({"tp": [object()]})
    assert consumer._fetcher._fetch_max_wait_ms == 20


@pytest.mark.parametrize(("busy", "idle"), [(0, 250), (20, 10), (20, 5001)])
def test_fetch_holds_out_of_bounds_are_refused(busy: int, idle: int) -> None:
    with pytest.raises(SettingsError):
        Settings(kafka_fetch_wait_ms=busy, kafka_idle_fetch_wait_ms=idle).validate()
