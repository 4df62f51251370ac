"""From the messages on Kafka to activity events (pure).

- ``activity`` topic: searches, product views and reviews, sent by the api itself (``capture``);
- ``holds`` topic: ``hold.created`` -> a hold;
- ``bookings`` topic: ``booking.confirmed`` -> a booking, ``booking.cancelled`` -> a cancellation; the
  booking's products and rate plans (not in the message) are given by the caller (``lines``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.activity.domain import complete
from app.outbox import EventEnvelope

ACTIVITY_TOPIC = "activity"
HOLDS_TOPIC, BOOKINGS_TOPIC, INVENTORY_TOPIC = "holds", "bookings", "inventory"
BOOKING_TYPES = {"booking.confirmed": "booking", "booking.cancelled": "cancellation"}
_FIELDS = ("subject", "property_id", "product_id", "check_in", "check_out", "query", "filters", "results",
           "zero")


def subject_of(owner_kind: str | None, owner_id: str | None) -> str:
    """How events name who acted: ``user:<sub>`` or ``client:<partner client id>`` (``anon:<id>`` from pages)."""
    return f"client:{owner_id}" if owner_kind == "partner" else f"user:{owner_id}"


def _base(envelope: EventEnvelope, kind: str) -> dict[str, Any]:
    at = envelope.occurred_at if envelope.occurred_at.tzinfo else envelope.occurred_at.replace(tzinfo=dt.UTC)
    return {"_id": str(envelope.event_id), "type": kind, "at": at, "rolled": False}


def from_activity(envelope: EventEnvelope) -> dict[str, Any] | None:
    """A search, view or review the api captured; None for anything else."""
    kind = envelope.event_type.removeprefix("activity.")
    if kind not in ("search", "view", "review") or not envelope.payload.get("subject"):
        return None
    event = _base(envelope, kind)
    event.update({k: envelope.payload[k] for k in _FIELDS if envelope.payload.get(k) is not None})
    return complete(event)


def from_hold(envelope: EventEnvelope) -> dict[str, Any] | None:
    if envelope.event_type != "hold.created":
        return None
    p = envelope.payload
    return complete(_base(envelope, "hold") | {
        "subject": subject_of(p.get("owner_kind"), p.get("owner_id")), "property_id": p.get("property_id"),
        "product_id": p.get("product_id"), "check_in": p.get("check_in"), "check_out": p.get("check_out")})


def booking_kind(envelope: EventEnvelope) -> str | None:
    return BOOKING_TYPES.get(envelope.event_type)


def from_booking(envelope: EventEnvelope, lines: list[tuple[str, str]]) -> dict[str, Any] | None:
    """A confirmed or cancelled booking, with its ``lines`` (product id, rate plan code)."""
    kind = booking_kind(envelope)
    if kind is None or not lines:
        return None
    p = envelope.payload
    products = sorted({product for product, _ in lines})
    return complete(_base(envelope, kind) | {
        "subject": subject_of(p.get("owner_kind"), p.get("owner_id")), "property_id": p.get("property_id"),
        "products": products, "product_id": products[0],
        "rate_plans": sorted({f"{product}|{plan}" for product, plan in lines}),
        "check_in": p.get("check_in"), "check_out": p.get("check_out")})
