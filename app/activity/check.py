"""The activity rollups of bookings cross-checked against PostgreSQL (``resort activity check``).

PostgreSQL's bookings are the truth. From them, what the rollups should hold for one resort:

- ``demand`` (product, night): ``bookings``, one per booking that was confirmed, for each of its products
  and each night of its stay; ``cancellations``, one per cancelled booking likewise;
- ``rates`` (product, rate plan): ``bookings`` and ``cancellations`` the same way, per rate plan booked.

A booking counts as booked once it was confirmed (confirmed, cancelling, cancelled, checked in or out, no
show) and as cancelled once ``cancelled``: the activity role counts the ``booking.confirmed`` and
``booking.cancelled`` events. Bookings of a forgotten guest (``resort forget``) made before they were
forgotten are left out, as the rollups left them out (a booking confirmed or cancelled across the moment of
forgetting may still show). Events stored but not counted yet, or still on Kafka, show as differences
until the next rollup round: the report says how many are pending.

Demand is compared over a range of nights; rates over the resort's whole history (the rollup has no dates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.activity.events import subject_of
from app.activity.store import FORGOTTEN, collection, pending

BOOKED = ("confirmed", "cancelling", "cancelled", "checked_in", "checked_out", "no_show")
COUNTERS = ("bookings", "cancellations")
Counts = dict[str, dict[str, dict[str, int]]]  # rollup -> key -> counter -> n

_BOOKINGS = """
SELECT b.owner_kind, b.owner_id, b.status, b.check_in, b.check_out, b.created_at, b.updated_at,
       array_agg(DISTINCT h.product_id::text) AS products,
       array_agg(DISTINCT h.product_id::text || '|' || h.rate_plan) AS plans
FROM bookings b JOIN booking_holds bh ON bh.booking_id = b.id JOIN holds h ON h.id = bh.hold_id
WHERE b.property_id = $1 AND b.status = ANY($2::text[])
GROUP BY b.id
"""


@dataclass(frozen=True, slots=True)
class Difference:
    rollup: str  # demand or rates
    key: str  # product|night or product|rate plan
    counter: str  # bookings or cancellations
    bookings_table: int  # what PostgreSQL's bookings say
    rollup_count: int  # what the rollup holds


@dataclass(slots=True)
class CheckReport:
    property_id: str
    start: str
    end: str
    bookings: int = 0
    forgotten: int = 0
    pending: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences


def _nights(check_in: dt.date, check_out: dt.date, start: dt.date, end: dt.date) -> list[str]:
    first, last = max(check_in, start), min(check_out - dt.timedelta(days=1), end)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _forgotten_then(booking: dict[str, Any], forgotten: dict[str, dt.datetime], moment: str) -> bool:
    at = forgotten.get(subject_of(booking["owner_kind"], booking["owner_id"]))
    return at is not None and booking[moment] <= (at if at.tzinfo else at.replace(tzinfo=dt.UTC))


def _add(counts: dict[str, dict[str, int]], key: str, counter: str) -> None:
    slot = counts.setdefault(key, {})
    slot[counter] = slot.get(counter, 0) + 1


def expected(bookings: list[dict[str, Any]], forgotten: dict[str, dt.datetime], start: dt.date,
             end: dt.date) -> tuple[Counts, int]:
    """What the rollups should count for these bookings (pure), and how many were left out as forgotten."""
    out: Counts = {"demand": {}, "rates": {}}
    left_out = 0
    for booking in bookings:
        counters = []
        if not _forgotten_then(booking, forgotten, "created_at"):
            counters.append("bookings")
        if booking["status"] == "cancelled" and not _forgotten_then(booking, forgotten, "updated_at"):
            counters.append("cancellations")
        left_out += "bookings" not in counters
        nights = _nights(booking["check_in"], booking["check_out"], start, end)
        for counter in counters:
            for key in (f"{product}|{night}" for product in booking["products"] for night in nights):
                _add(out["demand"], key, counter)
            for key in booking["plans"]:
                _add(out["rates"], key, counter)
    return out, left_out


def differences(truth: Counts, counted: Counts) -> list[Difference]:
    """Every (rollup, key, counter) where the two disagree (pure; a missing counter is 0)."""
    found = []
    for rollup in ("demand", "rates"):
        for key in sorted(set(truth.get(rollup, {})) | set(counted.get(rollup, {}))):
            for counter in COUNTERS:
                want = truth.get(rollup, {}).get(key, {}).get(counter, 0)
                have = counted.get(rollup, {}).get(key, {}).get(counter, 0)
                if want != have:
                    found.append(Difference(rollup, key, counter, want, have))
    return found


async def counted(mongo: Any, property_id: str, start: dt.date, end: dt.date) -> Counts:
    """The bookings and cancellations the rollups hold for the resort (demand: within the nights)."""
    out: Counts = {"demand": {}, "rates": {}}
    nights = {"$gte": start.isoformat(), "$lte": end.isoformat()}
    for rollup, query in (("demand", {"property_id": property_id, "night": nights}),
                          ("rates", {"property_id": property_id})):
        async for doc in collection(mongo, rollup).find(query):
            values = {c: int(doc.get(c) or 0) for c in COUNTERS if doc.get(c)}
            if values:
                out[rollup][str(doc["_id"])] = values
    return out


async def check(db: Any, mongo: Any, property_id: str, start: dt.date, end: dt.date) -> CheckReport:
    """Compare one resort's rollups of bookings with its bookings in PostgreSQL."""
    bookings = [dict(r) for r in await db.fetch(_BOOKINGS, property_id, list(BOOKED))]
    subjects = sorted({subject_of(b["owner_kind"], b["owner_id"]) for b in bookings})
    forgotten = {d["_id"]: d["at"] async for d in mongo[FORGOTTEN].find({"_id": {"$in": subjects}})}
    truth, left_out = expected(bookings, forgotten, start, end)
    report = CheckReport(property_id, start.isoformat(), end.isoformat(), len(bookings), left_out,
                         await pending(mongo))
    report.differences = differences(truth, await counted(mongo, property_id, start, end))
    return report


def lines(report: CheckReport) -> list[str]:
    """The report for a person: a summary, then one line per difference."""
    head = (f"{report.property_id}: {report.bookings} bookings checked against the rollups (demand of the nights"
            f" {report.start}..{report.end}, rate plans of all time); {report.forgotten} of forgotten guests left"
            f" out; {report.pending} events not counted yet")
    if report.clean:
        return [head, "no difference"]
    return [head, f"{len(report.differences)} differences (bookings table vs rollup):", *(
        f"  {d.rollup} {d.key} {d.counter}: {d.bookings_table} vs {d.rollup_count}" for d in report.differences)]


def as_json_difference(d: Difference) -> dict[str, Any]:
    return {"rollup": d.rollup, "key": d.key, "counter": d.counter, "bookings_table": d.bookings_table,
            "rollup_count": d.rollup_count}


def as_json(report: CheckReport) -> dict[str, Any]:
    """The report as ``GET /admin/analytics/check`` answers it (``BookingsCheck``) and ``--json`` prints it."""
    return {"property_id": report.property_id, "start": report.start, "end": report.end,
            "bookings": report.bookings, "forgotten": report.forgotten, "pending": report.pending,
            "clean": report.clean, "differences": [as_json_difference(d) for d in report.differences]}
