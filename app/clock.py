"""The business clock: the one home of what "today" is at a resort.

Catalogue windows, prices, the sale horizon, cancellation and front-desk rules and the demo data all ask
this module, never ``date.today()``: a resort's day is the date in its own time zone (near midnight it
differs from the server's UTC date), and ``RESORT_TODAY`` (an ISO date; refused in production) pins it for
every process of a run, so tests and demos behave the same on any day — a weekend, a month's last day,
29 February or 31 December. Timestamps (hold expiry, audit, leases) stay on the real clock.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from zoneinfo import ZoneInfo

VARIABLE = "RESORT_TODAY"


def parse_today(raw: str) -> dt.date | None:
    """``RESORT_TODAY``'s value as a date (empty: none); raises ValueError when it is not an ISO date."""
    return dt.date.fromisoformat(raw.strip()) if raw.strip() else None


@lru_cache(maxsize=1)
def pinned_today() -> dt.date | None:
    """The date this process's run is pinned to, read once from the environment (None: the real date)."""
    return parse_today(os.environ.get(VARIABLE, ""))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def resort_date(time_zone: str, now: dt.datetime) -> dt.date:
    """The date at a resort at the instant ``now`` (timezone-aware), in the property's own zone."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def today(time_zone: str, now: dt.datetime | None = None) -> dt.date:
    """What "today" is at a resort in ``time_zone``: the pinned date when the run has one, else the date in
    that zone now (or at ``now``)."""
    pinned = pinned_today()
    if pinned is not None:
        return pinned
    return resort_date(time_zone, now or utcnow())


def now_at(time_zone: str) -> dt.datetime:
    """The instant the rules of a resort compare with (cancellation deadlines): the real time of day on
    the resort's :func:`today` — the real instant unless the run is pinned to another date."""
    real = utcnow()
    shift = today(time_zone, real) - resort_date(time_zone, real)
    return real + shift
