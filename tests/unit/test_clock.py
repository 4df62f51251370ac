"""The business clock: each resort's today in its own zone, or the date a run is pinned to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from app import clock
from app.settings import Settings, SettingsError

LATE_UTC = dt.datetime(2027, 12, 31, 20, 30, tzinfo=dt.UTC)  # already 1 January in Seoul


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RESORT_TODAY", "2028-02-29")
    clock.pinned_today.cache_clear()
    yield
    monkeypatch.delenv("RESORT_TODAY")
    clock.pinned_today.cache_clear()


def test_today_is_the_resorts_own_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESORT_TODAY", raising=False)
    clock.pinned_today.cache_clear()
    assert clock.today("Asia/Seoul", LATE_UTC) == dt.date(2028, 1, 1)
    assert clock.today("America/Los_Angeles", LATE_UTC) == dt.date(2027, 12, 31)


def test_a_pinned_run_has_the_same_today_at_every_resort(pinned: None) -> None:
    assert clock.today("Asia/Seoul", LATE_UTC) == dt.date(2028, 2, 29)
    assert clock.today("Pacific/Honolulu") == dt.date(2028, 2, 29)


def test_rules_compare_with_the_real_time_of_day_on_the_pinned_date(pinned: None) -> None:
    now = clock.now_at("Asia/Seoul")
    assert clock.resort_date("Asia/Seoul", now) == dt.date(2028, 2, 29)
    assert ((now - clock.utcnow()).total_seconds() + 5) % 86_400 < 10  # whole days apart: same time of day


def test_a_pin_is_an_iso_date_and_never_in_production() -> None:
    assert Settings.from_env({"RESORT_TODAY": "2026-12-31"}).today == "2026-12-31"
    with pytest.raises(SettingsError, match="RESORT_TODAY"):
        Settings.from_env({"RESORT_TODAY": "2027-02-29"})
    with pytest.raises(SettingsError, match="RESORT_TODAY"):
        Settings.from_env({"RESORT_ENV": "production", "RESORT_TODAY": "2026-12-31", "RESORT_COOKIE_SECURE": "true",
                           "RESORT_OIDC_CLIENT_SECRET": "real"})
