"""What "today" is for a test: the demo resorts' business date, asked of the app's own clock (app/clock.py),
so a test's dates and expectations follow ``RESORT_TODAY`` and the resort's time zone exactly as the app does,
never the machine's date."""

from __future__ import annotations

import datetime as dt

from app import clock
from app.catalog.domain import DEFAULT_TIME_ZONE


def resort_today(time_zone: str = DEFAULT_TIME_ZONE) -> dt.date:
    return clock.today(time_zone)


def days_from_today(days: int, time_zone: str = DEFAULT_TIME_ZONE) -> dt.date:
    return resort_today(time_zone) + dt.timedelta(days=days)
